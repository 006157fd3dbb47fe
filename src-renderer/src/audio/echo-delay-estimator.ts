/**
 * Finds how long the echo takes from the far end's playout to the microphone, for delays the echo
 * canceller's filter cannot cover by itself (a Bluetooth speaker adds 150-250 ms before the room
 * does anything), so the canceller can put its filter where the echo is.
 *
 * Method (the idea of WebRTC's binary-spectrum delay estimator): per block, 32 bands from 250 Hz
 * to 4 kHz of the far end's and the microphone's spectra are each reduced to one bit, "louder
 * than usual for this band" (above a slow average of its level while there is sound). For
 * every delay up to the maximum, the Hamming distance between the microphone's bits now and the
 * far end's bits that many blocks ago is averaged over time; the echo's delay is where that
 * distance is clearly smallest. Bits make it indifferent to the echo path's gain and colour, and
 * it costs a few integer operations per delay per block.
 *
 * It only counts blocks where the far end had enough bands active at that delay and the
 * microphone has too: silence matches silence and would otherwise win. An estimate is reported
 * once the same delay (within one block) has been best, by a clear margin and not at the end of
 * the range (an echo beyond the range makes the distance fall towards that end: measured, echo at
 * 250 ms searched for up to 160 ms was "found" at 156), for `stableBlocks` counted blocks in a
 * row. The distance's dip is broad (speech changes at syllable rate: ~100 ms either side) but its
 * bottom lies within a block or two of the echo's start.
 *
 * Ownership: one per EchoCanceller, called from its block loop (single-threaded).
 */

const BANDS = 32;
const LOW_HZ = 250;
const HIGH_HZ = 4000;
/** Bands that must be "on" in both signals for a block to count. */
const MIN_ACTIVE_BANDS = 4;
/** Averaging of the distances: ~100 counted blocks. */
const DISTANCE_SMOOTHING = 0.01;
/** Each band's usual level, ~1 s at 4 ms blocks. */
const LEVEL_SMOOTHING = 0.004;
/** The best delay's distance must lie this far below the mean over all delays (share of it). */
const CLEAR_MARGIN = 0.2;

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class EchoDelayEstimator {
  /** Delays considered: 0 .. maxDelayBlocks - 1 blocks. */
  readonly maxDelayBlocks: number;
  private readonly stableBlocks: number;
  /** Per band, the spectrum bins it sums: bins [bandFrom[j], bandTo[j]]. */
  private readonly bandFrom: Int32Array;
  private readonly bandTo: Int32Array;
  private readonly farLevel = new Float64Array(BANDS);
  private readonly micLevel = new Float64Array(BANDS);
  private readonly power = new Float64Array(BANDS);
  /** Band power summed over the bands below which a block is silence (about -70 dBFS a band). */
  private readonly silence: number;
  /** The far end's bits, newest at `head`, d blocks ago at (head + d) % maxDelayBlocks. */
  private readonly farBits: Int32Array;
  private head = 0;
  private readonly distance: Float64Array;
  private readonly counted: Int32Array;
  private bestDistance = 0;
  private meanDistance = 0;
  private candidate = -1;
  private candidateRun = 0;
  private estimateValue: number | undefined;
  private blocksSeen = 0;

  constructor(options: { sampleRate: number; fftSize: number; maxDelayBlocks: number; stableBlocks: number }) {
    const { sampleRate, fftSize } = options;
    this.maxDelayBlocks = options.maxDelayBlocks;
    this.stableBlocks = options.stableBlocks;
    this.bandFrom = new Int32Array(BANDS);
    this.bandTo = new Int32Array(BANDS);
    const hzPerBin = sampleRate / fftSize;
    for (let j = 0; j < BANDS; j++) {
      const lo = LOW_HZ + ((HIGH_HZ - LOW_HZ) * j) / BANDS;
      const hi = LOW_HZ + ((HIGH_HZ - LOW_HZ) * (j + 1)) / BANDS;
      // Bands narrower than a bin (8 and 16 kHz) take the nearest bin.
      const from = Math.round(lo / hzPerBin);
      this.bandFrom[j] = from;
      this.bandTo[j] = Math.max(from, Math.round(hi / hzPerBin) - 1);
    }
    this.silence = BANDS * fftSize * 1e-7;
    this.farBits = new Int32Array(this.maxDelayBlocks);
    this.distance = new Float64Array(this.maxDelayBlocks).fill(BANDS / 2);
    this.counted = new Int32Array(this.maxDelayBlocks);
  }

  /** The echo's delay in blocks, once found (undefined before). */
  get estimate(): number | undefined {
    return this.estimateValue;
  }

  /**
   * Whether echo `delay` blocks late fits the far end as well as the estimate does, near enough:
   * in the lower half of the dip between the mean distance and the best (the dip is broad, and
   * with a periodic far end there are several).
   */
  matchesNearlyAsWell(delay: number): boolean {
    if (delay < 0 || delay >= this.maxDelayBlocks || this.counted[delay]! < 1 / DISTANCE_SMOOTHING) return false;
    return this.distance[delay]! <= this.bestDistance + 0.5 * (this.meanDistance - this.bestDistance);
  }

  /** One block: the far end's spectrum as it is played, and the microphone's of the same span. */
  update(farRe: Float64Array, farIm: Float64Array, micRe: Float64Array, micIm: Float64Array): void {
    const k = this.maxDelayBlocks;
    this.head = (this.head + k - 1) % k;
    const far = this.bits(farRe, farIm, this.farLevel);
    this.farBits[this.head] = far;
    const mic = this.bits(micRe, micIm, this.micLevel);
    this.blocksSeen++;
    if (popcount(mic) < MIN_ACTIVE_BANDS) return;

    let best = -1;
    let bestDistance = Infinity;
    let sum = 0;
    let n = 0;
    const limit = Math.min(k, this.blocksSeen);
    for (let d = 0; d < limit; d++) {
      const then = this.farBits[(this.head + d) % k]!;
      if (popcount(then) >= MIN_ACTIVE_BANDS) {
        this.distance[d] = this.distance[d]! + DISTANCE_SMOOTHING * (popcount(then ^ mic) - this.distance[d]!);
        this.counted[d] = this.counted[d]! + 1;
      }
      if (this.counted[d]! < 1 / DISTANCE_SMOOTHING) continue;
      sum += this.distance[d]!;
      n++;
      if (this.distance[d]! < bestDistance) {
        bestDistance = this.distance[d]!;
        best = d;
      }
    }
    if (best < 0 || n < 8) return;
    this.bestDistance = bestDistance;
    this.meanDistance = sum / n;
    // A best delay at the end of the range is the slope towards one beyond it, not the echo's.
    const clear = bestDistance < (1 - CLEAR_MARGIN) * (sum / n) && best < k - 2;
    if (clear && this.candidate >= 0 && Math.abs(best - this.candidate) <= 1) this.candidateRun++;
    else {
      this.candidate = clear ? best : -1;
      this.candidateRun = clear ? 1 : 0;
    }
    if (this.candidateRun >= this.stableBlocks) this.estimateValue = this.candidate;
  }

  /** The block's bits; the bands' usual levels follow blocks with sound only (silence has no bits). */
  private bits(re: Float64Array, im: Float64Array, level: Float64Array): number {
    const power = this.power;
    let total = 0;
    for (let j = 0; j < BANDS; j++) {
      let p = 0;
      for (let f = this.bandFrom[j]!; f <= this.bandTo[j]!; f++) p += re[f]! * re[f]! + im[f]! * im[f]!;
      power[j] = p;
      total += p;
    }
    if (total < this.silence) return 0;
    let bits = 0;
    for (let j = 0; j < BANDS; j++) {
      if (power[j]! > level[j]!) bits |= 1 << j;
      level[j] = level[j]! + LEVEL_SMOOTHING * (power[j]! - level[j]!);
    }
    return bits;
  }
}
