// The local ringback signal: 425 Hz, 1 s on / 4 s off, continuous across frame sizes and rates
// (it moves from the pushed tone to a media session's idle playout in mid-cadence).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RINGBACK_HZ, RingbackSignal } from '../../../src-main/core/media/ringback-signal';
import { detectTone } from '../../harness/audio-analysis';

function render(signal: RingbackSignal, seconds: number, rate: number, frameLength: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  const frame = new Int16Array(frameLength);
  for (let at = 0; at < out.length; at += frameLength) {
    frame.fill(0);
    signal.fill(frame, rate);
    for (let i = 0; i < frameLength && at + i < out.length; i++) out[at + i] = frame[i]! / 32768;
  }
  return out;
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((sum, v) => sum + v * v, 0) / x.length);

describe('RingbackSignal', () => {
  test('1 s of 425 Hz at -16 dBFS, then 4 s of silence, then again', () => {
    const rate = 8000;
    const audio = render(new RingbackSignal(), 10, rate, 160);
    const at = (from: number, to: number) => audio.subarray(Math.round(from * rate), Math.round(to * rate));
    assert.ok(detectTone(at(0.05, 0.95), rate, RINGBACK_HZ).present, 'tone in the first second');
    const db = 20 * Math.log10(rms(at(0.05, 0.95)) * Math.SQRT2);
    assert.ok(Math.abs(db - -16) < 0.5, `peak level -16 dBFS: ${db.toFixed(2)}`);
    assert.equal(rms(at(1.01, 4.99)), 0, 'silent for 4 s');
    assert.ok(detectTone(at(5.05, 5.95), rate, RINGBACK_HZ).present, 'again from 5 s');
    assert.equal(rms(at(6.01, 9.99)), 0);
  });

  test('keeps phase and cadence when the frame size and rate change mid-tone', () => {
    const signal = new RingbackSignal();
    const first = render(signal, 0.5, 48000, 960); // pushed at the ports' rate
    const second = render(signal, 0.5, 8000, 128); // then pulled by a narrowband media session
    assert.ok(detectTone(second, 8000, RINGBACK_HZ).present, 'still on in the second half of the on-phase');
    // No jump at the switch: the last 48 kHz sample and the first 8 kHz one are one step of the sine apart.
    const step = 2 * Math.PI * RINGBACK_HZ / 8000;
    assert.ok(Math.abs(second[0]! - first.at(-1)!) < 0.16 * step * 1.01, `continuous: ${first.at(-1)} then ${second[0]}`);
    const third = render(signal, 4, 8000, 160);
    assert.equal(rms(third.subarray(0, 3.9 * 8000)), 0, 'the off-phase begins 1 s after the start, whatever the rates');
  });
});
