/**
 * Sliding replay window over packet indices (RFC 3711 §3.3.2), 64 packets wide.
 *
 * Contract:
 *   - `check(index)` says whether a packet with this index may be accepted: it is newer than
 *     anything seen, or inside the window and not yet seen. It does NOT change state, because the
 *     caller must authenticate the packet first (a forged packet must not move the window).
 *   - `accept(index)` records an authenticated packet; call it only after `check` passed.
 * Indices are SRTP 48-bit packet indices or SRTCP 31-bit indices; both fit a JS number exactly.
 * The seen-bitmap is a bigint: bit k set means index (highest - k) was accepted.
 */
export type ReplayVerdict = 'new' | 'replayed' | 'too-old';

export const REPLAY_WINDOW_SIZE = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW_SIZE)) - 1n;

export class ReplayWindow {
  private highest = -1;
  private seen = 0n;

  check(index: number): ReplayVerdict {
    if (this.highest < 0 || index > this.highest) return 'new';
    const age = this.highest - index;
    if (age >= REPLAY_WINDOW_SIZE) return 'too-old';
    return (this.seen >> BigInt(age)) & 1n ? 'replayed' : 'new';
  }

  accept(index: number): void {
    if (this.highest < 0) {
      this.highest = index;
      this.seen = 1n;
      return;
    }
    if (index > this.highest) {
      const shift = index - this.highest;
      this.seen = shift >= REPLAY_WINDOW_SIZE ? 1n : ((this.seen << BigInt(shift)) | 1n) & WINDOW_MASK;
      this.highest = index;
      return;
    }
    const age = this.highest - index;
    if (age < REPLAY_WINDOW_SIZE) this.seen |= 1n << BigInt(age);
  }
}
