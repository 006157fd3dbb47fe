/**
 * Streaming sample-rate converter: rational polyphase windowed-sinc (Kaiser window).
 *
 * For an L/M rate ratio (reduced by the GCD) output sample n sits at input time n*M/L. Its value
 * is the input convolved with a sinc low-pass whose cutoff is just below the Nyquist frequency of
 * the LOWER of the two rates (so downsampling does not alias and upsampling does not image),
 * windowed to ZERO_CROSSINGS lobes either side. The kernel for each of the L fractional phases is
 * precomputed and normalised to unity DC gain.
 *
 * Streaming: `process` may be called with any number of samples and returns the output samples
 * that became computable; the filter is centred, so output lags input by about half the kernel.
 * `flush` pads with silence to drain that tail (for whole-file conversion).
 *
 * Ownership: stateful; one instance per audio direction of one call.
 */

import { designPolyphaseSinc } from '../../../common/audio/polyphase-sinc';

const ZERO_CROSSINGS = 32;
const KAISER_BETA = 7; // about -70 dB side lobes
const PASSBAND = 0.95; // cutoff as a fraction of the lower Nyquist frequency: flat to ~3.5 kHz at 8 kHz
const MAX_PHASES = 4096;

export class Resampler {
  readonly up: number; // L
  readonly down: number; // M
  private readonly halfTaps: number;
  private readonly taps: number;
  /** kernels[phase * taps + j] weights input sample (base - halfTaps + 1 + j). */
  private readonly kernels: Float32Array;
  /** Input history; history[0] is absolute input index `historyStart`. */
  private history = new Float32Array(0);
  private historyLength = 0;
  private historyStart: number;
  private nextOutput = 0; // absolute index of the next output sample
  private inputCount = 0; // absolute number of input samples received

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    const bank = designPolyphaseSinc(inputRate, outputRate, {
      zeroCrossings: ZERO_CROSSINGS,
      kaiserBeta: KAISER_BETA,
      passband: PASSBAND,
      maxPhases: MAX_PHASES,
      bypassEqualRates: false,
      label: 'Resampler',
    });
    this.up = bank.up;
    this.down = bank.down;
    this.halfTaps = bank.halfTaps;
    this.taps = bank.taps;
    this.kernels = bank.kernels;
    // Start with halfTaps of silence in the history so the first outputs have a left context.
    this.historyStart = -this.halfTaps;
    this.append(new Int16Array(this.halfTaps), false);
  }

  /** Output samples that `inputSamples` more input samples will eventually produce (rounded down). */
  outputLengthFor(inputSamples: number): number {
    return Math.floor((inputSamples * this.up) / this.down);
  }

  process(input: Int16Array): Int16Array {
    this.append(input, true);
    return this.drain();
  }

  /** Feed enough silence to emit every output sample that belongs to the input so far. */
  flush(): Int16Array {
    const expected = Math.ceil((this.inputCount * this.up) / this.down);
    const parts: Int16Array[] = [];
    let produced = this.nextOutput;
    while (produced < expected) {
      const part = this.process(new Int16Array(this.halfTaps + 1));
      this.inputCount -= this.halfTaps + 1; // padding is not real input
      parts.push(part);
      produced += part.length;
    }
    const total = parts.reduce((n, p) => n + p.length, 0) - (produced - expected);
    const out = new Int16Array(Math.max(0, total));
    let offset = 0;
    for (const part of parts) {
      const take = Math.min(part.length, out.length - offset);
      out.set(part.subarray(0, take), offset);
      offset += take;
    }
    this.nextOutput = expected;
    return out;
  }

  private append(input: Int16Array, countAsInput: boolean): void {
    if (this.historyLength + input.length > this.history.length) {
      const grown = new Float32Array(Math.max(1024, (this.historyLength + input.length) * 2));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    for (let i = 0; i < input.length; i++) this.history[this.historyLength + i] = input[i]!;
    this.historyLength += input.length;
    if (countAsInput) this.inputCount += input.length;
  }

  private drain(): Int16Array {
    const available = this.historyStart + this.historyLength; // absolute end (exclusive)
    // Output n is computable when its last tap is in: floor(n*down/up) + halfTaps + 1 <= available,
    // i.e. n < (available - halfTaps) * up / down. Counting first lets the output be one typed
    // array (this runs once per 20 ms frame for the whole call).
    const end = Math.ceil(((available - this.halfTaps) * this.up) / this.down);
    const out = new Int16Array(Math.max(0, end - this.nextOutput));
    const { history, kernels, taps, up, down, halfTaps, historyStart } = this;
    let n = this.nextOutput;
    for (let k = 0; k < out.length; k++, n++) {
      const position = n * down; // input time * up
      const base = Math.floor(position / up);
      const kernel = (position - base * up) * taps;
      const offset = base - halfTaps + 1 - historyStart;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += history[offset + j]! * kernels[kernel + j]!;
      out[k] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
    }
    this.nextOutput = n;
    // Drop history no future output needs.
    const nextFirst = Math.floor((this.nextOutput * this.down) / this.up) - this.halfTaps + 1;
    const drop = Math.max(0, nextFirst - this.historyStart);
    if (drop > 0) {
      this.history.copyWithin(0, drop, this.historyLength);
      this.historyLength -= drop;
      this.historyStart += drop;
    }
    return out;
  }
}

/** Convert a whole buffer (e.g. a WAV file) in one go, with the filter delay removed. */
export function resampleBuffer(input: Int16Array, inputRate: number, outputRate: number): Int16Array {
  if (inputRate === outputRate) return input.slice();
  const resampler = new Resampler(inputRate, outputRate);
  const head = resampler.process(input);
  const tail = resampler.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
