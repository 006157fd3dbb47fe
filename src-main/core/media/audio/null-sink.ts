/** AudioSink that discards audio (counting it): for calls without a speaker or recording. */
import type { AudioSink } from './audio-port';

export class NullSink implements AudioSink {
  /** Samples received so far; lets tests and diagnostics see that audio arrived. */
  samplesWritten = 0;
  constructor(public sampleRate: number) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
  }
  /** Nothing is kept, so any rate will do: follow the codec's and spare the resampling. */
  followSampleRate(sampleRate: number): void {
    this.sampleRate = sampleRate;
  }
  write(frame: Int16Array): void {
    this.samplesWritten += frame.length;
  }
  async close(): Promise<void> {
    // Nothing to release.
  }
}
