/**
 * ITU-T G.722 sub-band ADPCM core, 64 kbit/s mode (mode 1: 6 bits low band + 2 bits high band).
 *
 * Implemented from the block descriptions of the Recommendation (blocks 1L..6L, 1H..6H, QMF), with
 * integer arithmetic that matches the fixed-point reference, so an encoder/decoder pair here is
 * bit-exact with other conforming implementations (verified against spandsp, which baresip and
 * Asterisk use; see tests/unit/codecs/g722.test.ts).
 *
 * Signal levels: the encoder takes 16-bit PCM at 16 kHz; the transmit QMF halves the level into the
 * 15-bit range the ADPCM works in; the receive QMF scales back to 16-bit.
 *
 * Not thread-safe; one state object per direction of one RTP stream.
 */
import { frameBytes, frameSamples } from '../frame-memory';

/**
 * The QMF delay line: the 24 most recent samples, oldest first, as `line[pos .. pos + 23]` of a
 * line stored twice (`line[k] === line[k + 24]`), so a new pair of samples is two stores at `pos`
 * and their copies plus a step of `pos`, not a move of the 22 others (a `copyWithin` per sample
 * pair, a builtin call each time, cost about a quarter of the codec's time).
 */
const QMF_LINE_LENGTH = 48;

/** Shift two samples into the delay line (`first` the older); returns the new `pos`. */
function qmfShiftIn(line: Int32Array, pos: number, first: number, second: number): number {
  line[pos] = first;
  line[pos + 24] = first;
  line[pos + 1] = second;
  line[pos + 25] = second;
  return pos === 22 ? 0 : pos + 2;
}

/*
 * The QMF's 24-tap symmetric filter (coefficients 3, -11, 12, 32, -210, 951, 3876, -805, 362,
 * -156, 53, -11, then mirrored), split into the taps on the window's even and odd samples. Written
 * out: the sums are the same integers as the Recommendation's loop, in another order.
 */

/** Sum over window samples 0, 2, ..., 22 with coefficients h[0..11]. */
function qmfEvenTaps(line: Int32Array, pos: number): number {
  return (
    line[pos]! * 3 +
    line[pos + 2]! * -11 +
    line[pos + 4]! * 12 +
    line[pos + 6]! * 32 +
    line[pos + 8]! * -210 +
    line[pos + 10]! * 951 +
    line[pos + 12]! * 3876 +
    line[pos + 14]! * -805 +
    line[pos + 16]! * 362 +
    line[pos + 18]! * -156 +
    line[pos + 20]! * 53 +
    line[pos + 22]! * -11
  );
}

/** Sum over window samples 1, 3, ..., 23 with coefficients h[11..0]. */
function qmfOddTaps(line: Int32Array, pos: number): number {
  return (
    line[pos + 1]! * -11 +
    line[pos + 3]! * 53 +
    line[pos + 5]! * -156 +
    line[pos + 7]! * 362 +
    line[pos + 9]! * -805 +
    line[pos + 11]! * 3876 +
    line[pos + 13]! * 951 +
    line[pos + 15]! * -210 +
    line[pos + 17]! * 32 +
    line[pos + 19]! * 12 +
    line[pos + 21]! * -11 +
    line[pos + 23]! * 3
  );
}

/** Lower band 6-bit quantizer decision levels (QUANTL), scaled by 2^12 / det. */
const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121,
  1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
] as const;
/** QUANTL output code for negative / positive differences per decision interval. */
const ILN = [
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8,
  7, 6, 5, 4, 0,
] as const;
const ILP = [
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37,
  36, 35, 34, 33, 32, 0,
] as const;
/** LOGSCL log-scale-factor multipliers, indexed through RL42. */
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042] as const;
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0] as const;
/** SCALEL/SCALEH inverse log table (2^(i/32) scaled). */
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896,
  2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
] as const;
/** 4-bit inverse quantizer (INVQAL, used for prediction in every mode). */
const QM4 = [
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
] as const;
/** 6-bit inverse quantizer (INVQBL for 64 kbit/s reconstruction). */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360,
  -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688,
  -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856,
  7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136,
  -432, -136,
] as const;
/** Higher band: QUANTH codes, INVQAH levels, LOGSCH multipliers. */
const IHN = [0, 1, 0] as const;
const IHP = [0, 3, 2] as const;
const QM2 = [-7408, -1616, 7408, 1616] as const;
const WH = [0, -214, 798] as const;
const RH2 = [2, 1, 2, 1] as const;

function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/**
 * Adaptive predictor + scale factor state of one sub-band (the "band" of the Recommendation).
 *
 * Why named fields and no arrays: this runs 16 000 times a second per call (8000 sample pairs,
 * two bands, each direction). The Recommendation's delay lines (r, p, d and the coefficients a, b)
 * as arrays shifted element by element cost bounds-checked loads and stores per step; as small
 * integer fields of one object they stay in registers and in-object slots.
 *
 * The delay lines of r and d keep each value as the predictor filters read it, doubled and
 * saturated (`sat16(r + r)`, `sat16(d + d)`), computed once when the value enters the line rather
 * than at each of its steps through the filters; the sign of a doubled value is the value's own,
 * which is all the coefficient updates read of d.
 */
class SubBand {
  /** Predicted signal value (s) and its zero part (sz); the pole part is only needed for s. */
  s = 0;
  sz = 0;
  /** Reconstructed signal r[1..2], doubled and saturated. */
  rr1 = 0;
  rr2 = 0;
  /** Partial reconstruction p[1..2]. */
  p1 = 0;
  p2 = 0;
  /** Quantized difference signal d[1..6], doubled and saturated. */
  dd1 = 0;
  dd2 = 0;
  dd3 = 0;
  dd4 = 0;
  dd5 = 0;
  dd6 = 0;
  /** Pole coefficients a[1..2], zero coefficients b[1..6]. */
  a1 = 0;
  a2 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;
  b4 = 0;
  b5 = 0;
  b6 = 0;
  /** Log scale factor (nb) and linear scale factor (det). */
  nb = 0;
  det: number;

  constructor(initialDet: number) {
    this.det = initialDet;
  }

  /**
   * SCALEL / SCALEH: linear scale factor from the log one; `shift` is 8 (low) or 10 (high).
   * The Recommendation shifts ILB[wd1] left by -wd2 when wd2 < 0, else right by wd2. As nb is at
   * most 18432 (low band) or 22528 (high band), wd2 >= -1, so both are `(ILB[wd1] << 1) >> (wd2 + 1)`:
   * one expression, because a branch that only loud audio takes has no type feedback in code
   * optimized on quieter audio, and threw that code away when it came.
   */
  updateScale(shift: number): void {
    const wd1 = (this.nb >> 6) & 31;
    const wd2 = shift - (this.nb >> 11);
    this.det = ((ILB[wd1]! << 1) >> (wd2 + 1)) << 2;
  }

  /** Block 4: reconstruction, pole/zero predictor adaptation (UPPOL1/2, UPZERO) and prediction. */
  adapt(dx: number): void {
    // RECONS, PARREC
    const r0 = sat16(this.s + dx);
    const p0 = sat16(this.sz + dx);

    // UPPOL2
    const sg0 = p0 >> 15;
    const sg1 = this.p1 >> 15;
    const sg2 = this.p2 >> 15;
    let wd1 = sat16(this.a1 << 2);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (sg0 === sg2 ? 128 : -128) + (wd2 >> 7) + ((this.a2 * 32512) >> 15);
    if (wd3 > 12288) wd3 = 12288;
    else if (wd3 < -12288) wd3 = -12288;
    const ap2 = wd3;

    // UPPOL1. The Recommendation saturates wd1 + wd2 and 15360 - ap2 to 16 bits; neither can
    // leave that range (|a1| <= 27648 from the limit below, |ap2| <= 12288 from the one above),
    // so they are written without it: every saturation here is an inlined function call, and
    // TurboFan's inlining budget (v8-tuning.ts) ran out in this function before the last ones.
    wd1 = sg0 === sg1 ? 192 : -192;
    wd2 = (this.a1 * 32640) >> 15;
    let ap1 = wd1 + wd2;
    wd3 = 15360 - ap2;
    if (ap1 > wd3) ap1 = wd3;
    else if (ap1 < -wd3) ap1 = -wd3;

    // UPZERO (against the previous differences), then DELAYA. Saturating is not needed here either:
    // b in [-32768, 32767] gives (b * 32640) >> 15 in [-32640, 32639], and +-128 stays in range.
    // Two constants for the step, not `step` and `-step`: with dx = 0 that is -0, no small integer,
    // and a -0 only sound makes (signs that differ) threw away code optimized on silence.
    const stepUp = dx === 0 ? 0 : 128;
    const stepDown = dx === 0 ? 0 : -128;
    const sgd = dx >> 15;
    const b1 = (this.dd1 >> 15 === sgd ? stepUp : stepDown) + ((this.b1 * 32640) >> 15);
    const b2 = (this.dd2 >> 15 === sgd ? stepUp : stepDown) + ((this.b2 * 32640) >> 15);
    const b3 = (this.dd3 >> 15 === sgd ? stepUp : stepDown) + ((this.b3 * 32640) >> 15);
    const b4 = (this.dd4 >> 15 === sgd ? stepUp : stepDown) + ((this.b4 * 32640) >> 15);
    const b5 = (this.dd5 >> 15 === sgd ? stepUp : stepDown) + ((this.b5 * 32640) >> 15);
    const b6 = (this.dd6 >> 15 === sgd ? stepUp : stepDown) + ((this.b6 * 32640) >> 15);
    const dd1 = sat16(dx + dx);
    const dd2 = this.dd1;
    const dd3 = this.dd2;
    const dd4 = this.dd3;
    const dd5 = this.dd4;
    const dd6 = this.dd5;
    this.dd1 = dd1;
    this.dd2 = dd2;
    this.dd3 = dd3;
    this.dd4 = dd4;
    this.dd5 = dd5;
    this.dd6 = dd6;
    this.b1 = b1;
    this.b2 = b2;
    this.b3 = b3;
    this.b4 = b4;
    this.b5 = b5;
    this.b6 = b6;
    const rr1 = sat16(r0 + r0);
    const rr2 = this.rr1;
    this.rr1 = rr1;
    this.rr2 = rr2;
    this.p2 = this.p1;
    this.p1 = p0;
    this.a1 = ap1;
    this.a2 = ap2;

    // FILTEP
    const sp = sat16(((ap1 * rr1) >> 15) + ((ap2 * rr2) >> 15));

    // FILTEZ
    const sz = sat16(
      ((b1 * dd1) >> 15) +
        ((b2 * dd2) >> 15) +
        ((b3 * dd3) >> 15) +
        ((b4 * dd4) >> 15) +
        ((b5 * dd5) >> 15) +
        ((b6 * dd6) >> 15),
    );
    this.sz = sz;

    // PREDIC
    this.s = sat16(sp + sz);
  }
}

/**
 * Log scale factor update shared by encoder and decoder (LOGSCL / LOGSCH). The limits as
 * Math.min/max, not two comparisons: on silence nb stays at its floor, so the upper limit's
 * comparison never ran before sound came, and had no type feedback in code optimized on silence.
 */
function lowLogScale(band: SubBand, code4: number): void {
  band.nb = Math.min(Math.max(((band.nb * 127) >> 7) + WL[RL42[code4]!]!, 0), 18432);
  band.updateScale(8);
}

function highLogScale(band: SubBand, code2: number): void {
  band.nb = Math.min(Math.max(((band.nb * 127) >> 7) + WH[RH2[code2]!]!, 0), 22528);
  band.updateScale(10);
}

/** G.722 64 kbit/s encoder: 2 PCM samples at 16 kHz -> 1 code byte (high 2 bits | low 6 bits). */
export class G722EncoderState {
  private readonly low = new SubBand(32);
  private readonly high = new SubBand(8);
  /** Transmit QMF delay line (see QMF_LINE_LENGTH) and where its window starts. */
  private readonly x = new Int32Array(QMF_LINE_LENGTH);
  private pos = 0;

  /** Encode `pcm` (even length) into pcm.length / 2 bytes. */
  encode(pcm: Int16Array): Uint8Array {
    if (pcm.length % 2 !== 0) {
      throw new RangeError(`G.722 encoder needs an even number of 16 kHz samples, got ${pcm.length}`);
    }
    const out = frameBytes(pcm.length / 2);
    const x = this.x;
    let pos = this.pos;
    for (let j = 0, n = 0; j < pcm.length; j += 2, n++) {
      // Transmit QMF: shift in two samples, keep one low-band and one high-band output.
      pos = qmfShiftIn(x, pos, pcm[j]!, pcm[j + 1]!);
      const evenTaps = qmfEvenTaps(x, pos);
      const oddTaps = qmfOddTaps(x, pos);
      const xLow = (oddTaps + evenTaps) >> 14;
      const xHigh = (oddTaps - evenTaps) >> 14;
      out[n] = (this.encodeHigh(xHigh) << 6) | this.encodeLow(xLow);
    }
    this.pos = pos;
    return out;
  }

  private encodeLow(xLow: number): number {
    const band = this.low;
    // SUBTRA, QUANTL
    const el = sat16(xLow - band.s);
    // el >= 0 ? el : -(el + 1), without a branch only sound takes (no type feedback in code
    // optimized on silence) and without the -0 that -(el + 1) is for el = -1.
    const wd = el ^ (el >> 31);
    let i = 1;
    for (; i < 30; i++) {
      if (wd < (Q6[i]! * band.det) >> 12) break;
    }
    const ilow = (el < 0 ? ILN : ILP)[i]!; // one table read for both signs (as above)
    // INVQAL (4-bit truncated code drives prediction), LOGSCL, SCALEL, block 4
    const ril = ilow >> 2;
    const dlow = (band.det * QM4[ril]!) >> 15;
    lowLogScale(band, ril);
    band.adapt(dlow);
    return ilow;
  }

  private encodeHigh(xHigh: number): number {
    const band = this.high;
    // SUBTRA, QUANTH
    const eh = sat16(xHigh - band.s);
    const wd = eh ^ (eh >> 31); // as in encodeLow
    const mih = wd >= (564 * band.det) >> 12 ? 2 : 1;
    const ihigh = (eh < 0 ? IHN : IHP)[mih]!;
    // INVQAH, LOGSCH, SCALEH, block 4
    const dhigh = (band.det * QM2[ihigh]!) >> 15;
    highLogScale(band, ihigh);
    band.adapt(dhigh);
    return ihigh;
  }
}

/** G.722 64 kbit/s decoder: 1 code byte -> 2 PCM samples at 16 kHz. */
export class G722DecoderState {
  private readonly low = new SubBand(32);
  private readonly high = new SubBand(8);
  /** Receive QMF delay line (see QMF_LINE_LENGTH) and where its window starts. */
  private readonly x = new Int32Array(QMF_LINE_LENGTH);
  private pos = 0;

  decode(codes: Uint8Array): Int16Array {
    const out = frameSamples(codes.length * 2);
    const x = this.x;
    let pos = this.pos;
    for (let j = 0; j < codes.length; j++) {
      const code = codes[j]!;
      const rLow = this.decodeLow(code & 0x3f);
      const rHigh = this.decodeHigh((code >> 6) & 0x03);
      // Receive QMF: two output samples per band pair.
      pos = qmfShiftIn(x, pos, rLow + rHigh, rLow - rHigh);
      out[2 * j] = sat16(qmfOddTaps(x, pos) >> 11);
      out[2 * j + 1] = sat16(qmfEvenTaps(x, pos) >> 11);
    }
    this.pos = pos;
    return out;
  }

  private decodeLow(ilow: number): number {
    const band = this.low;
    // INVQBL (6-bit reconstruction), RECONS, LIMIT
    let rLow = band.s + ((band.det * QM6[ilow]!) >> 15);
    if (rLow > 16383) rLow = 16383;
    else if (rLow < -16384) rLow = -16384;
    // INVQAL with the 4-bit truncated code for prediction, LOGSCL, SCALEL, block 4
    const ril = ilow >> 2;
    const dlowt = (band.det * QM4[ril]!) >> 15;
    lowLogScale(band, ril);
    band.adapt(dlowt);
    return rLow;
  }

  private decodeHigh(ihigh: number): number {
    const band = this.high;
    const dhigh = (band.det * QM2[ihigh]!) >> 15;
    let rHigh = dhigh + band.s;
    if (rHigh > 16383) rHigh = 16383;
    else if (rHigh < -16384) rHigh = -16384;
    highLogScale(band, ihigh);
    band.adapt(dhigh);
    return rHigh;
  }
}
