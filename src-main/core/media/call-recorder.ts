/**
 * Records one call to a 16-bit STEREO PCM WAV: left channel = what we send (the local audio
 * source, before encoding), right channel = what we receive (decoded, as played). The rate is the
 * owner's choice (recordingRateFor: the call's codec rate, 16 kHz at most), fixed for the file.
 *
 * Timeline rule: the local side drives the file. The source is read in real time by the media
 * session's pacing clock, whether or not we send (hold), so every local frame appends the same
 * number of stereo samples; received audio is queued and consumed alongside, padded with silence
 * when nothing arrived (hold, loss beyond concealment) and trimmed to at most one second of
 * backlog (a peer sending faster than real time must not make the file drift).
 *
 * The file is created at `start` (a bad path fails the call.record request); samples are appended
 * synchronously about every 0.5 s; `stop` writes the rest and the final header sizes.
 *
 * Ownership: created by the session description handler, fed from the media session's source
 * reads and sink writes; Node main thread only.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Resampler } from './audio/resampler';
import { WAV_HEADER_BYTES, wavHeader } from './audio/wav-file';

/** Narrowband: G.711 calls. */
export const RECORDING_SAMPLE_RATE = 8000;
/** The most a recording keeps: wideband speech (a 48 kHz Opus call would triple the file for little). */
export const MAX_RECORDING_SAMPLE_RATE = 16000;

/**
 * The rate to record a call whose codecs run at `codecRates` (PCM rates): the highest, at most
 * 16 kHz, so a G.722 or Opus call is recorded wideband, as it was heard (before session 27 every
 * recording was 8 kHz, cutting everything above 4 kHz).
 */
export function recordingRateFor(codecRates: readonly number[]): number {
  return Math.min(MAX_RECORDING_SAMPLE_RATE, Math.max(RECORDING_SAMPLE_RATE, ...codecRates));
}

export class CallRecorder {
  private readonly fd: number;
  private dataBytes = 0;
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private remote = new Int16Array(0);
  private localResampler: Resampler | undefined;
  private remoteResampler: Resampler | undefined;
  private stopped = false;

  /** Write about every half second; keep at most a second of the far end ahead of us. */
  private readonly flushSamples: number;
  private readonly maxRemoteBacklog: number;

  constructor(
    readonly path: string,
    readonly sampleRate = RECORDING_SAMPLE_RATE,
  ) {
    this.flushSamples = sampleRate / 2;
    this.maxRemoteBacklog = sampleRate;
    try {
      this.fd = openSync(path, 'w');
      writeSync(this.fd, wavHeader(sampleRate, 2, 0), 0, WAV_HEADER_BYTES, 0);
    } catch (error) {
      throw new Error(`Cannot create the recording ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** A frame the local source produced (at `rate`). */
  local(frame: Int16Array, rate: number): void {
    if (this.stopped) return;
    const samples = this.convert(frame, rate, 'local');
    const remote = this.remote.subarray(0, Math.min(samples.length, this.remote.length));
    this.remote = this.remote.slice(remote.length);
    const stereo = new Int16Array(samples.length * 2);
    for (let i = 0; i < samples.length; i++) {
      stereo[2 * i] = samples[i]!;
      stereo[2 * i + 1] = i < remote.length ? remote[i]! : 0;
    }
    this.pending.push(stereo);
    this.pendingSamples += samples.length;
    if (this.pendingSamples >= this.flushSamples) this.flush();
  }

  /** A frame written to the sink (at `rate`). */
  remoteFrame(frame: Int16Array, rate: number): void {
    if (this.stopped) return;
    const samples = this.convert(frame, rate, 'remote');
    const joined = new Int16Array(this.remote.length + samples.length);
    joined.set(this.remote);
    joined.set(samples, this.remote.length);
    this.remote = joined.length > this.maxRemoteBacklog ? joined.slice(joined.length - this.maxRemoteBacklog) : joined;
  }

  /** Finalize the file. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.flush();
      writeSync(this.fd, wavHeader(this.sampleRate, 2, this.dataBytes), 0, WAV_HEADER_BYTES, 0);
    } finally {
      closeSync(this.fd);
    }
  }

  private convert(frame: Int16Array, rate: number, side: 'local' | 'remote'): Int16Array {
    if (rate === this.sampleRate) return frame;
    const key = side === 'local' ? 'localResampler' : 'remoteResampler';
    let resampler = this[key];
    if (!resampler || resampler.inputRate !== rate) resampler = this[key] = new Resampler(rate, this.sampleRate);
    return resampler.process(frame);
  }

  private flush(): void {
    for (const chunk of this.pending) {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      writeSync(this.fd, bytes, 0, bytes.length, WAV_HEADER_BYTES + this.dataBytes);
      this.dataBytes += bytes.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
  }
}
