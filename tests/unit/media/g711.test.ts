// G.711 bit-exactness: the encoder/decoder against a reference built directly from the
// quantization intervals of ITU-T G.711 (Table 1 A-law, Table 2 µ-law), for all 65536 inputs,
// with the ITU-T G.191 conventions (µ-law uses the 14, A-law the 13 most significant bits;
// negative inputs are taken as their one's complement).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alawToLinear, linearToAlaw, linearToUlaw, pcmaCodec, pcmuCodec, ulawToLinear } from '../../../src-main/core/media/codecs/g711';

interface Interval {
  /** First and last 16-bit magnitude that falls in this quantization interval. */
  low: number;
  high: number;
  /** Segment (3 bits) and step (4 bits) before sign and line-coding. */
  code: number;
  /** 16-bit magnitude of the reconstruction value. */
  decoded: number;
}

/**
 * A-law, in units of 1/4096 of full scale (8 units of 16-bit PCM): segment 0 is [0,32), segment
 * s>=1 is [2^(s+4), 2^(s+5)); each has 16 equal steps; reconstruction at the step midpoint.
 */
function alawIntervals(): Interval[] {
  const out: Interval[] = [];
  for (let s = 0; s < 8; s++) {
    const start = s === 0 ? 0 : 2 ** (s + 4);
    const step = s === 0 ? 2 : 2 ** s;
    for (let q = 0; q < 16; q++) {
      const low = (start + q * step) * 8;
      out.push({ low, high: low + step * 8 - 1, code: (s << 4) | q, decoded: low + (step * 8) / 2 });
    }
  }
  return out;
}

/**
 * µ-law, in units of 1/8159 of full scale (4 units of 16-bit PCM): segment e step q covers
 * magnitudes [(32+2q)*2^e - 33, (34+2q)*2^e - 33) with reconstruction value (33+2q)*2^e - 33;
 * the very first interval is magnitude 0 alone, and magnitudes beyond 8158 clip into the last.
 */
function ulawIntervals(): Interval[] {
  const out: Interval[] = [];
  for (let e = 0; e < 8; e++) {
    for (let q = 0; q < 16; q++) {
      const low14 = Math.max(0, (32 + 2 * q) * 2 ** e - 33);
      let high14 = (34 + 2 * q) * 2 ** e - 33 - 1;
      if (e === 7 && q === 15) high14 = 8191;
      out.push({ low: low14 * 4, high: high14 * 4 + 3, code: (e << 4) | q, decoded: ((33 + 2 * q) * 2 ** e - 33) * 4 });
    }
  }
  return out;
}

function lookup(intervals: Interval[], magnitude: number): Interval {
  const found = intervals.find((i) => magnitude >= i.low && magnitude <= i.high);
  if (!found) throw new Error(`no interval for magnitude ${magnitude}`);
  return found;
}

const alaw = alawIntervals();
const ulaw = ulawIntervals();

function referenceAlaw(x: number): number {
  const i = lookup(alaw, x < 0 ? -x - 1 : x);
  return (i.code | (x >= 0 ? 0x80 : 0)) ^ 0x55;
}

function referenceUlaw(x: number): number {
  const i = lookup(ulaw, x < 0 ? -x - 1 : x);
  return (0x7f ^ i.code) | (x >= 0 ? 0x80 : 0);
}

describe('G.711 reference tables (sanity of the oracle)', () => {
  test('intervals tile the whole 16-bit magnitude range without gaps or overlap', () => {
    for (const table of [alaw, ulaw]) {
      assert.equal(table[0]!.low, 0);
      for (let i = 1; i < table.length; i++) assert.equal(table[i]!.low, table[i - 1]!.high + 1, `interval ${i}`);
      assert.ok(table[table.length - 1]!.high >= 32767);
    }
  });
});

describe('µ-law (PCMU)', () => {
  test('encodes every 16-bit input exactly like the G.711 table', () => {
    for (let x = -32768; x <= 32767; x++) {
      const got = linearToUlaw(x);
      if (got !== referenceUlaw(x)) assert.fail(`linearToUlaw(${x}) = 0x${got.toString(16)}, expected 0x${referenceUlaw(x).toString(16)}`);
    }
  });

  test('every segment boundary (both sides, both signs) lands in the right code', () => {
    for (const interval of ulaw) {
      for (const magnitude of [interval.low, interval.high]) {
        assert.equal(linearToUlaw(magnitude), (0x7f ^ interval.code) | 0x80, `+${magnitude}`);
        assert.equal(linearToUlaw(-magnitude - 1), 0x7f ^ interval.code, `-${magnitude + 1}`);
      }
    }
  });

  test('decodes every code to the table reconstruction value', () => {
    for (const interval of ulaw) {
      assert.equal(ulawToLinear((0x7f ^ interval.code) | 0x80), interval.decoded);
      assert.equal(ulawToLinear(0x7f ^ interval.code), 0 - interval.decoded);
    }
  });

  test('published landmark values', () => {
    assert.equal(linearToUlaw(0), 0xff);
    assert.equal(linearToUlaw(-1), 0x7f);
    assert.equal(linearToUlaw(32767), 0x80);
    assert.equal(linearToUlaw(-32768), 0x00);
    assert.equal(ulawToLinear(0x00), -32124);
    assert.equal(ulawToLinear(0x80), 32124);
    assert.equal(ulawToLinear(0xff), 0);
    assert.equal(ulawToLinear(0x7f), 0);
  });

  test('decode(encode(x)) is within half a quantization step (or clipped to the maximum)', () => {
    for (let x = -32768; x <= 32767; x++) {
      const interval = lookup(ulaw, x < 0 ? -x - 1 : x);
      const error = Math.abs(ulawToLinear(linearToUlaw(x)) - x);
      const width = interval.high - interval.low + 1;
      // Zero's interval reconstructs at its edge (0), every other one at its midpoint; +1 for
      // the one's complement of negative inputs; beyond the last level the input is clipped.
      const quantization = (interval.low === 0 ? width : width / 2) + 1;
      const bound = Math.max(quantization, Math.abs(x) - 32124);
      if (error > bound) assert.fail(`x=${x}: error ${error} > ${bound}`);
    }
  });

  test('codec objects encode/decode frames through the same law', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 5]);
    const encoded = pcmuCodec.createEncoder().encode(pcm);
    assert.deepEqual([...encoded], [...pcm].map(linearToUlaw));
    // The encoder's table (indexed by the bits the law uses) agrees with the law for every input.
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const codes = pcmuCodec.createEncoder().encode(all);
    for (let i = 0; i < all.length; i++) if (codes[i] !== linearToUlaw(all[i]!)) assert.fail(`encoder: ${all[i]} -> ${codes[i]}, law says ${linearToUlaw(all[i]!)}`);
    assert.deepEqual([...pcmuCodec.createDecoder().decode(encoded)], [...encoded].map(ulawToLinear));
    assert.equal(pcmuCodec.info.staticPayloadType, 0);
  });
});

describe('A-law (PCMA)', () => {
  test('encodes every 16-bit input exactly like the G.711 table', () => {
    for (let x = -32768; x <= 32767; x++) {
      const got = linearToAlaw(x);
      if (got !== referenceAlaw(x)) assert.fail(`linearToAlaw(${x}) = 0x${got.toString(16)}, expected 0x${referenceAlaw(x).toString(16)}`);
    }
  });

  test('every segment boundary (both sides, both signs) lands in the right code', () => {
    for (const interval of alaw) {
      for (const magnitude of [interval.low, interval.high]) {
        assert.equal(linearToAlaw(magnitude), (interval.code | 0x80) ^ 0x55, `+${magnitude}`);
        assert.equal(linearToAlaw(-magnitude - 1), interval.code ^ 0x55, `-${magnitude + 1}`);
      }
    }
  });

  test('decodes every code to the table reconstruction value', () => {
    for (const interval of alaw) {
      assert.equal(alawToLinear((interval.code | 0x80) ^ 0x55), interval.decoded);
      assert.equal(alawToLinear(interval.code ^ 0x55), 0 - interval.decoded);
    }
  });

  test('published landmark values', () => {
    assert.equal(linearToAlaw(0), 0xd5);
    assert.equal(linearToAlaw(-1), 0x55);
    assert.equal(alawToLinear(0xd5), 8);
    assert.equal(alawToLinear(0x55), -8);
    assert.equal(alawToLinear(0xaa), 32256);
    assert.equal(alawToLinear(0x2a), -32256);
  });

  test('decode(encode(x)) is within half a quantization step', () => {
    for (let x = -32768; x <= 32767; x++) {
      const interval = lookup(alaw, x < 0 ? -x - 1 : x);
      const error = Math.abs(alawToLinear(linearToAlaw(x)) - x);
      const bound = (interval.high - interval.low + 1) / 2 + 1; // +1: one's complement of negatives
      if (error > bound) assert.fail(`x=${x}: error ${error} > ${bound}`);
    }
  });

  test('codec objects encode/decode frames through the same law', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 5]);
    const encoded = pcmaCodec.createEncoder().encode(pcm);
    assert.deepEqual([...encoded], [...pcm].map(linearToAlaw));
    // The encoder's table (indexed by the bits the law uses) agrees with the law for every input.
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const codes = pcmaCodec.createEncoder().encode(all);
    for (let i = 0; i < all.length; i++) if (codes[i] !== linearToAlaw(all[i]!)) assert.fail(`encoder: ${all[i]} -> ${codes[i]}, law says ${linearToAlaw(all[i]!)}`);
    assert.deepEqual([...pcmaCodec.createDecoder().decode(encoded)], [...encoded].map(alawToLinear));
    assert.equal(pcmaCodec.info.staticPayloadType, 8);
  });
});
