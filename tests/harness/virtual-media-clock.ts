// A MediaClock whose time moves only when the test says so: timers fire exactly when due, in
// order, with now() at their due time. Media timing (pacing, playout grid, jitter buffer) then
// does the same on every run, however busy the machine is.
import type { MediaClock, MediaTimer } from '../../src-main/core/media/media-clock';

interface PendingTimer {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

export class VirtualMediaClock implements MediaClock {
  private time: number;
  private order = 0;
  private pending: PendingTimer[] = [];

  constructor(startMs = 1000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): MediaTimer {
    const timer: PendingTimer = { at: this.time + Math.max(0, delayMs), order: this.order++, callback, cancelled: false };
    this.pending.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time to `ms`, running every timer due by then at its due time (earliest first). */
  advanceTo(ms: number): void {
    if (ms < this.time) throw new Error(`virtual clock cannot go back from ${this.time} to ${ms}`);
    for (;;) {
      this.pending = this.pending.filter((t) => !t.cancelled);
      let next: PendingTimer | undefined;
      for (const t of this.pending) if (t.at <= ms && (!next || t.at < next.at || (t.at === next.at && t.order < next.order))) next = t;
      if (!next) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = ms;
  }
}
