/** Small signal helpers for codec tests (test-only). */

export function sine(freq: number, sampleRate: number, samples: number, amplitude: number, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin(phase + (2 * Math.PI * freq * i) / sampleRate));
  return out;
}

export function rmsOf(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / Math.max(1, end - start));
}

/** Goertzel power of one frequency, normalized so a full-period sine of amplitude A gives ~A^2/4. */
export function tonePower(x: ArrayLike<number>, freq: number, sampleRate: number, start = 0, end = x.length): number {
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = end - start;
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

/** Frequency (Hz) with the most energy, searched from `fromHz` to `toHz` in `stepHz` steps. */
export function dominantFrequency(x: ArrayLike<number>, sampleRate: number, fromHz: number, toHz: number, stepHz: number): number {
  let best = fromHz;
  let bestPower = -1;
  for (let f = fromHz; f <= toHz; f += stepHz) {
    const p = tonePower(x, f, sampleRate);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

/**
 * SNR (dB) of `decoded` against `reference` after finding the codec delay (0..maxLag samples) and
 * the best gain, over reference[start..end).
 */
export function snrDb(reference: Int16Array, decoded: Int16Array, start: number, end: number, maxLag: number): { snr: number; lag: number } {
  let best = { snr: -Infinity, lag: 0 };
  for (let lag = 0; lag <= maxLag; lag++) {
    let sig = 0;
    let err = 0;
    for (let i = start; i < end; i++) {
      const e = decoded[i + lag]! - reference[i]!;
      sig += reference[i]! * reference[i]!;
      err += e * e;
    }
    const snr = 10 * Math.log10(sig / Math.max(err, 1e-9));
    if (snr > best.snr) best = { snr, lag };
  }
  return best;
}
