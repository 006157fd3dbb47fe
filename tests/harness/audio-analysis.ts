// Audio oracle for every media test: WAV read/write, tone generation, Goertzel power, dominant
// frequency, RMS/dBFS and tone detection over 100 ms windows. Pure TS, no sox.
import { readFileSync, writeFileSync } from 'node:fs';

export interface PcmAudio {
  sampleRate: number;
  /** Mono samples, -1..1 (stereo/multichannel input is averaged). */
  samples: Float32Array;
  channels: number; // channels in the file before downmix
}

/** Parses a RIFF/WAVE buffer with 16-bit PCM (format 1 or WAVE_FORMAT_EXTENSIBLE with PCM); `channel` (0-based) picks one channel instead of the downmix. */
export function parseWav(data: Buffer, name = 'WAV', channel?: number): PcmAudio {
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${name}: not a RIFF/WAVE file (${data.length} bytes)`);
  }
  let offset = 12;
  let format: { audioFormat: number; channels: number; sampleRate: number; bits: number } | undefined;
  let pcm: Buffer | undefined;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    let size = data.readUInt32LE(offset + 4);
    const body = offset + 8;
    // writers that never finalised the header leave 0 or 0xFFFFFFFF: take the rest of the file
    if (id === 'data' && (size === 0 || size === 0xffffffff || body + size > data.length)) size = data.length - body;
    if (id === 'fmt ') {
      if (size < 16) throw new Error(`${name}: fmt chunk too short (${size})`);
      let audioFormat = data.readUInt16LE(body);
      if (audioFormat === 0xfffe && size >= 26) audioFormat = data.readUInt16LE(body + 24); // extensible: subformat GUID
      format = {
        audioFormat,
        channels: data.readUInt16LE(body + 2),
        sampleRate: data.readUInt32LE(body + 4),
        bits: data.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      pcm = data.subarray(body, body + size);
    }
    offset = body + size + (size & 1);
  }
  if (!format) throw new Error(`${name}: no fmt chunk`);
  if (!pcm) throw new Error(`${name}: no data chunk`);
  if (format.audioFormat !== 1 || format.bits !== 16) {
    throw new Error(`${name}: only 16-bit PCM is supported (format ${format.audioFormat}, ${format.bits} bits)`);
  }
  if (format.channels < 1) throw new Error(`${name}: ${format.channels} channels`);
  const frames = Math.floor(pcm.length / (2 * format.channels));
  const samples = new Float32Array(frames);
  if (channel !== undefined) {
    if (!(channel >= 0 && channel < format.channels)) throw new Error(`${name}: no channel ${channel} (${format.channels} channels)`);
    for (let i = 0; i < frames; i++) samples[i] = pcm.readInt16LE((i * format.channels + channel) * 2) / 32768;
    return { sampleRate: format.sampleRate, samples, channels: format.channels };
  }
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < format.channels; c++) sum += pcm.readInt16LE((i * format.channels + c) * 2);
    samples[i] = sum / format.channels / 32768;
  }
  return { sampleRate: format.sampleRate, samples, channels: format.channels };
}

export function readWav(path: string, channel?: number): PcmAudio {
  return parseWav(readFileSync(path), path, channel);
}

/** 16-bit mono PCM WAV bytes from samples in -1..1 (clipped). */
export function encodeWav(samples: ArrayLike<number>, sampleRate: number): Buffer {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`encodeWav: bad sample rate ${sampleRate}`);
  const header = Buffer.alloc(44);
  const dataBytes = samples.length * 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  const body = Buffer.alloc(dataBytes);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    body.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  return Buffer.concat([header, body]);
}

export function writeWav(path: string, samples: ArrayLike<number>, sampleRate: number): void {
  writeFileSync(path, encodeWav(samples, sampleRate));
}

export interface ToneOptions {
  frequencyHz: number;
  seconds: number;
  sampleRate?: number; // default 8000
  amplitude?: number; // 0..1, default 0.5
}

export function sineSamples(options: ToneOptions): Float32Array {
  const rate = options.sampleRate ?? 8000;
  const amplitude = options.amplitude ?? 0.5;
  if (!(options.frequencyHz > 0 && options.frequencyHz < rate / 2)) {
    throw new Error(`tone: frequency ${options.frequencyHz} Hz must be within (0, ${rate / 2}) for rate ${rate}`);
  }
  if (!(options.seconds > 0)) throw new Error(`tone: seconds must be > 0 (got ${options.seconds})`);
  if (!(amplitude >= 0 && amplitude <= 1)) throw new Error(`tone: amplitude must be within 0..1 (got ${amplitude})`);
  const n = Math.round(options.seconds * rate);
  const out = new Float32Array(n);
  const w = (2 * Math.PI * options.frequencyHz) / rate;
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin(w * i);
  return out;
}

/** Writes a mono 16-bit sine WAV (what baresip's aufile plays as microphone). Returns path. */
export function toneWav(path: string, options: ToneOptions): string {
  writeWav(path, sineSamples(options), options.sampleRate ?? 8000);
  return path;
}

/**
 * Goertzel power at `hz`, normalised so a full-scale-amplitude-A sine exactly at `hz` gives ≈ A²/2
 * (i.e. comparable to mean square power). Works for any frequency (not only bin centres).
 */
export function goertzelPower(samples: ArrayLike<number>, sampleRate: number, hz: number, start = 0, length = samples.length - start): number {
  if (length <= 0) return 0;
  const w = (2 * Math.PI * hz) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < length; i++) {
    const s0 = samples[start + i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2; // |X(k)|²
  return (2 * power) / (length * length);
}

/** Mean square of the samples (the total power, same scale as goertzelPower). */
export function meanSquare(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  if (length <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < length; i++) sum += samples[start + i]! ** 2;
  return sum / length;
}

export function rms(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  return Math.sqrt(meanSquare(samples, start, length));
}

/** RMS in dB relative to full scale (-Infinity for digital silence). */
export function dbfs(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  return 20 * Math.log10(rms(samples, start, length));
}

/**
 * Dominant frequency in a window: coarse Goertzel scan at `stepHz` from minHz to maxHz (default
 * up to Nyquist), then a fine scan ±stepHz at 1 Hz. Hann-windowed to limit leakage.
 */
export function dominantFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  options: { start?: number; length?: number; minHz?: number; maxHz?: number; stepHz?: number } = {},
): { hz: number; power: number } {
  const start = options.start ?? 0;
  const length = options.length ?? samples.length - start;
  const windowed = new Float32Array(length);
  for (let i = 0; i < length; i++) windowed[i] = samples[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / Math.max(1, length - 1)));
  const minHz = options.minHz ?? 50;
  const maxHz = Math.min(options.maxHz ?? sampleRate / 2 - 1, sampleRate / 2 - 1);
  const step = options.stepHz ?? Math.max(5, Math.round(sampleRate / Math.max(1, length) / 2));
  let best = { hz: minHz, power: -1 };
  for (let hz = minHz; hz <= maxHz; hz += step) {
    const p = goertzelPower(windowed, sampleRate, hz);
    if (p > best.power) best = { hz, power: p };
  }
  const coarse = best.hz;
  for (let hz = Math.max(minHz, coarse - step); hz <= Math.min(maxHz, coarse + step); hz += 1) {
    const p = goertzelPower(windowed, sampleRate, hz);
    if (p > best.power) best = { hz, power: p };
  }
  return best;
}

export interface ToneDetection {
  /** true when the tone dominates in at least `minFraction` (default 0.5) of the 100 ms windows. */
  present: boolean;
  /** Median over windows of tone power vs. everything else, in dB. */
  snrDb: number;
  /** Fraction of 100 ms windows in which the tone dominates (SNR ≥ minSnrDb and not silent). */
  fraction: number;
  windows: number;
}

/**
 * In what fraction of 100 ms windows does a tone at `hz` dominate? A window counts when the
 * power within ±(bandwidth) of `hz` is at least `minSnrDb` above the rest and the window is not
 * silent (below `silenceDbfs`). The band power uses the Goertzel power at hz, which with 100 ms
 * windows has a ~10 Hz main lobe: codecs do not shift frequencies, so that is tight enough.
 */
export function detectTone(
  samples: ArrayLike<number>,
  sampleRate: number,
  hz: number,
  options: { minSnrDb?: number; minFraction?: number; silenceDbfs?: number; windowMs?: number } = {},
): ToneDetection {
  const minSnrDb = options.minSnrDb ?? 10;
  const minFraction = options.minFraction ?? 0.5;
  const silenceDbfs = options.silenceDbfs ?? -50;
  const windowLength = Math.round((sampleRate * (options.windowMs ?? 100)) / 1000);
  if (windowLength < 8) throw new Error(`detectTone: window of ${windowLength} samples is too short`);
  if (!(hz > 0 && hz < sampleRate / 2)) throw new Error(`detectTone: ${hz} Hz outside (0, ${sampleRate / 2})`);
  const windows = Math.floor(samples.length / windowLength);
  const snrs: number[] = [];
  let hits = 0;
  for (let w = 0; w < windows; w++) {
    const start = w * windowLength;
    const total = meanSquare(samples, start, windowLength);
    const tone = Math.min(goertzelPower(samples, sampleRate, hz, start, windowLength), total);
    const rest = Math.max(total - tone, 1e-12);
    const snr = 10 * Math.log10(Math.max(tone, 1e-12) / rest);
    snrs.push(snr);
    const loudEnough = 10 * Math.log10(Math.max(total, 1e-20)) >= silenceDbfs;
    if (loudEnough && snr >= minSnrDb) hits++;
  }
  snrs.sort((a, b) => a - b);
  const snrDb = snrs.length === 0 ? -Infinity : snrs[Math.floor(snrs.length / 2)]!;
  const fraction = windows === 0 ? 0 : hits / windows;
  return { present: windows > 0 && fraction >= minFraction, snrDb, fraction, windows };
}
