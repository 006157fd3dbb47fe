/**
 * Local ringback: while an outgoing call rings without early media (180 without SDP), the caller
 * hears a generated tone in its audio sink, as from a PSTN exchange.
 *
 * Tone: 425 Hz at -16 dBFS with the ETSI/CEPT cadence 1 s on, 4 s off (ETSI TR 101 041). The
 * tone starts at once and stops on `stop()` (answer, 183 with SDP, end of call).
 * Pacing: 20 ms frames due at start + k*20 ms on the monotonic clock (no drift from timer jitter).
 * Ownership: owned by the session description handler; it does not close the sink.
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink } from './audio/audio-port';

export const RINGBACK_HZ = 425;
const FRAME_MS = 20;
const ON_MS = 1000;
const PERIOD_MS = 5000;
const AMPLITUDE = 0.16 * 32767;

export class RingbackTone {
  private timer: NodeJS.Timeout | undefined;
  private startTime = 0;
  private framesDone = 0;
  private phase = 0;

  constructor(
    private readonly sink: AudioSink,
    private readonly log: (message: string) => void,
  ) {}

  get playing(): boolean {
    return this.timer !== undefined;
  }

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
      const on = (this.framesDone * FRAME_MS) % PERIOD_MS < ON_MS;
      const step = (2 * Math.PI * RINGBACK_HZ) / this.sink.sampleRate;
      for (let i = 0; i < samples; i++) {
        if (on) frame[i] = Math.round(AMPLITUDE * Math.sin(this.phase));
        this.phase = (this.phase + step) % (2 * Math.PI);
      }
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
