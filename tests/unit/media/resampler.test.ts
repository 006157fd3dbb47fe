// The resampler keeps a sine's frequency and level, suppresses what would alias, and gives the
// same result whether fed in one piece or in 20 ms frames.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler, resampleBuffer } from '../../../src-main/core/media/audio/resampler';
import { dbfs, dominantFrequency, goertzelPower, meanSquare } from '../../harness/audio-analysis';

function sine(hz: number, rate: number, seconds: number, amplitude = 0.5): Int16Array {
  const n = Math.round(rate * seconds);
  return Int16Array.from({ length: n }, (_, i) => Math.round(32767 * amplitude * Math.sin((2 * Math.PI * hz * i) / rate)));
}

const toFloat = (s: Int16Array) => Float32Array.from(s, (v) => v / 32768);

describe('Resampler', () => {
  const pairs: Array<[number, number, number]> = [
    [8000, 48000, 1000],
    [48000, 8000, 1000],
    [44100, 8000, 440],
    [16000, 8000, 3000],
    [8000, 16000, 3400],
    [22050, 48000, 7000],
  ];
  for (const [from, to, hz] of pairs) {
    test(`${from} Hz -> ${to} Hz keeps a ${hz} Hz sine at its frequency and level`, () => {
      const out = toFloat(resampleBuffer(sine(hz, from, 0.5), from, to));
      assert.equal(out.length, Math.round(0.5 * to));
      const middle = { start: Math.round(0.1 * to), length: Math.round(0.3 * to) };
      const found = dominantFrequency(out, to, middle);
      assert.ok(Math.abs(found.hz - hz) <= 2, `dominant ${found.hz} Hz, expected ${hz}`);
      const level = dbfs(out, middle.start, middle.length);
      assert.ok(Math.abs(level - 20 * Math.log10(0.5 / Math.SQRT2)) < 0.2, `level ${level.toFixed(2)} dBFS`);
      // Nearly all the power is in the tone (no imaging/aliasing products).
      const tone = goertzelPower(out, to, hz, middle.start, middle.length);
      const total = meanSquare(out, middle.start, middle.length);
      assert.ok(10 * Math.log10(tone / Math.max(total - tone, 1e-15)) > 40, 'tone-to-rest ratio above 40 dB');
    });
  }

  test('downsampling removes content above the new Nyquist frequency (anti-alias low-pass)', () => {
    // 5 kHz at 48 kHz would alias to 3 kHz at 8 kHz without the low-pass.
    const out = toFloat(resampleBuffer(sine(5000, 48000, 0.5), 48000, 8000));
    const level = dbfs(out, 800, 2400);
    assert.ok(level < -60, `aliased residue at ${level.toFixed(1)} dBFS`);
  });

  test('streaming in 20 ms frames equals converting the whole buffer', () => {
    const input = sine(1000, 44100, 0.3);
    const whole = resampleBuffer(input, 44100, 8000);
    const r = new Resampler(44100, 8000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 882) parts.push(...r.process(input.subarray(i, i + 882)));
    parts.push(...r.flush());
    assert.deepEqual(parts, [...whole]);
  });

  test('rejects invalid rates', () => {
    assert.throws(() => new Resampler(0, 8000), /input rate must be a positive integer/);
    assert.throws(() => new Resampler(8000, 44100.5), /output rate must be a positive integer/);
  });
});
