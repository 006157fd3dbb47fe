/**
 * AudioSink that records to a 16-bit mono PCM WAV file at `sampleRate`.
 *
 * The file is created (and truncated) in the constructor so a bad path fails the call set-up,
 * not the first packet. Frames are copied into a 32 KiB buffer and appended asynchronously about
 * once a second, in order, so `write` never blocks the media path. `close()` writes the remaining
 * samples and then the final header sizes; until then the header says 0 bytes of data (a reader
 * of an unfinalized file still gets the samples, see wav-file.ts). A write error is kept and
 * rethrown by `close()`.
 *
 * Rate changes (`followSampleRate`): the file's rate may change while it is being written, e.g.
 * when the sink was opened at a high rate for local ringback and the call then negotiates a
 * narrowband codec (recording at the codec's rate spares the media path a resampling per frame).
 * Every sample already written is converted to the new rate in the background (in the same
 * ordered write queue, ~1 s of audio per event-loop turn), frames written after the call MUST be
 * at the new rate. Once converted, the file is cut to the converted data and its (unfinalized)
 * header names the new rate, so even a file never closed (process killed) reads right. The file
 * is thus one timeline at one rate, as if it had been opened at the new rate. `samplesWritten` counts at the new rate once the
 * conversion has finished.
 *
 * Ownership: one writer (the media session or ringback of one call); Node main thread only.
 */
import { closeSync, ftruncate as ftruncateAsync, openSync, read as readAsync, writeSync } from 'node:fs';
import { write as writeAsync } from 'node:fs';
import { endianness } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AudioSink } from './audio-port';
import { Resampler } from './resampler';
import { WAV_HEADER_BYTES, wavHeader } from './wav-file';

const FLUSH_BYTES = 32 * 1024;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export class WavFileSink implements AudioSink {
  private readonly fd: number;
  private rate: number;
  /** Samples not yet handed to the write queue (`pendingBytes` of them used)... */
  private pending = Buffer.alloc(FLUSH_BYTES);
  /**
   * ...and the same memory as samples, made with `pending` (little-endian hosts), not per frame.
   * `pending` is never pooled (>= 4 KiB), so its offset is 0 and the view is aligned.
   */
  private pendingSamples = new Int16Array(this.pending.buffer, this.pending.byteOffset, this.pending.length / 2);
  private pendingBytes = 0;
  /** Data bytes on disk; only the write queue changes it. */
  private dataBytes = 0;
  /** Data bytes queued but not yet on disk. */
  private queuedBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  /**
   * Frames are taken while the file is open: set once it is created, cleared by close(). A flag
   * written in the constructor as well as at close, unlike `closing`, so the per-frame `write` is
   * never compiled with it as a constant (see media-session.ts, "Teardown and V8").
   */
  private accepting = false;

  constructor(
    readonly path: string,
    sampleRate: number,
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
    this.rate = sampleRate;
    try {
      this.fd = openSync(path, 'w+'); // readable too: a rate change reads back what was written
      writeSync(this.fd, wavHeader(sampleRate, 1, 0), 0, WAV_HEADER_BYTES, 0);
    } catch (error) {
      throw new Error(`Cannot create WAV file ${path}: ${(error as Error).message}`, { cause: error });
    }
    this.accepting = true;
  }

  get sampleRate(): number {
    return this.rate;
  }

  /** Samples written so far (including those not yet on disk). */
  get samplesWritten(): number {
    return (this.dataBytes + this.queuedBytes + this.pendingBytes) / 2;
  }

  write(frame: Int16Array): void {
    if (!this.accepting) return;
    const bytes = frame.length * 2;
    if (this.pendingBytes + bytes > this.pending.length) this.flush();
    if (bytes > this.pending.length) this.newPending(bytes);
    if (LITTLE_ENDIAN_HOST) {
      // Same byte order as the file: one copy of the frame's memory (pendingBytes is even).
      this.pendingSamples.set(frame, this.pendingBytes / 2);
    } else {
      for (let i = 0; i < frame.length; i++) this.pending.writeInt16LE(frame[i]!, this.pendingBytes + i * 2);
    }
    this.pendingBytes += bytes;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /**
   * From now on the file is at `sampleRate`: what was written so far is converted (see header),
   * and every later `write` MUST be at the new rate.
   */
  followSampleRate(sampleRate: number): void {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
    if (this.closing) throw new Error(`WAV file ${this.path} is closed`);
    if (sampleRate === this.rate) return;
    const from = this.rate;
    this.rate = sampleRate;
    this.flush();
    this.enqueue(() => this.convertWritten(from, sampleRate));
  }

  close(): Promise<void> {
    this.accepting = false;
    this.closing ??= (async () => {
      this.flush();
      await this.writing;
      try {
        if (!this.failure) writeSync(this.fd, wavHeader(this.rate, 1, this.dataBytes), 0, WAV_HEADER_BYTES, 0);
      } finally {
        closeSync(this.fd);
      }
      if (this.failure) throw this.failure;
    })();
    return this.closing;
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.subarray(0, this.pendingBytes);
    this.newPending(FLUSH_BYTES);
    this.queuedBytes += chunk.length;
    this.pendingBytes = 0;
    this.enqueue(async () => {
      this.queuedBytes -= chunk.length;
      await this.writeAt(chunk, WAV_HEADER_BYTES + this.dataBytes);
      this.dataBytes += chunk.length;
    });
  }

  private newPending(bytes: number): void {
    this.pending = Buffer.alloc(bytes);
    this.pendingSamples = new Int16Array(this.pending.buffer, this.pending.byteOffset, this.pending.length / 2);
  }

  /** Run `task` after everything queued before it; after a failure nothing more is written. */
  private enqueue(task: () => Promise<void>): void {
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await task();
      } catch (error) {
        this.failure = new Error(`Writing WAV file ${this.path} failed: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  /** Replace the data on disk (at `from` Hz) by the same audio at `to` Hz. */
  private async convertWritten(from: number, to: number): Promise<void> {
    const old = Buffer.alloc(this.dataBytes);
    let got = 0;
    while (got < old.length) {
      const n = await new Promise<number>((resolve, reject) =>
        readAsync(this.fd, old, got, old.length - got, WAV_HEADER_BYTES + got, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
      );
      if (n === 0) throw new Error(`file ended after ${got} of ${old.length} bytes while converting it to ${to} Hz`);
      got += n;
    }
    const samples = new Int16Array(old.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = old.readInt16LE(i * 2);
    const resampler = new Resampler(from, to);
    const parts: Int16Array[] = [];
    for (let at = 0; at < samples.length; at += from) {
      // About one second of audio per turn: a long ringback must not stall the media clock.
      parts.push(resampler.process(samples.subarray(at, at + from)));
      await nextTurn();
    }
    parts.push(resampler.flush()); // output n is input time n*from/to: nothing to trim
    const converted = Buffer.alloc(parts.reduce((n, p) => n + p.length, 0) * 2);
    let offset = 0;
    for (const part of parts) for (let i = 0; i < part.length; i++, offset += 2) converted.writeInt16LE(part[i]!, offset);
    await this.writeAt(converted, WAV_HEADER_BYTES);
    // Nothing stale past the converted data, and the unfinalized header (0 bytes: "to the end of
    // the file", see the constructor) names the new rate.
    await new Promise<void>((resolve, reject) => ftruncateAsync(this.fd, WAV_HEADER_BYTES + converted.length, (error) => (error ? reject(error) : resolve())));
    await this.writeAt(wavHeader(to, 1, 0), 0);
    this.dataBytes = converted.length;
  }

  private writeAt(chunk: Uint8Array, position: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      writeAsync(this.fd, chunk, 0, chunk.length, position, (error) => (error ? reject(error) : resolve()));
    });
  }
}
