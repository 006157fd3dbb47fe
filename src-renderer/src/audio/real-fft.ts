/**
 * FFT of real signals, size a power of two, for the echo canceller on the audio thread.
 *
 * forward(): X[k] = sum_n x[n] e^(-2 pi i k n / N) for k = 0..N/2 (unnormalised; the other half is
 * the conjugate mirror). inverse(): its exact inverse (the 1/N is applied there). Computed as one
 * complex FFT of N/2 points over the even/odd samples packed as real/imaginary parts, then split;
 * tables are made once, nothing is allocated per call.
 *
 * Ownership: an instance keeps scratch state, so one owner at a time (single-threaded).
 */
export class RealFft {
  /** Bins in a spectrum: N/2 + 1. */
  readonly bins: number;
  private readonly half: number;
  private readonly bitReversed: Uint32Array;
  /** e^(-2 pi i j / (N/2)) for j < N/4: the half-size complex FFT's twiddles. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  /** e^(-2 pi i k / N) for k <= N/2: the even/odd split's twiddles. */
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) throw new RangeError(`RealFft: size must be a power of two >= 4, got ${size}`);
    const half = size / 2;
    this.half = half;
    this.bins = half + 1;
    this.bitReversed = new Uint32Array(half);
    const bits = Math.log2(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReversed[i] = r;
    }
    this.cos = new Float64Array(Math.max(1, half / 2));
    this.sin = new Float64Array(Math.max(1, half / 2));
    for (let j = 0; j < half / 2; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / half);
      this.sin[j] = -Math.sin((2 * Math.PI * j) / half);
    }
    this.splitCos = new Float64Array(half + 1);
    this.splitSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.splitSin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.zr = new Float64Array(half);
    this.zi = new Float64Array(half);
  }

  /** Spectrum of x[0..N) into re/im[0..N/2]. */
  forward(x: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const { half, zr, zi } = this;
    for (let m = 0; m < half; m++) {
      const r = this.bitReversed[m]!;
      zr[r] = x[2 * m]!;
      zi[r] = x[2 * m + 1]!;
    }
    this.butterflies(false);
    // Z[k] = E[k] + i O[k] (E, O: spectra of the even and odd samples); X[k] = E[k] + W^k O[k].
    re[0] = zr[0]! + zi[0]!;
    im[0] = 0;
    re[half] = zr[0]! - zi[0]!;
    im[half] = 0;
    const splitCos = this.splitCos;
    const splitSin = this.splitSin;
    for (let k = 1; k < half; k++) {
      const b = half - k;
      const ar = zr[k]!;
      const ai = zi[k]!;
      const br = zr[b]!;
      const bi = zi[b]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai - bi);
      const or = 0.5 * (ai + bi);
      const oi = -0.5 * (ar - br);
      const wr = splitCos[k]!;
      const wi = splitSin[k]!;
      re[k] = er + wr * or - wi * oi;
      im[k] = ei + wr * oi + wi * or;
    }
  }

  /** Signal x[0..N) from the spectrum re/im[0..N/2] (im[0] and im[N/2] are taken as 0). */
  inverse(re: Float64Array, im: Float64Array, x: Float32Array | Float64Array): void {
    const { half, zr, zi } = this;
    for (let k = 0; k < half; k++) {
      const b = half - k;
      // E[k] = (X[k] + conj X[N/2-k]) / 2, O[k] = (X[k] - conj X[N/2-k]) W^-k / 2, Z = E + i O.
      const xr = re[k]!;
      const xi = k === 0 ? 0 : im[k]!;
      const yr = re[b]!;
      const yi = b === half ? 0 : -im[b]!;
      const er = 0.5 * (xr + yr);
      const ei = 0.5 * (xi + yi);
      const dr = 0.5 * (xr - yr);
      const di = 0.5 * (xi - yi);
      const wr = this.splitCos[k]!;
      const wi = -this.splitSin[k]!;
      const or = dr * wr - di * wi;
      const oi = dr * wi + di * wr;
      const r = this.bitReversed[k]!;
      zr[r] = er - oi;
      zi[r] = ei + or;
    }
    this.butterflies(true);
    const scale = 1 / half;
    for (let m = 0; m < half; m++) {
      x[2 * m] = zr[m]! * scale;
      x[2 * m + 1] = zi[m]! * scale;
    }
  }

  /** In-place radix-2 complex FFT of zr/zi (already in bit-reversed order); conjugate twiddles when inverse. */
  private butterflies(inverse: boolean): void {
    const { half, zr, zi } = this;
    // Span 1: twiddle 1.
    for (let a = 0; a < half; a += 2) {
      const b = a + 1;
      const tr = zr[b]!;
      const ti = zi[b]!;
      zr[b] = zr[a]! - tr;
      zi[b] = zi[a]! - ti;
      zr[a] = zr[a]! + tr;
      zi[a] = zi[a]! + ti;
    }
    const sign = inverse ? -1 : 1;
    for (let span = 2; span < half; span *= 2) {
      const step = half / (2 * span);
      // Twiddle outermost: each is read once per stage, the butterflies sharing it run in a row.
      for (let j = 0; j < span; j++) {
        const wr = this.cos[j * step]!;
        const wi = sign * this.sin[j * step]!;
        for (let a = j; a < half; a += 2 * span) {
          const b = a + span;
          const br = zr[b]!;
          const bi = zi[b]!;
          const tr = wr * br - wi * bi;
          const ti = wr * bi + wi * br;
          const ar = zr[a]!;
          const ai = zi[a]!;
          zr[b] = ar - tr;
          zi[b] = ai - ti;
          zr[a] = ar + tr;
          zi[a] = ai + ti;
        }
      }
    }
  }
}
