/**
 * A far end with voice activity detection (RFC 3389 comfort noise), played by SIPp from a capture
 * we write (tests/fixtures/sipp/uac-comfort-noise.xml): it offers PCMU (then, in a second call,
 * G.722: 16 kHz audio on the 8 kHz RTP clock CN shares) and CN/8000 and checks our answer takes CN;
 * then talks (1 kHz) for 1 s, sends one SID (-40 dBov) as its user falls silent, sends nothing for
 * 5.5 s, and talks again for 3 s (the stats are read 1 s into that, while the stream still flows).
 * The headless callee must:
 * - play the silence as noise at the SID's level (its recording), not as dead air or a fading
 *   concealment of the tone;
 * - count it as comfort noise, not as loss or concealment (call.stats);
 * - not call the far end stalled ("No audio from the other side"), though nothing came for longer
 *   than the 5 s a stall is told after: the far end said it was silent;
 * - play the second talkspurt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { detectTone, readWav } from '../harness/audio-analysis';
import { startSippCallee, type SippCallee } from '../harness/sipp';
import { freeUdpPort, LOOPBACK } from '../harness/ports';
import { rtpPacket, writeRtpPcap, type TimedRtp } from '../harness/rtp-pcap';
import { pcmuCodec } from '../../src-main/core/media/codecs/g711';
import { g722Codec } from '../../src-main/core/media/codecs/g722';
import type { AudioCodec } from '../../src-main/core/media/codecs/audio-codec';
import type { CallSnapshot, CallStats } from '../../src-main/common/contract/contract';

const TONE_HZ = 1000;
const SID_LEVEL_DBOV = 40;
const SILENCE_MS = 5500;
const SSRC = 0x5151c0de;

/** Talk 0-1 s, a SID at 1 s, nothing until 6.5 s, talk 6.5-9.5 s: the far end's packets in `codec` (payload type `pt`). */
function farEndCapture(codec: AudioCodec, pt: number): TimedRtp[] {
  const packets: TimedRtp[] = [];
  let seq = 1000;
  const rate = codec.info.sampleRate;
  const encoder = codec.createEncoder();
  const talk = (startMs: number, frames: number) => {
    for (let i = 0; i < frames; i++) {
      const atMs = startMs + i * 20;
      const pcm = new Int16Array(rate / 50);
      for (let n = 0; n < pcm.length; n++) pcm[n] = Math.round(10000 * Math.sin((2 * Math.PI * TONE_HZ * ((atMs * rate) / 1000 + n)) / rate));
      packets.push({ atMs, rtp: rtpPacket({ payloadType: pt, marker: i === 0, seq: seq++, timestamp: atMs * 8, ssrc: SSRC }, encoder.encode(pcm)) });
    }
  };
  talk(0, 50);
  packets.push({ atMs: 1000, rtp: rtpPacket({ payloadType: 13, seq: seq++, timestamp: 8000, ssrc: SSRC }, Uint8Array.of(SID_LEVEL_DBOV)) });
  talk(1000 + SILENCE_MS, 150);
  encoder.close();
  return packets;
}

let sipp: SippCallee;

before(async () => {
  sipp = await startSippCallee('sb-cn-', ['uac-comfort-noise.xml'], (dir) => ['--audio-out', join(dir, 'callee.wav')]);
});

after(async () => {
  await sipp?.close();
});

function levelDbov(samples: Float32Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i]! ** 2;
  return 10 * Math.log10(sum / (end - start)) + 20 * Math.log10(32768 / 32767);
}

describe('comfort noise from a far end with voice activity detection (SIPp)', () => {
  // The headless records its first call to callee.wav, later ones to callee-2.wav, ...
  for (const [index, { codec, pt }] of [{ codec: pcmuCodec, pt: 0 }, { codec: g722Codec, pt: 9 }].entries()) test(`${codec.info.encodingName}: its silence plays as its noise, counted as comfort noise, and is no stall`, async () => {
    writeRtpPcap(join(sipp.dir, 'talk.pcap'), farEndCapture(codec, pt));
    const rtpPort = 2 * Math.floor((await freeUdpPort()) / 2);
    const sippRun = sipp.runUac('uac-comfort-noise.xml', ['-mi', LOOPBACK, '-mp', String(rtpPort), '-set', 'pt', String(pt), '-set', 'codec', codec.info.encodingName]);
    const { callee } = sipp;
    const callsBefore = new Set(callee.events.filter((e) => e.event === 'call.state').map((e) => (e.payload as CallSnapshot).callId));
    const sippEndedEarly = sippRun.then(({ code, logs }) => {
      throw new Error(`SIPp ended (exit ${code}) before the call connected: ${logs.slice(-1500)}`);
    });
    const connected = await Promise.race([callee.waitForCall((c) => c.state === 'connected' && !callsBefore.has(c.callId), 10000), sippEndedEarly]);
    assert.equal(connected.media?.codec, codec.info.encodingName);
    const { callId } = connected;
    // The first talkspurt, the SID and a second of the next have arrived (101 packets): the stats so far.
    let stats: CallStats | undefined;
    for (let tries = 0; tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await callee.client.call('call.stats', { callId });
      if (now.packetsReceived >= 101) {
        stats = now;
        break;
      }
    }
    const { code, logs } = await sippRun;
    assert.equal(code, 0, `SIPp's scenario passed (our answer took CN/8000): ${logs.slice(-1500)}`);
    assert.ok(stats, 'the far end\'s first 101 packets arrived');
    const buffer = stats.jitterBuffer!;
    assert.ok(Math.abs(buffer.comfortNoiseMs - SILENCE_MS) < 500, `comfort noise played for ${buffer.comfortNoiseMs} ms (the silence: ${SILENCE_MS} ms)`);
    assert.equal(buffer.lost, 0, 'no loss');
    // Without comfort noise the silence alone conceals ~275 frames; a busy machine may conceal a frame or two of the talk.
    assert.ok(buffer.concealed <= 2, `nothing concealed for the silence (${buffer.concealed} frames)`);
    assert.equal(stats.packetsLost, 0, 'RTCP reception statistics: the SID counted, no loss');
    const states = callee.events.filter((e) => e.event === 'call.state').map((e) => e.payload as CallSnapshot).filter((c) => c.callId === callId);
    assert.ok(states.some((c) => c.state === 'ended'), 'the call ended (SIPp hung up)');
    assert.ok(!states.some((c) => c.media?.stalled === true), 'never told stalled during the far end\'s silence');

    const wav = readWav(join(sipp.dir, index === 0 ? 'callee.wav' : `callee-${index + 1}.wav`));
    assert.equal(wav.sampleRate, codec.info.sampleRate);
    const rate = wav.sampleRate;
    const windows = Math.floor(wav.samples.length / (rate / 10));
    const toneAt: number[] = [];
    for (let w = 0; w < windows; w++) {
      if (detectTone(wav.samples.subarray((w * rate) / 10, ((w + 1) * rate) / 10), rate, TONE_HZ, { minFraction: 1 }).present) toneAt.push(w);
    }
    assert.ok(toneAt.length >= 15, `the talkspurts played (${toneAt.length} windows of 100 ms with the tone)`);
    const first = toneAt[0]! / 10;
    const second = toneAt.find((w) => w / 10 > first + 3)! / 10;
    assert.ok(Math.abs(second - first - (1 + SILENCE_MS / 1000)) < 0.3, `second talkspurt ${(second - first).toFixed(1)} s after the first`);
    // Inside the silence, away from its edges: noise at the SID's level, no tone.
    const from = Math.round((first + 1.4) * rate);
    const to = Math.round((second - 0.4) * rate);
    const level = levelDbov(wav.samples, from, to);
    assert.ok(Math.abs(level + SID_LEVEL_DBOV) < 2, `the silence played at ${level.toFixed(1)} dBov (the SID: -${SID_LEVEL_DBOV})`);
    assert.ok(!detectTone(wav.samples.subarray(from, to), rate, TONE_HZ).present, 'no concealment of the tone in the silence');
  });
});
