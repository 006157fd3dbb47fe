/**
 * RIFF WAVE files with 16-bit linear PCM, the one format Switchboard reads and writes.
 *
 * Reading accepts WAVE_FORMAT_PCM (1) and WAVE_FORMAT_EXTENSIBLE (0xFFFE) with the PCM
 * sub-format, 16 bits per sample, any channel count and rate. Anything else is rejected with a
 * `WavFormatError` that says what was found (e.g. "IEEE float 32-bit"), so a user can convert
 * the file. A data chunk whose size runs past the end of the file (a WAV written by a recorder
 * that never finalized its header) is truncated to the bytes present.
 */
import { readFileSync } from 'node:fs';

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved samples, `frames * channels` long. */
  samples: Int16Array;
}

export const WAV_HEADER_BYTES = 44;

const formatNames: Record<number, string> = {
  1: 'PCM',
  2: 'Microsoft ADPCM',
  3: 'IEEE float',
  6: 'A-law',
  7: 'µ-law',
  0x11: 'IMA ADPCM',
  0x55: 'MP3',
  0xfffe: 'extensible',
};

function fourCC(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}

function printable(tag: string): string {
  return /^[\x20-\x7e]{4}$/.test(tag) ? `"${tag}"` : 'binary data';
}

export function parseWav(bytes: Uint8Array, name = 'WAV data'): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) throw new WavFormatError(`${name} is not a WAV file: only ${bytes.length} bytes`);
  if (fourCC(bytes, 0) !== 'RIFF' || fourCC(bytes, 8) !== 'WAVE') {
    const found = fourCC(bytes, 0) === 'RIFF' ? `a RIFF ${printable(fourCC(bytes, 8))} file` : `${printable(fourCC(bytes, 0))} at the start`;
    throw new WavFormatError(`${name} is not a RIFF WAVE file (found ${found})`);
  }
  let offset = 12;
  let format: { tag: number; channels: number; sampleRate: number; bits: number; subTag?: number } | undefined;
  while (offset + 8 <= bytes.length) {
    const id = fourCC(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavFormatError(`${name}: fmt chunk too short (${size} bytes)`);
      format = {
        tag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
      if (format.tag === 0xfffe && size >= 40 && body + 26 <= bytes.length) format.subTag = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      if (!format) throw new WavFormatError(`${name}: data chunk before fmt chunk`);
      const effectiveTag = format.tag === 0xfffe ? format.subTag : format.tag;
      if (effectiveTag !== 1 || format.bits !== 16) {
        const kind = formatNames[effectiveTag ?? format.tag] ?? `format tag ${effectiveTag ?? format.tag}`;
        throw new WavFormatError(
          `${name}: unsupported WAV encoding ${kind} ${format.bits}-bit, ${format.channels} channel(s), ${format.sampleRate} Hz; ` +
            'only 16-bit PCM is supported (convert with e.g. "sox in.wav -b 16 -e signed-integer out.wav")',
        );
      }
      if (format.channels < 1) throw new WavFormatError(`${name}: WAV declares ${format.channels} channels`);
      if (format.sampleRate < 1) throw new WavFormatError(`${name}: WAV declares sample rate ${format.sampleRate}`);
      const available = Math.min(size, bytes.length - body);
      const frameBytes = 2 * format.channels;
      const usable = available - (available % frameBytes);
      const samples = new Int16Array(usable / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + i * 2, true);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    offset = body + size + (size % 2); // chunks are word aligned
  }
  throw new WavFormatError(`${name}: no data chunk found`);
}

export function readWavFile(path: string): WavAudio {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`Cannot read WAV file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseWav(bytes, path);
}

/** The 44-byte canonical header for 16-bit PCM with `dataBytes` of samples. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < 4; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, Math.min(0xffffffff, 36 + dataBytes), true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, Math.min(0xffffffff, dataBytes), true);
  return header;
}

/** Encode a complete WAV file in memory. */
export function encodeWav(audio: WavAudio): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES + audio.samples.length * 2);
  out.set(wavHeader(audio.sampleRate, audio.channels, audio.samples.length * 2));
  const view = new DataView(out.buffer);
  for (let i = 0; i < audio.samples.length; i++) view.setInt16(WAV_HEADER_BYTES + i * 2, audio.samples[i]!, true);
  return out;
}

/** Average interleaved channels into mono. */
export function downmixToMono(samples: Int16Array, channels: number): Int16Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const mono = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    mono[f] = Math.round(sum / channels);
  }
  return mono;
}
