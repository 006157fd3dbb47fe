/**
 * Acoustic echo canceller for the capture path: removes from the microphone signal what the
 * speaker played of the far end, so the far end does not hear itself. An alternative to
 * Chromium's canceller that needs no loopback route (echo-reference-route.ts, ~46 ms of delay):
 * the reference here is exactly the audio the worklet plays, sample-aligned by the audio clock.
 *
 * Linear part: a partitioned-block frequency-domain adaptive filter (multidelay filter, MDF;
 * Soo & Pang 1990), overlap-save, blocks of B samples, FFTs of 2B, K partitions covering the echo
 * path's delay and tail (`tailMs`). Its step size follows Valin, "On adjusting the learning rate
 * in frequency domain echo cancellation with double-talk" (IEEE TASLP 2007): the filter's leakage
 * (how much of its echo estimate is still left in the output) is estimated from the correlation of
 * the error and echo-estimate power spectra, and each bin adapts at the ratio of its estimated
 * residual echo to its whole error. Near-end speech raises the error but not the residual echo,
 * so the filter slows down during double talk without a separate double-talk detector. Until the
 * leakage estimate has something to go on, a fixed step is used, smaller in each bin where the
 * error outweighs the far end (a near-end talker there). Partitions are weighted by their energy
 * (proportionate updates: an echo path is mostly zeros before its direct sound), and every
 * partition's gradient is constrained every block (see the update for why not fewer).
 * A filter that adds energy over 200 ms of far-end activity (the echo path changed: the laptop
 * moved, a delay jumped) is cleared and learns again at the start-up rate; in any block where it
 * adds energy the microphone's own samples go out, so the canceller never makes things louder.
 *
 * Residual echo suppression (optional, on by default), per bin of a 50 %-overlap sqrt-Hann STFT
 * of the output: the lower of a Wiener gain with the residual echo taken as the leakage times the
 * echo estimate's power (decision-directed a priori ratio) and 1 minus the output's coherence
 * with the echo estimate (what is coherent with it is echo, whatever the filter's phase error:
 * this is what keeps clock drift between microphone and speaker from letting echo through; up to
 * 15 dB above the estimate's power only); gain floor `suppressionFloorDb`. It adds one block of
 * delay.
 *
 * Echo beyond the filter: the filter covers `tailMs` (160 ms) of echo path, its delay included; a
 * Bluetooth speaker adds 150-250 ms of output latency alone. A delay estimator
 * (echo-delay-estimator.ts) looks for the echo up to `maxEchoDelayMs` (500 ms) late; where it
 * finds it beyond the filter's reach (less than 60 ms of filter after its start), and not where
 * the filter has found echo itself, the filter's far end is delayed to start 20 ms before the echo
 * and the filter learns again (measured: 250 ms found and 53 dB down 8-12 s in; 40 -> 300 ms mid-
 * call, 49 dB down 6-11 s after).
 *
 * Delay: block filling plus the suppressor's overlap, at most 2B samples (B = 32 / 64 / 256 at 8 /
 * 16 / 48 kHz: 8 / 8 / 10.7 ms).
 * CPU (Node 20, this machine, 160 ms; bench 6b): ~2 / 4 / 8-11 % of a core at 8 / 16 / 48 kHz, three
 * quarters of it the constraint's FFTs. At 32 and 48 kHz the app runs this one at 16 kHz on the band
 * below 8 kHz instead (SplitBandEchoCanceller: about half the CPU at 48 kHz); capture() hands it
 * the gain for the band above (`upperBandGains`).
 *
 * Use: playback() every far-end sample as it is played, then capture() the microphone samples of
 * the same time span; the two must advance in step (the caller feeds both from the same audio
 * callback). Ownership: stateful, one per call's capture path; single-threaded (the AudioWorklet's
 * thread, or a test).
 */
import { EchoDelayEstimator } from './echo-delay-estimator';
import { RealFft } from './real-fft';

export interface EchoCancellerOptions {
  sampleRate: number;
  /** Echo path length the filter covers, its delay included. Default 160 ms. */
  tailMs?: number;
  /** Suppress what the linear filter leaves (non-linear echo, misadjustment). Default true. */
  suppressResidual?: boolean;
  /** The suppressor's lowest gain. Default -24 dB. */
  suppressionFloorDb?: number;
  /**
   * Longest echo delay looked for (a Bluetooth speaker's 150-250 ms and the room's): beyond what
   * the filter covers, a delay estimator moves the filter to the echo. Default 500 ms.
   */
  maxEchoDelayMs?: number;
}

/**
 * What the capture path needs of an echo canceller (this full-band one, or SplitBandEchoCanceller
 * for rates above 16 kHz). Contract: the caller MUST call playback() with every far-end sample as
 * it is played and capture() with the microphone samples of the same span, the two advancing in
 * step (each may run ahead of the other by at most ~100 ms, else they throw); capture() MUST be
 * given an `out` of at least maxOutputFor(count) samples. Output sample i + lagSamples is the
 * cleaned microphone sample i (the first lagSamples are silence).
 */
export interface CaptureEchoCanceller {
  readonly sampleRate: number;
  /** Constant lag of the output behind the input, samples. */
  readonly lagSamples: number;
  /** Worst-case delay the canceller adds to the microphone (its lag plus what it holds back), samples. */
  readonly delaySamples: number;
  playback(samples: ArrayLike<number>, count?: number): void;
  capture(samples: ArrayLike<number>, count: number, out: Float32Array | Float64Array): number;
  /** Most samples capture() can return for `count` samples in. */
  maxOutputFor(count: number): number;
  stats(): EchoCancellerStats;
}

export interface EchoCancellerStats {
  /** Microphone power over output power while the far end was active, recent average, dB. */
  echoReductionDb: number;
  /** Estimated share of the echo estimate still in the output (0..1). */
  leakage: number;
  /** Whether the learning rate has left its start-up phase. */
  adapted: boolean;
  /** Times the filter was found to add energy and was cleared. */
  resets: number;
  /** Delay of the strongest part of the echo path, ms (undefined while nothing is learnt). */
  echoDelayMs: number | undefined;
  /** Where the filter's window starts, ms: 0 unless the delay estimator found echo beyond it. */
  filterOffsetMs: number;
}

const MIN_LEAK = 0.005;
/** Far end considered active above this mean-square level per sample (~-60 dBFS). */
const ACTIVE_POWER = 1e-6;
const EPSILON = 1e-10;
/** Per-block smoothing of the suppressor's spectra (time constant ~10 blocks, 40-50 ms). */
const COHERENCE_SMOOTHING = 0.9;
/** Residual echo coherent with the echo estimate is taken to be at most this times its power (see the suppressor). */
const COHERENT_ECHO_LIMIT = 30;

/** A sample, or 0 if it is not a number: one NaN would otherwise live in the filter for good (silence out). */
function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

export class EchoCanceller implements CaptureEchoCanceller {
  readonly sampleRate: number;
  /** Samples per block (B). */
  readonly blockSamples: number;
  /** Partitions (K). */
  readonly partitions: number;
  /** Delay the canceller adds to the microphone signal, samples (worst case). */
  readonly delaySamples: number;
  /** One block with the suppressor (its overlap), none without. */
  readonly lagSamples: number;
  private readonly fft: RealFft;
  private readonly bins: number;
  private readonly suppress: boolean;
  private readonly floorGain: number;

  // Sample FIFOs: far end not yet processed, microphone not yet processed (both from index 0),
  // output not yet taken (a ring).
  private readonly farFifo: Float64Array;
  private farFill = 0;
  private readonly micFifo: Float64Array;
  private micFill = 0;
  private readonly outFifo: Float64Array;
  /** Per output sample, the gain for sound above the band (see capture's upperBandGains). */
  private readonly outGain: Float32Array;
  private outStart = 0;
  private outFill = 0;

  /** The far end as played, the last maxEchoDelayMs and two blocks (a ring ending at historyEnd). */
  private readonly farHistory: Float64Array;
  private historyEnd = 0;
  /** The microphone's previous block (the delay estimator's window). */
  private readonly micPrevious: Float64Array;
  private readonly delayEstimator: EchoDelayEstimator;
  /** Blocks the filter's far end lags the far end as played (0 unless the echo is beyond the filter). */
  private bulkBlocks = 0;
  /** Blocks kept before the echo's estimated start when the filter is moved (20 ms). */
  private readonly marginBlocks: number;
  /** Blocks of the filter that must lie after the echo's start for it to count as covered (60 ms). */
  private readonly tailBlocks: number;
  private readonly uRe: Float64Array;
  private readonly uIm: Float64Array;
  private readonly dRe: Float64Array;
  private readonly dIm: Float64Array;
  /** Far-end spectra, newest at `head`, partition k at (head + k) % K. */
  private readonly xRe: Float64Array;
  private readonly xIm: Float64Array;
  private head = 0;
  /** Filter, partition k at k * bins. */
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;
  private readonly proportion: Float64Array;
  private readonly partitionMagnitude: Float64Array;
  private readonly farPower: Float64Array;

  // Per-block scratch.
  private readonly yRe: Float64Array;
  private readonly yIm: Float64Array;
  private readonly eRe: Float64Array;
  private readonly eIm: Float64Array;
  private readonly pRe: Float64Array;
  private readonly pIm: Float64Array;
  private readonly step: Float64Array;
  private readonly recentFar: Float64Array;
  private readonly recentError: Float64Array;
  private readonly time: Float64Array;
  private readonly echo: Float64Array;
  private readonly error: Float64Array;
  private readonly micCopy: Float64Array;
  /** Far-end-active blocks where the filter added energy, less those where it did not. */
  private hurtBlocks = 0;

  // Learning-rate state.
  private covarianceEY = 1;
  private varianceY = 1;
  private leak = 1;
  private adaptSum = 0;
  private adaptedValue = false;
  /** Added to the far-end power per bin: a floor of about -70 dBFS. */
  private readonly regularization: number;
  private readonly beta0: number;
  private readonly betaMax: number;
  private resetCount = 0;
  private micPowerAvg = 0;
  private outPowerAvg = 0;

  // Residual echo suppressor state.
  private readonly window: Float64Array;
  private readonly lastError: Float64Array;
  private readonly lastEcho: Float64Array;
  private readonly overlap: Float64Array;
  private readonly lastClean: Float64Array;
  /** Microphone energy of the block before (the one the suppressor's output block matches). */
  private previousMicEnergy = 0;
  /** Recent microphone and output energy per block (the gain for sound above the band). */
  private micEnergyAvg = 0;
  private outEnergyAvg = 0;
  /** Smoothed auto- and cross-power spectra of the output and the echo estimate (coherence). */
  private readonly sEE: Float64Array;
  private readonly sYY: Float64Array;
  private readonly sEYre: Float64Array;
  private readonly sEYim: Float64Array;

  constructor(options: EchoCancellerOptions) {
    const rate = options.sampleRate;
    if (!Number.isInteger(rate) || rate < 8000) throw new RangeError(`EchoCanceller: sampleRate must be an integer >= 8000, got ${rate}`);
    const tailMs = options.tailMs ?? 160;
    if (!(tailMs >= 16 && tailMs <= 1000)) throw new RangeError(`EchoCanceller: tailMs must be within 16..1000, got ${tailMs}`);
    this.sampleRate = rate;
    // The largest power of two within 6 ms: 32 / 64 / 256 at 8 / 16 / 48 kHz.
    const b = 2 ** Math.floor(Math.log2(rate * 0.006));
    this.blockSamples = b;
    this.partitions = Math.max(1, Math.ceil((tailMs * rate) / 1000 / b));
    this.suppress = options.suppressResidual ?? true;
    this.floorGain = 10 ** ((options.suppressionFloorDb ?? -24) / 20);
    this.delaySamples = (this.suppress ? 2 : 1) * b;
    this.lagSamples = this.suppress ? b : 0;
    this.fft = new RealFft(2 * b);
    const bins = this.fft.bins;
    this.bins = bins;
    const k = this.partitions;
    // Either side may run this far ahead of the other (a caller's chunks, at most a few per block).
    const leeway = Math.max(4 * b, Math.ceil(rate / 10));
    this.farFifo = new Float64Array(leeway + b);
    this.micFifo = new Float64Array(leeway + b);
    this.outFifo = new Float64Array(leeway + 2 * b);
    this.outGain = new Float32Array(this.outFifo.length);
    const maxDelayMs = options.maxEchoDelayMs ?? 500;
    if (!(maxDelayMs >= tailMs && maxDelayMs <= 2000)) throw new RangeError(`EchoCanceller: maxEchoDelayMs must be within tailMs..2000, got ${maxDelayMs}`);
    const delayBlocks = Math.ceil((maxDelayMs * rate) / 1000 / b);
    this.farHistory = new Float64Array((delayBlocks + 2) * b);
    this.micPrevious = new Float64Array(b);
    // Counted blocks (far end and microphone both with sound) in a row: ~0.5 s.
    this.delayEstimator = new EchoDelayEstimator({ sampleRate: rate, fftSize: 2 * b, maxDelayBlocks: delayBlocks, stableBlocks: Math.ceil((0.5 * rate) / b) });
    this.marginBlocks = Math.ceil((0.02 * rate) / b);
    this.tailBlocks = Math.min(k - 1, Math.ceil((0.06 * rate) / b));
    this.xRe = new Float64Array(k * bins);
    this.xIm = new Float64Array(k * bins);
    this.wRe = new Float64Array(k * bins);
    this.wIm = new Float64Array(k * bins);
    this.proportion = new Float64Array(k).fill(1);
    this.partitionMagnitude = new Float64Array(k);
    this.farPower = new Float64Array(bins);
    this.yRe = new Float64Array(bins);
    this.yIm = new Float64Array(bins);
    this.eRe = new Float64Array(bins);
    this.eIm = new Float64Array(bins);
    this.pRe = new Float64Array(bins);
    this.uRe = new Float64Array(bins);
    this.uIm = new Float64Array(bins);
    this.dRe = new Float64Array(bins);
    this.dIm = new Float64Array(bins);
    this.pIm = new Float64Array(bins);
    this.step = new Float64Array(bins);
    this.recentFar = new Float64Array(bins);
    this.recentError = new Float64Array(bins);
    this.time = new Float64Array(2 * b);
    this.echo = new Float64Array(b);
    this.error = new Float64Array(b);
    this.micCopy = new Float64Array(b);
    this.regularization = 2 * b * 1e-7;
    this.beta0 = (2 * b) / rate;
    this.betaMax = (0.5 * b) / rate;
    this.window = new Float64Array(2 * b);
    for (let i = 0; i < 2 * b; i++) this.window[i] = Math.sqrt(0.5 - 0.5 * Math.cos((Math.PI * i) / b));
    this.lastError = new Float64Array(b);
    this.lastEcho = new Float64Array(b);
    this.overlap = new Float64Array(b);
    this.lastClean = new Float64Array(bins);
    this.sEE = new Float64Array(bins);
    this.sYY = new Float64Array(bins);
    this.sEYre = new Float64Array(bins);
    this.sEYim = new Float64Array(bins);
  }

  /** Far-end samples as they are played (the echo's source). */
  playback(samples: ArrayLike<number>, count = samples.length): void {
    if (this.farFill + count > this.farFifo.length) throw new Error(`EchoCanceller: playback() ran more than ${this.farFifo.length} samples ahead of capture()`);
    for (let j = 0; j < count; j++) this.farFifo[this.farFill + j] = finite(samples[j]!);
    this.farFill += count;
    this.processReady();
  }

  maxOutputFor(count: number): number {
    return count + this.blockSamples;
  }

  /**
   * Microphone samples in; writes what is ready of the cleaned signal to `out` (up to out.length)
   * and returns how many. In steady state that is `count` per call. `upperBandGains`, if given,
   * receives for each output sample the gain for sound above the band: the share of the
   * microphone's energy that comes out (1 without the suppressor); SplitBandEchoCanceller applies
   * it above 8 kHz.
   */
  capture(samples: ArrayLike<number>, count: number, out: Float32Array | Float64Array, upperBandGains?: Float32Array): number {
    if (this.micFill + count > this.micFifo.length) throw new Error(`EchoCanceller: capture() ran more than ${this.micFifo.length} samples ahead of playback()`);
    for (let j = 0; j < count; j++) this.micFifo[this.micFill + j] = finite(samples[j]!);
    this.micFill += count;
    this.processReady();
    // At most maxOutputFor(count): a backlog (capture() ran ahead, then playback() caught up)
    // drains a block per call rather than overrunning a caller's buffer sized by that bound.
    const n = Math.min(out.length, this.outFill, this.maxOutputFor(count));
    const cap = this.outFifo.length;
    for (let j = 0; j < n; j++) out[j] = this.outFifo[(this.outStart + j) % cap]!;
    if (upperBandGains) for (let j = 0; j < n; j++) upperBandGains[j] = this.outGain[(this.outStart + j) % cap]!;
    this.outStart = (this.outStart + n) % cap;
    this.outFill -= n;
    return n;
  }

  /** The filter's strongest partition, from the magnitudes the constraint keeps current (-1: none). */
  private strongestPartition(): number {
    let strongest = -1;
    let best = 0;
    for (let k = 0; k < this.partitions; k++) {
      if (this.partitionMagnitude[k]! > best) {
        best = this.partitionMagnitude[k]!;
        strongest = k;
      }
    }
    return strongest;
  }

  stats(): EchoCancellerStats {
    const strongest = this.strongestPartition();
    return {
      echoReductionDb: this.outPowerAvg > 0 && this.micPowerAvg > 0 ? 10 * Math.log10(this.micPowerAvg / this.outPowerAvg) : 0,
      leakage: this.leak,
      adapted: this.adaptedValue,
      resets: this.resetCount,
      echoDelayMs: strongest < 0 ? undefined : ((this.bulkBlocks + strongest + 0.5) * this.blockSamples * 1000) / this.sampleRate,
      filterOffsetMs: (this.bulkBlocks * this.blockSamples * 1000) / this.sampleRate,
    };
  }

  private processReady(): void {
    const b = this.blockSamples;
    let used = 0;
    while (this.farFill - used >= b && this.micFill - used >= b) {
      this.processBlock(used);
      used += b;
    }
    if (used === 0) return;
    this.farFifo.copyWithin(0, used, this.farFill);
    this.farFill -= used;
    this.micFifo.copyWithin(0, used, this.micFill);
    this.micFill -= used;
  }

  /** Processes the block at `at` in both FIFOs. */
  private processBlock(at: number): void {
    const b = this.blockSamples;
    const bins = this.bins;
    const k = this.partitions;
    const fft = this.fft;
    const { xRe, xIm, wRe, wIm, yRe, yIm, eRe, eIm, time, echo, error } = this;

    this.followEchoDelay(at);

    // The newest far-end spectrum: the previous block and this one (overlap-save), bulkBlocks
    // late. Without an offset it is the window the delay estimator has just transformed.
    let farEnergy = 0;
    const history = this.farHistory;
    const size = history.length;
    const from = this.historyEnd - b * (this.bulkBlocks + 1) + size;
    for (let i = 0; i < b; i++) farEnergy += history[(from + i) % size]! ** 2;
    this.head = (this.head + k - 1) % k;
    const newest = this.head * bins;
    if (this.bulkBlocks === 0) {
      xRe.set(this.uRe, newest);
      xIm.set(this.uIm, newest);
    } else {
      for (let i = 0; i < 2 * b; i++) time[i] = history[(from - b + i) % size]!;
      fft.forward(time, this.pRe, this.pIm);
      xRe.set(this.pRe, newest);
      xIm.set(this.pIm, newest);
    }

    // Echo estimate: Y = sum_k W_k X_k (its last B samples are the linear convolution), and in
    // the same pass the normalisation per bin: the far-end power in the filter's memory, each
    // partition weighted as in its update (IPNLMS).
    const proportion = this.proportion;
    const farPower = this.farPower;
    yRe.fill(0);
    yIm.fill(0);
    farPower.fill(this.regularization);
    for (let p = 0; p < k; p++) {
      const x = ((this.head + p) % k) * bins;
      const w = p * bins;
      const g = proportion[p]!;
      for (let f = 0; f < bins; f++) {
        const ar = wRe[w + f]!;
        const ai = wIm[w + f]!;
        const br = xRe[x + f]!;
        const bi = xIm[x + f]!;
        yRe[f] = yRe[f]! + ar * br - ai * bi;
        yIm[f] = yIm[f]! + ar * bi + ai * br;
        farPower[f] = farPower[f]! + g * (br * br + bi * bi);
      }
    }
    fft.inverse(yRe, yIm, time);
    let micEnergy = 0;
    let errorEnergy = 0;
    let echoEnergy = 0;
    let crossEnergy = 0;
    for (let i = 0; i < b; i++) {
      const d = this.micFifo[at + i]!;
      const y = time[b + i]!;
      const e = d - y;
      echo[i] = y;
      error[i] = e;
      micEnergy += d * d;
      errorEnergy += e * e;
      echoEnergy += y * y;
      crossEnergy += e * y;
    }

    // A filter that adds energy is wrong: the echo path changed (the laptop moved, another
    // device) or it diverged. Over 200 ms of far-end activity where it does, it is cleared and
    // learns again from scratch at the start-up rate, which is fast (the leakage-driven rate is
    // slow to notice such a change: it would take many seconds).
    const farActive = farEnergy > b * ACTIVE_POWER;
    if (farActive) {
      this.hurtBlocks = errorEnergy > micEnergy ? this.hurtBlocks + 1 : Math.max(0, this.hurtBlocks - 1);
      if (this.hurtBlocks * b > 0.2 * this.sampleRate) {
        this.hurtBlocks = 0;
        this.resetFilter();
      }
    }
    const output = errorEnergy > micEnergy ? this.micBlock(at) : error;

    // Error and echo-estimate spectra in the same framing: [0 .. 0, block].
    time.fill(0, 0, b);
    for (let i = 0; i < b; i++) time[b + i] = error[i]!;
    fft.forward(time, eRe, eIm);
    for (let i = 0; i < b; i++) time[b + i] = echo[i]!;
    fft.forward(time, this.pRe, this.pIm);

    // Recent far-end and error power per bin (the far end's from a window twice as long: halved).
    const { recentFar, recentError } = this;
    for (let f = 0; f < bins; f++) {
      recentFar[f] = 0.7 * recentFar[f]! + 0.15 * (xRe[newest + f]! ** 2 + xIm[newest + f]! ** 2);
      recentError[f] = 0.7 * recentError[f]! + 0.3 * (eRe[f]! ** 2 + eIm[f]! ** 2);
    }
    // Leakage: how the error's power spectrum follows the echo estimate's (Valin 2007), over the
    // bins where the far end has something (within 30 dB of its strongest): where it has nothing,
    // the error is the near end's alone and would only pull the estimate down.
    let strongestFar = 0;
    for (let f = 0; f < bins; f++) if (recentFar[f]! > strongestFar) strongestFar = recentFar[f]!;
    const farFloor = 1e-3 * strongestFar;
    let meanE = 0;
    let meanY = 0;
    let counted = 0;
    for (let f = 0; f < bins; f++) {
      if (recentFar[f]! < farFloor) continue;
      meanE += eRe[f]! ** 2 + eIm[f]! ** 2;
      meanY += this.pRe[f]! ** 2 + this.pIm[f]! ** 2;
      counted++;
    }
    meanE /= Math.max(1, counted);
    meanY /= Math.max(1, counted);
    let covariance = 0;
    let variance = 0;
    for (let f = 0; f < bins; f++) {
      if (recentFar[f]! < farFloor) continue;
      const ef = eRe[f]! ** 2 + eIm[f]! ** 2 - meanE;
      const yf = this.pRe[f]! ** 2 + this.pIm[f]! ** 2 - meanY;
      covariance += ef * yf;
      variance += yf * yf;
    }
    const beta = Math.min(this.betaMax, (this.beta0 * echoEnergy) / (errorEnergy + EPSILON));
    this.covarianceEY = (1 - beta) * this.covarianceEY + beta * covariance;
    this.varianceY = (1 - beta) * this.varianceY + beta * variance;
    const vy = Math.max(this.varianceY, EPSILON);
    this.leak = Math.min(1, Math.max(MIN_LEAK, this.covarianceEY / vy));

    // Step size per bin.
    const step = this.step;
    if (!this.adaptedValue) {
      // Start-up: a fixed step, smaller where the error outweighs the far end (near-end speech
      // there: a bin it dominates would otherwise learn to cancel the talker).
      let rate = 0;
      if (farActive) rate = (0.25 * Math.min(farEnergy, errorEnergy)) / (errorEnergy + EPSILON);
      this.adaptSum += rate;
      for (let f = 0; f < bins; f++) {
        const e = recentError[f]! + EPSILON;
        step[f] = farActive ? (0.25 * Math.min(recentFar[f]!, e)) / e / farPower[f]! : 0;
      }
      if (this.adaptSum > k && this.leak > 0.03) this.adaptedValue = true;
    } else {
      let residualRatio = (1e-4 * farEnergy + 3 * this.leak * echoEnergy) / (errorEnergy + EPSILON);
      const correlationFloor = (crossEnergy * crossEnergy) / (1 + errorEnergy * echoEnergy);
      if (residualRatio < correlationFloor) residualRatio = correlationFloor;
      if (residualRatio > 0.5) residualRatio = 0.5;
      for (let f = 0; f < bins; f++) {
        const e = eRe[f]! ** 2 + eIm[f]! ** 2 + EPSILON;
        let r = this.leak * (this.pRe[f]! ** 2 + this.pIm[f]! ** 2);
        if (r > 0.5 * e) r = 0.5 * e;
        r = 0.7 * r + 0.3 * residualRatio * e;
        step[f] = r / (e * farPower[f]!);
      }
    }

    // Gradient step: W_k += mu(f) g_k E(f) conj(X_k(f)); the constraint below measures the
    // partitions' new magnitudes, which give the next block's weights.
    if (farActive || this.adaptedValue) {
      for (let p = 0; p < k; p++) {
        const x = ((this.head + p) % k) * bins;
        const w = p * bins;
        const weight = proportion[p]!;
        for (let f = 0; f < bins; f++) {
          const mu = step[f]! * weight;
          const br = xRe[x + f]!;
          const bi = xIm[x + f]!;
          const er = eRe[f]!;
          const ei = eIm[f]!;
          wRe[w + f] = wRe[w + f]! + mu * (er * br + ei * bi);
          wIm[w + f] = wIm[w + f]! + mu * (ei * br - er * bi);
        }
      }
      // Gradient constraint: each partition projected back onto B taps (its other B taps are
      // circular wrap-around). Constraining only some partitions per block (Speex's and AEC3's
      // shortcut) lets the wrap-around make the filter time-varying: measured here, a steady
      // near-end tone 560 Hz below a steady far-end tone (one block rate apart, 187.5 Hz x 3)
      // was learnt and cancelled, 15 dB of the user's own voice gone. So every partition, always.
      for (let p = 0; p < k; p++) this.constrain(p);
      this.updateProportions();
    }

    if (farActive) {
      const a = 0.02;
      this.micPowerAvg = (1 - a) * this.micPowerAvg + a * (micEnergy / b);
      this.outPowerAvg = (1 - a) * this.outPowerAvg + a * (errorEnergy / b);
    }

    if (this.suppress) this.suppressResidual(output, micEnergy);
    else this.emit(output, 1);
  }

  /**
   * Records the far-end block at `at` as played and lets the delay estimator see it beside the
   * microphone's. If it finds the echo where the filter does not reach (or well before it), and
   * not where the filter has found echo itself, the filter is moved to start 20 ms before the echo
   * and learns again.
   */
  private followEchoDelay(at: number): void {
    const b = this.blockSamples;
    const history = this.farHistory;
    const size = history.length;
    for (let i = 0; i < b; i++) history[(this.historyEnd + i) % size] = this.farFifo[at + i]!;
    this.historyEnd = (this.historyEnd + b) % size;
    const time = this.time;
    for (let i = 0; i < 2 * b; i++) time[i] = history[(this.historyEnd - 2 * b + i + size) % size]!;
    this.fft.forward(time, this.uRe, this.uIm);
    for (let i = 0; i < b; i++) {
      time[i] = this.micPrevious[i]!;
      time[b + i] = this.micFifo[at + i]!;
      this.micPrevious[i] = time[b + i]!;
    }
    this.fft.forward(time, this.dRe, this.dIm);
    this.delayEstimator.update(this.uRe, this.uIm, this.dRe, this.dIm);
    const found = this.delayEstimator.estimate;
    if (found === undefined) return;
    const covered = found >= this.bulkBlocks && found - this.bulkBlocks <= this.partitions - this.tailBlocks;
    if (covered) return;
    // Echo the filter has found (its strongest partition) that fits the far end nearly as well
    // stays: a loud near end, or a far end that repeats itself, must not move a working filter.
    const strongest = this.strongestPartition();
    if (strongest >= 0 && this.delayEstimator.matchesNearlyAsWell(this.bulkBlocks + strongest)) return;
    const next = Math.max(0, found - this.marginBlocks);
    if (next === this.bulkBlocks) return;
    this.bulkBlocks = next;
    // The far-end spectra in the filter's memory are of the old alignment.
    this.xRe.fill(0);
    this.xIm.fill(0);
    this.resetFilter();
  }

  /** Projects partition p onto filters of B taps, and records its magnitude (weights, stats). */
  private constrain(p: number): void {
    const b = this.blockSamples;
    const bins = this.bins;
    const w = p * bins;
    const re = this.pRe;
    const im = this.pIm;
    for (let f = 0; f < bins; f++) {
      re[f] = this.wRe[w + f]!;
      im[f] = this.wIm[w + f]!;
    }
    this.fft.inverse(re, im, this.time);
    this.time.fill(0, b);
    this.fft.forward(this.time, re, im);
    this.wRe.set(re, w);
    this.wIm.set(im, w);
    let energy = 0;
    for (let f = 0; f < bins; f++) energy += re[f]! * re[f]! + im[f]! * im[f]!;
    this.partitionMagnitude[p] = Math.sqrt(energy);
  }

  /**
   * Proportionate weights g_k: each partition's filter magnitude plus a tenth of the largest (no
   * partition stops learning), scaled to average 1.
   */
  private updateProportions(): void {
    const k = this.partitions;
    const magnitude = this.partitionMagnitude;
    let largest = 0;
    for (let p = 0; p < k; p++) if (magnitude[p]! > largest) largest = magnitude[p]!;
    let total = 0;
    for (let p = 0; p < k; p++) total += magnitude[p]! + 0.1 * largest + EPSILON;
    for (let p = 0; p < k; p++) this.proportion[p] = (k * (magnitude[p]! + 0.1 * largest + EPSILON)) / total;
  }

  /** The microphone block at `at`, in a scratch buffer. */
  private micBlock(at: number): Float64Array {
    for (let i = 0; i < this.blockSamples; i++) this.micCopy[i] = this.micFifo[at + i]!;
    return this.micCopy;
  }

  private resetFilter(): void {
    this.wRe.fill(0);
    this.wIm.fill(0);
    this.proportion.fill(1);
    this.partitionMagnitude.fill(0);
    this.adaptedValue = false;
    this.adaptSum = 0;
    this.covarianceEY = 1;
    this.varianceY = 1;
    this.leak = 1;
    this.resetCount++;
  }

  /** Wiener gain per bin on the output, residual echo = leakage x echo estimate (see the file comment). */
  private suppressResidual(output: Float64Array, micEnergy: number): void {
    const b = this.blockSamples;
    const bins = this.bins;
    const { time, window, eRe, eIm, pRe, pIm, lastClean } = this;
    for (let i = 0; i < b; i++) {
      time[i] = this.lastError[i]! * window[i]!;
      time[b + i] = output[i]! * window[b + i]!;
    }
    this.fft.forward(time, eRe, eIm);
    for (let i = 0; i < b; i++) {
      time[i] = this.lastEcho[i]! * window[i]!;
      time[b + i] = this.echo[i]! * window[b + i]!;
    }
    this.fft.forward(time, pRe, pIm);
    this.lastError.set(output);
    this.lastEcho.set(this.echo);
    const leak = this.leak;
    const lambda = COHERENCE_SMOOTHING;
    const { sEE, sYY, sEYre, sEYim } = this;
    for (let f = 0; f < bins; f++) {
      const er = eRe[f]!;
      const ei = eIm[f]!;
      const yr = pRe[f]!;
      const yi = pIm[f]!;
      sEE[f] = lambda * sEE[f]! + (1 - lambda) * (er * er + ei * ei);
      sYY[f] = lambda * sYY[f]! + (1 - lambda) * (yr * yr + yi * yi);
      sEYre[f] = lambda * sEYre[f]! + (1 - lambda) * (er * yr + ei * yi);
      sEYim[f] = lambda * sEYim[f]! + (1 - lambda) * (ei * yr - er * yi);
      // The share of the output coherent with the echo estimate, counted as echo only up to
      // COHERENT_ECHO_LIMIT (15 dB) times the estimate's power: coherence does not care how faint
      // the estimate is, and a filter still learning (no echo at all, a steady far-end tone) makes
      // a faint estimate that follows the near end's own voice (measured: a steady 440 Hz near-end
      // tone beside a 1000 Hz far-end one lost 9.4 dB at 16 kHz to an estimate 60 dB below it).
      // 15 dB keeps the drift test's figure (23.3 dB); 6 dB lowered it to 20.
      const coherence = Math.min((sEYre[f]! ** 2 + sEYim[f]! ** 2) / (sEE[f]! * sYY[f]! + EPSILON), (COHERENT_ECHO_LIMIT * sYY[f]!) / (sEE[f]! + EPSILON));
      const e = eRe[f]! ** 2 + eIm[f]! ** 2;
      const residual = 2 * leak * (pRe[f]! ** 2 + pIm[f]! ** 2) + EPSILON;
      // Decision-directed a priori echo-to-residual ratio.
      const posterior = Math.max(e / residual - 1, 0);
      const prior = 0.9 * (lastClean[f]! / residual) + 0.1 * posterior;
      let g = prior / (1 + prior);
      // What of the output is coherent with the echo estimate is echo, whatever the filter's
      // phase error (clock drift between microphone and speaker, a moving echo path).
      if (1 - coherence < g) g = 1 - coherence;
      if (g < this.floorGain) g = this.floorGain;
      lastClean[f] = g * g * e;
      eRe[f] = eRe[f]! * g;
      eIm[f] = eIm[f]! * g;
    }
    this.fft.inverse(eRe, eIm, time);
    const out = this.echo; // reuse as the output block (echo is saved in lastEcho)
    for (let i = 0; i < b; i++) {
      out[i] = this.overlap[i]! + time[i]! * window[i]!;
      this.overlap[i] = time[b + i]! * window[b + i]!;
    }
    // Sound above the band (SplitBandEchoCanceller) has no filter of its own: it gets the share
    // of the microphone that comes out here, its near end over near end plus echo, as if the two
    // were mixed there as they are here. Out block n is microphone block n - 1; ~8 ms smoothing.
    let outEnergy = 0;
    for (let i = 0; i < b; i++) outEnergy += out[i]! * out[i]!;
    this.micEnergyAvg = 0.5 * this.micEnergyAvg + 0.5 * this.previousMicEnergy;
    this.outEnergyAvg = 0.5 * this.outEnergyAvg + 0.5 * outEnergy;
    this.previousMicEnergy = micEnergy;
    const quiet = b * 1e-9; // -90 dBFS: nothing to judge by, gain 1
    this.emit(out, Math.min(1, Math.max(this.floorGain, Math.sqrt((this.outEnergyAvg + quiet) / (this.micEnergyAvg + quiet)))));
  }

  private emit(block: Float64Array, upperBandGain: number): void {
    const cap = this.outFifo.length;
    if (this.outFill + block.length > cap) throw new Error('EchoCanceller: output not taken (capture() out buffer too small)');
    for (let i = 0; i < block.length; i++) {
      const at = (this.outStart + this.outFill + i) % cap;
      this.outFifo[at] = block[i]!;
      this.outGain[at] = upperBandGain;
    }
    this.outFill += block.length;
  }
}
