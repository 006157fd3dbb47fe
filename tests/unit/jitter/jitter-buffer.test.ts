import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer } from '../../../src-main/core/media/jitter/jitter-buffer';
import type { JitterBufferStats } from '../../../src-main/core/media/jitter/jitter-buffer';
import type { AudioCodec } from '../../../src-main/core/media/codecs/audio-codec';
import { g722Codec } from '../../../src-main/core/media/codecs/g722';
import { maxStep, pcmCodec, simulate } from './simulation';
import type { SentPacket, SimulationResult } from './simulation';
import { dominantFrequency } from '../codecs/signal';

/** Two-partial tone with a non-integer period (36.4 samples at 8 kHz), like a voiced vowel. */
const tone = (n: number) =>
  Math.round(6000 * Math.sin((2 * Math.PI * 220 * n) / 8000) + 3000 * Math.sin((2 * Math.PI * 440 * n) / 8000));
/** Largest sample-to-sample step the tone itself has; a click would be several times this. */
const TONE_MAX_STEP = 6000 * ((2 * Math.PI * 220) / 8000) + 3000 * ((2 * Math.PI * 440) / 8000);
/**
 * Noise-like, never-zero signal whose samples identify their position, to check order and
 * completeness exactly (time-scaling leaves noise alone: it is neither periodic nor silent).
 */
const ramp = (n: number) => {
  let h = Math.imul(n ^ 0x5bd1e995, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const v = ((h >>> 0) % 32000) - 16000;
  return v === 0 ? 1 : v;
};

function statsAfter(r: SimulationResult, ms: number, pullMs = 20): JitterBufferStats {
  return r.trace[Math.floor(ms / pullMs) - 1]!;
}

/** The played output, from its first non-zero sample on, is exactly the far end's ramp. */
function assertExactPlayout(r: SimulationResult, minSamples: number): void {
  const start = r.output.findIndex((s) => s !== 0);
  assert.ok(start >= 0, 'something was played');
  assert.equal(r.output[start], ramp(0));
  let n = 0;
  for (let i = start; i < r.output.length && r.output[i] !== 0; i++, n++) {
    assert.equal(r.output[i], ramp(n), `output sample ${i} (far-end sample ${n})`);
  }
  assert.ok(n >= minSamples, `played ${n} samples contiguously, expected >= ${minSamples}`);
}

/**
 * Test codec with Opus-FEC semantics: each payload carries its frame and, as redundancy, the
 * previous one; recover(next) returns that redundancy; conceal() fills with `concealMark`.
 */
function redundantCodec(concealMark: number): AudioCodec {
  return {
    info: { encodingName: 'L16-fec-test', rtpClockRate: 8000, sampleRate: 8000, channels: 1 },
    createEncoder: () => {
      let previous = new Int16Array(160);
      return {
        encode: (pcm) => {
          const both = new Int16Array(320);
          both.set(pcm);
          both.set(previous, 160);
          previous = pcm.slice();
          return new Uint8Array(both.buffer);
        },
        close: () => undefined,
      };
    },
    createDecoder: () => {
      const half = (payload: Uint8Array, second: boolean) => new Int16Array(payload.slice().buffer, second ? 320 : 0, 160);
      return {
        decode: (payload) => half(payload, false),
        recover: (next, samples) => {
          assert.equal(samples, 160, 'asks for the lost frame, 20 ms');
          return half(next, true);
        },
        conceal: (n) => new Int16Array(n).fill(concealMark),
        close: () => undefined,
      };
    },
  };
}

describe('JitterBuffer', () => {
  test('steady stream: plays every sample in order after a short buffering, nothing concealed', () => {
    const r = simulate({
      codec: pcmCodec(),
      signal: ramp,
      durationMs: 5000,
      options: { minDelayMs: 20, startupDelayMs: 20 },
    });
    assert.equal(r.stats.lost, 0);
    assert.equal(r.stats.concealed, 0);
    assert.equal(r.stats.underruns, 0);
    assert.equal(r.stats.late, 0);
    assert.equal(r.stats.targetDelayMs, 20);
    assert.ok(r.playStart <= 480, `started playing after ${r.playStart / 8} ms`);
    // Time-scaling never touches noise (not periodic, not silent), so the output is bit-exact.
    assertExactPlayout(r, 5000 * 8 - 1000);
  });

  test('a start-up delay above target is trimmed to the least the pull phase allows (the listener hears it)', () => {
    // Clean link, 60 ms start-up floor: once warm the target slack is the 3 ms margin. Packets arrive
    // 10 ms before a pull, so a pull can take a frame 10 ms after it arrived: the extra ~50 ms must go.
    const r = simulate({ codec: pcmCodec(), signal: tone, durationMs: 10000 });
    assert.equal(r.stats.targetDelayMs, 3);
    assert.equal(r.stats.concealed, 0);
    const settled = r.trace.slice(-100).map((t) => t.playoutDelayMs!);
    // Steps are pitch periods of this tone (4.5 ms, or two): the delay ends within one step above 10 ms.
    assert.ok(Math.max(...settled) <= 10 + 9.1, `delay settled at ${Math.max(...settled).toFixed(1)} ms, floor 10`);
    assert.ok(Math.min(...settled) >= 10, `delay settled at ${Math.min(...settled).toFixed(1)} ms, floor 10`);
  });

  for (const [phaseMs, floorMs] of [
    [2, 22],
    [7, 7],
    [13, 13],
    [19, 19],
  ] as const) {
    test(`a device pulling 20 ms, ${phaseMs} ms after each arrival: delay settles at ${floorMs} ms (no less is safe)`, () => {
      // Slack below the 3 ms target would starve on the slightest jitter: 2 ms after arrival is too
      // close, so that device waits for the next pull.
      const r = simulate({ codec: pcmCodec(), signal: tone, durationMs: 8000, baseDelayMs: 40 - phaseMs });
      assert.equal(r.stats.concealed, 0);
      const settled = r.trace.slice(-100).map((t) => t.playoutDelayMs!);
      assert.ok(Math.min(...settled) >= floorMs, `delay ${Math.min(...settled).toFixed(1)} ms`);
      assert.ok(Math.max(...settled) <= floorMs + 9.1, `delay ${Math.max(...settled).toFixed(1)} ms`);
    });
  }

  for (const phaseMs of [0, 7, 13]) {
    test(`playout delay counts the wait for the device's pull (arrivals ${phaseMs} ms before a pull)`, () => {
      // Pulls at multiples of 20 ms; packets arrive phaseMs before one. currentDelayMs is measured at
      // arrival; playoutDelayMs at the pull, phaseMs later: it must be that much larger.
      const r = simulate({ codec: pcmCodec(), signal: tone, durationMs: 6000, baseDelayMs: 40 - phaseMs });
      const last = r.trace.at(-1)!;
      assert.ok(last.playoutDelayMs !== undefined, 'measured');
      const gap = last.playoutDelayMs - last.currentDelayMs;
      assert.ok(Math.abs(gap - phaseMs) < 1.5, `playout ${last.playoutDelayMs.toFixed(1)} vs arrival-measured ${last.currentDelayMs.toFixed(1)} ms`);
    });
  }

  test('jitter 0..60 ms: target follows the 95th percentile, no starvation, delay bounded', () => {
    const r = simulate({ codec: pcmCodec(), signal: tone, durationMs: 20000, jitterMs: (rnd) => rnd() * 60 });
    const afterWarmup = statsAfter(r, 1000);
    assert.equal(r.stats.underruns, afterWarmup.underruns, 'no underrun once the jitter was measured');
    // Slack target = 95th percentile (57 ms) + 3 ms margin.
    assert.ok(r.stats.targetDelayMs > 58 && r.stats.targetDelayMs < 64, `target ${r.stats.targetDelayMs}`);
    assert.ok(r.stats.late <= 20, `late ${r.stats.late} of 1000`);
    assert.ok(r.stats.reordered > 100, 'jitter of 3 frames reorders packets');
    // Arrivals come 10 ms before a pull: the least safe delay is the first 10 + 20k ms above target.
    const delays = r.trace.slice(100).map((t) => t.playoutDelayMs!);
    assert.ok(Math.max(...delays) <= r.stats.targetDelayMs + 20, `delay up to ${Math.max(...delays)}`);
    assert.ok(Math.min(...delays) >= r.stats.targetDelayMs, `delay down to ${Math.min(...delays)}`);
    assert.ok(maxStep(r.output, r.playStart + 1, r.output.length) < 2 * TONE_MAX_STEP, 'no clicks');
  });

  for (const lossRate of [0.05, 0.15]) {
    test(`${lossRate * 100} % loss with jitter: every lost frame concealed, output continuous`, () => {
      const r = simulate({
        codec: pcmCodec(),
        signal: tone,
        durationMs: 20000,
        seed: 7,
        lossRate,
        jitterMs: (rnd) => rnd() * 30,
      });
      // Packets lost in the last ~60 ms are still "in the future" for the buffer.
      assert.ok(Math.abs(r.stats.lost - r.lostInNetwork) <= 3, `lost ${r.stats.lost}, network dropped ${r.lostInNetwork}`);
      assert.equal(r.stats.concealed, r.stats.lost);
      assert.equal(r.stats.underruns, 0, 'a lost packet is not starvation');
      assert.ok(Math.abs(r.stats.expandRate - lossRate) < 0.03, `expandRate ${r.stats.expandRate}`);
      // Once playing, 20 ms blocks carry the tone or its concealment; only runs of 3+ lost frames
      // may fade to silence (G.711 Appendix I mutes after 60 ms).
      let silentBlocks = 0;
      let blocks = 0;
      for (let i = r.playStart + 160; i + 160 <= r.output.length; i += 160, blocks++) {
        let energy = 0;
        for (let k = i; k < i + 160; k++) energy += Math.abs(r.output[k]!);
        if (energy / 160 < 300) silentBlocks++;
      }
      assert.ok(silentBlocks <= (lossRate < 0.1 ? 0 : blocks * 0.01), `${silentBlocks} of ${blocks} blocks silent`);
      assert.ok(maxStep(r.output, r.playStart + 1, r.output.length) < 2 * TONE_MAX_STEP, 'no clicks');
    });
  }

  test('reordering and duplicates: played exactly once each, in order', () => {
    const r = simulate({
      codec: pcmCodec(),
      signal: ramp,
      durationMs: 4000,
      options: { minDelayMs: 60 },
      mutate: (packets) => {
        const out: SentPacket[] = [];
        for (const p of packets) {
          // Swap neighbours: odd packets overtake even ones by 25 ms.
          out.push({ ...p, arrivalMs: p.arrivalMs + (p.index % 2 === 0 ? 25 : 0) });
          if (p.index % 10 === 3) out.push({ ...p, arrivalMs: p.arrivalMs + 5 }); // duplicate
        }
        return out;
      },
    });
    assert.ok(r.stats.reordered >= 90, `reordered ${r.stats.reordered}`);
    assert.equal(r.stats.duplicates, 20);
    assert.equal(r.stats.lost, 0);
    assert.equal(r.stats.late, 0);
    assertExactPlayout(r, 4000 * 8 - 1500);
  });

  test('a packet repeated long after it was played is a duplicate, not a late packet', () => {
    // Played sequence numbers are remembered 512 back (a ring, not a set): a copy of a packet
    // played 300 packets ago is recognised; the stream goes on without a glitch.
    const jb = new JitterBuffer(pcmCodec(), { minDelayMs: 0, startupDelayMs: 0 });
    const packet = (i: number) => ({ seq: (0xff00 + i) & 0xffff, timestamp: i * 160, ssrc: 0x9abcdef0, marker: i === 0, payload: new Uint8Array(320), arrivalMs: i * 20 });
    for (let i = 0; i < 400; i++) {
      jb.push(packet(i));
      jb.pull(160, i * 20 + 20);
    }
    jb.push({ ...packet(100), arrivalMs: 8000 });
    jb.push({ ...packet(399), arrivalMs: 8000 });
    const stats = jb.stats();
    assert.equal(stats.duplicates, 2);
    assert.equal(stats.late, 0);
    assert.equal(stats.lost, 0);
  });

  test('sequence number and timestamp wrap-around are seamless', () => {
    const r = simulate({
      codec: pcmCodec(),
      signal: ramp,
      durationMs: 3000,
      seqStart: 65500,
      tsStart: 2 ** 32 - 8000,
      jitterMs: (rnd) => rnd() * 8,
      options: { minDelayMs: 40 },
    });
    assert.equal(r.stats.lost, 0);
    assert.equal(r.stats.late, 0);
    assert.equal(r.stats.concealed, 0);
    assertExactPlayout(r, 3000 * 8 - 1500);
  });

  test('a packet arriving after its playout time is counted late (and its slot lost)', () => {
    const r = simulate({
      codec: pcmCodec(),
      signal: tone,
      durationMs: 3000,
      mutate: (packets) => packets.map((p) => (p.index === 50 ? { ...p, arrivalMs: p.arrivalMs + 300 } : p)),
    });
    assert.equal(r.stats.late, 1);
    assert.equal(r.stats.lost, 1);
    assert.equal(r.stats.concealed, 1);
  });

  for (const driftPpm of [500, -500]) {
    test(`clock drift ${driftPpm} ppm over 2 minutes: delay stays bounded, never starves`, () => {
      const r = simulate({
        codec: pcmCodec(),
        signal: tone,
        durationMs: 120000,
        driftPpm,
        jitterMs: (rnd) => rnd() * 10,
      });
      assert.equal(r.stats.underruns, 0);
      assert.equal(r.stats.concealed, 0);
      assert.equal(r.stats.late, 0);
      // Once warm (10 s on), the delay stays between the target slack and one frame + one step above
      // it: a fixed-phase device must let drift build up a whole frame before it can take one out.
      const delays = r.trace.slice(500).map((t) => t.playoutDelayMs!);
      const target = r.stats.targetDelayMs;
      assert.ok(Math.max(...delays) <= target + 20 + 9.1, `delay up to ${Math.max(...delays)} (target ${target})`);
      assert.ok(Math.min(...delays) >= target - 1, `delay down to ${Math.min(...delays)} (target ${target})`);
      // From 10 s to 120 s, 500 ppm is 55 ms = 440 samples to take out (or put in) by time-scaling,
      // less what the delay's own swing within that band absorbs.
      const warm = r.trace[500]!;
      const net = r.stats.acceleratedSamples - warm.acceleratedSamples - (r.stats.expandedSamples - warm.expandedSamples);
      if (driftPpm > 0) assert.ok(net >= 200, `net removed ${net}`);
      else assert.ok(net <= -200, `net inserted ${-net}`);
      assert.ok(maxStep(r.output, r.playStart + 1, r.output.length) < 2 * TONE_MAX_STEP, 'no clicks');
    });
  }

  test('talkspurt after silence (marker bit): gap not counted as loss, delay re-anchored', () => {
    // 2 s talk, 1 s of sender silence (no packets, timestamps keep running), 2 s talk that comes
    // over a path 80 ms slower.
    const silent = (i: number) => i >= 100 && i < 150;
    const r = simulate({
      codec: pcmCodec(),
      signal: tone,
      durationMs: 5000,
      silentFrames: silent,
      mutate: (packets) => packets.map((p) => (p.index >= 150 ? { ...p, arrivalMs: p.arrivalMs + 80 } : p)),
    });
    const marked = r.sent.filter((p) => p.marker).map((p) => p.index);
    assert.deepEqual(marked, [0, 150]);
    assert.equal(r.stats.lost, 0, 'sender silence is not loss');
    assert.equal(r.stats.late, 0);
    const delays = r.trace.slice(200).map((t) => t.playoutDelayMs!);
    assert.ok(delays.at(-1)! >= r.stats.targetDelayMs && delays.at(-1)! <= r.stats.targetDelayMs + 20 + 9.1, `delay ${delays.at(-1)} vs target ${r.stats.targetDelayMs}`);
    // The second talkspurt is played in full: ~2 s of tone after the silence.
    let audible = 0;
    for (let i = 3000 * 8; i < r.output.length; i += 160) {
      let energy = 0;
      for (let k = i; k < i + 160; k++) energy += Math.abs(r.output[k]!);
      if (energy / 160 > 2000) audible++;
    }
    assert.ok(audible >= 90, `second talkspurt audible for ${audible * 20} ms of 2000`);
  });

  test('sender silence without a marker bit (Opus DTX, a VAD phone): no loss, no concealment counted; counted as silence', () => {
    // 2 s talk, 1 s in which the sender sends a packet every 400 ms at most (DTX), 2 s talk; no
    // packet carries a marker, sequence numbers run on (the sender skipped, nothing was lost).
    for (const keepalive of [false, true]) {
      const silent = (i: number) => i >= 100 && i < 150 && !(keepalive && (i - 100) % 20 === 0);
      const r = simulate({
        codec: pcmCodec(),
        signal: tone,
        durationMs: 5000,
        silentFrames: silent,
        mutate: (packets) => packets.map((p) => ({ ...p, marker: false })),
      });
      assert.equal(r.stats.lost, 0, `${keepalive ? 'with' : 'without'} DTX packets: the sender's silence is not loss`);
      assert.equal(r.stats.concealed, 0, 'nor concealment');
      assert.equal(r.stats.expandRate, 0);
      const expected = keepalive ? 1000 - 3 * 20 : 1000;
      assert.ok(Math.abs(r.stats.comfortNoiseMs - expected) <= 60, `the silence counted as such: ${r.stats.comfortNoiseMs} ms, ~${expected} expected`);
    }
    // A real loss still counts: frame 120 lost in the middle of a talkspurt (its sequence number missing).
    const lossy = simulate({ codec: pcmCodec(), signal: tone, durationMs: 3000, mutate: (packets) => packets.filter((p) => p.index !== 120) });
    assert.equal(lossy.stats.lost, 1);
    assert.equal(lossy.stats.comfortNoiseMs, 0);
  });

  test('telephone events instead of audio (RFC 4733): their time plays as silence, no loss, no concealment', () => {
    // 1 s talk, then three 200 ms digits 400 ms apart; audio resumes without a marker bit right
    // after each digit; a jittery path (0-30 ms).
    const inEvent = (i: number) => i >= 50 && i < 110 && (i - 50) % 20 < 10;
    const r = simulate({ codec: pcmCodec(), signal: tone, durationMs: 3000, eventFrames: inEvent, jitterMs: (random) => 30 * random(), seed: 7 });
    assert.equal(r.sent.filter((p) => p.event).length, 30);
    assert.equal(r.stats.lost, 0, 'the digits are not loss');
    assert.equal(r.stats.concealed, 0, 'nor concealed');
    assert.equal(r.stats.underruns, 0);
    // The digits' time is silence in the output (600 ms: 30 frames of 20 ms), the talk around it plays.
    let quietFrames = 0;
    for (let at = r.playStart; at + 160 <= r.output.length; at += 160) {
      if (r.output.subarray(at, at + 160).every((v) => Math.abs(v) < 200)) quietFrames++;
    }
    assert.ok(quietFrames >= 27 && quietFrames <= 31, `${quietFrames} silent frames of 20 ms, 30 expected`);
  });

  test('SSRC change: the new stream plays from its own numbering, no loss counted', () => {
    const r = simulate({
      codec: pcmCodec(),
      signal: tone,
      durationMs: 4000,
      mutate: (packets) =>
        packets.map((p) =>
          p.index >= 100 ? { ...p, ssrc: 0xbeef, seq: (p.seq + 30000) & 0xffff, timestamp: (p.timestamp + 123456789) % 2 ** 32 } : p,
        ),
    });
    assert.equal(r.stats.ssrcChanges, 1);
    assert.equal(r.stats.lost, 0);
    assert.equal(r.stats.late, 0);
    for (let i = r.output.length - 8000; i < r.output.length; i += 160) {
      let energy = 0;
      for (let k = i; k < i + 160; k++) energy += Math.abs(r.output[k]!);
      assert.ok(energy / 160 > 2000, `new stream audible at ${i / 8} ms`);
    }
  });

  test('G.722: 8 kHz RTP clock, 16 kHz audio; loss concealed by the generic PLC', () => {
    const sine16 = (n: number) => Math.round(8000 * Math.sin((2 * Math.PI * 700 * n) / 16000));
    const r = simulate({ codec: g722Codec, signal: sine16, durationMs: 6000, lossRate: 0.05, seed: 3, jitterMs: (rnd) => rnd() * 20 });
    assert.ok(Math.abs(r.stats.lost - r.lostInNetwork) <= 2, `lost ${r.stats.lost} vs ${r.lostInNetwork}`);
    assert.equal(r.stats.underruns, 0);
    assert.equal(r.output.length, 6000 * 16);
    const played = r.output.subarray(r.playStart + 1600);
    assert.equal(dominantFrequency(played, 16000, 300, 3000, 10), 700);
  });

  test('uses the codec concealment when the decoder has one', () => {
    const marker = 1234;
    const codec = pcmCodec(8000, (n) => new Int16Array(n).fill(marker));
    const r = simulate({ codec, signal: () => 100, durationMs: 2000, mutate: (p) => p.filter((x) => x.index !== 40) });
    assert.equal(r.stats.lost, 1);
    assert.equal(r.output.filter((s) => s === marker).length, 160);
  });

  test('a lost frame whose successor is queued is rebuilt from its redundancy (FEC), not concealed', () => {
    const concealMark = 1234;
    const fecCodec = redundantCodec(concealMark);
    // Frames 40 and 80 lost alone; 120 and 121 lost together (only 121's successor carries 121).
    const dropped = new Set([40, 80, 120, 121]);
    const r = simulate({ codec: fecCodec, signal: ramp, durationMs: 4000, mutate: (p) => p.filter((x) => !dropped.has(x.index)) });
    assert.equal(r.stats.lost, 4);
    assert.equal(r.stats.fecRecovered, 3);
    assert.equal(r.stats.concealed, 1, 'only the frame whose successor was lost too is concealed');
    assert.equal(r.output.filter((v) => v === concealMark).length, 160);
    // Everything else is the far end's signal, bit-exact, the rebuilt frames included.
    const start = r.output.findIndex((v) => v !== 0);
    for (let i = start, n = 0; i < r.output.length; i++, n++) {
      if (n >= 120 * 160 && n < 121 * 160) continue;
      assert.equal(r.output[i], ramp(n), `far-end sample ${n}`);
    }
  });

  test('on a lossy stream a codec with FEC gets one frame more slack, so isolated losses are rebuilt', () => {
    // A tone (time-scalable, so the start-up delay is trimmed) with 5 % loss. Without the extra
    // frame, the packet after a lost one would arrive after the lost frame fell due: concealment.
    const r = simulate({ codec: redundantCodec(1234), signal: tone, durationMs: 30000, lossRate: 0.05, seed: 9 });
    const droppedAlone = r.lostInNetwork; // upper bound; bursts of two are rare at 5 %
    assert.ok(r.stats.fecRecovered >= droppedAlone * 0.8, `${r.stats.fecRecovered} rebuilt of ${droppedAlone} lost`);
    assert.ok(r.stats.targetDelayMs >= 20 + 3, `target slack ${r.stats.targetDelayMs} ms includes a frame`);
    // Without loss, no such headroom: the plain target (3 ms margin).
    const clean = simulate({ codec: redundantCodec(1234), signal: tone, durationMs: 10000 });
    assert.equal(clean.stats.targetDelayMs, 3);
  });

  test('rejects bad input clearly', () => {
    const jb = new JitterBuffer(pcmCodec());
    assert.throws(() => jb.pull(0), /positive sample count/);
    assert.throws(
      () => jb.push({ seq: 70000, timestamp: 0, ssrc: 1, marker: false, payload: new Uint8Array(320), arrivalMs: 0 }),
      /sequence number out of range/,
    );
    assert.throws(() => new JitterBuffer(pcmCodec(), { minDelayMs: 100, maxDelayMs: 50 }), /delay bounds/);
    // Before any packet the device still gets exactly what it asks for (silence).
    assert.deepEqual(jb.pull(80), new Int16Array(80));
    jb.close();
  });
});
