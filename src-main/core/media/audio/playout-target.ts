/**
 * How much far-end audio the app keeps queued ahead of its audio device (in flight to the
 * renderer's worklet and in its ring), learned from the device's own reports: as little as the
 * path allows, more where the path stalls. Every millisecond queued is a millisecond of
 * mouth-to-ear delay; every stall longer than the queue is a gap the user hears.
 *
 * Rules (in port-rate samples; `observe` gets each playout report's cumulative counters):
 * - starts at `floor`;
 * - raise: when the device ran dry (its underrun count grew) after it had been playing, the target
 *   grows by what it lacked, rounded up to a STEP, at most to `ceiling`; a stall that long then
 *   finds enough queued the next time. The start (silence until the first frames are buffered,
 *   or after a pause in pulling: `restart`) is not a stall;
 * - lower: after LOWER_AFTER_S of playout without running dry, it shrinks by one STEP, not below
 *   `floor` (the device then plays the queue down; nothing is skipped).
 *
 * Ownership: one per PortAudioDevice; Node main thread only.
 */

/** Raise and lower in steps of this many ms. */
const STEP_MS = 10;
/** Clean playout (s) before the target is lowered by a step. */
const LOWER_AFTER_S = 15;

export class PlayoutTarget {
  private value: number;
  private readonly step: number;
  private readonly lowerAfter: number;
  private lastPlayed = 0;
  private lastUnderrun = 0;
  private cleanSince = 0;
  private raisesValue = 0;

  constructor(
    sampleRate: number,
    private readonly floor: number,
    private readonly ceiling: number,
  ) {
    if (!(ceiling >= floor)) throw new RangeError(`PlayoutTarget: the ceiling (${ceiling}) must be at least the floor (${floor})`);
    this.value = floor;
    this.step = Math.max(1, Math.round((STEP_MS * sampleRate) / 1000));
    this.lowerAfter = LOWER_AFTER_S * sampleRate;
  }

  /** Samples to keep queued now. */
  get samples(): number {
    return this.value;
  }

  /** How often the device ran dry and the target grew. */
  get raises(): number {
    return this.raisesValue;
  }

  /**
   * Playout (re)starts after a pause in pulling (hold, a new puller): the silence while nothing
   * was pulled is no stall. The next report only re-reads the counters; the learned target stays.
   */
  restart(): void {
    this.lastPlayed = 0;
  }

  /** A playout report's cumulative `played` and `underrun` (port-rate samples). */
  observe(played: number, underrun: number): void {
    const lacked = underrun - this.lastUnderrun;
    const wasPlaying = this.lastPlayed > 0;
    this.lastUnderrun = underrun;
    this.lastPlayed = played;
    if (lacked > 0 && wasPlaying) {
      this.value = Math.min(this.ceiling, this.value + Math.ceil(lacked / this.step) * this.step);
      this.raisesValue++;
      this.cleanSince = played;
      return;
    }
    if (lacked > 0 || played - this.cleanSince < this.lowerAfter) return;
    this.cleanSince = played;
    this.value = Math.max(this.floor, this.value - this.step);
  }
}
