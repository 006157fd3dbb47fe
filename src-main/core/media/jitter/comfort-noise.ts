/**
 * Comfort noise (RFC 3389): what a far end with voice activity detection sends instead of audio
 * while its user is silent, and the noise we play from it until its audio resumes. Dead silence
 * there sounds like a dropped line; the far end's own background noise, at its level, does not.
 *
 * Payload (RFC 3389 section 3, a "SID" frame): byte 0 is the noise level in -dBov (0..127, the
 * most significant bit unused); bytes 1..M, optional, quantize the reflection coefficients of an
 * all-pole model of the noise's spectrum, k_i = (N_i - 127) / 128 (the decoding ffmpeg's and
 * other implementations use). A SID with the level alone is white noise.
 *
 * Synthesis: white excitation through 1 / A(z), A(z) = 1 + sum a_i z^-i with the a_i from the k_i by
 * the step-up recursion, scaled so the output's power is the level's: an all-pole filter with
 * reflection coefficients k_i multiplies white noise's power by 1 / prod(1 - k_i^2). 0 dBov is a
 * full-scale square wave of our 16-bit PCM (RMS 32767; RFC 3389's example, a u-law +/-8031 square
 * wave, is the same point 0.17 dB lower). The model is an 8 kHz one (CN/8000, the only rate we
 * negotiate); a 16 kHz decoder (G.722) gets it through the resampler. A new SID's level is reached
 * over one frame, not at a step.
 *
 * Ownership: one generator per jitter buffer (one received stream); Node main thread only.
 */
import { Resampler } from '../audio/resampler';

/** The RTP clock rate of CN we negotiate (static payload type 13), and the rate of its noise model. */
export const COMFORT_NOISE_CLOCK_RATE = 8000;
/** RMS of a 0 dBov signal in 16-bit PCM (see header). */
const RMS_AT_0_DBOV = 32767;
/** Reflection coefficients are clamped to the largest other quantized magnitude: |k| = 1 (N = 255) is an unstable filter. */
const MAX_REFLECTION = 127 / 128;
/** Model orders beyond this are ignored (RFC 3389 lets the decoder drop higher orders). */
export const MAX_COMFORT_NOISE_ORDER = 16;

export interface ComfortNoiseParameters {
  /** Noise level, dBov (0 or negative). */
  levelDbov: number;
  /** Reflection coefficients k_1..k_M, each in (-1, 1); empty for white noise. */
  reflection: number[];
}

/** Reads one RFC 3389 payload. Throws a RangeError for an empty one (it carries no level). */
export function parseComfortNoise(payload: Uint8Array): ComfortNoiseParameters {
  if (payload.length === 0) throw new RangeError('comfort noise payload is empty (RFC 3389 needs the noise level byte)');
  const reflection: number[] = [];
  const order = Math.min(payload.length - 1, MAX_COMFORT_NOISE_ORDER);
  for (let i = 1; i <= order; i++) {
    const k = (payload[i]! - 127) / 128;
    reflection.push(Math.max(-MAX_REFLECTION, Math.min(MAX_REFLECTION, k)));
  }
  return { levelDbov: -(payload[0]! & 0x7f), reflection };
}

/** Direct-form coefficients a_1..a_M of A(z) from reflection coefficients (step-up recursion). */
export function reflectionToLpc(reflection: readonly number[]): Float64Array<ArrayBuffer> {
  const a = new Float64Array(reflection.length);
  const previous = new Float64Array(reflection.length);
  for (let m = 0; m < reflection.length; m++) {
    const k = reflection[m]!;
    previous.set(a.subarray(0, m));
    for (let i = 0; i < m; i++) a[i] = previous[i]! + k * previous[m - 1 - i]!;
    a[m] = k;
  }
  return a;
}

export class ComfortNoiseGenerator {
  private lpc = new Float64Array(0);
  /** The filter's last outputs, newest first. */
  private history = new Float64Array(MAX_COMFORT_NOISE_ORDER);
  /** Excitation amplitude (uniform noise in [-1, 1) times this) now, and the one the last SID asks for. */
  private gain = 0;
  private targetGain = 0;
  /** xorshift32 state: any non-zero seed. */
  private seed = 0x2545f491;
  /** Upsampling to the decoder's rate (undefined at 8 kHz) and what it produced beyond the last request. */
  private readonly resampler: Resampler | undefined;
  private carry = new Int16Array(0);
  private updated = false;

  constructor(readonly sampleRate: number) {
    if (!Number.isInteger(sampleRate) || sampleRate < COMFORT_NOISE_CLOCK_RATE) throw new RangeError(`comfort noise cannot be made at ${sampleRate} Hz`);
    this.resampler = sampleRate === COMFORT_NOISE_CLOCK_RATE ? undefined : new Resampler(COMFORT_NOISE_CLOCK_RATE, sampleRate);
  }

  /** Whether a SID has been received (before that, generate() is silence). */
  get active(): boolean {
    return this.updated;
  }

  /** A new SID frame from the far end. Throws (parseComfortNoise) for an empty payload; the noise then goes on unchanged. */
  update(payload: Uint8Array): void {
    const { levelDbov, reflection } = parseComfortNoise(payload);
    let powerGain = 1;
    for (const k of reflection) powerGain *= 1 - k * k;
    const rms = RMS_AT_0_DBOV * 10 ** (levelDbov / 20);
    // Uniform noise in [-1, 1) has power 1/3: sqrt(3) makes the excitation's power 1 before the gain.
    this.targetGain = rms * Math.sqrt(3 * powerGain);
    if (!this.updated) this.gain = this.targetGain;
    this.updated = true;
    this.lpc = reflectionToLpc(reflection);
  }

  /** `samples` of comfort noise at `sampleRate`: silence before the first update(). */
  generate(samples: number): Int16Array {
    const out = new Int16Array(samples);
    if (!this.updated) return out;
    if (!this.resampler) {
      this.synthesize(out);
      return out;
    }
    let filled = Math.min(this.carry.length, samples);
    out.set(this.carry.subarray(0, filled));
    this.carry = this.carry.subarray(filled);
    while (filled < samples) {
      const narrow = new Int16Array(Math.ceil(((samples - filled) * COMFORT_NOISE_CLOCK_RATE) / this.sampleRate) + 8);
      this.synthesize(narrow);
      const wide = this.resampler.process(narrow);
      const take = Math.min(wide.length, samples - filled);
      out.set(wide.subarray(0, take), filled);
      filled += take;
      this.carry = wide.slice(take);
    }
    return out;
  }

  /** Fills `out` with 8 kHz noise, ramping the gain to the latest SID's over the block. */
  private synthesize(out: Int16Array): void {
    const order = this.lpc.length;
    const step = (this.targetGain - this.gain) / out.length;
    for (let n = 0; n < out.length; n++) {
      this.gain += step;
      let seed = this.seed;
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      this.seed = seed;
      let y = this.gain * ((seed | 0) / 2147483648);
      for (let i = 0; i < order; i++) y -= this.lpc[i]! * this.history[i]!;
      for (let i = order - 1; i > 0; i--) this.history[i] = this.history[i - 1]!;
      if (order > 0) this.history[0] = y;
      out[n] = y > 32767 ? 32767 : y < -32768 ? -32768 : Math.round(y);
    }
    this.gain = this.targetGain;
  }
}
