/**
 * AudioSource that plays a WAV file (16-bit PCM, any rate/channels) at `sampleRate`, looping at
 * the end so a call can last longer than the file. The file is read, mixed to mono and resampled
 * once when the source is created, so `read` never touches the disk on the media timer.
 */
import type { AudioSource } from './audio-port';
import { resampleBuffer } from './resampler';
import { downmixToMono, readWavFile } from './wav-file';

export class WavFileSource implements AudioSource {
  private readonly samples: Int16Array;
  private position = 0;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
    const wav = readWavFile(path);
    const mono = downmixToMono(wav.samples, wav.channels);
    if (mono.length === 0) throw new Error(`WAV file ${path} contains no audio samples`);
    this.samples = resampleBuffer(mono, wav.sampleRate, sampleRate);
  }

  /** Length of one pass through the file, in samples at `sampleRate`. */
  get length(): number {
    return this.samples.length;
  }

  read(frame: Int16Array): void {
    let filled = 0;
    while (filled < frame.length) {
      const take = Math.min(frame.length - filled, this.samples.length - this.position);
      frame.set(this.samples.subarray(this.position, this.position + take), filled);
      filled += take;
      this.position = (this.position + take) % this.samples.length;
    }
  }

  async close(): Promise<void> {
    // Everything is in memory; nothing to release.
  }
}
