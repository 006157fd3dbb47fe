/**
 * Network jitter measurement for the jitter buffer.
 *
 * For each packet, transit = arrivalMs - timestampMs (sender's media time in ms). Over a sliding
 * window of arrival time, min(transit) is the fastest path; a packet with transit t needs a playout
 * delay of (t - min) past the fastest path to arrive in time. The target delay is the
 * `percentile` of (t - min) over the window, plus a headroom the caller names (the jitter buffer's
 * slack margin, or one frame when it steers an arrival-measured delay against an unknown pull
 * phase), clamped to [minDelayMs, maxDelayMs]; until `warmupPackets` were seen the target is at
 * least startupDelayMs, as the jitter of a new stream is unknown. Clock drift shows up as a slow
 * trend in transit; the window minimum follows it.
 *
 * Cost: this runs for every packet and every playout frame of every call, so the window is kept
 * twice: in arrival order (a ring, to expire the oldest) and sorted by transit (so the minimum is
 * the first element and the percentile one index lookup). A packet costs a binary search and a
 * short copy (the window holds about windowMs / ptime samples); a query costs O(1).
 */
export interface DelayEstimatorOptions {
  windowMs: number;
  percentile: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Target floor until `warmupPackets` packets were measured (jitter is unknown at first). */
  startupDelayMs: number;
  warmupPackets: number;
}

const INITIAL_CAPACITY = 512;

export class DelayEstimator {
  /** Arrival order: ring of (arrivalMs, transitMs), oldest at `head`. */
  private arrivals = new Float64Array(INITIAL_CAPACITY);
  private transits = new Float64Array(INITIAL_CAPACITY);
  private head = 0;
  /** The same transits, ascending: sorted[0] is the window minimum. */
  private sorted = new Float64Array(INITIAL_CAPACITY);
  private count = 0;
  private measured = 0;

  constructor(private readonly options: DelayEstimatorOptions) {}

  add(arrivalMs: number, mediaTimeMs: number): void {
    const transitMs = arrivalMs - mediaTimeMs;
    const horizon = arrivalMs - this.options.windowMs;
    this.measured++;
    if (this.count > 0 && this.arrivals[this.head]! < horizon) {
      // The steady state: the oldest leaves as this one comes, one move in the sorted window.
      this.replaceSorted(this.transits[this.head]!, transitMs);
      this.head = (this.head + 1) % this.arrivals.length;
      this.count--;
    } else {
      if (this.count === this.arrivals.length) this.grow();
      this.insertSorted(transitMs);
    }
    const tail = (this.head + this.count) % this.arrivals.length;
    this.arrivals[tail] = arrivalMs;
    this.transits[tail] = transitMs;
    this.count++;
    while (this.count > 1 && this.arrivals[this.head]! < horizon) {
      this.removeSorted(this.transits[this.head]!);
      this.head = (this.head + 1) % this.arrivals.length;
      this.count--;
    }
  }

  /** Past the warm-up: the jitter of this stream has been measured. */
  get warm(): boolean {
    return this.measured >= this.options.warmupPackets;
  }

  /** Fastest transit in the window (ms); undefined before the first packet. */
  minTransitMs(): number | undefined {
    return this.count === 0 ? undefined : this.sorted[0];
  }

  /** Jitter at the configured percentile (ms above the fastest path). */
  jitterMs(): number {
    if (this.count === 0) return 0;
    const index = Math.min(this.count - 1, Math.ceil((this.options.percentile / 100) * this.count) - 1);
    return this.sorted[Math.max(0, index)]! - this.sorted[0]!;
  }

  targetDelayMs(headroomMs: number): number {
    const { minDelayMs, maxDelayMs, startupDelayMs, warmupPackets } = this.options;
    const floor = this.measured < warmupPackets ? Math.max(minDelayMs, startupDelayMs) : minDelayMs;
    return Math.min(maxDelayMs, Math.max(floor, this.jitterMs() + headroomMs));
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.measured = 0;
  }

  /** First index whose value is >= `value` in sorted[0, count). */
  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertSorted(value: number): void {
    const at = this.lowerBound(value);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = value;
  }

  /**
   * Replace one occurrence of `old` (in the window) by `value`: the values between the two places
   * move by one, in a loop of our own (copyWithin is a call into V8's C++ for every packet).
   */
  private replaceSorted(old: number, value: number): void {
    const sorted = this.sorted;
    const from = this.lowerBound(old);
    const to = this.lowerBound(value);
    if (to > from) {
      for (let i = from; i < to - 1; i++) sorted[i] = sorted[i + 1]!;
      sorted[to - 1] = value;
    } else {
      for (let i = from; i > to; i--) sorted[i] = sorted[i - 1]!;
      sorted[to] = value;
    }
  }

  /** Remove one occurrence of `value`, which is in the window (it was inserted and not yet removed). */
  private removeSorted(value: number): void {
    const at = this.lowerBound(value);
    this.sorted.copyWithin(at, at + 1, this.count);
  }

  /** More packets in one window than expected (e.g. 10 ms ptime over a long window): double. */
  private grow(): void {
    const capacity = this.arrivals.length * 2;
    const arrivals = new Float64Array(capacity);
    const transits = new Float64Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.arrivals.length;
      arrivals[i] = this.arrivals[from]!;
      transits[i] = this.transits[from]!;
    }
    const sorted = new Float64Array(capacity);
    sorted.set(this.sorted.subarray(0, this.count));
    this.arrivals = arrivals;
    this.transits = transits;
    this.sorted = sorted;
    this.head = 0;
  }
}
