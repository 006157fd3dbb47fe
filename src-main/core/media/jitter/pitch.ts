/**
 * Pitch-period search by normalized cross-correlation, shared by the generic PLC and time-scaling.
 *
 * Compares the `corrLen` samples ending at `end` with the same span `lag` samples earlier and
 * returns the lag in [minLag, maxLag] with the highest normalized correlation (-1..1). At high sample
 * rates the search runs decimated to ~8 kHz resolution and is then refined at full resolution, to
 * keep the cost per call small on the playout path.
 */
import { DOUBLE_ZERO } from '../double-fields';

export interface PitchEstimate {
  lag: number;
  /** Normalized cross-correlation at `lag`; near 1 for periodic (voiced) audio. */
  correlation: number;
}

function correlationAt(x: Int16Array, end: number, corrLen: number, lag: number, stride: number): number {
  let xy = DOUBLE_ZERO;
  let xx = DOUBLE_ZERO;
  let yy = DOUBLE_ZERO;
  for (let i = end - corrLen; i < end; i += stride) {
    const a = x[i]!;
    const b = x[i - lag]!;
    // Math.imul, not a * b: on silence every product is 0 x 0, and the first 0 x a negative sample
    // would be -0, no small integer, throwing away code optimized on silence. Exact: |a * b| <= 2^30.
    xy += Math.imul(a, b);
    xx += a * a;
    yy += b * b;
  }
  // Silence on either side (xx or yy 0) has xy 0 too: dividing by 1 then gives its 0 through the
  // same division as sound does, so code optimized on silence has seen every operation here.
  return xy / Math.sqrt(xx * yy || 1);
}

export function findPitch(
  x: Int16Array,
  end: number,
  corrLen: number,
  minLag: number,
  maxLag: number,
  sampleRate: number,
): PitchEstimate {
  if (end - corrLen - maxLag < 0) {
    throw new RangeError(`pitch search needs ${corrLen + maxLag} samples before ${end}`);
  }
  if (minLag > maxLag) throw new RangeError(`pitch search range empty: ${minLag}..${maxLag}`);
  const stride = Math.max(1, Math.floor(sampleRate / 8000));
  let best = minLag;
  let bestCorr = -2;
  for (let lag = minLag; lag <= maxLag; lag += stride) {
    const c = correlationAt(x, end, corrLen, lag, stride);
    if (c > bestCorr) {
      bestCorr = c;
      best = lag;
    }
  }
  if (stride > 1) {
    // Refine around the coarse winner at full resolution.
    const lo = Math.max(minLag, best - stride + 1);
    const hi = Math.min(maxLag, best + stride - 1);
    let refined = best;
    let refinedCorr = -2;
    for (let lag = lo; lag <= hi; lag++) {
      const c = correlationAt(x, end, corrLen, lag, 1);
      if (c > refinedCorr) {
        refinedCorr = c;
        refined = lag;
      }
    }
    best = refined;
    bestCorr = refinedCorr;
  }
  return { lag: best, correlation: bestCorr };
}

export function rms(x: Int16Array, start = 0, end = x.length): number {
  if (end <= start) return 0;
  let sum = DOUBLE_ZERO;
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (end - start));
}
