/**
 * SRTP packet index tracking per SSRC (RFC 3711 §3.3.1 and Appendix A).
 *
 * The 48-bit index i = 2^16 · ROC + SEQ is never sent; each side reconstructs the rollover counter
 * (ROC) from the 16-bit sequence number. Contract:
 *   - `estimate(seq)` guesses the index of an arriving packet from the highest sequence number
 *     seen so far (s_l) and the current ROC, choosing among ROC-1, ROC, ROC+1 the one that puts
 *     the packet closest to s_l. It does not change state.
 *   - `update(estimate)` commits an estimate after the packet authenticated (receiver) or was
 *     sent (sender): ROC and s_l advance only when the packet is newer than s_l.
 * The first packet of a stream defines s_l with ROC 0 (no out-of-band ROC signalling in SDES).
 * An estimate below index 0 (ROC would be -1 before the first wrap) is reported as `index: -1`
 * so the caller rejects it as too old rather than wrapping to a huge index.
 */
export interface SrtpIndexEstimate {
  /** Estimated rollover counter v (may be -1 for a packet from "before" the stream started). */
  readonly roc: number;
  readonly seq: number;
  /** 2^16 · roc + seq, or -1 when roc is -1. */
  readonly index: number;
}

export class SrtpIndexTracker {
  private roc = 0;
  /** Highest sequence number seen, s_l; undefined until the first packet. */
  private highestSeq: number | undefined;

  get rolloverCounter(): number {
    return this.roc;
  }

  estimate(seq: number): SrtpIndexEstimate {
    const sl = this.highestSeq;
    let v = this.roc;
    if (sl !== undefined) {
      if (sl < 0x8000) {
        if (seq - sl > 0x8000) v = this.roc - 1;
      } else if (sl - 0x8000 > seq) {
        v = this.roc + 1;
      }
    }
    return { roc: v, seq, index: v < 0 ? -1 : v * 0x10000 + seq };
  }

  update(estimate: SrtpIndexEstimate): void {
    if (this.highestSeq === undefined) {
      this.highestSeq = estimate.seq;
      this.roc = estimate.roc;
      return;
    }
    const current = this.roc * 0x10000 + this.highestSeq;
    if (estimate.index > current) {
      this.roc = estimate.roc;
      this.highestSeq = estimate.seq;
    }
  }
}
