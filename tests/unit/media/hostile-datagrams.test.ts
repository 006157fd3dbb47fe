// Hostile datagrams on a call's media port. Anyone who can reach the port can send anything to it
// before the latch (and spoof the latched source after it): random bytes, RTP and RTCP with lying
// header fields, truncated or bit-flipped packets, payloads no decoder can make sense of, SSRC and
// sequence jumps, telephone-events and comfort noise out of nowhere. The media path must drop or conceal each one and
// keep the call playing; an exception out of the socket's handler is an uncaught exception in the
// process that hosts every call. Seeded, so a failure names the datagram that caused it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaSession } from '../../../src-main/core/media/media-session';
import type { NegotiatedAudio } from '../../../src-main/core/media/sdp/offer-answer';
import { pcmaCodec, pcmuCodec } from '../../../src-main/core/media/codecs/g711';
import { g722Codec } from '../../../src-main/core/media/codecs/g722';
import { opusCodec } from '../../../src-main/core/media/codecs/opus';
import type { AudioSink, AudioSource } from '../../../src-main/core/media/audio/audio-port';
import { goertzelPower, meanSquare, sineSamples } from '../../harness/audio-analysis';
import { VirtualMediaClock } from '../../harness/virtual-media-clock';
import { socketlessRtpSession } from '../../harness/socketless-rtp';
import { seededDraws, type SeededDraws } from '../../harness/seeded-random';
import { createSrtpSession, type SrtpSession } from '../../../src-main/core/media/srtp/srtp-session';
import { generateSdesKey } from '../../../src-main/core/media/srtp/sdes';
import { SrtpError } from '../../../src-main/core/media/srtp/srtp-error';

class Silence implements AudioSource {
  readonly sampleRate = 8000;
  read(frame: Int16Array): void {
    frame.fill(0);
  }
  async close(): Promise<void> {}
}

class Recorder implements AudioSink {
  readonly sampleRate = 8000;
  frames: Int16Array[] = [];
  write(frame: Int16Array): void {
    this.frames.push(frame.slice());
  }
  async close(): Promise<void> {}
}

const PAYLOAD_TYPES = [0, 8, 9, 111, 101, 13];
const EVENT_PT = 101;
/** RFC 3389 comfort noise: SIDs of any length and content, into whichever stream plays. */
const CN_PT = 13;

function rtpHeader(fields: { pt: number; seq: number; ts: number; ssrc: number; marker?: boolean; cc?: number; x?: boolean; p?: boolean }): Uint8Array {
  const header = new Uint8Array(12);
  header[0] = 0x80 | (fields.p ? 0x20 : 0) | (fields.x ? 0x10 : 0) | ((fields.cc ?? 0) & 0x0f);
  header[1] = (fields.marker ? 0x80 : 0) | (fields.pt & 0x7f);
  header[2] = (fields.seq >> 8) & 0xff;
  header[3] = fields.seq & 0xff;
  new DataView(header.buffer).setUint32(4, fields.ts >>> 0);
  new DataView(header.buffer).setUint32(8, fields.ssrc >>> 0);
  return header;
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

/**
 * One hostile datagram (version 2 and at least 8 bytes, as the socket lets through to the session;
 * see RtpStreamSocket.isPlausibleRtpOrRtcp), by one of several strategies.
 */
function hostileDatagram(random: SeededDraws, stream: { seq: number; ts: number; ssrc: number }): { kind: string; bytes: Uint8Array } {
  const pt = random.next() < 0.9 ? PAYLOAD_TYPES[random.int(PAYLOAD_TYPES.length)]! : random.int(128);
  // Mostly in sequence, with jumps now and then (a new SSRC, wrap-around, far in the past or future).
  if (random.next() < 0.05) stream.ssrc = random.int(4) === 0 ? random.int(0x1_0000_0000) : 0x1234 + random.int(3);
  stream.seq = (stream.seq + (random.next() < 0.9 ? 1 : random.int(0x10000))) & 0xffff;
  stream.ts = (stream.ts + (random.next() < 0.9 ? 160 : random.int(0x1_0000_0000))) >>> 0;
  const header = (extra: Partial<Parameters<typeof rtpHeader>[0]> = {}) => rtpHeader({ pt, ...stream, marker: random.next() < 0.1, ...extra });
  const kind = random.int(9);
  switch (kind) {
    case 0:
      return { kind: 'random bytes', bytes: concat(Uint8Array.of(0x80 | random.int(64)), random.bytes(7 + random.int(400))) };
    case 1:
      return { kind: 'RTP, random payload', bytes: concat(header(), random.bytes(random.int(random.next() < 0.8 ? 200 : 1500))) };
    case 2: {
      // telephone-event: well-formed or not, any event, volume, duration, end bit; or a short one.
      const payload = random.next() < 0.8 ? Uint8Array.of(random.int(256), random.int(256), random.int(256), random.int(256)) : random.bytes(random.int(12));
      return { kind: 'telephone-event', bytes: concat(header({ pt: EVENT_PT }), payload) };
    }
    case 3:
      // CSRC count, extension or padding promising more than the datagram has.
      return {
        kind: 'RTP header lies',
        bytes: concat(header({ cc: random.int(16), x: random.next() < 0.5, p: random.next() < 0.5 }), random.bytes(random.int(40)), Uint8Array.of(random.int(256))),
      };
    case 4: {
      const packet = concat(header(), random.bytes(160));
      for (let flips = 1 + random.int(8); flips > 0; flips--) packet[random.int(packet.length)]! ^= 1 << random.int(8);
      packet[0] = (packet[0]! & 0x3f) | 0x80;
      return { kind: 'RTP, bit flips', bytes: packet };
    }
    case 5:
      return { kind: 'RTP, truncated', bytes: concat(header(), random.bytes(random.int(4))).subarray(0, 8 + random.int(8)) };
    case 6: {
      // RTCP: SR, RR, SDES, BYE, APP, XR or unknown types, with any count and length field.
      const type = 200 + random.int(9);
      const body = random.bytes(4 * random.int(20) + (random.next() < 0.2 ? random.int(4) : 0));
      const length = random.next() < 0.5 ? body.length / 4 : random.int(0x10000);
      const rtcp = concat(Uint8Array.of(0x80 | (random.next() < 0.3 ? 0x20 : 0) | random.int(32), type, (length >> 8) & 0xff, length & 0xff), body);
      return { kind: 'RTCP', bytes: random.next() < 0.3 ? concat(rtcp, Uint8Array.of(0x81, 202, 0, 1), random.bytes(random.int(12))) : rtcp };
    }
    case 7:
      // Opus: a TOC byte of any configuration, code 3 frame counts and padding included.
      return { kind: 'Opus TOC and frames', bytes: concat(header({ pt: 111 }), Uint8Array.of(random.int(256), random.int(256), random.int(256)), random.bytes(random.int(60))) };
    default:
      return { kind: 'RTP, empty payload', bytes: header() };
  }
}

function negotiated(): NegotiatedAudio {
  return {
    send: { codec: pcmuCodec, payloadType: 0 },
    receive: [
      { codec: pcmuCodec, payloadType: 0 },
      { codec: pcmaCodec, payloadType: 8 },
      { codec: g722Codec, payloadType: 9 },
      { codec: opusCodec, payloadType: 111 },
    ],
    telephoneEvent: { sendPayloadType: EVENT_PT, receivePayloadType: EVENT_PT, clockRate: 8000 },
    comfortNoise: { receivePayloadType: CN_PT },
    ptime: 20,
    remoteRtp: { address: '127.0.0.1', port: 40002 },
    rtcpMux: true,
    direction: 'sendrecv',
  };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// FUZZ_SEEDS=N runs seeds 1..N instead (300 seeds, 1.8 million datagrams: ~75 s, all pass).
describe('hostile datagrams on the media port', () => {
  const seeds = process.env.FUZZ_SEEDS ? Array.from({ length: Number(process.env.FUZZ_SEEDS) }, (_, i) => i + 1) : [1, 2, 3];
  for (const [seed, srtp] of [...seeds.map((seed) => [seed, false] as const), ...seeds.map((seed) => [seed + 1000, true] as const)]) {
    test(`seed ${seed}${srtp ? ', SRTP call (half of them protected with the far end\'s key)' : ''}: 6000 hostile datagrams are dropped or concealed without an exception, then a clean stream plays`, () => {
      const clock = new VirtualMediaClock();
      const rtp = socketlessRtpSession(clock, { ssrc: 99, timestamp: 0 });
      // The far end's SRTP: what it protects, our session's inbound context unprotects.
      let farEnd: SrtpSession | undefined;
      if (srtp) {
        const ours = generateSdesKey('AES_CM_128_HMAC_SHA1_80');
        const theirs = generateSdesKey('AES_CM_128_HMAC_SHA1_80');
        rtp.srtp = createSrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', local: ours, remote: theirs });
        farEnd = createSrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', local: theirs, remote: ours });
      }
      /** What the far end puts on the wire: SRTP-protected where it can protect the bytes at all. */
      const onTheWire = (bytes: Uint8Array, rtcp: boolean, protect: boolean): Uint8Array => {
        if (!farEnd || !protect) return bytes;
        try {
          return rtcp ? farEnd.protectRtcp(bytes) : farEnd.protectRtp(bytes);
        } catch (error) {
          if (!(error instanceof SrtpError)) throw error;
          return bytes; // too malformed for even the far end's protect: goes out as it is
        }
      };
      const sink = new Recorder();
      const warnings: string[] = [];
      const media = new MediaSession({ rtp, negotiated: negotiated(), source: new Silence(), sink, manualPlayout: true, log: (message) => warnings.push(message) });
      media.start();
      const random = seededDraws(seed);
      const stream = { seq: random.int(0x10000), ts: random.int(0x1_0000_0000), ssrc: 0x1234 };
      const source = { address: '127.0.0.1', port: 40002 };
      let playedAt = clock.now();
      for (let i = 0; i < 6000; i++) {
        const { kind, bytes: plain } = hostileDatagram(random, stream);
        const bytes = onTheWire(plain, kind === 'RTCP', random.next() < 0.5);
        try {
          rtp.receiveDatagram(Buffer.from(bytes), source);
          // The device clock runs on meanwhile: a frame every 20 ms of (virtual) time.
          clock.advanceTo(clock.now() + random.int(12));
          while (clock.now() >= playedAt + 20) {
            playedAt += 20;
            media.playoutFrame(playedAt);
          }
        } catch (error) {
          assert.fail(`datagram ${i} (${kind}, ${hex(bytes)}) threw: ${(error as Error).stack}`);
        }
      }

      // Then the far end's real stream (a new SSRC, as after a re-INVITE): 2 s of a 1 kHz tone.
      const tone = sineSamples({ frequencyHz: 1000, seconds: 2, sampleRate: 8000, amplitude: 0.3 });
      const encoder = pcmuCodec.createEncoder();
      const framesBefore = sink.frames.length;
      for (let frame = 0; frame < 100; frame++) {
        const pcm = Int16Array.from(tone.subarray(frame * 160, frame * 160 + 160), (x) => Math.round(x * 32767));
        const packet = concat(rtpHeader({ pt: 0, seq: (1000 + frame) & 0xffff, ts: 777_000 + frame * 160, ssrc: 0xc1ea, marker: frame === 0 }), encoder.encode(pcm));
        rtp.receiveDatagram(Buffer.from(onTheWire(packet, false, true)), source);
        clock.advanceTo(clock.now() + 20);
        playedAt += 20;
        media.playoutFrame(playedAt);
      }
      encoder.close();
      const lastSecond = Int16Array.from(sink.frames.slice(framesBefore).slice(-50).flatMap((frame) => [...frame]));
      assert.equal(lastSecond.length, 8000);
      const power = goertzelPower(lastSecond, 8000, 1000);
      assert.ok(power > 0.5 * meanSquare(lastSecond) && meanSquare(lastSecond) > 1e6, `the clean stream's tone does not play after the hostile datagrams (1 kHz power ${power}, mean square ${meanSquare(lastSecond)})`);
      if (srtp) assert.ok((rtp.counters.srtpDropped['auth-failed'] ?? 0) > 0, `some datagrams failed SRTP authentication: ${JSON.stringify(rtp.counters.srtpDropped)}`);
      assert.ok(rtp.counters.malformedReceived > 0, 'some datagrams were counted as malformed');
      // Said in the call's log, once per kind of trouble, not once per datagram (a flood stays out of the log).
      assert.ok(warnings.length >= 1 && warnings.length <= 10, `${warnings.length} warnings: ${warnings.slice(0, 12).join(' | ')}`);
      media.stop();
    });
  }
});
