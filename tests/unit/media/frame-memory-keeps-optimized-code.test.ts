import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ON_NODE_20_V8, repoModule, runWithV8Natives } from '../../harness/v8-natives';

/**
 * See frame-memory.ts ("The first slab"). The per-frame code carves its arrays from 64 KiB slabs
 * and starts a new slab every second or so. The G.711 encoder and decoder are optimized within
 * the first second of a process's first call, before the first slab ran out, so their optimized
 * code had no way through the new slab's construction and was thrown away when it came
 * ("Insufficient type feedback for construct", encode and decode in V8's log of a headless's first
 * call). In a Node that can ask V8 (%GetOptimizationStatus, without concurrent recompilation), with
 * the app's V8 tuning: encode and decode optimized on a call's first frames must still be TurboFan
 * code after carving past a slab's end, and still compute the same codes and samples.
 */
describe('frame memory: a new slab keeps the optimized per-frame code', ON_NODE_20_V8, () => {
  test('the G.711 encoder and decoder stay TurboFan code past the first slab', () => {
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { pcmuCodec } = await import(${repoModule('src-main/core/media/codecs/g711.ts')});
      const encoder = pcmuCodec.createEncoder();
      const decoder = pcmuCodec.createDecoder();
      const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * i) / 20)));
      const encode = Object.getPrototypeOf(encoder).encode;
      const decode = Object.getPrototypeOf(decoder).decode;
      %PrepareFunctionForOptimization(encode);
      %PrepareFunctionForOptimization(decode);
      for (let i = 0; i < 5; i++) decoder.decode(encoder.encode(pcm)); // a call's first 100 ms: 2.4 KiB of a 64 KiB slab
      %OptimizeFunctionOnNextCall(encode);
      %OptimizeFunctionOnNextCall(decode);
      const codes = encoder.encode(pcm);
      const samples = decoder.decode(codes);
      const optimized = turbofan(encode) && turbofan(decode);
      // Each alone up to the call that starts a new slab, and asked right then (V8 would soon
      // optimize a dropped function again).
      let lastCodes = codes;
      for (let i = 0; i < 1000 && lastCodes.buffer === codes.buffer; i++) lastCodes = encoder.encode(pcm);
      const encodeAtNewSlab = turbofan(encode);
      const firstSlab = lastCodes.buffer;
      let lastSamples = decoder.decode(codes);
      for (let i = 0; i < 1000 && lastSamples.buffer === firstSlab; i++) lastSamples = decoder.decode(codes);
      const decodeAtNewSlab = turbofan(decode);
      const same = lastCodes.buffer !== codes.buffer && lastCodes.every((v, i) => v === codes[i]) && lastSamples.buffer !== firstSlab && lastSamples.every((v, i) => v === samples[i]);
      process.stdout.write(JSON.stringify({ optimized, encode: encodeAtNewSlab, decode: decodeAtNewSlab, same }));
    `;
    assert.deepEqual(runWithV8Natives(script), { optimized: true, encode: true, decode: true, same: true });
  });
});
