/**
 * Streaming sample-rate converter for the audio thread: rational polyphase windowed-sinc
 * (Kaiser window), Float32 in and out, no allocation per call once warmed up.
 *
 * For a rate ratio up/down (reduced by the GCD), output sample n sits at input time n*down/up.
 * Its value is the input convolved with a sinc low-pass whose cutoff is PASSBAND times the
 * Nyquist frequency of the LOWER rate (so downsampling does not alias and upsampling does not
 * image), windowed to ZERO_CROSSINGS lobes either side; each of the `up` fractional phases has
 * its own precomputed kernel normalised to unity DC gain. At 48 kHz -> 8 kHz that is flat to
 * 3.4 kHz and more than 60 dB down from 4.05 kHz on.
 *
 * Latency: output lags input by about halfTaps input samples (`delayInputSamples`): the filter
 * is centred, so an output needs that much input after its own instant.
 *
 * Equal rates are a plain copy. Ownership: stateful, one instance per direction of one stream;
 * single-threaded (the AudioWorklet's thread, or whoever owns it).
 */

import { designPolyphaseSinc } from '@common/audio/polyphase-sinc';

const DEFAULT_ZERO_CROSSINGS = 32;
const KAISER_BETA = 7.5; // side lobes about -75 dB
const PASSBAND = 0.94;
const MAX_PHASES = 4096;

export class StreamingResampler {
  readonly up: number;
  readonly down: number;
  /** How far (in input samples) the output lags the input. */
  readonly delayInputSamples: number;
  private readonly halfTaps: number;
  private readonly taps: number;
  /** kernels[phase * taps + j] weights history[pos - halfTaps + 1 + j]. */
  private readonly kernels: Float32Array;
  private history: Float32Array;
  private historyLength: number;
  /** Index in `history` of the input sample at or just before the next output instant. */
  private pos: number;
  /** Fractional part of the next output instant, in units of 1/up input samples. */
  private phase = 0;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    zeroCrossings = DEFAULT_ZERO_CROSSINGS,
  ) {
    if (!Number.isInteger(zeroCrossings) || zeroCrossings < 2) throw new RangeError(`StreamingResampler: zeroCrossings must be an integer >= 2, got ${zeroCrossings}`);
    const bank = designPolyphaseSinc(inputRate, outputRate, {
      zeroCrossings,
      kaiserBeta: KAISER_BETA,
      passband: PASSBAND,
      maxPhases: MAX_PHASES,
      bypassEqualRates: true,
      label: 'StreamingResampler',
    });
    this.up = bank.up;
    this.down = bank.down;
    this.halfTaps = bank.halfTaps;
    this.taps = bank.taps;
    this.delayInputSamples = this.halfTaps;
    this.kernels = bank.kernels;
    // halfTaps-1 samples of silence give the first output (at input instant 0) its left context.
    this.history = new Float32Array(Math.max(1024, 4 * this.taps));
    this.historyLength = Math.max(0, this.halfTaps - 1);
    this.pos = this.historyLength;
  }

  /** Upper bound of the outputs that `inputSamples` more input can produce in one call. */
  maxOutputFor(inputSamples: number): number {
    return Math.ceil((inputSamples * this.up) / this.down) + 1;
  }

  /**
   * Consume `input[0..inputLength)` and write the outputs that became computable to `output`
   * (which must hold maxOutputFor(inputLength)). Returns how many were written.
   */
  process(input: ArrayLike<number>, output: Float32Array, inputLength = input.length): number {
    if (output.length < this.maxOutputFor(inputLength)) {
      throw new RangeError(`StreamingResampler: output holds ${output.length} samples, needs ${this.maxOutputFor(inputLength)}`);
    }
    if (this.taps === 0) {
      for (let i = 0; i < inputLength; i++) output[i] = input[i]!;
      return inputLength;
    }
    if (this.historyLength + inputLength > this.history.length) {
      const grown = new Float32Array(2 * (this.historyLength + inputLength));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    const history = this.history;
    for (let i = 0; i < inputLength; i++) history[this.historyLength + i] = input[i]!;
    this.historyLength += inputLength;

    const { up, down, taps, halfTaps, kernels } = this;
    let pos = this.pos;
    let phase = this.phase;
    let written = 0;
    while (pos + halfTaps < this.historyLength) {
      const first = pos - halfTaps + 1;
      const kernel = phase * taps;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += history[first + j]! * kernels[kernel + j]!;
      output[written++] = acc;
      phase += down;
      if (phase >= up) {
        pos += Math.floor(phase / up);
        phase %= up;
      }
    }
    // Keep only the history future outputs still need.
    const keepFrom = Math.min(pos - halfTaps + 1, this.historyLength);
    if (keepFrom > 0) {
      history.copyWithin(0, keepFrom, this.historyLength);
      this.historyLength -= keepFrom;
      pos -= keepFrom;
    }
    this.pos = pos;
    this.phase = phase;
    return written;
  }
}
