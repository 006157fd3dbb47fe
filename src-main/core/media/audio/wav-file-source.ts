/**
 * AudioSource that plays a WAV file (16-bit PCM, any rate/channels) at `sampleRate` (default: the
 * file's own rate), looping at the end so a call can last longer than the file. The file is read,
 * mixed to mono and resampled once when the source is created, so `read` never touches the disk on
 * the media timer. Prefer the file's own rate when the consumer resamples anyway (the media session
 * does, per frame): converting a long file up front stalls the event loop and doubles its memory.
 */
import type { AudioSource } from './audio-port';
import { resampleBuffer } from './resampler';
import { downmixToMono, readWavFile } from './wav-file';

export class WavFileSource implements AudioSource {
  private readonly samples: Int16Array;
  private position = 0;
  readonly sampleRate: number;

  constructor(
    readonly path: string,
    sampleRate?: number,
  ) {
    if (sampleRate !== undefined && (!Number.isInteger(sampleRate) || sampleRate <= 0)) throw new RangeError(`Invalid sample rate ${sampleRate}`);
    const wav = readWavFile(path);
    const mono = downmixToMono(wav.samples, wav.channels);
    if (mono.length === 0) throw new Error(`WAV file ${path} contains no audio samples`);
    this.sampleRate = sampleRate ?? wav.sampleRate;
    this.samples = this.sampleRate === wav.sampleRate ? mono : resampleBuffer(mono, wav.sampleRate, this.sampleRate);
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
