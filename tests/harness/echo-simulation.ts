// A room for echo canceller tests: speech-like signals and a loudspeaker-to-microphone echo path
// (a delay, then an exponentially decaying reverberant tail), all seeded and reproducible.
import { RealFft } from '../../src-renderer/src/audio/real-fft';
import { seededRandom } from './seeded-random';

/**
 * Speech-like test signal: noise through a two-pole resonator whose frequency changes each
 * "syllable" (120-280 ms), syllables separated by short pauses and grouped into talk spurts,
 * normalised to `rms` over its active parts. Not speech, but non-stationary and coloured as
 * speech is, which is what makes echo cancellation hard (a white, steady signal is easy).
 */
export function speechLike(rate: number, seconds: number, seed: number, rms = 0.1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(Math.round(rate * seconds));
  let i = 0;
  let y1 = 0;
  let y2 = 0;
  while (i < out.length) {
    const syllable = Math.round(rate * (0.12 + 0.16 * random()));
    const pause = random() < 0.15 ? Math.round(rate * (0.2 + 0.4 * random())) : Math.round(rate * 0.03 * random());
    const centre = 300 + 2500 * random() ** 2;
    const radius = 0.97;
    const a1 = 2 * radius * Math.cos((2 * Math.PI * centre) / rate);
    const a2 = -radius * radius;
    for (let j = 0; j < syllable && i < out.length; j++, i++) {
      const envelope = Math.sin((Math.PI * j) / syllable);
      const y = (random() * 2 - 1) + a1 * y1 + a2 * y2;
      y2 = y1;
      y1 = y;
      out[i] = envelope * y;
    }
    for (let j = 0; j < pause && i < out.length; j++, i++) out[i] = 0;
  }
  let sum = 0;
  let active = 0;
  for (const v of out) {
    if (v !== 0) {
      sum += v * v;
      active++;
    }
  }
  const scale = rms / Math.sqrt(sum / Math.max(1, active));
  for (let j = 0; j < out.length; j++) out[j]! *= scale;
  return out;
}

/** Echo path: `delayMs` of nothing, then a decaying tail (RT60 `rt60Ms`, cut at `lengthMs`), total gain `gainDb`. */
export function roomImpulseResponse(rate: number, seed: number, options: { delayMs: number; rt60Ms?: number; lengthMs?: number; gainDb?: number }): Float32Array {
  const random = seededRandom(seed);
  const delay = Math.round((options.delayMs * rate) / 1000);
  const length = Math.round(((options.lengthMs ?? 120) * rate) / 1000);
  const rt60 = ((options.rt60Ms ?? 150) * rate) / 1000;
  const h = new Float32Array(delay + length);
  for (let i = 0; i < length; i++) h[delay + i] = (random() * 2 - 1) * 10 ** ((-3 * i) / rt60);
  h[delay] = 1; // direct sound
  let energy = 0;
  for (const v of h) energy += v * v;
  const scale = 10 ** ((options.gainDb ?? -6) / 20) / Math.sqrt(energy);
  for (let i = 0; i < h.length; i++) h[i]! *= scale;
  return h;
}

export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const taps: number[] = [];
  for (let j = 0; j < h.length; j++) if (h[j] !== 0) taps.push(j);
  for (let i = 0; i < x.length; i++) {
    let sum = 0;
    for (const j of taps) {
      if (j > i) break;
      sum += h[j]! * x[i - j]!;
    }
    out[i] = sum;
  }
  return out;
}

export function energy(x: ArrayLike<number>, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return sum;
}

/** `x` moved up by `hz` (ring modulation): speech-like sound in the band above 8 kHz, as in fricatives. */
export function shiftedUp(x: Float32Array, rate: number, hz: number, gain = 1): Float32Array {
  return x.map((v, i) => gain * v * Math.cos((2 * Math.PI * hz * i) / rate));
}

/** Energy of x between fromHz and toHz over samples [from, to): Hann-windowed 1024-point frames, hop 512. */
export function bandEnergy(x: ArrayLike<number>, rate: number, fromHz: number, toHz: number, from = 0, to = x.length): number {
  const size = 1024;
  const fft = new RealFft(size);
  const frame = new Float64Array(size);
  const re = new Float64Array(fft.bins);
  const im = new Float64Array(fft.bins);
  const lo = Math.ceil((fromHz * size) / rate);
  const hi = Math.min(fft.bins - 1, Math.floor((toHz * size) / rate));
  let sum = 0;
  for (let start = from; start + size <= to; start += size / 2) {
    for (let i = 0; i < size; i++) frame[i] = x[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    fft.forward(frame, re, im);
    for (let k = lo; k <= hi; k++) sum += re[k]! ** 2 + im[k]! ** 2;
  }
  return sum;
}
