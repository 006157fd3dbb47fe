/**
 * Design of a polyphase Kaiser-windowed-sinc filter bank for rational resampling by up/down
 * (output rate / input rate reduced by their gcd). Shared by the core's Int16 resampler and the
 * renderer's Float32 streaming resampler: the filter is the same, only the sample plumbing differs.
 *
 * kernels[phase * taps + j] weights the input sample at offset (j - halfTaps + 1) from the output
 * instant, for the output instant `phase / up` of an input sample past it. Each phase sums to 1
 * (unity gain at DC).
 */
export interface PolyphaseSincBank {
  readonly up: number;
  readonly down: number;
  readonly halfTaps: number;
  readonly taps: number;
  readonly kernels: Float32Array;
}

export interface PolyphaseSincDesign {
  /** Sinc zero crossings on each side within the window (filter length). */
  zeroCrossings: number;
  kaiserBeta: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. */
  passband: number;
  maxPhases: number;
  /** Equal rates: no filter at all (halfTaps 0) instead of a band-limiting pass-through. */
  bypassEqualRates: boolean;
  /** Names the caller in errors. */
  label: string;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series), for the Kaiser window. */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-14) break;
  }
  return sum;
}

export function designPolyphaseSinc(inputRate: number, outputRate: number, design: PolyphaseSincDesign): PolyphaseSincBank {
  for (const [name, rate] of [['input', inputRate], ['output', outputRate]] as const) {
    if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`${design.label}: ${name} rate must be a positive integer, got ${rate}`);
  }
  const g = gcd(inputRate, outputRate);
  const up = outputRate / g;
  const down = inputRate / g;
  if (up > design.maxPhases) {
    throw new RangeError(`${design.label}: ${inputRate} Hz -> ${outputRate} Hz needs ${up} filter phases (max ${design.maxPhases})`);
  }
  const cutoff = 0.5 * design.passband * Math.min(1, outputRate / inputRate); // cycles per input sample
  const halfTaps = design.bypassEqualRates && inputRate === outputRate ? 0 : Math.ceil(design.zeroCrossings / (2 * cutoff));
  const taps = 2 * halfTaps;
  const kernels = new Float32Array(up * taps);
  const i0Beta = besselI0(design.kaiserBeta);
  for (let phase = 0; phase < up && taps > 0; phase++) {
    const frac = phase / up;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const t = j - halfTaps + 1 - frac; // input offset from the output instant
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const r = t / halfTaps;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(design.kaiserBeta * Math.sqrt(1 - r * r)) / i0Beta;
      const w = sinc * window;
      kernels[phase * taps + j] = w;
      sum += w;
    }
    for (let j = 0; j < taps; j++) kernels[phase * taps + j]! /= sum;
  }
  return { up, down, halfTaps, taps, kernels };
}
