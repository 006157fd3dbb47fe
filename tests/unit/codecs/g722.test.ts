import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { g722Codec } from '../../../src-main/core/media/codecs/g722';
import { G722DecoderState, G722EncoderState } from '../../../src-main/core/media/codecs/g722-adpcm';
import { sine, snrDb } from './signal';

// Reference data made by spandsp (independent implementation, the one baresip's g722 module uses);
// see fixtures/make-g722-reference.py.
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const s16 = (name: string) => {
  const b = fixture(name);
  const out = new Int16Array(b.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(2 * i);
  return out;
};

/** Encode/decode in 20 ms frames through the AudioCodec interface. */
function roundTrip(pcm: Int16Array): Int16Array {
  const enc = g722Codec.createEncoder();
  const dec = g722Codec.createDecoder();
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i += 320) out.set(dec.decode(enc.encode(pcm.subarray(i, i + 320))), i);
  enc.close();
  dec.close();
  return out;
}

/**
 * spandsp stores the receive QMF output with a plain int16 cast, so on overload it wraps around
 * (a loud click); we saturate. Everywhere else the outputs must be identical.
 */
function assertDecodedLikeSpandsp(ours: Int16Array, ref: Int16Array): void {
  assert.equal(ours.length, ref.length);
  let saturated = 0;
  for (let i = 0; i < ref.length; i++) {
    if (ours[i] === ref[i]) continue;
    const wrapped = (ours[i] === 32767 && ref[i]! < 0) || (ours[i] === -32768 && ref[i]! >= 0);
    assert.ok(wrapped, `sample ${i}: ours ${ours[i]}, spandsp ${ref[i]} (not an overflow difference)`);
    saturated++;
  }
  assert.ok(saturated < ref.length * 0.02, `too many overflow samples: ${saturated}`);
}

describe('G.722 codec', () => {
  test('declares the RTP clock quirk: 8000 Hz in SDP, 16 kHz PCM, static payload type 9', () => {
    assert.equal(g722Codec.info.encodingName, 'G722');
    assert.equal(g722Codec.info.rtpClockRate, 8000);
    assert.equal(g722Codec.info.sampleRate, 16000);
    assert.equal(g722Codec.info.staticPayloadType, 9);
    const payload = g722Codec.createEncoder().encode(new Int16Array(320));
    assert.equal(payload.length, 160, '20 ms = 320 samples = 160 bytes');
    assert.equal(g722Codec.createDecoder().decode(payload).length, 320);
  });

  test('encoder output is bit-exact with spandsp on sweep, square bursts, noise and silence', () => {
    const input = s16('g722-input.s16');
    const expected = new Uint8Array(fixture('g722-encoded.g722'));
    const enc = new G722EncoderState();
    // Feed in uneven chunks: state must carry across calls exactly.
    const parts: Uint8Array[] = [];
    for (let i = 0, step = 2; i < input.length; i += step, step = step === 320 ? 2 : step + 38) {
      parts.push(enc.encode(input.subarray(i, Math.min(input.length, i + step))));
    }
    const ours = Buffer.concat(parts);
    assert.equal(ours.length, expected.length);
    const firstDiff = ours.findIndex((b, i) => b !== expected[i]);
    assert.equal(firstDiff, -1, `first differing code byte at ${firstDiff}`);
  });

  test('decoder output matches spandsp (QMF + ADPCM), saturating where spandsp wraps', () => {
    const dec = new G722DecoderState();
    assertDecodedLikeSpandsp(dec.decode(new Uint8Array(fixture('g722-encoded.g722'))), s16('g722-decoded.s16'));
  });

  test('decoder matches spandsp on random code bytes (every 6+2 bit code, limiter paths), fed in uneven chunks', () => {
    const dec = new G722DecoderState();
    const codes = new Uint8Array(fixture('g722-random.g722'));
    // Uneven chunks (1, 20, 39, ... bytes): the QMF line's position and the predictors carry across calls exactly.
    const ours = new Int16Array(codes.length * 2);
    for (let i = 0, step = 1; i < codes.length; i += step, step = step > 160 ? 1 : step + 19) {
      ours.set(dec.decode(codes.subarray(i, Math.min(codes.length, i + step))), 2 * i);
    }
    assertDecodedLikeSpandsp(ours, s16('g722-random.s16'));
  });

  test('sine round trip: SNR per band (low band >= 35 dB up to 3 kHz, high band >= 18 dB)', () => {
    const cases: Array<[number, number]> = [
      [200, 35], [1000, 35], [2000, 35], [3000, 35], [3600, 30], [4500, 18], [5500, 18], [6500, 18], [7000, 18],
    ];
    for (const [freq, minSnr] of cases) {
      const x = sine(freq, 16000, 16000, 10000);
      const { snr } = snrDb(x, roundTrip(x), 2000, 14000, 40);
      assert.ok(snr >= minSnr, `${freq} Hz: SNR ${snr.toFixed(1)} dB < ${minSnr} dB`);
    }
  });

  test('a sweep comes back with the QMF delay of exactly 22 samples and >= 20 dB SNR', () => {
    const n = 32000;
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const t = i / 16000;
      x[i] = Math.round(8000 * Math.sin(2 * Math.PI * (100 * t + (3400 / 4) * t * t))); // 100 Hz -> 3500 Hz
    }
    const { snr, lag } = snrDb(x, roundTrip(x), 1000, n - 100, 60);
    assert.equal(lag, 22);
    assert.ok(snr >= 20, `sweep SNR ${snr.toFixed(1)} dB`);
  });

  test('silence stays (near) silent and bad input is rejected clearly', () => {
    const out = roundTrip(new Int16Array(3200));
    assert.ok(out.every((s) => Math.abs(s) <= 4), 'silence decodes to idle noise of at most +-4');
    assert.throws(() => g722Codec.createEncoder().encode(new Int16Array(3)), /even number/);
    const enc = g722Codec.createEncoder();
    enc.close();
    assert.throws(() => enc.encode(new Int16Array(320)), /after close/);
  });
});
