/**
 * The clock a call's media runs on: monotonic time in ms and one-shot timers.
 *
 * One clock per RTP session (RtpSession.clock): it stamps packet arrivals, and the media and RTCP
 * sessions on that RTP session pace their frames and reports by it, so arrival times and pull
 * times are always on the same time scale. The system clock is performance.now() with Node's
 * timers; tests pass a virtual clock, so pacing, the playout grid and the jitter buffer's timing
 * can be checked exactly, whatever else the machine is doing.
 *
 * Contract (a clock implementation MUST):
 * - `now()` never goes backwards.
 * - A timer's callback runs once, no earlier than `delayMs` after `setTimer` on `now()`, and never
 *   after its `cancel()`; a timer may fire late (a busy event loop), and callers plan for that.
 * - A `background` timer does not by itself keep the process alive (Node's `unref`).
 * - `afterPendingIo` runs its callback once, after the I/O that is already waiting (datagrams
 *   received while the process was busy) has been handled, and before any timer that is not due yet.
 */
import { performance } from 'node:perf_hooks';

export interface MediaTimer {
  cancel(): void;
}

export interface MediaClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number, background?: boolean): MediaTimer;
  afterPendingIo(callback: () => void): void;
}

export const systemMediaClock: MediaClock = {
  now: () => performance.now(),
  setTimer(callback, delayMs, background = false) {
    const timeout = setTimeout(callback, delayMs);
    if (background) timeout.unref();
    return { cancel: () => clearTimeout(timeout) };
  },
  // libuv runs a loop iteration's timers before its I/O poll and immediates after it.
  afterPendingIo: (callback) => void setImmediate(callback),
};
