/**
 * Order statistics for benchmark samples. Percentiles interpolate linearly between closest ranks
 * (the "R-7" definition spreadsheets use), so p50 of [1, 2] is 1.5.
 */
export interface Distribution {
  n: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  return {
    n: values.length,
    median: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** Switchboard / baresip; undefined when either side has no figure or baresip's is 0. */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined || theirs === 0) return undefined;
  return ours / theirs;
}

/** Medians over repeated runs, each run measuring both softphones at the same time. */
export interface PairedMedians {
  /** Runs where both sides have a figure. */
  pairs: number;
  ours?: number;
  theirs?: number;
  /** Median of the per-run ratios ours/theirs (a pair shares the machine's load of its moment). */
  ratio?: number;
  ratioMin?: number;
  ratioMax?: number;
}

/**
 * Summary of repeated paired runs; a side missing from a run (it failed) leaves that run out of
 * the ratios but not out of the other side's median.
 */
export function pairedMedians(runs: readonly { ours?: number; theirs?: number }[]): PairedMedians {
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const ours = runs.map((r) => r.ours).filter(finite);
  const theirs = runs.map((r) => r.theirs).filter(finite);
  const ratios = runs.map((r) => ratio(finite(r.ours) ? r.ours : undefined, finite(r.theirs) ? r.theirs : undefined)).filter(finite);
  return {
    pairs: ratios.length,
    ours: ours.length > 0 ? percentile(ours, 50) : undefined,
    theirs: theirs.length > 0 ? percentile(theirs, 50) : undefined,
    ratio: ratios.length > 0 ? percentile(ratios, 50) : undefined,
    ratioMin: ratios.length > 0 ? Math.min(...ratios) : undefined,
    ratioMax: ratios.length > 0 ? Math.max(...ratios) : undefined,
  };
}
