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
 *   or after a pause in pulling: `restart`) is not a stall, and neither is running dry in the
 *   first START_GRACE_S of playout: a call's start is when the page sets up its echo-reference
 *   route and the core compiles its media path, one-off stalls that raised the target 10-40 ms in
 *   5 of 5 runs in Chromium (bench 6b's set-up), latency lowered again only a step per 15 s;
 * - lower: after LOWER_AFTER_S of playout without running dry, it shrinks by one STEP, not below
 *   `floor` (the device then plays the queue down; nothing is skipped).
 *
 * Ownership: one per PortAudioDevice; Node main thread only.
 */

/** Raise and lower in steps of this many ms. */
const STEP_MS = 10;
/** Clean playout (s) before the target is lowered by a step. */
const LOWER_AFTER_S = 15;
/** Playout (s) after a (re)start during which running dry raises nothing (see header). */
const START_GRACE_S = 3;

export class PlayoutTarget {
  private value: number;
  private readonly step: number;
  private readonly lowerAfter: number;
  private lastPlayed = 0;
  /** `played` when playout (re)started (the first report with audio played after the start). */
  private startedAt = -1;
  private readonly grace: number;
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
    this.grace = START_GRACE_S * sampleRate;
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
    this.startedAt = -1;
  }

  /** A playout report's cumulative `played` and `underrun` (port-rate samples). */
  observe(played: number, underrun: number): void {
    const lacked = underrun - this.lastUnderrun;
    const wasPlaying = this.lastPlayed > 0;
    this.lastUnderrun = underrun;
    this.lastPlayed = played;
    if (this.startedAt < 0 && played > 0) this.startedAt = played;
    if (lacked > 0 && wasPlaying && played - this.startedAt >= this.grace) {
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
