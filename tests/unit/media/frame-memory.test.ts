// Per-frame typed arrays carved from shared slabs (frame-memory.ts): each behaves like a fresh
// `new Uint8Array(n)` / `new Int16Array(n)` (zeroed, its own memory, never handed out again),
// also across slab boundaries, and the media path's per-frame outputs come from the slabs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { frameBytes, frameSamples } from '../../../src-main/core/media/frame-memory';
import { pcmuCodec } from '../../../src-main/core/media/codecs/g711';
import { g722Codec } from '../../../src-main/core/media/codecs/g722';
import { serializeRtpPacket } from '../../../src-main/core/media/rtp/rtp-packet';

/** Frames of mixed kinds and odd sizes: several slabs' worth (64 KiB each). */
function carveMany(): (Uint8Array | Int16Array)[] {
  const frames: (Uint8Array | Int16Array)[] = [];
  for (let i = 0; i < 3000; i++) frames.push(i % 3 === 0 ? frameSamples(160 + (i % 7)) : frameBytes(1 + ((i * 37) % 300)));
  return frames;
}

describe('frame memory', () => {
  test('every frame is zeroed, of the asked length, and its own memory, across slab boundaries', () => {
    const frames = carveMany();
    assert.ok(new Set(frames.map((f) => f.buffer)).size >= 3, 'several slabs were used');
    frames.forEach((frame, i) => {
      assert.ok(frame.every((v) => v === 0), `frame ${i} starts zeroed`);
      assert.ok(frame.byteOffset + frame.byteLength <= frame.buffer.byteLength, `frame ${i} lies inside its slab`);
      frame.fill(i % 100);
    });
    // Writing each frame's own value into all of them left every other frame as it was: no overlap.
    frames.forEach((frame, i) => assert.ok(frame.every((v) => v === i % 100), `frame ${i} kept its contents`));
  });

  test('Int16Array frames are aligned and sized like new Int16Array(n)', () => {
    frameBytes(3); // leave the slab at an odd offset
    const samples = frameSamples(161);
    assert.ok(samples instanceof Int16Array);
    assert.equal(samples.length, 161);
    assert.equal(samples.byteOffset % 8, 0);
  });

  test('empty and large requests get arrays of their own', () => {
    assert.equal(frameBytes(0).length, 0);
    const large = frameSamples(48000);
    assert.equal(large.length, 48000);
    assert.equal(large.buffer.byteLength, 96000, 'a second of 48 kHz audio is not carved from a slab');
  });

  test("a call's per-frame arrays (codec output, RTP packet) come from the slabs", () => {
    const pcm = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
    const encoder = pcmuCodec.createEncoder();
    const decoder = pcmuCodec.createDecoder();
    const wideEncoder = g722Codec.createEncoder();
    const payload = encoder.encode(pcm);
    const decoded = decoder.decode(payload);
    const wide = wideEncoder.encode(new Int16Array(320));
    const packet = serializeRtpPacket({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 7, csrcs: [], paddingLength: 0, payload });
    for (const [what, array] of [['G.711 encoder output', payload], ['G.711 decoder output', decoded], ['G.722 encoder output', wide], ['RTP packet', packet]] as const) {
      assert.equal(array.buffer.byteLength, 64 * 1024, `${what}: a view of a 64 KiB slab, not an ArrayBuffer of its own`);
    }
    assert.deepEqual([...decoder.decode(encoder.encode(pcm))], [...decoded], 'the same input decodes the same');
  });
});
