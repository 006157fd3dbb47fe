/**
 * AudioSink that records to a 16-bit mono PCM WAV file at `sampleRate`.
 *
 * The file is created (and truncated) in the constructor so a bad path fails the call set-up,
 * not the first packet. Frames are buffered and appended asynchronously about once a second, in
 * order, so `write` never blocks the media path. `close()` writes the remaining samples and then
 * the final header sizes; until then the header says 0 bytes of data (a reader of an
 * unfinalized file still gets the samples, see wav-file.ts). A write error is kept and rethrown
 * by `close()`.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { write as writeAsync } from 'node:fs';
import type { AudioSink } from './audio-port';
import { WAV_HEADER_BYTES, wavHeader } from './wav-file';

const FLUSH_BYTES = 32 * 1024;

export class WavFileSink implements AudioSink {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dataBytes = 0;
  private fileOffset = WAV_HEADER_BYTES;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
    try {
      this.fd = openSync(path, 'w');
      writeSync(this.fd, wavHeader(sampleRate, 1, 0), 0, WAV_HEADER_BYTES, 0);
    } catch (error) {
      throw new Error(`Cannot create WAV file ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Samples written so far (including those not yet on disk). */
  get samplesWritten(): number {
    return (this.dataBytes + this.pendingBytes) / 2;
  }

  write(frame: Int16Array): void {
    if (this.closing) return;
    const bytes = Buffer.alloc(frame.length * 2);
    for (let i = 0; i < frame.length; i++) bytes.writeInt16LE(frame[i]!, i * 2);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flush();
      await this.writing;
      try {
        if (!this.failure) writeSync(this.fd, wavHeader(this.sampleRate, 1, this.dataBytes), 0, WAV_HEADER_BYTES, 0);
      } finally {
        closeSync(this.fd);
      }
      if (this.failure) throw this.failure;
    })();
    return this.closing;
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const position = this.fileOffset;
    this.fileOffset += chunk.length;
    this.writing = this.writing.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.failure) return resolve();
          writeAsync(this.fd, chunk, 0, chunk.length, position, (error) => {
            if (error) this.failure = new Error(`Writing WAV file ${this.path} failed: ${error.message}`, { cause: error });
            else this.dataBytes += chunk.length;
            resolve();
          });
        }),
    );
  }
}
