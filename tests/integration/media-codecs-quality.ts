import { writeFileSync } from 'node:fs';
/**
 * Quality oracle for the codec and impairment tests (test helper, not a test file).
 *
 * toneQuality(): the received recording of a known sine is cut into 50 ms windows (an integer
 * number of cycles for every test tone, so the least-squares sine fit has no leakage); per window
 * SINAD = power of the fitted sine at the sent frequency / power of everything else (noise,
 * distortion, concealment artefacts, gaps). Alignment is implicit: the fit estimates phase and
 * amplitude per window, so no cross-correlation with the sent file is needed. Windows in the
 * leading/trailing silence (call set-up, hang-up) are excluded by the activity threshold; the
 * fraction of active windows is reported so a path that goes quiet FAILS instead of being skipped.
 */
export interface ToneQuality {
  /** Median per-window SINAD, dB. */
  medianSinadDb: number;
  /** 10th percentile per-window SINAD, dB (catches dropouts and concealment). */
  p10SinadDb: number;
  /** Sum of fitted tone power / sum of residual power over all active windows, dB: every glitch counts. */
  overallSinadDb: number;
  /** RMS level of the fitted tone in active windows, dBFS (full scale sine = +3 dBFS RMS convention not used: RMS of ±1 = 0 dBFS). */
  toneLevelDbfs: number;
  /** Share of windows between `fromS` and `toS` that were active (above -40 dBFS). */
  activeFraction: number;
  windows: number;
}

export function toneQuality(samples: Float32Array, sampleRate: number, hz: number, fromS: number, toS: number): ToneQuality {
  const n = Math.round(sampleRate * 0.05);
  const start = Math.round(fromS * sampleRate);
  const end = Math.min(samples.length, Math.round(toS * sampleRate));
  const sinads: number[] = [];
  const levels: number[] = [];
  let residualSum = 0;
  let windows = 0;
  for (let at = start; at + n <= end; at += n) {
    windows++;
    let c = 0;
    let s = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const x = samples[at + i]!;
      const phase = (2 * Math.PI * hz * i) / sampleRate;
      c += x * Math.cos(phase);
      s += x * Math.sin(phase);
      total += x * x;
    }
    total /= n;
    if (10 * Math.log10(Math.max(total, 1e-20)) < -40) continue;
    const a = (2 * c) / n;
    const b = (2 * s) / n;
    const tone = Math.min((a * a + b * b) / 2, total);
    sinads.push(10 * Math.log10(Math.max(tone, 1e-20) / Math.max(total - tone, 1e-20)));
    levels.push(tone);
    residualSum += Math.max(total - tone, 0);
  }
  const sorted = [...sinads].sort((x, y) => x - y);
  const pick = (q: number) => (sorted.length === 0 ? -Infinity : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  const meanTone = levels.length === 0 ? 0 : levels.reduce((x, y) => x + y, 0) / levels.length;
  return {
    medianSinadDb: pick(0.5),
    p10SinadDb: pick(0.1),
    overallSinadDb: 10 * Math.log10(Math.max(levels.reduce((x, y) => x + y, 0), 1e-20) / Math.max(residualSum, 1e-20)),
    toneLevelDbfs: 10 * Math.log10(Math.max(meanTone, 1e-20)),
    activeFraction: windows === 0 ? 0 : sinads.length / windows,
    windows,
  };
}

/** A copy with every `period`-th 20 ms frame zeroed: what a broken path (lost audio) sounds like. */
export function withDropouts(samples: Float32Array, sampleRate: number, period: number): Float32Array {
  const out = Float32Array.from(samples);
  const frame = Math.round(sampleRate * 0.02);
  for (let f = 0; f * frame < out.length; f += period) out.fill(0, f * frame, Math.min(out.length, (f + 1) * frame));
  return out;
}

export function describeQuality(q: ToneQuality): string {
  return `median SINAD ${q.medianSinadDb.toFixed(1)} dB, p10 ${q.p10SinadDb.toFixed(1)} dB, overall ${q.overallSinadDb.toFixed(1)} dB, tone ${q.toneLevelDbfs.toFixed(1)} dBFS, active ${(q.activeFraction * 100).toFixed(0)} % of ${q.windows} windows`;
}

/**
 * A 16-bit STEREO sine WAV (same tone on both channels): baresip 1.0's aufile refuses a mono file
 * for opus/48000/2 ("input file must have channels = 2").
 */
export function stereoToneWav(path: string, options: { frequencyHz: number; seconds: number; sampleRate: number; amplitude: number }): string {
  const frames = Math.round(options.seconds * options.sampleRate);
  const header = Buffer.alloc(44);
  const dataBytes = frames * 4;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(options.sampleRate, 24);
  header.writeUInt32LE(options.sampleRate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  const body = Buffer.alloc(dataBytes);
  const w = (2 * Math.PI * options.frequencyHz) / options.sampleRate;
  for (let i = 0; i < frames; i++) {
    const v = Math.round(options.amplitude * Math.sin(w * i) * 32767);
    body.writeInt16LE(v, i * 4);
    body.writeInt16LE(v, i * 4 + 2);
  }
  writeFileSync(path, Buffer.concat([header, body]));
  return path;
}
