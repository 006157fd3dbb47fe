/**
 * Local ringback before a call's media starts: while an outgoing call rings and no early media
 * has been negotiated (180 without SDP), the caller hears the ringback signal (ringback-signal.ts)
 * written into its audio sink, as from a PSTN exchange. Once media starts, the session description
 * handler stops this and, while the far end is still alerting, the media session plays the same
 * signal until the far end's audio comes.
 *
 * Pacing: 20 ms frames due at start + k*20 ms on the monotonic clock (no drift from timer jitter).
 * Ownership: owned by the session description handler; it does not close the sink.
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink } from './audio/audio-port';
import type { RingbackSignal } from './ringback-signal';

const FRAME_MS = 20;

export class RingbackTone {
  private timer: NodeJS.Timeout | undefined;
  private startTime = 0;
  private framesDone = 0;

  constructor(
    private readonly sink: AudioSink,
    private readonly signal: RingbackSignal,
    private readonly log: (message: string) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.startTime = performance.now();
    this.framesDone = 0;
    this.tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const due = Math.floor((performance.now() - this.startTime) / FRAME_MS) + 1;
    const samples = Math.round((this.sink.sampleRate * FRAME_MS) / 1000);
    for (; this.framesDone < due; this.framesDone++) {
      const frame = new Int16Array(samples);
      this.signal.fill(frame, this.sink.sampleRate);
      try {
        this.sink.write(frame);
      } catch (error) {
        this.log(`Ringback stopped: the audio sink failed: ${(error as Error).message}`);
        this.stop();
        return;
      }
    }
    const nextDue = this.startTime + this.framesDone * FRAME_MS;
    this.timer = setTimeout(() => this.tick(), Math.max(0, nextDue - performance.now()));
  }
}
