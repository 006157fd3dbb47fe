// The alert tones as synthesized (alert-tones.ts): each burst where the cadence says, at its
// frequencies and level, silence between, and a WAV that says what it holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALERT_SAMPLE_RATE, alertToneSamples, alertToneWav, CALL_WAITING, RING, type AlertTone } from '../../../src-renderer/src/audio/alert-tones';
import { detectTone, parseWav, rms } from '../../harness/audio-analysis';

/** Per 50 ms window: is something sounding? */
function sounding(samples: Float32Array): boolean[] {
  const length = ALERT_SAMPLE_RATE / 20;
  const out: boolean[] = [];
  for (let start = 0; start + length <= samples.length; start += length) out.push(rms(samples, start, length) > 0.01);
  return out;
}

/** The cadence the tone's bursts describe, per 50 ms window. */
function expectedCadence(tone: AlertTone): boolean[] {
  return Array.from({ length: Math.round(tone.cycleSeconds * 20) }, (_, w) => tone.bursts.some(([start, end]) => w / 20 >= start && (w + 1) / 20 <= end));
}

describe('alert tones', () => {
  for (const tone of [RING, CALL_WAITING]) {
    test(`${tone.name}: bursts where its cadence says, its frequencies in them, silence between`, () => {
      const samples = alertToneSamples(tone);
      assert.equal(samples.length, tone.cycleSeconds * ALERT_SAMPLE_RATE);
      assert.deepEqual(sounding(samples), expectedCadence(tone));
      const [start, end] = tone.bursts[0]!;
      const burst = samples.subarray(Math.round(start * ALERT_SAMPLE_RATE), Math.round(end * ALERT_SAMPLE_RATE));
      for (const hz of tone.frequenciesHz) assert.ok(detectTone(burst, ALERT_SAMPLE_RATE, hz, { minSnrDb: -4, minFraction: 0.9 }).present, `${hz} Hz in the burst`);
      assert.ok(Math.max(...burst.map(Math.abs)) <= tone.level + 1e-6, 'never above its level');
      assert.ok(Math.abs(samples[0]!) < 0.01 && Math.abs(samples[Math.round(end * ALERT_SAMPLE_RATE) - 1]!) < 0.01, 'bursts fade in and out (no click)');
    });
  }

  test('the call-waiting tone is much softer than the ring (it plays in the ear of someone on a call)', () => {
    assert.ok(20 * Math.log10(RING.level / CALL_WAITING.level) >= 10);
  });

  test('the WAV holds the cycle: 16-bit mono at 8 kHz, the same samples', () => {
    const wav = parseWav(Buffer.from(alertToneWav(RING)));
    assert.equal(wav.channels, 1);
    assert.equal(wav.sampleRate, ALERT_SAMPLE_RATE);
    const samples = alertToneSamples(RING);
    assert.equal(wav.samples.length, samples.length);
    assert.ok(wav.samples.every((s, i) => Math.abs(s - samples[i]!) < 1 / 16384));
  });
});
