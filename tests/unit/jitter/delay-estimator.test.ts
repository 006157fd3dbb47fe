import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DelayEstimator, type DelayEstimatorOptions } from '../../../src-main/core/media/jitter/delay-estimator';
import { seededRandom } from '../../harness/seeded-random';

const OPTIONS: DelayEstimatorOptions = { windowMs: 5000, percentile: 95, minDelayMs: 20, maxDelayMs: 400, startupDelayMs: 60, warmupPackets: 50 };

/** The definition, written the slow obvious way: the window re-sorted on every query. */
class ReferenceEstimator {
  private samples: { arrivalMs: number; transitMs: number }[] = [];
  constructor(private readonly options: DelayEstimatorOptions) {}
  add(arrivalMs: number, mediaTimeMs: number): void {
    this.samples.push({ arrivalMs, transitMs: arrivalMs - mediaTimeMs });
    const horizon = arrivalMs - this.options.windowMs;
    while (this.samples.length > 1 && this.samples[0]!.arrivalMs < horizon) this.samples.shift();
  }
  minTransitMs(): number | undefined {
    return this.samples.length === 0 ? undefined : Math.min(...this.samples.map((s) => s.transitMs));
  }
  jitterMs(): number {
    const min = this.minTransitMs();
    if (min === undefined) return 0;
    const rel = this.samples.map((s) => s.transitMs - min).sort((a, b) => a - b);
    return rel[Math.max(0, Math.min(rel.length - 1, Math.ceil((this.options.percentile / 100) * rel.length) - 1))]!;
  }
}

describe('DelayEstimator', () => {
  test('minimum and 95th-percentile jitter equal the definition over a sliding window, packet by packet', () => {
    const random = seededRandom(7);
    const fast = new DelayEstimator(OPTIONS);
    const reference = new ReferenceEstimator(OPTIONS);
    let arrival = 1000;
    // 60 s of 20 ms packets: jitter up to 80 ms, duplicates of transit values, slow drift, and a
    // burst of 2 ms spacing so the window outgrows its initial capacity.
    for (let k = 0; k < 3000; k++) {
      const spacing = k > 1500 && k < 2200 ? 2 : 20;
      arrival += spacing;
      const media = k * 20 * 1.0002;
      const jitter = random() < 0.1 ? Math.round(random() * 80) : Math.round(random() * 4);
      fast.add(arrival + jitter, media);
      reference.add(arrival + jitter, media);
      assert.equal(fast.minTransitMs(), reference.minTransitMs(), `min after packet ${k}`);
      assert.equal(fast.jitterMs(), reference.jitterMs(), `jitter after packet ${k}`);
    }
  });

  test('a spike leaves the target once it is older than the window; startup floor until warm', () => {
    const estimator = new DelayEstimator(OPTIONS);
    assert.equal(estimator.minTransitMs(), undefined);
    assert.equal(estimator.targetDelayMs(20), 60, 'unknown jitter: startup delay');
    for (let k = 0; k < 100; k++) estimator.add(k * 20 + (k % 10 === 0 ? 100 : 0), k * 20);
    assert.equal(estimator.targetDelayMs(20), 120, '10 % of packets 100 ms late: the 95th percentile sees them');
    for (let k = 100; k < 400; k++) estimator.add(k * 20, k * 20);
    assert.equal(estimator.targetDelayMs(20), 20, 'after 5 s of a clean link the spikes are forgotten');
    estimator.reset();
    assert.equal(estimator.minTransitMs(), undefined);
    assert.equal(estimator.targetDelayMs(20), 60);
  });
});
