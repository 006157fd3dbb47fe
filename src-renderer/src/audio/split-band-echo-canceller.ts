/**
 * The echo canceller for 32 and 48 kHz ports (Opus calls; dev:web always runs its port at
 * 48 kHz): the adaptive filter and its suppressor (EchoCanceller) run on the band below 8 kHz,
 * resampled to 16 kHz, where nearly all of a voice's energy and so of its echo lies, for about
 * half the full-band canceller's CPU (bench 6b, interleaved runs: 4.2-6.4 against 8.0-11.5 % of a
 * core; the full band's FFTs grow with the rate: 512 points, 30 partitions, all constrained every
 * block). The band above 8 kHz is not filtered, only suppressed (as WebRTC's AEC3 treats its upper
 * bands): it gets the share of the microphone the low band lets out, near end over near end plus
 * echo (EchoCanceller.capture's `upperBandGains`), down to the suppressor's floor.
 *
 *   far end ----down----> 16 kHz --> core.playback
 *   mic ---+--down--> low --> core.capture --> clean ----up----> (+) --> out
 *          |           `--> delayed as clean is --up--> (-)      ^
 *          `--> delayed ------------------------------> (+) = high band x upper-band gain
 *
 * With nothing to cancel the core returns `low` unchanged, the two upsampled paths are equal and
 * the output is the microphone itself, all of it, a fixed number of samples later (a test holds
 * this to float rounding). The two band edges need no filter of their own for that: the high band
 * is what the low band's resampling round trip leaves out.
 *
 * Delay: the resamplers' ~1 ms each way (16 zero crossings) plus the core's at most 2 blocks of
 * 4 ms: 10.2 ms at most at 48 kHz (delaySamples; the full-band canceller: 10.7 ms).
 *
 * Only for rates that are whole multiples of 16 kHz (so the core's lag is a whole number of
 * samples here); createEchoCanceller picks the full-band canceller for any other rate. Ownership
 * and threading as EchoCanceller's: one per call's capture path, single-threaded.
 */
import { EchoCanceller, type CaptureEchoCanceller, type EchoCancellerOptions, type EchoCancellerStats } from './echo-canceller';
import { FloatRing } from './float-ring';
import { StreamingResampler } from './streaming-resampler';

const CORE_RATE = 16000;
/** Short kernels keep the band split's delay at 1 ms each way; the core's output is 8 kHz wide anyway. */
const ZERO_CROSSINGS = 16;
/** The upper-band gain changes once per core block (4 ms): smoothed over ~2 ms so it does not click. */
const GAIN_SMOOTHING_S = 0.002;

/** The canceller for a port rate: split-band for 32 and 48 kHz, full-band otherwise. */
export function createEchoCanceller(options: EchoCancellerOptions): CaptureEchoCanceller {
  return SplitBandEchoCanceller.supports(options.sampleRate) ? new SplitBandEchoCanceller(options) : new EchoCanceller(options);
}

export class SplitBandEchoCanceller implements CaptureEchoCanceller {
  static supports(rate: number): boolean {
    return Number.isInteger(rate) && rate > CORE_RATE && rate % CORE_RATE === 0;
  }

  readonly sampleRate: number;
  readonly lagSamples: number;
  readonly delaySamples: number;
  /** The canceller proper, at 16 kHz. */
  readonly core: EchoCanceller;
  private readonly ratio: number;
  private readonly farDown: StreamingResampler;
  private readonly micDown: StreamingResampler;
  private readonly cleanUp: StreamingResampler;
  private readonly lowUp: StreamingResampler;
  /** The microphone at the port rate, delayed by the core's lag (pre-filled with as much silence). */
  private readonly micDelayed: FloatRing;
  /** The low band, delayed as the core delays it: what it would return with nothing to cancel. */
  private readonly lowDelayed: FloatRing;
  /** Upper-band gain per core output sample, by its index since the start (a ring). */
  private readonly gainRing: Float32Array;
  private coreEmitted = 0;
  private emitted = 0;
  private gain = 1;
  private readonly gainStep: number;

  // Scratch, grown on demand (steady state allocates nothing).
  private farLow = new Float32Array(0);
  private low = new Float32Array(0);
  private clean = new Float32Array(0);
  private cleanGains = new Float32Array(0);
  private lowLagged = new Float32Array(0);
  private micLagged = new Float32Array(0);
  private cleanWide = new Float32Array(0);
  private lowWide = new Float32Array(0);

  constructor(options: EchoCancellerOptions) {
    const rate = options.sampleRate;
    if (!SplitBandEchoCanceller.supports(rate)) throw new RangeError(`SplitBandEchoCanceller: sampleRate must be a multiple of ${CORE_RATE} above it, got ${rate}`);
    this.sampleRate = rate;
    this.ratio = rate / CORE_RATE;
    this.core = new EchoCanceller({ ...options, sampleRate: CORE_RATE });
    this.farDown = new StreamingResampler(rate, CORE_RATE, ZERO_CROSSINGS);
    this.micDown = new StreamingResampler(rate, CORE_RATE, ZERO_CROSSINGS);
    this.cleanUp = new StreamingResampler(CORE_RATE, rate, ZERO_CROSSINGS);
    this.lowUp = new StreamingResampler(CORE_RATE, rate, ZERO_CROSSINGS);
    this.lagSamples = this.ratio * this.core.lagSamples;
    this.delaySamples = this.micDown.delayInputSamples + this.ratio * (this.core.delaySamples + this.cleanUp.delayInputSamples);
    // Room for what the core may hold back (~100 ms ahead of playback) plus the paths' delays.
    this.micDelayed = new FloatRing(Math.ceil(rate * 0.25));
    this.micDelayed.write(new Float32Array(this.lagSamples));
    this.lowDelayed = new FloatRing(Math.ceil(CORE_RATE * 0.25));
    this.lowDelayed.write(new Float32Array(this.core.lagSamples));
    this.gainRing = new Float32Array(1024);
    this.gainStep = 1 - Math.exp(-1 / (GAIN_SMOOTHING_S * rate));
  }

  playback(samples: ArrayLike<number>, count = samples.length): void {
    const need = this.farDown.maxOutputFor(count);
    if (this.farLow.length < need) this.farLow = new Float32Array(need);
    const n = this.farDown.process(samples, this.farLow, count);
    this.core.playback(this.farLow, n);
  }

  maxOutputFor(count: number): number {
    return this.cleanUp.maxOutputFor(this.core.maxOutputFor(this.micDown.maxOutputFor(count)));
  }

  capture(samples: ArrayLike<number>, count: number, out: Float32Array | Float64Array): number {
    if (out.length < this.maxOutputFor(count)) throw new RangeError(`SplitBandEchoCanceller: out holds ${out.length} samples, needs ${this.maxOutputFor(count)}`);
    if (this.micDelayed.write(samples, count) > 0) throw new Error('SplitBandEchoCanceller: microphone delay line overflow');
    const lowNeed = this.micDown.maxOutputFor(count);
    if (this.low.length < lowNeed) this.low = new Float32Array(lowNeed);
    const lowCount = this.micDown.process(samples, this.low, count);
    if (this.lowDelayed.write(this.low, lowCount) > 0) throw new Error('SplitBandEchoCanceller: low band delay line overflow');

    const coreNeed = this.core.maxOutputFor(lowCount);
    if (this.clean.length < coreNeed) {
      this.clean = new Float32Array(coreNeed);
      this.cleanGains = new Float32Array(coreNeed);
      this.lowLagged = new Float32Array(coreNeed);
    }
    const cleanCount = this.core.capture(this.low, lowCount, this.clean, this.cleanGains);
    if (this.lowDelayed.read(this.lowLagged, 0, cleanCount) < cleanCount) throw new Error('SplitBandEchoCanceller: the low band delay line ran dry (the band paths fell out of step)');
    const ring = this.gainRing;
    for (let i = 0; i < cleanCount; i++) ring[(this.coreEmitted + i) % ring.length] = this.cleanGains[i]!;
    this.coreEmitted += cleanCount;

    const wideNeed = this.cleanUp.maxOutputFor(cleanCount);
    if (this.cleanWide.length < wideNeed) {
      this.cleanWide = new Float32Array(wideNeed);
      this.lowWide = new Float32Array(wideNeed);
      this.micLagged = new Float32Array(wideNeed);
    }
    const n = this.cleanUp.process(this.clean, this.cleanWide, cleanCount);
    const same = this.lowUp.process(this.lowLagged, this.lowWide, cleanCount);
    if (same !== n) throw new Error(`SplitBandEchoCanceller: band paths out of step (${n} and ${same} samples)`);
    if (this.micDelayed.read(this.micLagged, 0, n) < n) throw new Error('SplitBandEchoCanceller: the microphone delay line ran dry (the band paths fell out of step)');
    for (let i = 0; i < n; i++) {
      // Output sample `emitted` lies at core sample emitted / ratio: that block's upper-band gain.
      const target = ring[Math.floor(this.emitted / this.ratio) % ring.length]!;
      this.gain += this.gainStep * (target - this.gain);
      const high = this.micLagged[i]! - this.lowWide[i]!;
      out[i] = this.cleanWide[i]! + this.gain * high;
      this.emitted++;
    }
    return n;
  }

  /** The core's figures: measured on the band below 8 kHz. */
  stats(): EchoCancellerStats {
    return this.core.stats();
  }
}
