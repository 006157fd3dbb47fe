import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as libopus from '../../../src-main/core/media/codecs/libopus-wasm';
import { sine } from './signal';

const FRAME = 960;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

describe('libopus wasm binding', () => {
  test('libopus errors come with its own text and what was being done', () => {
    const dec = libopus.createDecoder();
    assert.throws(() => libopus.decode(dec, Uint8Array.of(0xff, 0xff, 0xff), libopus.MAX_FRAME_SAMPLES, false), {
      message: 'libopus opus_decode: corrupted stream (-4)',
    });
    libopus.destroyDecoder(dec);
    const enc = libopus.createEncoder(libopus.OPUS_APPLICATION_VOIP);
    assert.throws(() => libopus.encoderCtl(enc, OPUS_SET_PACKET_LOSS_PERC, 101), /opus_encoder_ctl\(4014, 101\): invalid argument/);
    libopus.destroyEncoder(enc);
  });

  test('bad sizes are RangeErrors before libopus sees them', () => {
    const dec = libopus.createDecoder();
    assert.throws(() => libopus.conceal(dec, 1000), RangeError);
    assert.throws(() => libopus.conceal(dec, libopus.MAX_FRAME_SAMPLES + 120), RangeError);
    assert.throws(() => libopus.decode(dec, new Uint8Array(libopus.MAX_PACKET_BYTES + 1), FRAME, false), RangeError);
    assert.throws(() => libopus.decode(dec, Uint8Array.of(0x40), 1000, true), RangeError);
    libopus.destroyDecoder(dec);
  });

  test('a handle is unusable after destroy (no use-after-free in the shared heap)', () => {
    const dec = libopus.createDecoder();
    libopus.destroyDecoder(dec);
    assert.throws(() => libopus.conceal(dec, FRAME), /after destroyDecoder/);
    assert.throws(() => libopus.destroyDecoder(dec), /after destroyDecoder/);
    const enc = libopus.createEncoder(libopus.OPUS_APPLICATION_VOIP);
    libopus.destroyEncoder(enc);
    assert.throws(() => libopus.encode(enc, new Int16Array(FRAME)), /after destroyEncoder/);
  });

  test('encode and decode stay right after the wasm memory grows (views are re-created)', () => {
    const tone = sine(440, 48000, FRAME * 5, 8000);
    const roundTrip = () => {
      const enc = libopus.createEncoder(libopus.OPUS_APPLICATION_VOIP);
      const dec = libopus.createDecoder();
      const out: number[] = [];
      for (let k = 0; k < 5; k++) out.push(...libopus.decode(dec, libopus.encode(enc, tone.subarray(k * FRAME, (k + 1) * FRAME)), libopus.MAX_FRAME_SAMPLES, false));
      libopus.destroyEncoder(enc);
      libopus.destroyDecoder(dec);
      return out;
    };
    const before = roundTrip();
    const heap = libopus.libopusHeapBytes();
    // Enough decoder states to make the heap grow, held while the round trip runs again.
    const held = [];
    while (libopus.libopusHeapBytes() === heap) held.push(libopus.createDecoder());
    assert.deepEqual(roundTrip(), before);
    for (const dec of held) libopus.destroyDecoder(dec);
  });
});
