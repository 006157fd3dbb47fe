/**
 * RFC 3389 comfort noise: the payload is read as the RFC lays it out, and the noise played from
 * it has the level the far end measured (RMS against 0 dBov = a full-scale square wave) and the
 * spectral tilt its reflection coefficients describe, at 8 kHz and through the G.722 decoder's
 * 16 kHz; a new SID's level is reached without a step.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ComfortNoiseGenerator, parseComfortNoise, reflectionToLpc } from '../../../src-main/core/media/jitter/comfort-noise';
import { goertzelPower } from '../../harness/audio-analysis';

function levelDbov(samples: Int16Array, start = 0, length = samples.length - start): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += samples[i]! ** 2;
  return 20 * Math.log10(Math.sqrt(sum / length) / 32767);
}

/** Normalized autocorrelation at lag 1. */
function lagOneCorrelation(samples: Int16Array): number {
  let r0 = 0;
  let r1 = 0;
  for (let i = 1; i < samples.length; i++) {
    r0 += samples[i]! ** 2;
    r1 += samples[i]! * samples[i - 1]!;
  }
  return r1 / r0;
}

/** `seconds` of noise from `generator`, pulled in 20 ms frames as the jitter buffer does. */
function pullFrames(generator: ComfortNoiseGenerator, seconds: number): Int16Array {
  const frame = generator.sampleRate / 50;
  const out = new Int16Array(Math.round(seconds * 50) * frame);
  for (let at = 0; at < out.length; at += frame) {
    const pcm = generator.generate(frame);
    assert.equal(pcm.length, frame, 'exactly the samples asked for');
    out.set(pcm, at);
  }
  return out;
}

describe('RFC 3389 payload', () => {
  test('level byte (MSB unused) and reflection coefficients k = (N - 127) / 128', () => {
    const parsed = parseComfortNoise(Uint8Array.of(0x80 | 42, 127, 0, 254, 191));
    assert.equal(parsed.levelDbov, -42);
    assert.deepEqual(parsed.reflection, [0, -127 / 128, 127 / 128, 0.5]);
  });

  test('an empty payload is an error that names what is missing', () => {
    assert.throws(() => parseComfortNoise(new Uint8Array(0)), /comfort noise payload is empty.*noise level/);
  });

  test('N = 255 (k = 1, an unstable filter) is clamped inside the unit circle', () => {
    const [k] = parseComfortNoise(Uint8Array.of(30, 255)).reflection;
    assert.ok(k! < 1 && k! > 0.98, `k = ${k}`);
  });

  test('step-up recursion: reflection coefficients to A(z)', () => {
    // Order 2 by hand: a1 = k1 + k2 k1, a2 = k2.
    const a = reflectionToLpc([0.5, -0.25]);
    assert.deepEqual([...a], [0.5 + -0.25 * 0.5, -0.25]);
  });
});

describe('comfort noise generator', () => {
  for (const rate of [8000, 16000]) {
    test(`white noise at the SID's level, ${rate} Hz`, () => {
      for (const level of [20, 45, 70]) {
        const generator = new ComfortNoiseGenerator(rate);
        generator.update(Uint8Array.of(level));
        const noise = pullFrames(generator, 2);
        const measured = levelDbov(noise, rate / 10); // past the resampler's start
        assert.ok(Math.abs(measured + level) < 0.5, `-${level} dBov asked, ${measured.toFixed(2)} dBov played`);
      }
    });

    test(`a spectral model is followed at its level, ${rate} Hz`, () => {
      const generator = new ComfortNoiseGenerator(rate);
      // k1 = -0.9 (N = 12): A(z) = 1 - 0.9 z^-1, noise with most of its power low (a fan's rumble).
      generator.update(Uint8Array.of(35, 12, 127, 127));
      const noise = pullFrames(generator, 3);
      const measured = levelDbov(noise, rate / 10);
      assert.ok(Math.abs(measured + 35) < 1, `-35 dBov asked, ${measured.toFixed(2)} dBov played`);
      const low = goertzelPower(noise, rate, 250);
      const high = goertzelPower(noise, rate, 3000);
      // |1 / A|^2 at 250 Hz over 3000 Hz is ~16 dB at 8 kHz.
      assert.ok(10 * Math.log10(low / high) > 10, `low/high ${(10 * Math.log10(low / high)).toFixed(1)} dB`);
      if (rate === 8000) {
        const rho = lagOneCorrelation(noise);
        assert.ok(Math.abs(rho - 115 / 128) < 0.03, `lag-1 correlation ${rho.toFixed(3)}, AR(1) with a = ${115 / 128}`);
      }
    });
  }

  test('a positive k1 tilts the other way (high frequencies)', () => {
    const generator = new ComfortNoiseGenerator(8000);
    generator.update(Uint8Array.of(35, 242));
    const noise = pullFrames(generator, 2);
    assert.ok(lagOneCorrelation(noise) < -0.8);
    assert.ok(goertzelPower(noise, 8000, 3500) > 10 * goertzelPower(noise, 8000, 300));
  });

  test('silence before any SID; a new level is ramped to over one frame, then held', () => {
    const generator = new ComfortNoiseGenerator(8000);
    assert.equal(generator.active, false);
    assert.ok(generator.generate(160).every((s) => s === 0));
    generator.update(Uint8Array.of(60));
    pullFrames(generator, 0.2);
    generator.update(Uint8Array.of(30));
    const ramp = generator.generate(160);
    // The frame's first quarter stays near the old level, its last quarter nears the new one.
    assert.ok(levelDbov(ramp, 0, 40) < -40, `start of the ramp ${levelDbov(ramp, 0, 40).toFixed(1)} dBov`);
    assert.ok(levelDbov(ramp, 120, 40) > -33, `end of the ramp ${levelDbov(ramp, 120, 40).toFixed(1)} dBov`);
    const held = pullFrames(generator, 1);
    assert.ok(Math.abs(levelDbov(held) + 30) < 0.5);
  });
});
