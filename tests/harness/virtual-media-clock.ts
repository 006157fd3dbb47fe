// A MediaClock whose time moves only when the test says so: timers fire exactly when due, in
// order, with now() at their due time. Media timing (pacing, playout grid, jitter buffer) then
// does the same on every run, however busy the machine is. A busy process is modelled too
// (`stall`): in Node's order, timers that fell due meanwhile run first, then the pending I/O, then
// what waited for it (afterPendingIo). It counts the loop's wake-ups for timers as Node has them
// (`timerWakeups`): Node keeps ONE libuv timer at the earliest expiry it was given and re-arms it
// only when it fires, so a timer cleared before its expiry still wakes the loop then.
import type { MediaClock, MediaTimer } from '../../src-main/core/media/media-clock';

interface PendingTimer {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** Due order: earliest first, then in the order they were set (as Node runs equal timers). */
const byDue = (a: PendingTimer, b: PendingTimer) => a.at - b.at || a.order - b.order;

/**
 * Waits in real time, the virtual clock standing still, until `done()` (e.g. the datagrams sent
 * over 127.0.0.1 were handled); `what` names what did not happen in the error after 5 s.
 */
export async function waitForIo(done: () => boolean, what: () => string): Promise<void> {
  const giveUp = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > giveUp) throw new Error(`${what()} within 5 s`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export class VirtualMediaClock implements MediaClock {
  private time: number;
  private order = 0;
  private pending: PendingTimer[] = [];
  private afterIo: (() => void)[] = [];
  private stalled = false;
  /** Where Node's one libuv timer is armed (see header). */
  private wakeAt = Infinity;
  /** Times the loop woke for a timer, cleared ones included (see header). */
  timerWakeups = 0;

  constructor(startMs = 1000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): MediaTimer {
    const timer: PendingTimer = { at: this.time + Math.max(0, delayMs), order: this.order++, callback, cancelled: false };
    this.pending.push(timer);
    this.wakeAt = Math.min(this.wakeAt, timer.at);
    return { cancel: () => (timer.cancelled = true) };
  }

  afterPendingIo(callback: () => void): void {
    this.afterIo.push(callback);
  }

  /** Moves time to `ms`, running every timer due by then at its due time (earliest first). */
  advanceTo(ms: number): void {
    if (ms < this.time) throw new Error(`virtual clock cannot go back from ${this.time} to ${ms}`);
    while (this.wakeAt <= ms) {
      const wake = this.wakeAt;
      this.timerWakeups++;
      for (let next = this.nextDue(wake); next; next = this.nextDue(wake)) {
        this.pending.splice(this.pending.indexOf(next), 1);
        this.time = Math.max(this.time, next.at);
        next.callback();
        // Nothing was pending on the sockets: what waited for it runs at once.
        this.runAfterIo();
      }
      this.rearm();
    }
    this.time = ms;
  }

  /**
   * The process was busy until `ms`: time jumps there, the timers that fell due meanwhile run late
   * (as of `ms`), then `deliverIo` hands over what arrived during the stall (stamped `ms`), then
   * the callbacks that waited for that I/O run.
   */
  async stall(ms: number, deliverIo: () => Promise<void>): Promise<void> {
    if (this.stalled) throw new Error('already stalled');
    if (ms < this.time) throw new Error(`virtual clock cannot go back from ${this.time} to ${ms}`);
    this.stalled = true;
    this.time = ms;
    // The timers phase runs what was due when it began; timers set during it wait for the next turn.
    const due = this.pending.filter((t) => !t.cancelled && t.at <= ms).sort(byDue);
    for (const timer of due) {
      if (timer.cancelled) continue;
      this.pending.splice(this.pending.indexOf(timer), 1);
      timer.callback();
    }
    await deliverIo();
    this.stalled = false;
    this.runAfterIo();
    // The process was awake throughout: what fell due in the stall woke nothing more.
    this.rearm();
    this.advanceTo(ms);
  }

  /** After running its timers, Node re-arms its libuv timer at the earliest one still set (see header). */
  private rearm(): void {
    this.pending = this.pending.filter((t) => !t.cancelled);
    this.wakeAt = Math.min(Infinity, ...this.pending.map((t) => t.at));
  }

  private runAfterIo(): void {
    if (this.stalled) return;
    while (this.afterIo.length > 0) this.afterIo.shift()!();
  }

  private nextDue(ms: number): PendingTimer | undefined {
    this.pending = this.pending.filter((t) => !t.cancelled);
    let next: PendingTimer | undefined;
    for (const t of this.pending) if (t.at <= ms && (!next || byDue(t, next) < 0)) next = t;
    return next;
  }
}
