// The built-in echo canceller (src-renderer/src/audio/echo-canceller.ts) in a simulated room:
// speech-like far and near ends, a loudspeaker-to-microphone path with delay and reverberation
// (tests/harness/echo-simulation.ts). What a user would notice: the far end hearing itself (echo
// left), the near end's voice cut or distorted while both talk, the canceller losing its grip
// when the path changes or the two sound cards' clocks drift.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoCanceller, type CaptureEchoCanceller } from '../../../src-renderer/src/audio/echo-canceller';
import { createEchoCanceller, SplitBandEchoCanceller } from '../../../src-renderer/src/audio/split-band-echo-canceller';
import { bandEnergy, convolve, energy, roomImpulseResponse, shiftedUp, speechLike } from '../../harness/echo-simulation';
import { goertzelPower } from '../../harness/audio-analysis';

interface Run {
  /** Output aligned with the input (the canceller's block of lag removed). */
  out: Float32Array;
  canceller: CaptureEchoCanceller;
}

/** Feeds far end and microphone in 40-sample chunks, far end first (as the worklet does). */
function cancel(far: Float32Array, mic: Float32Array, rate: number, suppressResidual = true, canceller = createEchoCanceller({ sampleRate: rate, suppressResidual })): Run {
  const out = new Float32Array(mic.length + canceller.maxOutputFor(mic.length));
  let written = 0;
  const chunk = 40;
  for (let i = 0; i < mic.length; i += chunk) {
    const n = Math.min(chunk, mic.length - i);
    canceller.playback(far.subarray(i, i + n));
    written += canceller.capture(mic.subarray(i, i + n), n, out.subarray(written));
  }
  // Nothing is lost or invented: all but the samples still in the last blocks came out.
  assert.ok(written <= mic.length && written > mic.length - canceller.delaySamples - chunk, `${written} of ${mic.length} samples came out`);
  const lag = canceller.lagSamples;
  return { out: out.subarray(lag, lag + mic.length), canceller };
}

const seconds = (rate: number, s: number) => Math.round(s * rate);
const dB = (ratio: number) => 10 * Math.log10(ratio);

/** How far below the echo what is left of it lies, over [from, to) s (only the echo at the microphone). */
function echoReduction(echo: Float32Array, out: Float32Array, rate: number, from: number, to: number): number {
  return dB(energy(echo, seconds(rate, from), seconds(rate, to)) / energy(out, seconds(rate, from), seconds(rate, to)));
}

/** Near-end talker over everything else in the output (echo left and the talker's distortion), dB. */
function nearEndClarity(near: Float32Array, out: Float32Array, rate: number, from: number, to: number): number {
  let error = 0;
  for (let i = seconds(rate, from); i < seconds(rate, to); i++) error += (out[i]! - near[i]!) ** 2;
  return dB(energy(near, seconds(rate, from), seconds(rate, to)) / error);
}

function mix(...signals: Float32Array[]): Float32Array {
  const out = new Float32Array(signals[0]!.length);
  for (const s of signals) for (let i = 0; i < out.length; i++) out[i]! += s[i]!;
  return out;
}

describe('EchoCanceller in a simulated room', () => {
  for (const rate of [8000, 16000, 48000]) {
    test(`${rate} Hz: far end alone: the echo is 25 dB down within 4 s, and the linear filter alone takes 15`, (t) => {
      const far = speechLike(rate, 8, 1, 0.1);
      const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
      const full = cancel(far, echo, rate);
      const linear = cancel(far, echo, rate, false);
      const reduction = echoReduction(echo, full.out, rate, 4, 8);
      const linearReduction = echoReduction(echo, linear.out, rate, 4, 8);
      t.diagnostic(`echo reduction 4-8 s: ${reduction.toFixed(1)} dB (linear filter ${linearReduction.toFixed(1)} dB); ${JSON.stringify(full.canceller.stats())}`);
      assert.ok(reduction >= 25, `echo only ${reduction.toFixed(1)} dB down`);
      assert.ok(linearReduction >= 15, `linear filter: echo only ${linearReduction.toFixed(1)} dB down`);
      assert.equal(full.canceller.stats().resets, 0);
    });
  }

  test('both talking: the near end comes through clear and whole, and the filter does not drift off', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 12, 1, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const near = speechLike(rate, 12, 3, 0.05);
    for (let i = 0; i < near.length; i++) if (i < seconds(rate, 6) || i >= seconds(rate, 9)) near[i] = 0;
    const { out, canceller } = cancel(far, mix(echo, near), rate);
    const clarity = nearEndClarity(near, out, rate, 6.5, 9);
    const level = dB(energy(out, seconds(rate, 6.5), seconds(rate, 9)) / energy(near, seconds(rate, 6.5), seconds(rate, 9)));
    const after = echoReduction(echo, out, rate, 9.5, 12);
    t.diagnostic(`near end over the rest ${clarity.toFixed(1)} dB, level ${level.toFixed(2)} dB; echo after ${after.toFixed(1)} dB down`);
    assert.ok(clarity >= 12, `near end only ${clarity.toFixed(1)} dB above echo and distortion`);
    assert.ok(Math.abs(level) < 2, `near end level changed by ${level.toFixed(1)} dB`);
    assert.ok(after >= 25, `after double talk the echo is only ${after.toFixed(1)} dB down`);
    assert.equal(canceller.stats().resets, 0);
  });

  test('the echo path changes (the laptop moved): cancelled again within 2 s', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 12, 1, 0.1);
    const before = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const afterPath = convolve(far, roomImpulseResponse(rate, 5, { delayMs: 90, gainDb: -3 }));
    const mic = before.map((v, i) => (i < seconds(rate, 6) ? v : afterPath[i]!));
    const { out, canceller } = cancel(far, mic, rate);
    const settled = echoReduction(mic, out, rate, 8, 12);
    t.diagnostic(`before the change ${echoReduction(mic, out, rate, 4, 6).toFixed(1)} dB, 2-6 s after ${settled.toFixed(1)} dB; ${JSON.stringify(canceller.stats())}`);
    assert.ok(settled >= 20, `echo only ${settled.toFixed(1)} dB down after the change`);
    assert.ok(Math.abs(canceller.stats().echoDelayMs! - 90) <= 8, `echo found at ${canceller.stats().echoDelayMs} ms`);
  });

  test('microphone and speaker clocks 100 ppm apart: the echo stays 20 dB down', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 12, 1, 0.1);
    const echo = new Float32Array(far.length);
    for (let i = 0; i < far.length; i++) {
      const at = i * (1 - 100e-6) - 0.06 * rate;
      const j = Math.floor(at);
      const frac = at - j;
      if (j >= 0 && j + 1 < far.length) echo[i] = 0.5 * ((1 - frac) * far[j]! + frac * far[j + 1]!);
    }
    const { out } = cancel(far, echo, rate);
    const reduction = echoReduction(echo, out, rate, 6, 12);
    t.diagnostic(`echo ${reduction.toFixed(1)} dB down`);
    assert.ok(reduction >= 20, `echo only ${reduction.toFixed(1)} dB down`);
  });

  test('a long echo path (110 ms before the direct sound) is found and cancelled', (t) => {
    const rate = 8000;
    const far = speechLike(rate, 8, 4, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 6, { delayMs: 110, lengthMs: 40 }));
    const { out, canceller } = cancel(far, echo, rate);
    const reduction = echoReduction(echo, out, rate, 4, 8);
    t.diagnostic(`echo ${reduction.toFixed(1)} dB down, found at ${canceller.stats().echoDelayMs} ms`);
    assert.ok(reduction >= 25, `echo only ${reduction.toFixed(1)} dB down`);
    assert.ok(Math.abs(canceller.stats().echoDelayMs! - 110) <= 8, `echo found at ${canceller.stats().echoDelayMs} ms`);
  });

  test('a Bluetooth speaker: echo 250 ms late, beyond the filter, is found and cancelled', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 12, 4, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 6, { delayMs: 250, lengthMs: 80 }));
    const { out, canceller } = cancel(far, echo, rate);
    const reduction = echoReduction(echo, out, rate, 8, 12);
    const stats = canceller.stats();
    t.diagnostic(`echo ${reduction.toFixed(1)} dB down 8-12 s (4-8 s: ${echoReduction(echo, out, rate, 4, 8).toFixed(1)}), ${JSON.stringify(stats)}`);
    assert.ok(reduction >= 25, `echo only ${reduction.toFixed(1)} dB down`);
    assert.ok(Math.abs(stats.echoDelayMs! - 250) <= 10, `echo found at ${stats.echoDelayMs} ms`);
    assert.ok(stats.filterOffsetMs > 90, `the filter starts at ${stats.filterOffsetMs} ms`);
  });

  test('a Bluetooth speaker connected mid-call: the echo moves from 40 to 300 ms and is cancelled again', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 16, 1, 0.1);
    const near = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const late = convolve(far, roomImpulseResponse(rate, 5, { delayMs: 300, lengthMs: 80 }));
    const mic = near.map((v, i) => (i < seconds(rate, 5) ? v : late[i]!));
    const { out, canceller } = cancel(far, mic, rate);
    const settled = echoReduction(mic, out, rate, 11, 16);
    t.diagnostic(`before ${echoReduction(mic, out, rate, 3, 5).toFixed(1)} dB, 6-11 s after ${settled.toFixed(1)} dB; ${JSON.stringify(canceller.stats())}`);
    assert.ok(settled >= 20, `echo only ${settled.toFixed(1)} dB down after the change`);
    assert.ok(Math.abs(canceller.stats().echoDelayMs! - 300) <= 10, `echo found at ${canceller.stats().echoDelayMs} ms`);
  });

  test('a far end that repeats itself every 125 ms, a talker as loud as the echo: the working filter is not moved', (t) => {
    // As in the browser test: every delay a period apart fits the far end as well as the echo's.
    const rate = 16000;
    const period = speechLike(rate, 0.125, 9, 0.1);
    const far = new Float32Array(rate * 10).map((_, i) => period[i % period.length]!);
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 90, lengthMs: 60 }));
    const near = speechLike(rate, 10, 3, 0.1);
    const { out, canceller } = cancel(far, mix(echo, near), rate);
    const left = out.map((v, i) => v - near[i]!);
    const reduction = echoReduction(echo, left, rate, 5, 10);
    t.diagnostic(`echo and distortion ${reduction.toFixed(1)} dB below the echo; ${JSON.stringify(canceller.stats())}`);
    assert.equal(canceller.stats().filterOffsetMs, 0, 'the filter was moved');
    assert.ok(reduction >= 10, `echo only ${reduction.toFixed(1)} dB down`);
  });

  test('with no echo at all (a headset), the near end passes unharmed', (t) => {
    const rate = 16000;
    const far = speechLike(rate, 8, 1, 0.1);
    const near = speechLike(rate, 8, 3, 0.05);
    const { out, canceller } = cancel(far, near, rate);
    const clarity = nearEndClarity(near, out, rate, 2, 8);
    t.diagnostic(`near end over the rest ${clarity.toFixed(1)} dB`);
    assert.ok(clarity >= 12, `near end only ${clarity.toFixed(1)} dB above the distortion`);
    assert.equal(canceller.stats().filterOffsetMs, 0, 'no echo delay was imagined');
  });

  // 1000 - 440 Hz is three block rates (187.5 Hz at 48 kHz) give or take 2.5 Hz: a filter
  // whose partitions are not all constrained becomes time-varying, makes ~440 Hz out of the far
  // end's 1000 and learns to cancel the user's tone (measured: 38 dB of it gone). At 16 kHz (and so
  // in the split-band canceller) the suppressor's coherence test took 9.4 dB of it, following an
  // echo estimate 60 dB below the tone, until its coherent echo was bounded by the estimate's power.
  for (const [rate, fullBand] of [[16000, true], [48000, false], [48000, true]] as const) {
    test(`${rate} Hz${fullBand ? '' : ' split-band'}: a steady near-end tone beside a steady far-end tone, no echo: the tone passes whole`, (t) => {
      const far = new Float32Array(rate * 6);
      const near = new Float32Array(rate * 6);
      for (let i = 0; i < far.length; i++) {
        far[i] = 0.4 * Math.sin((2 * Math.PI * 1000 * i) / rate);
        near[i] = 0.1 * Math.sin((2 * Math.PI * 440 * i) / rate);
      }
      const canceller = fullBand ? new EchoCanceller({ sampleRate: rate }) : createEchoCanceller({ sampleRate: rate });
      const { out } = cancel(far, near, rate, true, canceller);
      const from = seconds(rate, 2);
      const length = seconds(rate, 4) - 4096;
      const level = dB(goertzelPower(out, rate, 440, from, length) / goertzelPower(near, rate, 440, from, length));
      t.diagnostic(`near-end tone ${level.toFixed(2)} dB`);
      assert.ok(level > -2, `the near-end tone lost ${(-level).toFixed(1)} dB`);
    });
  }

  test('while the far end is silent, the microphone goes out unchanged, one block later', () => {
    const rate = 16000;
    const near = speechLike(rate, 2, 3, 0.1);
    const { out } = cancel(new Float32Array(near.length), near, rate);
    let worst = 0;
    for (let i = 0; i < near.length - 512; i++) worst = Math.max(worst, Math.abs(out[i]! - near[i]!));
    // Below a tenth of a 16-bit step (3e-5): floating-point rounding only.
    assert.ok(worst < 3e-6, `differs by up to ${worst}`);
  });

  test('a sample that is not a number (a broken driver) does not silence the rest of the call', () => {
    const rate = 16000;
    const far = speechLike(rate, 3, 1, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const near = speechLike(rate, 3, 3, 0.05);
    const mic = mix(echo, near);
    mic[seconds(rate, 1)] = Number.NaN;
    far[seconds(rate, 1.5)] = Number.POSITIVE_INFINITY;
    const { out } = cancel(far, mic, rate);
    assert.ok(out.every(Number.isFinite), 'every output sample is a number');
    const level = dB(energy(out, seconds(rate, 2), seconds(rate, 2.9)) / energy(mic, seconds(rate, 2), seconds(rate, 2.9)));
    assert.ok(level > -20, `the output went quiet after the bad samples (${level.toFixed(1)} dB)`);
  });

  test('48 kHz split-band: with the far end silent the microphone goes out whole, sound above 8 kHz included', () => {
    const rate = 48000;
    const canceller = createEchoCanceller({ sampleRate: rate });
    assert.ok(canceller instanceof SplitBandEchoCanceller, '48 kHz runs the filter on the band below 8 kHz');
    const voice = speechLike(rate, 2, 3, 0.1);
    const near = mix(voice, shiftedUp(voice, rate, 12000, 0.5));
    const { out } = cancel(new Float32Array(near.length), near, rate, true, canceller);
    let worst = 0;
    for (let i = 0; i < near.length - canceller.delaySamples; i++) worst = Math.max(worst, Math.abs(out[i]! - near[i]!));
    assert.ok(worst < 3e-6, `differs by up to ${worst}`);
    assert.ok(bandEnergy(near, rate, 9000, 15000) > 0.1 * bandEnergy(near, rate, 0, 8000), 'the test signal has sound above 8 kHz');
  });

  test('48 kHz split-band: far end with sound above 8 kHz: its echo there is suppressed too', (t) => {
    const rate = 48000;
    const voice = speechLike(rate, 8, 1, 0.1);
    const far = mix(voice, shiftedUp(voice, rate, 12000, 0.3));
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const { out } = cancel(far, echo, rate);
    const [from, to] = [seconds(rate, 4), seconds(rate, 8)];
    const low = dB(bandEnergy(echo, rate, 100, 7000, from, to) / bandEnergy(out, rate, 100, 7000, from, to));
    const high = dB(bandEnergy(echo, rate, 9000, 15000, from, to) / bandEnergy(out, rate, 9000, 15000, from, to));
    t.diagnostic(`echo below 7 kHz ${low.toFixed(1)} dB down, above 9 kHz ${high.toFixed(1)} dB down`);
    assert.ok(low >= 25, `echo below 7 kHz only ${low.toFixed(1)} dB down`);
    assert.ok(high >= 15, `echo above 9 kHz only ${high.toFixed(1)} dB down`);
  });

  test('48 kHz split-band: both talking, the near end comes through clear and whole above 8 kHz too', (t) => {
    const rate = 48000;
    const far = speechLike(rate, 12, 1, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const voice = speechLike(rate, 12, 3, 0.05);
    const near = mix(voice, shiftedUp(voice, rate, 12000, 0.3)).map((v, i) => (i < seconds(rate, 6) || i >= seconds(rate, 9) ? 0 : v));
    const { out } = cancel(far, mix(echo, near), rate);
    const [from, to] = [seconds(rate, 6.5), seconds(rate, 9)];
    const clarity = nearEndClarity(near, out, rate, 6.5, 9);
    const level = dB(energy(out, from, to) / energy(near, from, to));
    const highLevel = dB(bandEnergy(out, rate, 9000, 15000, from, to) / bandEnergy(near, rate, 9000, 15000, from, to));
    t.diagnostic(`near end over the rest ${clarity.toFixed(1)} dB, level ${level.toFixed(2)} dB, above 9 kHz ${highLevel.toFixed(2)} dB`);
    assert.ok(clarity >= 12, `near end only ${clarity.toFixed(1)} dB above echo and distortion`);
    assert.ok(Math.abs(level) < 2, `near end level changed by ${level.toFixed(1)} dB`);
    assert.ok(Math.abs(highLevel) < 3, `near end above 9 kHz changed by ${highLevel.toFixed(1)} dB`);
  });

  for (const rate of [16000, 48000]) {
    test(`${rate} Hz: the microphone may run ~40 ms ahead of the far end: it all comes out, in order, nothing lost`, () => {
      const canceller = createEchoCanceller({ sampleRate: rate });
      const near = speechLike(rate, 1, 3, 0.1);
      const chunk = rate / 400; // 2.5 ms
      const out = new Float32Array(near.length + canceller.maxOutputFor(near.length));
      const scratch = new Float32Array(canceller.maxOutputFor(chunk));
      let written = 0;
      const take = (n: number) => {
        out.set(scratch.subarray(0, n), written);
        written += n;
      };
      // 16 chunks of microphone first, then the far end catches up, then both in step.
      for (let i = 0; i < 16; i++) take(canceller.capture(near.subarray(i * chunk, (i + 1) * chunk), chunk, scratch));
      canceller.playback(new Float32Array(16 * chunk));
      for (let i = 16; (i + 1) * chunk <= near.length; i++) {
        canceller.playback(new Float32Array(chunk));
        take(canceller.capture(near.subarray(i * chunk, (i + 1) * chunk), chunk, scratch));
      }
      const lagged = out.subarray(canceller.lagSamples);
      assert.ok(written - canceller.lagSamples > near.length - canceller.delaySamples - 16 * chunk, `only ${written} samples came out`);
      let worst = 0;
      for (let i = 0; i < written - canceller.lagSamples; i++) worst = Math.max(worst, Math.abs(lagged[i]! - near[i]!));
      assert.ok(worst < 3e-6, `differs by up to ${worst}`);
    });
  }

  test('far end and microphone must advance together: running ahead is refused with the reason', () => {
    const canceller = new EchoCanceller({ sampleRate: 8000 });
    assert.throws(() => canceller.playback(new Float32Array(8000)), /playback\(\) ran more than \d+ samples ahead of capture\(\)/);
    assert.throws(() => new EchoCanceller({ sampleRate: 44 }), /sampleRate must be an integer >= 8000/);
  });
});
