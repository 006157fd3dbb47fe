/**
 * Extends 16-bit RTP sequence numbers and 32-bit RTP timestamps to monotonic JS numbers, so that
 * ordering and differences keep working across wrap-around (RFC 3550 §A.1 style: the value closest
 * to the highest seen so far wins, i.e. reordering of up to half the number space is tolerated).
 */
import { DOUBLE_FIELD } from '../double-fields';

export class RtpUnwrapper {
  private highest: number | undefined;
  /** `highest` as it was on the wire (modulo 2^bits), so unwrap needs no floating-point modulo per packet. */
  private highestRaw = DOUBLE_FIELD; // a 32-bit timestamp for one of the two kinds (double-fields.ts)
  /** 2^bits, computed once: unwrap runs for every packet. */
  private readonly space: number;

  /** `bits` is 16 for sequence numbers, 32 for timestamps. */
  constructor(private readonly bits: 16 | 32) {
    this.space = 2 ** bits;
  }

  unwrap(value: number): number {
    const space = this.space;
    if (!Number.isInteger(value) || value < 0 || value >= space) {
      throw new RangeError(`RTP ${this.bits === 16 ? 'sequence number' : 'timestamp'} out of range: ${value}`);
    }
    if (this.highest === undefined) {
      // Start in the middle of a cycle so early reordered packets never go negative.
      this.highest = space + value;
      this.highestRaw = value;
      return this.highest;
    }
    // The distance from the highest, taken into [-space/2, space/2).
    const half = space / 2;
    let delta = value - this.highestRaw;
    if (delta >= half) delta -= space;
    else if (delta < -half) delta += space;
    const extended = this.highest + delta;
    if (extended > this.highest) {
      this.highest = extended;
      this.highestRaw = value;
    }
    return extended;
  }

  reset(): void {
    this.highest = undefined;
  }
}
