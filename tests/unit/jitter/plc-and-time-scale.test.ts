import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GenericPlc } from '../../../src-main/core/media/jitter/generic-plc';
import { lengthenFrame, shortenFrame } from '../../../src-main/core/media/jitter/time-scale';
import { RtpUnwrapper } from '../../../src-main/core/media/jitter/rtp-unwrapper';
import { dominantFrequency, rmsOf, sine } from '../codecs/signal';
import { rng } from './simulation';

describe('GenericPlc (G.711 Appendix I style)', () => {
  test('continues a voiced signal at its pitch, fades after 10 ms and is silent from 60 ms', () => {
    const plc = new GenericPlc(8000);
    const voice = sine(180, 8000, 1600, 8000);
    for (let i = 0; i < voice.length; i += 160) plc.observe(voice.subarray(i, i + 160));
    const first = plc.conceal(80); // 0-10 ms: full level
    const next = plc.conceal(160); // 10-30 ms: fading
    const later = plc.conceal(240); // 30-60 ms: nearly gone
    const after = plc.conceal(160); // 60+ ms: silence
    assert.ok(Math.abs(dominantFrequency(Int16Array.from([...first, ...next]), 8000, 100, 1000, 5) - 180) <= 10);
    assert.ok(Math.abs(rmsOf(first) - rmsOf(voice)) / rmsOf(voice) < 0.1, 'first 10 ms at full level');
    assert.ok(rmsOf(next) < rmsOf(first) && rmsOf(later) < rmsOf(next), 'fades');
    assert.ok(after.every((s) => s === 0), 'muted after 60 ms');
    // Continuity into the concealment: no jump bigger than the tone's own steepest step.
    const slope = 8000 * ((2 * Math.PI * 180) / 8000);
    assert.ok(Math.abs(first[0]! - voice[voice.length - 1]!) <= 1.5 * slope);
  });

  test('the first good frame after a loss is crossfaded from the concealment', () => {
    const plc = new GenericPlc(8000);
    const voice = sine(200, 8000, 1600, 8000);
    for (let i = 0; i < 1280; i += 160) plc.observe(voice.subarray(i, i + 160));
    const concealed = plc.conceal(160);
    // The next frame comes back in opposite phase: without a crossfade that is a full-scale step.
    const inverted = voice.slice(1440, 1600).map((s) => -s);
    const out = plc.observe(inverted);
    assert.ok(Math.abs(out[0]! - concealed[159]!) < 2500, `step ${out[0]! - concealed[159]!}`);
    assert.notDeepEqual(out, inverted);
    assert.deepEqual(out.subarray(40), inverted.subarray(40), 'only the overlap is touched');
  });

  test('conceals from exactly the audio played last, however many frames came before the loss', () => {
    // The history is compacted every few frames: after any count of frames (of 80 or 160 samples)
    // the concealment must be the one made from that audio handed over in one piece.
    const random = rng(7);
    const voice = Int16Array.from(sine(150, 8000, 4000, 6000), (s) => s + Math.round((random() - 0.5) * 4000));
    for (const frame of [80, 160]) {
      for (let frames = 1; frames <= 24; frames++) {
        const framed = new GenericPlc(8000);
        for (let i = 0; i < frames; i++) framed.observe(voice.subarray(i * frame, (i + 1) * frame));
        const whole = new GenericPlc(8000);
        whole.observe(voice.slice(0, frames * frame));
        assert.deepEqual(framed.conceal(400), whole.conceal(400), `${frames} frames of ${frame}`);
      }
    }
  });

  test('a loss before any audio conceals with silence', () => {
    assert.ok(new GenericPlc(16000).conceal(320).every((s) => s === 0));
  });
});

describe('time-scaling (WSOLA-lite)', () => {
  test('shortens / lengthens periodic audio by whole periods without a discontinuity', () => {
    const frame = sine(250, 8000, 160, 10000); // period 32 samples
    const shorter = shortenFrame(frame, 8000)!;
    const longer = lengthenFrame(frame, 8000)!;
    assert.ok(shorter && longer);
    const removed = frame.length - shorter.length;
    const added = longer.length - frame.length;
    assert.equal(removed % 32, 0, `removed ${removed}`);
    assert.equal(added % 32, 0, `added ${added}`);
    const slope = 10000 * ((2 * Math.PI * 250) / 8000);
    for (const x of [shorter, longer]) {
      for (let i = 1; i < x.length; i++) assert.ok(Math.abs(x[i]! - x[i - 1]!) <= 1.05 * slope, `step at ${i}`);
    }
  });

  test('leaves noise alone, freely scales silence', () => {
    const random = rng(5);
    const noise = Int16Array.from({ length: 160 }, () => Math.round((random() - 0.5) * 20000));
    assert.equal(shortenFrame(noise, 8000), null);
    assert.equal(lengthenFrame(noise, 8000), null);
    const silence = new Int16Array(320);
    assert.equal(shortenFrame(silence, 16000)!.length, 320 - 160);
    assert.equal(lengthenFrame(silence, 16000)!.length, 320 + 160);
  });
});

describe('RtpUnwrapper', () => {
  test('extends across wrap-around and tolerates reordering', () => {
    const seq = new RtpUnwrapper(16);
    const a = seq.unwrap(65534);
    assert.equal(seq.unwrap(65535) - a, 1);
    assert.equal(seq.unwrap(1) - a, 3);
    assert.equal(seq.unwrap(0) - a, 2, 'late packet from before the wrap');
    assert.equal(seq.unwrap(65533) - a, -1);
    const ts = new RtpUnwrapper(32);
    const t0 = ts.unwrap(2 ** 32 - 160);
    assert.equal(ts.unwrap(0) - t0, 160);
    assert.equal(ts.unwrap(160) - t0, 320);
    assert.throws(() => seq.unwrap(65536), /out of range/);
  });

  test('agrees with the closest-to-highest rule on random walks, jumps and reordering, both widths', () => {
    // The rule itself, spelled out with modulo: the distance from the highest so far, taken into
    // [-space/2, space/2); the highest only ever moves forward.
    const reference = (bits: 16 | 32) => {
      const space = 2 ** bits;
      let highest: number | undefined;
      return (value: number) => {
        if (highest === undefined) return (highest = space + value);
        let delta = (((value - (highest % space)) % space) + space) % space;
        if (delta >= space / 2) delta -= space;
        const extended = highest + delta;
        highest = Math.max(highest, extended);
        return extended;
      };
    };
    const random = rng(11);
    for (const bits of [16, 32] as const) {
      const space = 2 ** bits;
      const unwrapper = new RtpUnwrapper(bits);
      const expected = reference(bits);
      let wire = Math.floor(random() * space);
      for (let i = 0; i < 20_000; i++) {
        const r = random();
        // Mostly in order, some reordering, now and then a jump (exactly half the space included).
        const step = r < 0.8 ? 1 + Math.floor(random() * 3) : r < 0.95 ? -Math.floor(random() * 50) : r < 0.98 ? space / 2 : Math.floor(random() * space);
        wire = (((wire + step) % space) + space) % space;
        assert.equal(unwrapper.unwrap(wire), expected(wire), `${bits} bits, step ${i}: ${wire}`);
      }
    }
  });
});
