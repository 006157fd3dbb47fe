// RTCP in a call between two MediaSessions on 127.0.0.1: SR/RR compounds flow on port+1 (or on
// the RTP port with rtcp-mux), each side learns the round-trip time and the other's view of its
// stream, and reception statistics count what was received.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioSink, AudioSource } from '../../../src-main/core/media/audio/audio-port';
import { pcmuCodec } from '../../../src-main/core/media/codecs/g711';
import { MediaSession } from '../../../src-main/core/media/media-session';
import { createSocket } from 'node:dgram';
import type { AudioCodec } from '../../../src-main/core/media/codecs/audio-codec';
import { decodeRtcpCompound, encodeRtcpCompound } from '../../../src-main/core/media/rtcp/rtcp-packet';
import { RtpSession } from '../../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket, type DatagramReceiver } from '../../../src-main/core/media/rtp/rtp-stream-socket';
import type { NegotiatedAudio } from '../../../src-main/core/media/sdp/offer-answer';
import { VirtualMediaClock } from '../../harness/virtual-media-clock';

const tone: AudioSource = {
  sampleRate: 8000,
  read: (frame) => {
    for (let i = 0; i < frame.length; i++) frame[i] = Math.round(8000 * Math.sin(i / 3));
  },
  close: async () => undefined,
};
const discard: AudioSink = { sampleRate: 8000, write: () => undefined, close: async () => undefined };

function negotiated(port: number, rtcpMux: boolean): NegotiatedAudio {
  return {
    send: { codec: pcmuCodec, payloadType: 0 },
    receive: [{ codec: pcmuCodec, payloadType: 0 }],
    ptime: 20,
    remoteRtp: { address: '127.0.0.1', port },
    ...(rtcpMux ? {} : { remoteRtcp: { address: '127.0.0.1', port: port + 1 } }),
    rtcpMux,
    direction: 'sendrecv',
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RTCP in a media session', () => {
  for (const rtcpMux of [false, true]) {
    test(`SR/RR both ways ${rtcpMux ? 'muxed on the RTP port' : 'on port+1'}: RTT, remote report, reception counts`, async () => {
      const a = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
      const b = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
      assert.equal(a.socket.rtcp?.local.port, a.socket.local.port + 1, 'RTCP companion on port+1');
      const seenByB: number[] = [];
      const mediaA = new MediaSession({ rtp: a, negotiated: negotiated(b.socket.local.port, rtcpMux), source: tone, sink: discard, rtcpIntervalMs: 300, manualPlayout: true });
      const mediaB = new MediaSession({ rtp: b, negotiated: negotiated(a.socket.local.port, rtcpMux), source: tone, sink: discard, rtcpIntervalMs: 300, manualPlayout: true });
      // Watch what B receives on the RTCP path (wrap its handler, keep it working).
      const socket = rtcpMux ? b.socket : b.socket.rtcp!;
      const original = (socket as unknown as { receiver: DatagramReceiver }).receiver;
      socket.onDatagram({
        receiveDatagram: (data, source, trusted) => {
          const verdict = original.receiveDatagram(data, source, trusted);
          if (trusted !== false && data[1]! >= 192 && data[1]! <= 223) for (const p of decodeRtcpCompound(data)) seenByB.push(p.type === 'sr' ? 200 : p.type === 'rr' ? 201 : p.type === 'sdes' ? 202 : p.type === 'bye' ? 203 : 0);
          return verdict;
        },
      });
      try {
        mediaA.start();
        mediaB.start();
        await until('an RTT on both sides', () => mediaA.stats().roundTripTimeMs !== undefined && mediaB.stats().roundTripTimeMs !== undefined);
        const sa = mediaA.stats();
        assert.ok(sa.roundTripTimeMs! >= 0 && sa.roundTripTimeMs! < 200, `RTT on loopback: ${sa.roundTripTimeMs}`);
        assert.ok(sa.rtcpSent >= 1 && sa.rtcpReceived >= 1);
        assert.equal(sa.rtcpMux, rtcpMux);
        assert.equal(sa.remote?.cumulativeLost, 0, 'B reports no loss of our stream');
        assert.equal(sa.packetsLost, 0);
        assert.ok(seenByB.includes(200) && seenByB.includes(202), `B got an SR and SDES from A: ${seenByB}`);
        mediaA.stop();
        await until('the BYE', () => seenByB.includes(203));
      } finally {
        mediaA.stop();
        mediaB.stop();
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  test("the peer's loss reports on our stream reach the encoder (Opus in-band FEC follows them), the larger of the last two", async () => {
    const told: number[] = [];
    // PCMU with an encoder that, like Opus', takes the expected loss.
    const codec: AudioCodec = {
      info: pcmuCodec.info,
      createDecoder: () => pcmuCodec.createDecoder(),
      createEncoder: () => Object.assign(pcmuCodec.createEncoder(), { setExpectedLoss: (percent: number) => void told.push(percent) }),
    };
    const a = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const peer = createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const media = new MediaSession({
      rtp: a,
      negotiated: { ...negotiated(peer.address().port, true), send: { codec, payloadType: 0 }, receive: [{ codec, payloadType: 0 }] },
      source: tone,
      sink: discard,
      manualPlayout: true,
    });
    const report = (fractionLost: number) =>
      encodeRtcpCompound([
        { type: 'rr', ssrc: 4242, reports: [{ ssrc: a.ssrc, fractionLost, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0 }] },
        { type: 'sdes', chunks: [{ ssrc: 4242, items: [{ type: 1, text: 'peer@127.0.0.1' }] }] },
      ]);
    try {
      media.start();
      for (const [i, fractionLost] of [64, 0, 0].entries()) {
        peer.send(report(fractionLost), a.socket.local.port, '127.0.0.1');
        await until(`report ${i + 1} to reach the encoder`, () => told.length === i + 1);
      }
      // 64/256 = 25 %, then a clean interval (25 % still: the larger of the last two), then 0.
      assert.deepEqual(told, [25, 25, 0]);
    } finally {
      media.stop();
      peer.close();
      await a.close();
    }
  });
});

describe('RTCP reports that cannot be sent', () => {
  test('a failure that persists is said once, not at every report; a different one is said again', () => {
    const clock = new VirtualMediaClock();
    let failure = 'send EHOSTUNREACH 127.0.0.2:5005';
    const failing = { local: { address: '127.0.0.1', port: 40001 }, setRemote: () => undefined, onDatagram: () => undefined, send: () => { throw new Error(failure); } };
    const socket = { local: { address: '127.0.0.1', port: 40000 }, rtcp: failing, send: () => true, setRemote: () => undefined, onDatagram: () => undefined };
    const rtp = new RtpSession(socket as unknown as RtpStreamSocket, { ssrc: 5, timestamp: 0 }, clock);
    const logged: string[] = [];
    const media = new MediaSession({ rtp, negotiated: negotiated(5004, false), source: tone, sink: discard, rtcpIntervalMs: 200, manualPlayout: true, log: (message) => logged.push(message) });
    media.start();
    clock.advanceTo(clock.now() + 3000);
    const notSent = () => logged.filter((line) => line.startsWith('RTCP report not sent'));
    assert.deepEqual(notSent(), ['RTCP report not sent: send EHOSTUNREACH 127.0.0.2:5005']);
    failure = 'send ENETUNREACH 127.0.0.2:5005';
    clock.advanceTo(clock.now() + 3000);
    assert.equal(notSent().length, 2);
    media.stop();
  });
});

describe('what our reports say about our own sending (RFC 3550 s. 6.4)', () => {
  test('an SR while we send, an RR once we have not sent for two reports (held both ways); SR counts go on across a codec change', () => {
    const clock = new VirtualMediaClock();
    const reports: Uint8Array[] = [];
    const socket = { local: { address: '127.0.0.1', port: 40000 }, rtcp: undefined, send: (data: Uint8Array) => (reports.push(data.slice()), true), setRemote: () => undefined, onDatagram: () => undefined };
    const rtp = new RtpSession(socket as unknown as RtpStreamSocket, { ssrc: 5, timestamp: 0 }, clock);
    const rtcpOnly = () => reports.filter((d) => (d[1]! & 0x7f) >= 64 && (d[1]! & 0x7f) <= 95).map((d) => decodeRtcpCompound(d)[0]!);
    const media = new MediaSession({ rtp, negotiated: negotiated(5004, true), source: tone, sink: discard, rtcpIntervalMs: 200, manualPlayout: true });
    media.start();
    clock.advanceTo(clock.now() + 1500);
    const sending = rtcpOnly();
    assert.ok(sending.length >= 3 && sending.every((p) => p.type === 'sr'), `SRs while sending: ${sending.map((p) => p.type).join(' ')}`);
    const lastSr = sending.at(-1) as { packetCount: number };
    // A codec on another RTP clock from now on (16 kHz here): the SR's timestamp mapping starts anew.
    const wide: AudioCodec = { ...pcmuCodec, info: { ...pcmuCodec.info, encodingName: 'wide-test', rtpClockRate: 16000, sampleRate: 16000 } };
    media.update({ ...negotiated(5004, true), send: { codec: wide, payloadType: 96 }, receive: [{ codec: wide, payloadType: 96 }] });
    reports.length = 0;
    clock.advanceTo(clock.now() + 1000);
    const afterChange = rtcpOnly().filter((p) => p.type === 'sr') as { packetCount: number }[];
    assert.ok(afterChange.length > 0 && afterChange[0]!.packetCount > lastSr.packetCount, `the SR packet count goes on across the codec change: ${lastSr.packetCount} then ${afterChange[0]?.packetCount}`);
    // Held both ways: nothing sent, so after two reports RRs.
    media.update({ ...negotiated(5004, true), send: { codec: wide, payloadType: 96 }, receive: [{ codec: wide, payloadType: 96 }], direction: 'inactive' });
    reports.length = 0;
    clock.advanceTo(clock.now() + 2000);
    const held = rtcpOnly().map((p) => p.type);
    assert.ok(held.length >= 4, `reports while held: ${held.join(' ')}`);
    assert.deepEqual(held.slice(2).filter((t) => t !== 'rr'), [], `RRs once nothing was sent for two reports: ${held.join(' ')}`);
    media.stop();
  });
});
