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
import { repoModule, runWithV8Natives } from '../../harness/v8-natives';

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

  test('the media timer wakes once per 20 ms frame, not early and again (CPU: every wake-up costs)', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const media = new MediaSession({ rtp, negotiated: negotiated(remote.port), source: new CountingSource(8000), sink: new CaptureSink(8000) });
    try {
      media.start();
      await remote.waitFor(50);
      // Send and playout fall due together; a timer that fired the ms before the due time would
      // find nothing to do and fire again: ~2 wake-ups a frame.
      const frames = media.counters.framesPlayed;
      assert.ok(frames >= 49, `${frames} playout frames`);
      assert.ok(media.counters.timerWakeups <= frames + 3, `${media.counters.timerWakeups} timer wake-ups for ${frames} frames`);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test("a call's end writes its media clock summary as an info line to the owner's log; without a log only warnings reach the console", async (t) => {
    const remote = await peer();
    const warn = t.mock.method(console, 'warn', () => undefined);
    const lines: { message: string; level: string | undefined }[] = [];
    // No log given to the second session: its source failing is still a warning on the console, its summary is not.
    const failing: AudioSource = {
      sampleRate: 8000,
      read: () => {
        throw new Error('headset unplugged');
      },
      close: async () => undefined,
    };
    const sessions = [
      { log: (message: string, level?: 'info' | 'warn') => void lines.push({ message, level }), source: new CountingSource(8000) as AudioSource },
      { log: undefined, source: failing },
    ];
    try {
      for (const [i, s] of sessions.entries()) {
        const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
        const media = new MediaSession({ rtp, negotiated: negotiated(remote.port), source: s.source, sink: new CaptureSink(8000), ...(s.log ? { log: s.log } : {}) });
        try {
          media.start();
          await remote.waitFor(6 * (i + 1));
        } finally {
          media.stop();
          await rtp.close();
        }
      }
    } finally {
      remote.socket.close();
    }
    const summaries = lines.filter((l) => l.message.startsWith('Media clock at the end of the call'));
    assert.equal(summaries.length, 1, JSON.stringify(lines));
    assert.equal(summaries[0]!.level, 'info');
    assert.match(summaries[0]!.message, /pacing (timer|arrivals), \{.*"framesPlayed":\d+.*"timerWakeups":\d+/);
    const warned = warn.mock.calls.map((c) => String(c.arguments[0]));
    assert.ok(warned.some((m) => /Audio source failed, sending silence: headset unplugged/.test(m)), JSON.stringify(warned));
    assert.ok(!warned.some((m) => m.startsWith('Media clock')), JSON.stringify(warned));
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

  test("the encoder follows the far end's fmtp for our send codec, also when a re-INVITE changes only that", async () => {
    const remote = await peer();
    const asked: (string | undefined)[] = [];
    const codec = { ...pcmuCodec, createEncoder: (peerFmtp?: string) => (asked.push(peerFmtp), pcmuCodec.createEncoder()) };
    const withFmtp = (peerFmtp: string) => negotiated(remote.port, { send: { codec, payloadType: 0, peerFmtp } });
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const media = new MediaSession({ rtp, negotiated: withFmtp('maxaveragebitrate=20000'), source: new CountingSource(8000), sink: new CaptureSink(8000) });
    try {
      media.start();
      media.update(withFmtp('maxaveragebitrate=20000')); // same codec, same ask: the encoder keeps its state
      media.update(withFmtp('maxaveragebitrate=12000'));
      assert.deepEqual(asked, ['maxaveragebitrate=20000', 'maxaveragebitrate=12000']);
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

  test('receive: the jitter buffer plays in timestamp order, conceals a lost packet, reports loss', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const sink = new CaptureSink(8000);
    // Remote port 0: we do not send (not the point here), we only receive. The test drives playout.
    const media = new MediaSession({ rtp, negotiated: negotiated(0), source: new CountingSource(8000), sink, manualPlayout: true });
    const events: number[] = [];
    media.onTelephoneEvent = (payload) => events.push(payload[0]!);
    const base = 0xfffffe00; // timestamps wrap during the test
    const send = (seq: number, value: number, payloadType = 0) =>
      remote.socket.send(
        serializeRtpPacket({ marker: seq === 1, payloadType, sequenceNumber: seq, timestamp: (base + (seq - 1) * 160) >>> 0, ssrc: 1, csrcs: [], payload: new Uint8Array(160).fill(linearToUlaw(value)), paddingLength: 0 }),
        rtp.socket.local.port,
        '127.0.0.1',
      );
    const received = (n: number) => new Promise<void>((resolve) => {
      const check = () => (rtp.counters.packetsReceived >= n ? resolve() : setTimeout(check, 5));
      check();
    });
    try {
      media.start();
      for (const seq of [1, 2, 3, 4, 6, 8, 7, 9, 10, 11, 12]) send(seq, seq * 1000); // 5 lost, 7/8 swapped
      send(13, 101, 101); // telephone-event: not audio
      send(14, 8000, 96); // unknown payload type
      await received(13);
      for (let i = 0; i < 20; i++) media.playoutFrame();
      assert.equal(sink.samples.length, 20 * 160, 'every playout tick writes exactly one 20 ms frame');
      // Frames that are pure decoded packets (all 160 samples at one G.711 level), in play order.
      const levels: number[] = [];
      for (let f = 0; f < 20; f++) {
        const frame = sink.samples.slice(f * 160, f * 160 + 160);
        if (frame[0] !== 0 && frame.every((v) => v === frame[0])) levels.push(frame[0]!);
      }
      const level = (v: number) => ulawToLinear(linearToUlaw(v));
      const played = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12].map((k) => level(k * 1000));
      assert.ok(!levels.includes(level(5000)), 'the lost packet is not invented');
      const order = levels.map((l) => played.indexOf(l));
      assert.ok(order.every((v, k) => v >= 0 && (k === 0 || v > order[k - 1]!)), `played in timestamp order: ${levels.join(', ')}`);
      assert.ok(levels.includes(level(7000)) && levels.includes(level(8000)), 'the reordered packets both play');
      const stats = media.stats();
      assert.equal(stats.packetsLost, 1);
      assert.equal(stats.jitterBuffer?.lost, 1);
      assert.ok((stats.jitterBuffer?.concealed ?? 0) >= 1);
      assert.equal(stats.jitterBuffer?.reordered, 1);
      assert.equal(media.counters.unknownPayloadType, 1);
      assert.equal(events.length, 1);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test("the idle fill plays until the far end's first audio packet, then its audio; cleared, silence", async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const sink = new CaptureSink(8000);
    const media = new MediaSession({ rtp, negotiated: negotiated(0), source: new CountingSource(8000), sink, manualPlayout: true });
    const frame = (f: number) => sink.samples.slice(f * 160, f * 160 + 160);
    try {
      media.start();
      media.playoutFrame();
      assert.ok(frame(0).every((v) => v === 0), 'silence without a fill');
      media.setIdleFill((out, rate) => out.fill(rate === 8000 ? 7 : -1));
      assert.equal(media.playingIdleFill, true);
      media.playoutFrame();
      assert.ok(frame(1).every((v) => v === 7), 'the fill, at the sink rate, while nothing came');
      for (let seq = 1; seq <= 6; seq++)
        remote.socket.send(serializeRtpPacket({ marker: seq === 1, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 9, csrcs: [], payload: new Uint8Array(160).fill(linearToUlaw(3000)), paddingLength: 0 }), rtp.socket.local.port, '127.0.0.1');
      while (rtp.counters.packetsReceived < 6) await new Promise((r) => setTimeout(r, 5));
      assert.equal(media.playingIdleFill, false, 'audio came: the fill is over');
      for (let i = 0; i < 6; i++) media.playoutFrame();
      const after = sink.samples.slice(2 * 160);
      assert.ok(!after.includes(7), 'never the fill once the far end sent audio');
      assert.ok(after.includes(ulawToLinear(linearToUlaw(3000))), "the far end's audio plays");
      media.setIdleFill(undefined);
      assert.equal(media.playingIdleFill, false);
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });

  test('a timestamp jump far beyond the elapsed time re-anchors playout instead of minutes of concealment', async () => {
    const remote = await peer();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const sink = new CaptureSink(8000);
    const media = new MediaSession({ rtp, negotiated: negotiated(0), source: new CountingSource(8000), sink, manualPlayout: true });
    const send = (seq: number, timestamp: number, value: number) =>
      remote.socket.send(
        serializeRtpPacket({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp, ssrc: 9, csrcs: [], payload: new Uint8Array(160).fill(linearToUlaw(value)), paddingLength: 0 }),
        rtp.socket.local.port,
        '127.0.0.1',
      );
    const received = async (n: number) => {
      while (rtp.counters.packetsReceived < n) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      media.start();
      for (let k = 0; k < 5; k++) send(1 + k, 1000 + k * 160, 1000);
      await received(5);
      for (let i = 0; i < 8; i++) media.playoutFrame();
      const jump = 1000 + 8000 * 600; // ten minutes later in RTP time, milliseconds later in reality
      for (let k = 0; k < 30; k++) send(6 + k, jump + k * 160, 9000);
      await received(35);
      for (let i = 0; i < 40; i++) media.playoutFrame();
      const loud = ulawToLinear(linearToUlaw(9000));
      // The jump looks like huge jitter to the delay estimator, so the buffer re-anchors at its
      // maximum delay (400 ms): bounded, where filling the gap would mean minutes of concealment.
      assert.ok(sink.samples.slice(8 * 160).includes(loud), 'audio after the jump plays within 800 ms of playout');
    } finally {
      media.stop();
      await rtp.close();
      remote.socket.close();
    }
  });
});

describe('per-packet objects keep their shape when a later call draws large SSRCs and timestamps', () => {
  test('packets, jitter-buffer input, RTCP statistics, send state and unwrappers: the same V8 map for small and large values', () => {
    // See double-fields.ts: V8 fixes a field's representation by its first value; a process whose
    // first call drew small SSRCs and timestamps changed these shapes (a new map; the optimized
    // code built for the old one thrown away) at its first call with values above 2^31. Here the
    // objects of a call with small values and of one with large values must share their map.
    // (Each comparison fails without the double fields: checked by starting them at 0.)
    const media = (path: string) => repoModule(`src-main/core/media/${path}`);
    const script = `
      const { MediaSession } = await import(${media('media-session.ts')});
      const { RtpSession } = await import(${media('rtp/rtp-session.ts')});
      const { parseRtpPacket } = await import(${media('rtp/rtp-packet.ts')});
      const { JitterBuffer } = await import(${media('jitter/jitter-buffer.ts')});
      const { RtpUnwrapper } = await import(${media('jitter/rtp-unwrapper.ts')});
      const { RtpReceiverStatistics } = await import(${media('rtcp/receiver-statistics.ts')});
      const { RtpSenderStatistics } = await import(${media('rtcp/sender-statistics.ts')});
      const { pcmuCodec } = await import(${media('codecs/g711.ts')});
      // What the media session hands the jitter buffer and the RTCP statistics, as it hands them.
      const seen = { push: [], statistics: [] };
      const push = JitterBuffer.prototype.push;
      JitterBuffer.prototype.push = function (packet) { seen.push.push(packet); return push.call(this, packet); };
      const onRtpPacket = RtpReceiverStatistics.prototype.onRtpPacket;
      RtpReceiverStatistics.prototype.onRtpPacket = function (packet) { seen.statistics.push(packet); return onRtpPacket.call(this, packet); };
      class FakeSocket {
        rtcp = undefined; local = { address: '127.0.0.1', port: 1 }; receiver = undefined;
        send() { return true; }
        setRemote() {}
        onDatagram(receiver) { this.receiver = receiver; }
      }
      class Silence { sampleRate = 8000; read(frame) { frame.fill(0); } close() { return Promise.resolve(); } }
      class Discard { sampleRate = 8000; write() {} close() { return Promise.resolve(); } }
      const negotiated = {
        send: { codec: pcmuCodec, payloadType: 0 }, receive: [{ codec: pcmuCodec, payloadType: 0 }],
        ptime: 20, remoteRtp: { address: '127.0.0.1', port: 2 }, rtcpMux: false, direction: 'sendrecv',
      };
      const bytes = (big) => {
        const p = new Uint8Array(172);
        p[0] = 0x80; p[3] = 1; p[11] = 7;
        if (big) p[4] = p[8] = 0xf0; // timestamp and SSRC above 2^31
        return Buffer.from(p.buffer);
      };
      const call = (big) => {
        const initial = big ? { ssrc: 0xf0000000, timestamp: 0xf0000000 } : { ssrc: 7, timestamp: 7 };
        const rtp = new RtpSession(new FakeSocket(), initial);
        const session = new MediaSession({ rtp, negotiated, source: new Silence(), sink: new Discard(), manualPlayout: true, log: () => {} });
        const packet = parseRtpPacket(bytes(big));
        session.receiveRtp(packet, 20);
        const sender = new RtpSenderStatistics(initial.ssrc, 8000);
        sender.onRtpSent(160, initial.timestamp, 20);
        const unwrapper = new RtpUnwrapper(32);
        unwrapper.unwrap(initial.timestamp);
        return { packet, push: seen.push.at(-1), statistics: seen.statistics.at(-1), state: rtp.state, sender, unwrapper };
      };
      const small = call(false);
      const large = call(true);
      const sameMap = {};
      for (const key of Object.keys(small)) sameMap[key] = %HaveSameMap(small[key], large[key]);
      process.stdout.write(JSON.stringify(sameMap));
    `;
    assert.deepEqual(runWithV8Natives(script), { packet: true, push: true, statistics: true, state: true, sender: true, unwrapper: true });
  });
});
