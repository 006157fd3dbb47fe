/**
 * MOS (conversational quality, MOS-CQE) from the E-model rating R, ITU-T G.107 Annex B (B-4):
 *   R < 0        → 1
 *   0 ≤ R ≤ 100  → 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶
 *   R > 100      → 4.5
 * Note the polynomial dips slightly below 1 for 0 < R < 6.5 (e.g. R = 4.2 → 0.990); G.107 and
 * baresip both keep that value, so we do too. Also the G.109 user-satisfaction bands.
 */
export function mosFromRFactor(r: number): number {
  if (!Number.isFinite(r)) throw new RangeError(`R-factor must be a finite number, got ${r}`);
  if (r < 0) return 1;
  if (r > 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** ITU-T G.109 categories of speech transmission quality by R. */
export type QualityRating = 'best' | 'high' | 'medium' | 'low' | 'poor';

export function ratingFromRFactor(r: number): QualityRating {
  if (r >= 90) return 'best'; // very satisfied
  if (r >= 80) return 'high'; // satisfied
  if (r >= 70) return 'medium'; // some users dissatisfied
  if (r >= 60) return 'low'; // many users dissatisfied
  return 'poor'; // nearly all users dissatisfied
}
