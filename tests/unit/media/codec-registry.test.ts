import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioCodec } from '../../../src-main/core/media/codecs/audio-codec';
import { registerBuiltinCodecs, ensureBuiltinCodecs } from '../../../src-main/core/media/codecs/builtin-codecs';
import { CodecRegistry, findCodec } from '../../../src-main/core/media/codecs/codec-registry';
import { pcmaCodec, pcmuCodec } from '../../../src-main/core/media/codecs/g711';

const fakeWideband: AudioCodec = {
  info: { encodingName: 'L16', rtpClockRate: 16000, sampleRate: 16000, channels: 1 },
  createEncoder: () => ({ encode: (pcm) => new Uint8Array(pcm.buffer.slice(0)), close: () => undefined }),
  createDecoder: () => ({ decode: (p) => new Int16Array(p.buffer.slice(0)), close: () => undefined }),
};

describe('CodecRegistry', () => {
  test('register returns an unregister function', () => {
    const registry = new CodecRegistry();
    const unregister = registry.register(fakeWideband);
    assert.equal(registry.find('l16', 16000), fakeWideband);
    unregister();
    assert.equal(registry.find('L16', 16000), undefined);
    unregister(); // idempotent
  });

  test('lookup matches encoding name case-insensitively, clock rate and channels exactly', () => {
    const registry = new CodecRegistry();
    registerBuiltinCodecs(registry);
    assert.equal(registry.find('pcmu', 8000), pcmuCodec);
    assert.equal(registry.find('PCMA', 8000), pcmaCodec);
    assert.equal(registry.find('PCMU', 16000), undefined);
    assert.equal(registry.find('PCMU', 8000, 2), undefined);
  });

  test('refuses a second codec for the same format', () => {
    const registry = new CodecRegistry();
    registry.register(pcmuCodec);
    assert.throws(() => registry.register({ ...pcmuCodec }), /PCMU\/8000\/1 is already registered/);
  });

  test('preference: registration order by default, explicit order on request, unknown names rejected', () => {
    const registry = new CodecRegistry();
    const undo = registerBuiltinCodecs(registry);
    registry.register(fakeWideband);
    assert.deepEqual(registry.preferred().map((c) => c.info.encodingName), ['opus', 'G722', 'PCMU', 'PCMA', 'L16']);
    assert.deepEqual(registry.preferred(['L16', 'pcma']).map((c) => c.info.encodingName), ['L16', 'PCMA']);
    assert.throws(() => registry.preferred(['G729']), /Unknown codec "G729" in codec preference \(registered: opus, G722, PCMU, PCMA, L16\)/);
    undo();
    assert.deepEqual(registry.list().map((c) => c.info.encodingName), ['L16']);
  });

  test('built-in SDP formats: G722/8000 static 9 (16 kHz PCM), opus/48000/2 dynamic with minptime/useinbandfec', () => {
    const registry = new CodecRegistry();
    registerBuiltinCodecs(registry);
    const g722 = registry.find('G722', 8000)!;
    assert.equal(g722.info.staticPayloadType, 9);
    assert.equal(g722.info.sampleRate, 16000);
    const opus = registry.find('opus', 48000, 2)!;
    assert.equal(opus.info.staticPayloadType, undefined);
    assert.equal(opus.info.fmtp, 'minptime=10;useinbandfec=1');
    assert.deepEqual(registry.preferred(['PCMA', 'opus']).map((c) => c.info.encodingName), ['PCMA', 'opus']);
  });

  test('the process-wide registry gets the built-ins once', () => {
    ensureBuiltinCodecs();
    ensureBuiltinCodecs();
    assert.equal(findCodec('PCMU', 8000), pcmuCodec);
  });
});
