/** AudioSource that produces silence: for calls without a microphone or audio file. */
import type { AudioSource } from './audio-port';

export class SilenceSource implements AudioSource {
  constructor(readonly sampleRate: number) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
  }
  read(frame: Int16Array): void {
    frame.fill(0);
  }
  async close(): Promise<void> {
    // Nothing to release.
  }
}
