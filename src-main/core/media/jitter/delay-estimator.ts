/**
 * Network jitter measurement for the jitter buffer.
 *
 * For each packet, transit = arrivalMs - timestampMs (sender's media time in ms). Over a sliding
 * window of arrival time, min(transit) is the fastest path; a packet with transit t needs a playout
 * delay of (t - min) past the fastest path to arrive in time. The target delay is the
 * `percentile` of (t - min) over the window, plus one frame (packetization + pull granularity),
 * clamped to [minDelayMs, maxDelayMs]; until `warmupPackets` were seen the target is at least
 * startupDelayMs, as the jitter of a new stream is unknown. Clock drift shows up as a slow trend in transit; the window
 * minimum follows it.
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

interface Sample {
  arrivalMs: number;
  transitMs: number;
}

export class DelayEstimator {
  private readonly samples: Sample[] = [];
  private measured = 0;

  constructor(private readonly options: DelayEstimatorOptions) {}

  add(arrivalMs: number, mediaTimeMs: number): void {
    this.samples.push({ arrivalMs, transitMs: arrivalMs - mediaTimeMs });
    this.measured++;
    const horizon = arrivalMs - this.options.windowMs;
    while (this.samples.length > 1 && this.samples[0]!.arrivalMs < horizon) this.samples.shift();
  }

  /** Fastest transit in the window (ms); undefined before the first packet. */
  minTransitMs(): number | undefined {
    if (this.samples.length === 0) return undefined;
    let min = Infinity;
    for (const s of this.samples) if (s.transitMs < min) min = s.transitMs;
    return min;
  }

  /** Jitter at the configured percentile (ms above the fastest path). */
  jitterMs(): number {
    const min = this.minTransitMs();
    if (min === undefined) return 0;
    const rel = this.samples.map((s) => s.transitMs - min).sort((a, b) => a - b);
    const index = Math.min(rel.length - 1, Math.ceil((this.options.percentile / 100) * rel.length) - 1);
    return rel[Math.max(0, index)]!;
  }

  targetDelayMs(frameMs: number): number {
    const { minDelayMs, maxDelayMs, startupDelayMs, warmupPackets } = this.options;
    const floor = this.measured < warmupPackets ? Math.max(minDelayMs, startupDelayMs) : minDelayMs;
    return Math.min(maxDelayMs, Math.max(floor, this.jitterMs() + frameMs));
  }

  reset(): void {
    this.samples.length = 0;
    this.measured = 0;
  }
}
