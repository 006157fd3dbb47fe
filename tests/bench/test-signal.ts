/**
 * The audio both softphones send in every benchmark: a deterministic speech-like signal rather
 * than a pure sine, because codec cost (Opus above all) depends on the content. Voiced sound: a
 * glottal-like harmonic series on a gliding pitch (100-180 Hz) shaped by two moving formants,
 * chopped into syllables (~4 per second) with short pauses, plus a little noise (-50 dBFS).
 */
import { writeFileSync } from 'node:fs';
import { writeWav } from '../harness/audio-analysis';
import { seededRandom } from '../harness/seeded-random';

export function speechLikeSamples(sampleRate: number, seconds: number, seed = 7): Int16Array {
  if (!(sampleRate > 0 && seconds > 0)) throw new RangeError(`speechLikeSamples: bad rate ${sampleRate} or duration ${seconds}`);
  const random = seededRandom(seed);
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  const nyquist = sampleRate / 2;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / sampleRate;
    const f1 = 500 + 300 * Math.sin(2 * Math.PI * 1.3 * t);
    const f2 = 1500 + 700 * Math.sin(2 * Math.PI * 0.9 * t + 1);
    let voiced = 0;
    for (let h = 1; h * f0 < Math.min(nyquist, 7000); h++) {
      const f = h * f0;
      const formants = 1 / (1 + ((f - f1) / 150) ** 2) + 0.5 / (1 + ((f - f2) / 250) ** 2);
      voiced += (formants / h) * Math.sin(h * phase);
    }
    // syllables: 0.25 s cycles, the last 30 % of each silent, smooth onsets
    const cycle = (t * 4) % 1;
    const envelope = cycle < 0.7 ? Math.sin((Math.PI * cycle) / 0.7) : 0;
    const sample = 0.5 * envelope * voiced + 0.003 * (random() * 2 - 1);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(sample * 32767)));
  }
  return out;
}

/**
 * Writes the signal as a 16-bit WAV at `sampleRate`; returns the path. `channels: 2` duplicates it
 * into both channels: baresip's aufile source then matches Opus' opus/48000/2 format (with a mono
 * file baresip 1.0 cannot open the audio source of an Opus call and the call never starts).
 */
export function speechLikeWav(path: string, sampleRate: number, seconds: number, channels: 1 | 2 = 1): string {
  const samples = speechLikeSamples(sampleRate, seconds);
  if (channels === 1) {
    const floats = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) floats[i] = samples[i]! / 32768;
    writeWav(path, floats, sampleRate);
    return path;
  }
  const header = Buffer.alloc(44);
  const dataBytes = samples.length * 4;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(2, 22); // channels
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 4, 28); // byte rate
  header.writeUInt16LE(4, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  const body = Buffer.alloc(dataBytes);
  for (let i = 0; i < samples.length; i++) {
    body.writeInt16LE(samples[i]!, i * 4);
    body.writeInt16LE(samples[i]!, i * 4 + 2);
  }
  writeFileSync(path, Buffer.concat([header, body]));
  return path;
}
