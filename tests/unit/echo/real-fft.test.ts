// The echo canceller's FFT: equal to the DFT's definition, and inverse() undoes forward().
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealFft } from '../../../src-renderer/src/audio/real-fft';
import { seededRandom } from '../../harness/seeded-random';

function dft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array(n / 2 + 1);
  const im = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    for (let t = 0; t < n; t++) {
      re[k]! += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im[k]! -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
  }
  return { re, im };
}

describe('RealFft', () => {
  for (const size of [4, 8, 64, 256]) {
    test(`size ${size}: the DFT of random input, and back`, () => {
      const random = seededRandom(size);
      const x = Float64Array.from({ length: size }, () => random() * 2 - 1);
      const fft = new RealFft(size);
      const re = new Float64Array(fft.bins);
      const im = new Float64Array(fft.bins);
      fft.forward(x, re, im);
      const want = dft(x);
      for (let k = 0; k < fft.bins; k++) {
        assert.ok(Math.abs(re[k]! - want.re[k]!) < 1e-9 && Math.abs(im[k]! - want.im[k]!) < 1e-9, `bin ${k}: ${re[k]}+${im[k]}i, want ${want.re[k]}+${want.im[k]}i`);
      }
      const back = new Float64Array(size);
      fft.inverse(re, im, back);
      for (let t = 0; t < size; t++) assert.ok(Math.abs(back[t]! - x[t]!) < 1e-12, `sample ${t}: ${back[t]} vs ${x[t]}`);
    });
  }

  test('rejects a size that is not a power of two', () => {
    assert.throws(() => new RealFft(96), /power of two/);
  });
});
