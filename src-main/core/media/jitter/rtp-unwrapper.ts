/**
 * Extends 16-bit RTP sequence numbers and 32-bit RTP timestamps to monotonic JS numbers, so that
 * ordering and differences keep working across wrap-around (RFC 3550 §A.1 style: the value closest
 * to the highest seen so far wins, i.e. reordering of up to half the number space is tolerated).
 */
export class RtpUnwrapper {
  private highest: number | undefined;
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
      return this.highest;
    }
    const half = space / 2;
    let delta = (value - (this.highest % space) + space) % space;
    if (delta >= half) delta -= space;
    const extended = this.highest + delta;
    if (extended > this.highest) this.highest = extended;
    return extended;
  }

  reset(): void {
    this.highest = undefined;
  }
}
