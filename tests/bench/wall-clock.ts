/**
 * Wall-clock time in ms since the Unix epoch with sub-millisecond resolution, comparable with
 * packet-capture timestamps (both are CLOCK_REALTIME). Used only to mark "the benchmark started
 * this now" against captured packets.
 */
import { performance } from 'node:perf_hooks';

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Sleeps `ms`, or not at all when that is already past (Node 24+ warns about a negative timeout). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
