// MediaSession against a raw UDP peer on 127.0.0.1: what goes out (framing, RTP numbering,
// marker, direction) and what comes in (decode, gap filling by timestamp, late packets).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { AudioSink, AudioSource } from '../../../src-main/core/media/audio/audio-port';
import { linearToUlaw, pcmuCodec, ulawToLinear } from '../../../src-main/core/media/codecs/g711';
import { MediaSession } from '../../../src-main/core/media/media-session';
import { parseRtpPacket, serializeRtpPacket, type RtpPacket } from '../../../src-main/core/media/rtp/rtp-packet';
import { RtpSession } from '../../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket } from '../../../src-main/core/media/rtp/rtp-stream-socket';
import type { NegotiatedAudio } from '../../../src-main/core/media/sdp/offer-answer';

/** Source whose frame k is filled with the value 100*(k+1): lets us check order and framing. */
class CountingSource implements AudioSource {
  frames = 0;
  constructor(readonly sampleRate: number) {}
  read(frame: Int16Array): void {
    this.frames++;
    frame.fill(100 * this.frames);
  }
  async close(): Promise<void> {}
}

class CaptureSink implements AudioSink {
  samples: number[] = [];
  constructor(readonly sampleRate: number) {}
  write(frame: Int16Array): void {
    this.samples.push(...frame);
  }
  async close(): Promise<void> {}
}

async function peer(): Promise<{ socket: Socket; port: number; packets: RtpPacket[]; waitFor(n: number): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const packets: RtpPacket[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  socket.on('message', (data) => {
    packets.push(parseRtpPacket(new Uint8Array(data)));
    if (waiter && packets.length >= waiter.n) waiter.resolve();
  });
  return {
    socket,
    port: socket.address().port,
    packets,
    waitFor: (n) => (packets.length >= n ? Promise.resolve() : new Promise((resolve) => (waiter = { n, resolve }))),
  };
}

function negotiated(port: number, over: Partial<NegotiatedAudio> = {}): NegotiatedAudio {
  return {
    send: { codec: pcmuCodec, payloadType: 0 },
    receive: [{ codec: pcmuCodec, payloadType: 0 }],
    telephoneEvent: { sendPayloadType: 101, receivePayloadType: 101, clockRate: 8000 },
    ptime: 20,
    remoteRtp: { address: '127.0.0.1', port },
    rtcpMux: false,
    direction: 'sendrecv',
    ...over,
  };
}

describe('MediaSession', () => {
  test('sends one PCMU frame of 160 samples per packet, in order, numbered and marked per RFC 3550/3551', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const source = new CountingSource(8000);
    const media = new MediaSession({ rtp, negotiated: negotiated(remote.port), source, sink: new CaptureSink(8000) });
    try {
      media.start();
      await remote.waitFor(10);
      const packets = remote.packets.slice(0, 10);
      packets.forEach((p, i) => {
        assert.equal(p.payloadType, 0);
        assert.equal(p.payload.length, 160);
        assert.equal(p.marker, i === 0, `marker on packet ${i}`);
        assert.equal(p.ssrc, rtp.ssrc);
        assert.deepEqual(new Set(p.payload), new Set([linearToUlaw(100 * (i + 1))]), `frame ${i} content`);
        if (i > 0) {
          assert.equal(p.sequenceNumber, (packets[i - 1]!.sequenceNumber + 1) & 0xffff);
          assert.equal(p.timestamp, (packets[i - 1]!.timestamp + 160) >>> 0);
        }
      });
      assert.equal(media.summary().codec, 'PCMU');
      assert.equal(media.summary().remoteRtp, `127.0.0.1:${remote.port}`);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test('resamples a 48 kHz source to the codec rate (960 source samples per 20 ms frame)', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const source = new CountingSource(48000);
    let requested = 0;
    const read = source.read.bind(source);
    source.read = (frame) => ((requested += frame.length), read(frame));
    const media = new MediaSession({ rtp, negotiated: negotiated(remote.port), source, sink: new CaptureSink(8000) });
    try {
      media.start();
      await remote.waitFor(5);
      media.stop();
      assert.ok(remote.packets.every((p) => p.payload.length === 160));
      assert.equal(requested % 960, 0);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test('recvonly sends nothing; switching to sendrecv starts sending with the marker bit', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'), { timestamp: 1000 });
    const media = new MediaSession({ rtp, negotiated: negotiated(remote.port, { direction: 'recvonly' }), source: new CountingSource(8000), sink: new CaptureSink(8000) });
    try {
      media.start();
      while (media.counters.framesSkipped < 3) await new Promise((r) => setTimeout(r, 20));
      assert.equal(remote.packets.length, 0);
      media.update(negotiated(remote.port, { direction: 'sendrecv' }));
      const skipped = media.counters.framesSkipped;
      await remote.waitFor(2);
      assert.equal(remote.packets[0]!.marker, true);
      assert.equal(remote.packets[1]!.marker, false);
      // The skipped frames still advanced the timestamp: RTP time stays wall time.
      assert.equal(remote.packets[0]!.timestamp, 1000 + 160 * skipped);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test('receive: decodes, fills lost packets by timestamp, drops late ones, follows a new SSRC', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const sink = new CaptureSink(8000);
    // Remote port 0: we do not send (not the point here), we only receive.
    const media = new MediaSession({ rtp, negotiated: negotiated(0), source: new CountingSource(8000), sink });
    const events: number[] = [];
    media.onTelephoneEvent = (payload) => events.push(payload[0]!);
    const send = (ssrc: number, seq: number, timestamp: number, value: number, payloadType = 0) =>
      remote.socket.send(
        serializeRtpPacket({ marker: false, payloadType, sequenceNumber: seq, timestamp, ssrc, csrcs: [], payload: new Uint8Array(160).fill(linearToUlaw(value)), paddingLength: 0 }),
        rtp.socket.local.port,
        '127.0.0.1',
      );
    const received = (n: number) => new Promise<void>((resolve) => {
      const check = () => (rtp.counters.packetsReceived >= n ? resolve() : setTimeout(check, 5));
      check();
    });
    try {
      media.start();
      const base = 0xfffffe00; // timestamps wrap during the test
      send(1, 1, base, 1000);
      send(1, 2, (base + 160) >>> 0, 2000);
      send(1, 3, (base + 320) >>> 0, 3000);
      await received(3);
      send(1, 7, (base + 960) >>> 0, 7000); // 4, 5, 6 lost: 480 samples of gap
      await received(4);
      send(1, 5, (base + 640) >>> 0, 5000); // arrives late: must not be played out of order
      send(1, 8, (base + 1120) >>> 0, 101, 101); // telephone-event: not audio
      send(1, 9, (base + 1120) >>> 0, 8000, 96); // unknown payload type
      await received(7);
      send(2, 500, 123456, 9000); // new SSRC: new timeline, no fill
      await received(8);
      const level = (v: number) => ulawToLinear(linearToUlaw(v));
      const expected = [
        ...new Array(160).fill(level(1000)),
        ...new Array(160).fill(level(2000)),
        ...new Array(160).fill(level(3000)),
        ...new Array(480).fill(0),
        ...new Array(160).fill(level(7000)),
        ...new Array(160).fill(level(9000)),
      ];
      assert.equal(sink.samples.length, expected.length);
      assert.deepEqual(sink.samples, expected);
      assert.equal(media.counters.lateDropped, 1);
      assert.equal(media.counters.unknownPayloadType, 1);
      assert.equal(media.counters.samplesConcealed, 480);
      assert.equal(events.length, 1);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test('a timestamp jump far beyond the elapsed time is a discontinuity, not seconds of silence', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const sink = new CaptureSink(8000);
    const media = new MediaSession({ rtp, negotiated: negotiated(0), source: new CountingSource(8000), sink });
    const send = (seq: number, timestamp: number) =>
      remote.socket.send(
        serializeRtpPacket({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp, ssrc: 9, csrcs: [], payload: new Uint8Array(160), paddingLength: 0 }),
        rtp.socket.local.port,
        '127.0.0.1',
      );
    try {
      media.start();
      send(1, 1000);
      while (rtp.counters.packetsReceived < 1) await new Promise((r) => setTimeout(r, 5));
      send(2, 1000 + 8000 * 600); // ten minutes later in RTP time, milliseconds later in reality
      while (rtp.counters.packetsReceived < 2) await new Promise((r) => setTimeout(r, 5));
      assert.ok(sink.samples.length < 8000 * 2, `${sink.samples.length} samples written`);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });
});
