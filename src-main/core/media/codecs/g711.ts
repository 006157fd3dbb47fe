/**
 * G.711 (ITU-T Rec. G.711) µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8).
 *
 * Input is 16-bit linear PCM. Like the ITU-T G.191 reference software, µ-law uses the 14 most
 * significant bits and A-law the 13 most significant bits, and negative samples are taken as
 * their one's complement (so -1 and 0 land in the two "zero" codes and the law stays symmetric).
 * Decoded values are the midpoints of the quantization intervals, scaled back to 16 bits.
 *
 * The per-sample functions are exact; the encoders/decoders use tables built from them once at
 * module load because they run for every sample of every call. An encoder table is indexed by the
 * bits its law uses (sample >> 2: 16 KiB for µ-law, sample >> 4: 4 KiB for A-law; negatives' one's
 * complement commutes with the arithmetic shift), not by the whole 16-bit sample: a frame arrives
 * every 20 ms with the caches cold, and a smaller table is fewer lines to fetch.
 */
import type { AudioCodec, AudioDecoder, AudioEncoder, AudioCodecInfo } from './audio-codec';
import { frameBytes, frameSamples } from '../frame-memory';

/** µ-law: sign bit set for x >= 0; exponent/mantissa stored inverted (G.711 Table 2). */
export function linearToUlaw(sample: number): number {
  const magnitude = sample < 0 ? ~sample : sample; // one's complement of negatives
  let biased = (magnitude >> 2) + 33; // 14-bit magnitude plus the µ-law bias (33)
  if (biased > 0x1fff) biased = 0x1fff; // clip to the largest interval
  const exponent = 31 - Math.clz32(biased) - 5; // biased >= 32, so exponent 0..7
  const mantissa = (biased >> (exponent + 1)) & 0x0f;
  const code = 0x7f ^ ((exponent << 4) | mantissa);
  return sample >= 0 ? code | 0x80 : code;
}

export function ulawToLinear(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  // Interval midpoint in the biased 14-bit domain, bias removed, scaled to 16 bits.
  const magnitude = ((((mantissa << 1) + 33) << exponent) - 33) << 2;
  return code & 0x80 ? magnitude : 0 - magnitude; // 0 - 0 is +0, not -0
}

/** A-law: sign bit set for x >= 0; even bits toggled (XOR 0x55) on the line (G.711 Table 1). */
export function linearToAlaw(sample: number): number {
  const magnitude = sample < 0 ? ~sample : sample;
  const level = magnitude >> 4; // 12-bit magnitude (0..2047 steps of the 13-bit law)
  let code: number;
  if (level < 16) {
    code = level; // segment 0: linear
  } else {
    const exponent = 31 - Math.clz32(level) - 3; // 1..7
    code = (exponent << 4) | ((level >> (exponent - 1)) & 0x0f);
  }
  if (sample >= 0) code |= 0x80;
  return code ^ 0x55;
}

export function alawToLinear(code: number): number {
  const value = (code ^ 0x55) & 0xff;
  const exponent = (value >> 4) & 0x07;
  const mantissa = value & 0x0f;
  let magnitude: number;
  if (exponent === 0) magnitude = (mantissa << 4) + 8;
  else magnitude = ((((mantissa + 16) << 4) + 8) << (exponent - 1));
  return value & 0x80 ? magnitude : 0 - magnitude;
}

/** Encoder table: entry i is the code of every sample s with s >> shift === i - (32768 >> shift). */
interface EncodeTable {
  codes: Uint8Array;
  shift: number;
  offset: number;
}

function buildEncodeTable(encode: (sample: number) => number, shift: number): EncodeTable {
  const offset = 32768 >> shift;
  const codes = new Uint8Array(65536 >> shift);
  for (let i = 0; i < codes.length; i++) codes[i] = encode((i - offset) << shift);
  return { codes, shift, offset };
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

const ulawEncodeTable = buildEncodeTable(linearToUlaw, 2);
const alawEncodeTable = buildEncodeTable(linearToAlaw, 4);
const ulawDecodeTable = buildDecodeTable(ulawToLinear);
const alawDecodeTable = buildDecodeTable(alawToLinear);

class G711Encoder implements AudioEncoder {
  constructor(private readonly table: EncodeTable) {}
  encode(pcm: Int16Array): Uint8Array {
    const out = frameBytes(pcm.length);
    const { codes, shift, offset } = this.table;
    for (let i = 0; i < pcm.length; i++) out[i] = codes[(pcm[i]! >> shift) + offset]!;
    return out;
  }
  close(): void {
    // Stateless: nothing to release.
  }
}

class G711Decoder implements AudioDecoder {
  constructor(private readonly table: Int16Array) {}
  decode(payload: Uint8Array): Int16Array {
    const out = frameSamples(payload.length);
    for (let i = 0; i < payload.length; i++) out[i] = this.table[payload[i]!]!;
    return out;
  }
  close(): void {
    // Stateless: nothing to release.
  }
}

function g711Codec(info: AudioCodecInfo, encodeTable: EncodeTable, decodeTable: Int16Array): AudioCodec {
  return {
    info,
    createEncoder: () => new G711Encoder(encodeTable),
    createDecoder: () => new G711Decoder(decodeTable),
  };
}

export const pcmuCodec: AudioCodec = g711Codec(
  { encodingName: 'PCMU', rtpClockRate: 8000, sampleRate: 8000, channels: 1, staticPayloadType: 0 },
  ulawEncodeTable,
  ulawDecodeTable,
);

export const pcmaCodec: AudioCodec = g711Codec(
  { encodingName: 'PCMA', rtpClockRate: 8000, sampleRate: 8000, channels: 1, staticPayloadType: 8 },
  alawEncodeTable,
  alawDecodeTable,
);
