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

/** Transmit/receive QMF coefficients (24-tap symmetric filter, half stored). */
const QMF_COEFFS = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11] as const;

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

/** Adaptive predictor + scale factor state of one sub-band (the "band" of the Recommendation). */
class SubBand {
  /** Predicted signal value (s), pole part (sp), zero part (sz). */
  s = 0;
  sp = 0;
  sz = 0;
  /** Reconstructed signal r[0..2], partial reconstruction p[0..2], quantized difference d[0..6]. */
  r = [0, 0, 0];
  p = [0, 0, 0];
  d = [0, 0, 0, 0, 0, 0, 0];
  /** Pole coefficients a[1..2], zero coefficients b[1..6] (index 0 unused). */
  a = [0, 0, 0];
  b = [0, 0, 0, 0, 0, 0, 0];
  /** Log scale factor (nb) and linear scale factor (det). */
  nb = 0;
  det: number;
  /** Scratch for the updated zero coefficients (kept to avoid an allocation per sample). */
  private readonly bp = [0, 0, 0, 0, 0, 0, 0];

  constructor(initialDet: number) {
    this.det = initialDet;
  }

  /** SCALEL / SCALEH: linear scale factor from the log one; `shift` is 8 (low) or 10 (high). */
  updateScale(shift: number): void {
    const wd1 = (this.nb >> 6) & 31;
    const wd2 = shift - (this.nb >> 11);
    const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
    this.det = wd3 << 2;
  }

  /** Block 4: reconstruction, pole/zero predictor adaptation (UPPOL1/2, UPZERO) and prediction. */
  adapt(dx: number): void {
    // RECONS, PARREC
    this.d[0] = dx;
    this.r[0] = sat16(this.s + dx);
    this.p[0] = sat16(this.sz + dx);

    // UPPOL2
    const sg0 = this.p[0] >> 15;
    const sg1 = this.p[1]! >> 15;
    const sg2 = this.p[2]! >> 15;
    let wd1 = sat16(this.a[1]! << 2);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (sg0 === sg2 ? 128 : -128) + (wd2 >> 7) + ((this.a[2]! * 32512) >> 15);
    if (wd3 > 12288) wd3 = 12288;
    else if (wd3 < -12288) wd3 = -12288;
    const ap2 = wd3;

    // UPPOL1
    wd1 = sg0 === sg1 ? 192 : -192;
    wd2 = (this.a[1]! * 32640) >> 15;
    let ap1 = sat16(wd1 + wd2);
    wd3 = sat16(15360 - ap2);
    if (ap1 > wd3) ap1 = wd3;
    else if (ap1 < -wd3) ap1 = -wd3;

    // UPZERO
    const step = dx === 0 ? 0 : 128;
    const sgd = dx >> 15;
    const bp = this.bp;
    for (let i = 1; i < 7; i++) {
      const sgi = this.d[i]! >> 15;
      bp[i] = sat16((sgi === sgd ? step : -step) + ((this.b[i]! * 32640) >> 15));
    }

    // DELAYA
    for (let i = 6; i > 0; i--) {
      this.d[i] = this.d[i - 1]!;
      this.b[i] = bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      this.r[i] = this.r[i - 1]!;
      this.p[i] = this.p[i - 1]!;
    }
    this.a[1] = ap1;
    this.a[2] = ap2;

    // FILTEP
    wd1 = (this.a[1] * sat16(this.r[1]! + this.r[1]!)) >> 15;
    wd2 = (this.a[2] * sat16(this.r[2]! + this.r[2]!)) >> 15;
    this.sp = sat16(wd1 + wd2);

    // FILTEZ
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (this.b[i]! * sat16(this.d[i]! + this.d[i]!)) >> 15;
    this.sz = sat16(sz);

    // PREDIC
    this.s = sat16(this.sp + this.sz);
  }
}

/** Log scale factor update shared by encoder and decoder (LOGSCL / LOGSCH). */
function lowLogScale(band: SubBand, code4: number): void {
  let nb = ((band.nb * 127) >> 7) + WL[RL42[code4]!]!;
  if (nb < 0) nb = 0;
  else if (nb > 18432) nb = 18432;
  band.nb = nb;
  band.updateScale(8);
}

function highLogScale(band: SubBand, code2: number): void {
  let nb = ((band.nb * 127) >> 7) + WH[RH2[code2]!]!;
  if (nb < 0) nb = 0;
  else if (nb > 22528) nb = 22528;
  band.nb = nb;
  band.updateScale(10);
}

/** G.722 64 kbit/s encoder: 2 PCM samples at 16 kHz -> 1 code byte (high 2 bits | low 6 bits). */
export class G722EncoderState {
  private readonly low = new SubBand(32);
  private readonly high = new SubBand(8);
  /** Transmit QMF delay line (24 most recent input samples, oldest first). */
  private readonly x = new Int32Array(24);

  /** Encode `pcm` (even length) into pcm.length / 2 bytes. */
  encode(pcm: Int16Array): Uint8Array {
    if (pcm.length % 2 !== 0) {
      throw new RangeError(`G.722 encoder needs an even number of 16 kHz samples, got ${pcm.length}`);
    }
    const out = frameBytes(pcm.length / 2);
    const x = this.x;
    for (let j = 0, n = 0; j < pcm.length; j += 2, n++) {
      // Transmit QMF: shift in two samples, keep one low-band and one high-band output.
      x.copyWithin(0, 2);
      x[22] = pcm[j]!;
      x[23] = pcm[j + 1]!;
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF_COEFFS[i]!;
        sumEven += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      const xLow = (sumEven + sumOdd) >> 14;
      const xHigh = (sumEven - sumOdd) >> 14;
      out[n] = (this.encodeHigh(xHigh) << 6) | this.encodeLow(xLow);
    }
    return out;
  }

  private encodeLow(xLow: number): number {
    const band = this.low;
    // SUBTRA, QUANTL
    const el = sat16(xLow - band.s);
    const wd = el >= 0 ? el : -(el + 1);
    let i = 1;
    for (; i < 30; i++) {
      if (wd < (Q6[i]! * band.det) >> 12) break;
    }
    const ilow = el < 0 ? ILN[i]! : ILP[i]!;
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
    const wd = eh >= 0 ? eh : -(eh + 1);
    const mih = wd >= (564 * band.det) >> 12 ? 2 : 1;
    const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
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
  /** Receive QMF delay line. */
  private readonly x = new Int32Array(24);

  decode(codes: Uint8Array): Int16Array {
    const out = frameSamples(codes.length * 2);
    const x = this.x;
    for (let j = 0; j < codes.length; j++) {
      const code = codes[j]!;
      const rLow = this.decodeLow(code & 0x3f);
      const rHigh = this.decodeHigh((code >> 6) & 0x03);
      // Receive QMF: two output samples per band pair.
      x.copyWithin(0, 2);
      x[22] = rLow + rHigh;
      x[23] = rLow - rHigh;
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i]! * QMF_COEFFS[i]!;
        xout1 += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      out[2 * j] = sat16(xout1 >> 11);
      out[2 * j + 1] = sat16(xout2 >> 11);
    }
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
