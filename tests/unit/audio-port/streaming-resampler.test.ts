// The renderer's device-rate <-> port-rate resampler: frequency response (flat passband, no
// aliasing or imaging), streaming in arbitrary chunks, and rejection of bad rates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingResampler } from '../../../src-renderer/src/audio/streaming-resampler';
import { goertzelPower, meanSquare } from '../../harness/audio-analysis';

function sine(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Resamples `input` feeding it in chunks of the given sizes (cycled). */
function resample(input: Float32Array, inRate: number, outRate: number, chunks: number[] = [128]): Float32Array {
  const resampler = new StreamingResampler(inRate, outRate);
  const parts: Float32Array[] = [];
  let offset = 0;
  for (let k = 0; offset < input.length; k++) {
    const n = Math.min(chunks[k % chunks.length]!, input.length - offset);
    const out = new Float32Array(resampler.maxOutputFor(n));
    const written = resampler.process(input.subarray(offset, offset + n), out);
    parts.push(out.slice(0, written));
    offset += n;
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const joined = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return joined;
}

/** Gain in dB of a sine at `hz` through inRate -> outRate, measured on the settled middle part. */
function gainDb(hz: number, inRate: number, outRate: number, measureHz = hz): number {
  const input = sine(hz, inRate, 0.5);
  const output = resample(input, inRate, outRate);
  const start = Math.round(outRate * 0.1);
  const length = Math.round(outRate * 0.25);
  const inPower = 0.5 ** 2 / 2;
  // Residual power anywhere (aliases/images land at other frequencies) when measureHz is NaN.
  const outPower = Number.isNaN(measureHz) ? meanSquare(output, start, length) : goertzelPower(output, outRate, measureHz, start, length);
  return 10 * Math.log10(Math.max(outPower, 1e-30) / inPower);
}

describe('StreamingResampler', () => {
  const deviceRates = [48000, 44100];
  const portRates = [8000, 16000, 48000];

  for (const device of deviceRates) {
    for (const port of portRates) {
      if (device === port) continue;
      const lowerNyquist = Math.min(device, port) / 2;
      test(`${device} -> ${port} Hz: passband flat within 0.1 dB up to 0.85 x Nyquist`, () => {
        for (const fraction of [0.02, 0.1, 0.3, 0.5, 0.7, 0.85]) {
          const hz = Math.round(lowerNyquist * fraction);
          const g = gainDb(hz, device, port);
          assert.ok(Math.abs(g) < 0.1, `${hz} Hz: gain ${g.toFixed(3)} dB`);
        }
      });
      test(`${port} -> ${device} Hz: passband flat within 0.1 dB up to 0.85 x Nyquist`, () => {
        for (const fraction of [0.02, 0.1, 0.3, 0.5, 0.7, 0.85]) {
          const hz = Math.round(lowerNyquist * fraction);
          const g = gainDb(hz, port, device);
          assert.ok(Math.abs(g) < 0.1, `${hz} Hz: gain ${g.toFixed(3)} dB`);
        }
      });
    }
  }

  test('downsampling rejects what would alias: 48k -> 8k, tones from 4.1 to 12 kHz are > 60 dB down', () => {
    for (const hz of [4100, 5000, 7000, 9000, 12000]) {
      const g = gainDb(hz, 48000, 8000, NaN);
      assert.ok(g < -60, `${hz} Hz leaks at ${g.toFixed(1)} dB`);
    }
  });

  test('downsampling rejects what would alias: 44.1k -> 16k, 8.2 to 20 kHz are > 60 dB down', () => {
    for (const hz of [8200, 9000, 11000, 15000, 20000]) {
      const g = gainDb(hz, 44100, 16000, NaN);
      assert.ok(g < -60, `${hz} Hz leaks at ${g.toFixed(1)} dB`);
    }
  });

  test('upsampling does not image: 8k -> 48k, a 3 kHz tone has no image at 5 kHz (> 60 dB down)', () => {
    const output = resample(sine(3000, 8000, 0.5), 8000, 48000);
    const start = 4800;
    const length = 12000;
    const tone = goertzelPower(output, 48000, 3000, start, length);
    for (const image of [5000, 11000, 13000]) {
      const p = goertzelPower(output, 48000, image, start, length);
      const db = 10 * Math.log10(p / tone);
      assert.ok(db < -60, `image at ${image} Hz is ${db.toFixed(1)} dB`);
    }
  });

  test('the transition band is narrow: 48k -> 16k keeps 7.2 kHz within 0.5 dB', () => {
    const g = gainDb(7200, 48000, 16000);
    assert.ok(Math.abs(g) < 0.5, `7.2 kHz: ${g.toFixed(2)} dB`);
  });

  test('output length follows the rate ratio (minus the filter delay) and does not drift', () => {
    const input = sine(440, 44100, 2);
    const resampler = new StreamingResampler(44100, 16000);
    const output = resample(input, 44100, 16000, [128]);
    const expected = (input.length * 16000) / 44100;
    const delayOut = (resampler.delayInputSamples * 16000) / 44100;
    assert.ok(Math.abs(output.length - (expected - delayOut)) <= 2, `got ${output.length}, expected about ${expected - delayOut}`);
  });

  test('chunking does not change the result (render quanta vs. odd chunk sizes)', () => {
    const input = new Float32Array(20000);
    let seed = 1;
    for (let i = 0; i < input.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      input[i] = seed / 2 ** 31 - 0.5;
    }
    const a = resample(input, 48000, 16000, [128]);
    const b = resample(input, 48000, 16000, [1, 7, 333, 2000, 64]);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `sample ${i}: ${a[i]} vs ${b[i]}`);
  });

  test('equal rates copy the input', () => {
    const input = sine(1000, 16000, 0.01);
    const out = resample(input, 16000, 16000, [37]);
    assert.deepEqual(Array.from(out), Array.from(input));
  });

  test('bad rates and a too-small output buffer are rejected with specific errors', () => {
    assert.throws(() => new StreamingResampler(0, 8000), /input rate must be a positive integer, got 0/);
    assert.throws(() => new StreamingResampler(48000, 8000.5), /output rate must be a positive integer/);
    assert.throws(() => new StreamingResampler(48000, 47999), /filter phases/);
    const r = new StreamingResampler(8000, 48000);
    assert.throws(() => r.process(new Float32Array(128), new Float32Array(10)), /output holds 10 samples, needs 769/);
  });
});
