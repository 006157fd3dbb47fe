// The audio oracle must be right: every media test trusts it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectTone, dominantFrequency, goertzelPower, dbfs, rms, sineSamples, toneWav, readWav, parseWav, encodeWav,
} from '../../harness/audio-analysis';

// deterministic white noise
function noise(n: number, amplitude: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = amplitude * ((s / 2 ** 32) * 2 - 1);
  }
  return out;
}

describe('WAV', () => {
  test('toneWav round-trips through readWav with rate and content intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-wav-'));
    try {
      const path = toneWav(join(dir, 't.wav'), { frequencyHz: 1000, seconds: 0.5, sampleRate: 16000, amplitude: 0.25 });
      const wav = readWav(path);
      assert.equal(wav.sampleRate, 16000);
      assert.equal(wav.samples.length, 8000);
      assert.ok(Math.abs(rms(wav.samples) - 0.25 / Math.SQRT2) < 0.002);
      assert.equal(dominantFrequency(wav.samples, 16000).hz, 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stereo is mixed down to mono', () => {
    const frames = 4;
    const header = encodeWav(new Float32Array(frames * 2), 8000); // reuse layout, patch to stereo
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(8000 * 4, 28);
    header.writeUInt16LE(4, 32);
    const body = header.subarray(44);
    for (let i = 0; i < frames; i++) {
      body.writeInt16LE(16384, i * 4); // left 0.5
      body.writeInt16LE(0, i * 4 + 2); // right 0
    }
    const wav = parseWav(header);
    assert.equal(wav.channels, 2);
    assert.equal(wav.samples.length, frames);
    for (const s of wav.samples) assert.equal(s, 0.25);
  });

  test('a WAV whose data size was never finalised is read to the end of file', () => {
    const bytes = encodeWav(sineSamples({ frequencyHz: 500, seconds: 0.1 }), 8000);
    bytes.writeUInt32LE(0, 40);
    assert.equal(parseWav(bytes).samples.length, 800);
  });

  test('rejects non-WAV and non-16-bit input with a clear error', () => {
    assert.throws(() => parseWav(Buffer.from('hello world, not a wav')), /not a RIFF\/WAVE/);
    const bytes = encodeWav(new Float32Array(10), 8000);
    bytes.writeUInt16LE(8, 34);
    assert.throws(() => parseWav(bytes), /only 16-bit PCM/);
    const dir = mkdtempSync(join(tmpdir(), 'sb-wav-'));
    try {
      writeFileSync(join(dir, 'x.wav'), 'RIFF');
      assert.throws(() => readWav(join(dir, 'x.wav')), /x\.wav: not a RIFF/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad tone parameters are refused', () => {
    assert.throws(() => sineSamples({ frequencyHz: 5000, seconds: 1, sampleRate: 8000 }), /frequency/);
    assert.throws(() => sineSamples({ frequencyHz: 440, seconds: 0 }), /seconds/);
    assert.throws(() => sineSamples({ frequencyHz: 440, seconds: 1, amplitude: 2 }), /amplitude/);
  });
});

describe('measurements', () => {
  test('Goertzel power of a sine is A²/2 at its frequency and ~0 elsewhere', () => {
    const s = sineSamples({ frequencyHz: 440, seconds: 0.1, sampleRate: 8000, amplitude: 0.5 });
    assert.ok(Math.abs(goertzelPower(s, 8000, 440) - 0.125) < 0.002);
    assert.ok(goertzelPower(s, 8000, 1000) < 1e-4);
  });

  test('dBFS: full-scale sine ≈ -3 dB, half amplitude ≈ -9 dB, silence = -Infinity', () => {
    assert.ok(Math.abs(dbfs(sineSamples({ frequencyHz: 1000, seconds: 0.2, amplitude: 1 })) + 3.01) < 0.05);
    assert.ok(Math.abs(dbfs(sineSamples({ frequencyHz: 1000, seconds: 0.2, amplitude: 0.5 })) + 9.03) < 0.05);
    assert.equal(dbfs(new Float32Array(100)), -Infinity);
  });

  test('dominant frequency finds off-bin tones within a few Hz, even in noise', () => {
    for (const hz of [300, 440, 1000, 1234, 3000]) {
      const s = sineSamples({ frequencyHz: hz, seconds: 0.2, sampleRate: 8000, amplitude: 0.4 });
      const n = noise(s.length, 0.1, hz);
      for (let i = 0; i < s.length; i++) s[i]! += n[i]!;
      const found = dominantFrequency(s, 8000).hz;
      assert.ok(Math.abs(found - hz) <= 3, `expected ≈${hz}, got ${found}`);
    }
  });
});

describe('detectTone', () => {
  test('a clean tone is present in every window, a different tone is not', () => {
    const s = sineSamples({ frequencyHz: 440, seconds: 2, sampleRate: 8000 });
    const yes = detectTone(s, 8000, 440);
    assert.equal(yes.present, true);
    assert.equal(yes.fraction, 1);
    assert.equal(yes.windows, 20);
    assert.ok(yes.snrDb > 30);
    const no = detectTone(s, 8000, 1000);
    assert.equal(no.present, false);
    assert.equal(no.fraction, 0);
    assert.ok(no.snrDb < -20);
  });

  test('works at 16 kHz and 48 kHz', () => {
    for (const rate of [16000, 48000]) {
      const s = sineSamples({ frequencyHz: 1000, seconds: 1, sampleRate: rate });
      assert.equal(detectTone(s, rate, 1000).present, true);
      assert.equal(detectTone(s, rate, 440).present, false);
    }
  });

  test('silence and white noise contain no tone', () => {
    const silent = detectTone(new Float32Array(16000), 8000, 440);
    assert.equal(silent.present, false);
    assert.equal(silent.fraction, 0);
    const noisy = detectTone(noise(16000, 0.5), 8000, 440);
    assert.equal(noisy.present, false);
    assert.equal(noisy.fraction, 0);
  });

  test('a very quiet tone (below the silence floor) does not count', () => {
    const s = sineSamples({ frequencyHz: 440, seconds: 1, amplitude: 0.001 }); // ≈ -63 dBFS
    assert.equal(detectTone(s, 8000, 440).present, false);
  });

  test('fraction reports how much of the signal carries the tone', () => {
    const tone = sineSamples({ frequencyHz: 1000, seconds: 1 }); // 10 windows
    const s = new Float32Array(8000 * 4); // 40 windows, tone in the first 10
    s.set(tone, 0);
    const r = detectTone(s, 8000, 1000);
    assert.equal(r.fraction, 0.25);
    assert.equal(r.present, false);
    assert.equal(detectTone(s, 8000, 1000, { minFraction: 0.2 }).present, true);
  });

  test('tone plus moderate noise is still found; the two far-end tones are told apart', () => {
    const a = sineSamples({ frequencyHz: 440, seconds: 1, amplitude: 0.5 });
    const n = noise(a.length, 0.05);
    for (let i = 0; i < a.length; i++) a[i]! += n[i]!;
    const r = detectTone(a, 8000, 440);
    assert.equal(r.present, true);
    assert.ok(r.snrDb > 15 && r.snrDb < 40, `snr ${r.snrDb}`);
    assert.equal(detectTone(a, 8000, 1000).present, false);
  });
});
