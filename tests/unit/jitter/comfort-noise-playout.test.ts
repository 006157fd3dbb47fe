/**
 * Comfort noise in the jitter buffer (RFC 3389): a far end with voice activity detection talks,
 * sends one SID when its user falls silent, nothing for two seconds, then talks again. The gap
 * plays as noise at the SID's level (not a fading concealment, not dead air), counts as neither
 * loss nor concealment nor underrun, and the next talkspurt plays on time, with or without its
 * marker bit. The same stream without the SID (what an unsupported CN payload type amounted to)
 * is the control: underrun and near-silence.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer, type JitterBufferStats } from '../../../src-main/core/media/jitter/jitter-buffer';
import type { AudioCodec } from '../../../src-main/core/media/codecs/audio-codec';
import { pcmuCodec } from '../../../src-main/core/media/codecs/g711';
import { g722Codec } from '../../../src-main/core/media/codecs/g722';
import { opusCodec } from '../../../src-main/core/media/codecs/opus';
import { detectTone } from '../../harness/audio-analysis';

const TRANSIT_MS = 5;
const SSRC = 0x1234abcd;

interface Talk {
  codec: AudioCodec;
  /** RTP timestamps of the first packet of each talkspurt and how many 20 ms packets it has. */
  spurts: Array<{ startMs: number; packets: number; marker: boolean }>;
  /** SIDs: when (media time) and what; sequence numbers follow the stream's. */
  sids: Array<{ atMs: number; payload: Uint8Array }>;
  /** Push the SIDs as comfort noise (false: drop them, the control). */
  withSids: boolean;
  seconds: number;
}

/**
 * Plays the far end's stream into a buffer pulled every 20 ms; returns the output (Float, -1..1)
 * and the stats at 3.9 s, before the last talkspurt ends (the rest is the stream's end underrunning).
 */
function play(talk: Talk, onPull?: (buffer: JitterBuffer, deviceMs: number) => void): { output: Float32Array; rate: number; stats: JitterBufferStats; decodeErrors: string[] } {
  const { codec } = talk;
  const decodeErrors: string[] = [];
  const buffer = new JitterBuffer(codec, { onDecodeError: (e) => decodeErrors.push(e.message) });
  const rate = codec.info.sampleRate;
  const clock = codec.info.rtpClockRate;
  const encoder = codec.createEncoder();
  const frame = rate / 50;
  type Event = { atMs: number; seqKey: number; push: () => void };
  const events: Event[] = [];
  const media: Array<{ ms: number; kind: 'audio' | 'sid'; marker: boolean; payload: Uint8Array }> = [];
  for (const spurt of talk.spurts) {
    for (let i = 0; i < spurt.packets; i++) {
      const ms = spurt.startMs + i * 20;
      const pcm = new Int16Array(frame);
      for (let n = 0; n < frame; n++) pcm[n] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * ((ms / 1000) * rate + n)) / rate));
      media.push({ ms, kind: 'audio', marker: spurt.marker && i === 0, payload: encoder.encode(pcm).slice() });
    }
  }
  for (const sid of talk.sids) media.push({ ms: sid.atMs, kind: 'sid', marker: false, payload: sid.payload });
  media.sort((a, b) => a.ms - b.ms);
  media.forEach((m, seq) => {
    if (m.kind === 'sid' && !talk.withSids) return;
    const packet = { seq, timestamp: (m.ms * clock) / 1000, ssrc: SSRC, marker: m.marker, payload: m.payload, arrivalMs: m.ms + TRANSIT_MS };
    events.push({ atMs: packet.arrivalMs, seqKey: seq, push: () => (m.kind === 'sid' ? buffer.pushComfortNoise(packet) : buffer.push(packet)) });
  });
  const output = new Float32Array(talk.seconds * rate);
  let stats: JitterBufferStats | undefined;
  let next = 0;
  for (let pull = 0; pull * frame < output.length; pull++) {
    const deviceMs = 40 + pull * 20;
    while (next < events.length && events[next]!.atMs <= deviceMs) events[next++]!.push();
    const pcm = buffer.pull(frame, deviceMs);
    for (let n = 0; n < frame; n++) output[pull * frame + n] = pcm[n]! / 32768;
    if (deviceMs === 3900) stats = buffer.stats();
    onPull?.(buffer, deviceMs);
  }
  buffer.close();
  return { output, rate, stats: stats!, decodeErrors };
}

function levelDb(samples: Float32Array, rate: number, fromS: number, toS: number): number {
  let sum = 0;
  const start = Math.round(fromS * rate);
  const end = Math.round(toS * rate);
  for (let i = start; i < end; i++) sum += samples[i]! ** 2;
  return 10 * Math.log10(sum / (end - start));
}

/** One second of talk, a SID (-45 dBov, white) at 1 s, silence until 3 s, one second of talk. */
function pauseInTalk(codec: AudioCodec, options: { withSids: boolean; secondMarker?: boolean; sids?: Talk['sids'] }): Talk {
  return {
    codec,
    spurts: [
      { startMs: 0, packets: 50, marker: true },
      { startMs: 3000, packets: 50, marker: options.secondMarker ?? true },
    ],
    sids: options.sids ?? [{ atMs: 1000, payload: Uint8Array.of(45) }],
    withSids: options.withSids,
    seconds: 4.5,
  };
}

describe('comfort noise in the jitter buffer', () => {
  for (const codec of [pcmuCodec, g722Codec]) {
    test(`${codec.info.encodingName}: the far end's silence plays as its noise, not loss or concealment`, () => {
      const { output, rate, stats, decodeErrors } = play(pauseInTalk(codec, { withSids: true }));
      const gap = levelDb(output, rate, 1.3, 2.9);
      // 0 dBov is a full-scale square wave (mean square 1 here).
      assert.ok(Math.abs(gap + 45) < 1, `-45 dBov asked, the gap played at ${gap.toFixed(1)} dB`);
      assert.equal(stats.concealed, 0, 'nothing concealed');
      assert.equal(stats.lost, 0, 'nothing lost');
      assert.equal(stats.underruns, 0, 'no underrun');
      assert.ok(Math.abs(stats.comfortNoiseMs - 2000) <= 120, `comfort noise for ${stats.comfortNoiseMs} ms`);
      assert.deepEqual(decodeErrors, []);
      assert.ok(detectTone(output.subarray(Math.round(3.2 * rate), Math.round(3.9 * rate)), rate, 1000).present, 'the next talkspurt plays');
      assert.ok(detectTone(output.subarray(Math.round(0.2 * rate), Math.round(0.9 * rate)), rate, 1000).present, 'the first talkspurt played');
    });
  }

  test('control: the same pause without its SID underruns into near-silence', () => {
    const { output, rate, stats } = play(pauseInTalk(pcmuCodec, { withSids: false }));
    assert.ok(stats.underruns >= 1, 'underran');
    assert.ok(stats.concealed > 0, 'concealed');
    assert.equal(stats.comfortNoiseMs, 0);
    assert.ok(levelDb(output, rate, 1.3, 2.9) < -60, 'concealment faded out: dead air');
  });

  test('a talkspurt without a marker bit after the silence plays on time, nothing counted lost', () => {
    const { output, rate, stats } = play(pauseInTalk(pcmuCodec, { withSids: true, secondMarker: false }));
    assert.equal(stats.lost, 0);
    assert.equal(stats.late, 0);
    assert.equal(stats.concealed, 0);
    assert.ok(detectTone(output.subarray(Math.round(3.2 * rate), Math.round(3.9 * rate)), rate, 1000).present);
  });

  test("the media clock's pull-phase steering rests in the silence (no slack to measure) and resumes after it", () => {
    const excess = new Map<number, number | undefined>();
    // Talkspurts of 2 s: the jitter is measured after a stream's first 50 packets.
    const talk: Talk = {
      codec: pcmuCodec,
      spurts: [
        { startMs: 0, packets: 100, marker: true },
        { startMs: 4000, packets: 100, marker: true },
      ],
      sids: [{ atMs: 2000, payload: Uint8Array.of(45) }],
      withSids: true,
      seconds: 6,
    };
    play(talk, (buffer, deviceMs) => excess.set(deviceMs, buffer.slackExcessMs()));
    assert.equal(typeof excess.get(1900), 'number', 'measured in the first talkspurt');
    assert.equal(excess.get(3000), undefined, 'not in the silence: the slacks there are the last talkspurt\'s');
    assert.equal(typeof excess.get(5900), 'number', 'measured again in the next talkspurt');
  });

  test('a SID mid-silence moves the noise to its level; spectral coefficients are taken', () => {
    const sids = [
      { atMs: 1000, payload: Uint8Array.of(50) },
      { atMs: 2000, payload: Uint8Array.of(30, 12) },
    ];
    const { output, rate, stats } = play(pauseInTalk(pcmuCodec, { withSids: true, sids }));
    const first = levelDb(output, rate, 1.2, 1.9);
    const second = levelDb(output, rate, 2.2, 2.9);
    assert.ok(Math.abs(first + 50) < 1, `first SID's noise ${first.toFixed(1)} dB`);
    assert.ok(Math.abs(second + 30) < 1.5, `second SID's noise ${second.toFixed(1)} dB`);
    assert.equal(stats.received, 50 + 2 + 45, 'the audio and both SIDs, by 3.9 s');
    assert.equal(stats.concealed, 0);
  });

  test('an empty SID is reported as undecodable and the stream goes on', () => {
    const sids = [{ atMs: 1000, payload: new Uint8Array(0) }];
    const { output, rate, stats, decodeErrors } = play(pauseInTalk(pcmuCodec, { withSids: true, sids }));
    assert.equal(stats.decodeErrors, 1);
    assert.match(decodeErrors[0]!, /comfort noise of seq 50 unusable: comfort noise payload is empty/);
    assert.equal(stats.lost, 0, 'the far end still said it was silent: no loss');
    assert.ok(detectTone(output.subarray(Math.round(3.2 * rate), Math.round(3.9 * rate)), rate, 1000).present);
  });

  test('comfort noise is CN/8000: a 48 kHz Opus stream does not take it', () => {
    const buffer = new JitterBuffer(opusCodec);
    assert.equal(buffer.acceptsComfortNoise, false);
    assert.throws(
      () => buffer.pushComfortNoise({ seq: 1, timestamp: 0, ssrc: 1, marker: false, payload: Uint8Array.of(40), arrivalMs: 0 }),
      /comfort noise \(CN\/8000\) cannot play in a stream with an RTP clock of 48000 Hz/,
    );
    buffer.close();
  });
});
