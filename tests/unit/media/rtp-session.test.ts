// RTP session over real UDP sockets on 127.0.0.1: even ports, sequence/timestamp wrap-around,
// marker bit, counters and symmetric-RTP latching.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parseRtpPacket, serializeRtpPacket, type RtpPacket } from '../../../src-main/core/media/rtp/rtp-packet';
import { RtpSession } from '../../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket } from '../../../src-main/core/media/rtp/rtp-stream-socket';
import { generateSdesKey } from '../../../src-main/core/media/srtp/sdes';
import { createSrtpSession } from '../../../src-main/core/media/srtp/srtp-session';
import { ON_NODE_20_V8, repoModule, runWithV8Natives } from '../../harness/v8-natives';

async function udpPeer(): Promise<{ socket: Socket; port: number; received: RtpPacket[]; next(): Promise<RtpPacket> }> {
  return udpPeerOn(0);
}

async function udpPeerOn(port: number): Promise<{ socket: Socket; port: number; received: RtpPacket[]; next(): Promise<RtpPacket> }> {
  const socket = createSocket('udp4');
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  const received: RtpPacket[] = [];
  const waiters: Array<(p: RtpPacket) => void> = [];
  socket.on('message', (data) => {
    const packet = parseRtpPacket(new Uint8Array(data));
    received.push(packet);
    waiters.shift()?.(packet);
  });
  return {
    socket,
    port: socket.address().port,
    received,
    next: () => new Promise<RtpPacket>((resolve) => waiters.push(resolve)),
  };
}

function rtpBytes(ssrc: number, seq: number, payload: number[]): Uint8Array {
  return serializeRtpPacket({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrcs: [], payload: Uint8Array.from(payload), paddingLength: 0 });
}

describe('RtpStreamSocket', () => {
  test('binds even ports only', async () => {
    const sockets = await Promise.all(Array.from({ length: 6 }, () => RtpStreamSocket.open('127.0.0.1')));
    try {
      for (const s of sockets) assert.equal(s.local.port % 2, 0, `port ${s.local.port} is odd`);
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
    }
  });

  test('rejects a bind address that is not an IP', async () => {
    await assert.rejects(RtpStreamSocket.open('localhost'), /must be an IP address/);
  });
});

describe('RtpSession', () => {
  test('sequence number and timestamp wrap around; marker only on the first packet of a talkspurt', async () => {
    const peer = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'), { ssrc: 0x11223344, sequenceNumber: 0xfffe, timestamp: 0xffffff00 });
    session.socket.setRemote({ address: '127.0.0.1', port: peer.port });
    try {
      for (let i = 0; i < 4; i++) {
        const arrived = peer.next();
        assert.equal(session.sendFrame(0, new Uint8Array(160), 160), true);
        await arrived;
      }
      session.skip(160); // a frame not sent (e.g. silence): timestamp jumps, new talkspurt
      const arrived = peer.next();
      session.sendFrame(0, new Uint8Array(160), 160);
      await arrived;
      const got = peer.received.map((p) => [p.sequenceNumber, p.timestamp, p.marker, p.ssrc]);
      assert.deepEqual(got, [
        [0xfffe, 0xffffff00, true, 0x11223344],
        [0xffff, 0xffffffa0, false, 0x11223344],
        [0x0000, 0x00000040, false, 0x11223344],
        [0x0001, 0x000000e0, false, 0x11223344],
        [0x0002, 0x00000220, true, 0x11223344],
      ]);
      assert.equal(session.counters.packetsSent, 5);
      assert.equal(session.counters.bytesSent, 5 * 160);
      assert.equal(typeof (await session.firstPacketSent), 'number');
    } finally {
      await session.close();
      peer.socket.close();
    }
  });

  test('random SSRC, sequence number and timestamp per session', async () => {
    const sessions = await Promise.all(Array.from({ length: 4 }, async () => new RtpSession(await RtpStreamSocket.open('127.0.0.1'))));
    try {
      const ssrcs = new Set(sessions.map((s) => s.ssrc));
      const starts = new Set(sessions.map((s) => `${s.sendState.sequenceNumber}/${s.sendState.timestamp}`));
      assert.equal(ssrcs.size, 4);
      assert.equal(starts.size, 4);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });

  test('symmetric RTP: sends to the SDP address until media arrives, then latches to its real source', async () => {
    const sdpTarget = await udpPeer(); // what the remote SDP said (e.g. a private address behind NAT)
    const realPeer = await udpPeer(); // where the peer's packets actually come from
    const stranger = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const received: { packet: RtpPacket }[] = [];
    let onReceived = () => {};
    session.onPacket({ receiveRtp: (packet) => (received.push({ packet }), onReceived()) });
    const gotPackets = (n: number) => new Promise<void>((resolve) => (onReceived = () => received.length >= n && resolve()));
    try {
      session.socket.setRemote({ address: '127.0.0.1', port: sdpTarget.port });
      let arrived = sdpTarget.next();
      session.sendFrame(0, Uint8Array.of(1), 160);
      await arrived;

      // Behind NAT: the peer's packets come from an address its SDP does not give. Its first
      // packet waits; the next one in sequence latches the stream and both play, in order.
      let got = gotPackets(2);
      realPeer.socket.send(rtpBytes(7, 1, [9]), session.socket.local.port, '127.0.0.1');
      realPeer.socket.send(rtpBytes(7, 2, [8]), session.socket.local.port, '127.0.0.1');
      await got;
      assert.equal(session.socket.isLatched, true);
      assert.deepEqual(received.map((r) => [r.packet.ssrc, r.packet.sequenceNumber]), [[7, 1], [7, 2]]);
      assert.equal(session.socket.connectedTo, undefined, 'learned, not signalled: not connected, the SDP address may still take over');
      assert.equal(typeof (await session.firstPacketReceived), 'number');

      arrived = realPeer.next();
      session.sendFrame(0, Uint8Array.of(2), 160);
      assert.deepEqual([...(await arrived).payload], [2]);
      assert.equal(sdpTarget.received.length, 1, 'nothing more goes to the SDP address once latched');

      // A third party cannot inject media into a latched stream.
      got = gotPackets(3);
      stranger.socket.send(rtpBytes(8, 1, [6]), session.socket.local.port, '127.0.0.1');
      stranger.socket.send(rtpBytes(8, 2, [6]), session.socket.local.port, '127.0.0.1');
      realPeer.socket.send(rtpBytes(7, 3, [5]), session.socket.local.port, '127.0.0.1');
      await got;
      assert.deepEqual(received.map((r) => r.packet.ssrc), [7, 7, 7]);
      assert.equal(session.socket.counters.foreignSourceDropped, 2);
      assert.equal(session.counters.packetsReceived, 3);

      // New remote SDP (re-INVITE): latch is cleared and the new address is used.
      session.socket.setRemote({ address: '127.0.0.1', port: stranger.port });
      assert.equal(session.socket.connectedTo, undefined);
      arrived = stranger.next();
      session.sendFrame(0, Uint8Array.of(3), 160);
      assert.deepEqual([...(await arrived).payload], [3]);

      // The far end now sends from the address its SDP gives: its first packet latches and connects there.
      got = gotPackets(4);
      stranger.socket.send(rtpBytes(9, 1, [4]), session.socket.local.port, '127.0.0.1');
      await got;
      assert.deepEqual(session.socket.connectedTo, { address: '127.0.0.1', port: stranger.port });
      arrived = stranger.next();
      session.sendFrame(0, Uint8Array.of(5), 160);
      assert.deepEqual([...(await arrived).payload], [5]);
    } finally {
      await session.close();
      for (const p of [sdpTarget, realPeer, stranger]) p.socket.close();
    }
  });

  test('one stray datagram, or a spray of them, does not take the stream: the peer its SDP names does', async () => {
    const peer = await udpPeer();
    const stranger = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const received: number[] = [];
    let onReceived = () => {};
    session.onPacket({ receiveRtp: (packet) => (received.push(packet.ssrc), onReceived()) });
    try {
      session.socket.setRemote({ address: '127.0.0.1', port: peer.port });
      // The stranger gets there first, with RTP of random sequence numbers (a scan).
      for (const seq of [100, 5000, 7, 60000]) stranger.socket.send(rtpBytes(66, seq, [1]), session.socket.local.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(session.socket.isLatched, false, 'not latched by the stranger');
      assert.deepEqual(received, [], 'nothing of it played');
      const got = new Promise<void>((resolve) => (onReceived = resolve));
      peer.socket.send(rtpBytes(7, 1, [2]), session.socket.local.port, '127.0.0.1');
      await got;
      assert.deepEqual(session.socket.connectedTo, { address: '127.0.0.1', port: peer.port }, 'the signalled peer latches at once');
      const arrived = peer.next();
      session.sendFrame(0, Uint8Array.of(3), 160);
      assert.deepEqual([...(await arrived).payload], [3], 'our media goes to the peer');
      assert.deepEqual(received, [7]);
    } finally {
      await session.close();
      peer.socket.close();
      stranger.socket.close();
    }
  });

  test('SRTP: only a datagram that authenticates latches, from wherever it comes; forged RTP in sequence does not', async () => {
    const signalled = await udpPeer();
    const realPeer = await udpPeer(); // behind NAT: not the SDP's address
    const stranger = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const ours = generateSdesKey('AES_CM_128_HMAC_SHA1_80');
    const theirs = generateSdesKey('AES_CM_128_HMAC_SHA1_80');
    session.srtp = createSrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', local: ours, remote: theirs });
    const farEnd = createSrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', local: theirs, remote: ours });
    const received: number[] = [];
    let onReceived = () => {};
    session.onPacket({ receiveRtp: (packet) => (received.push(packet.ssrc), onReceived()) });
    try {
      session.socket.setRemote({ address: '127.0.0.1', port: signalled.port });
      // Plain RTP in sequence, even with an SRTP-length tail: it cannot authenticate.
      for (const seq of [1, 2, 3]) stranger.socket.send(Uint8Array.from([...rtpBytes(66, seq, [1, 2, 3]), ...new Uint8Array(10)]), session.socket.local.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(session.socket.isLatched, false, 'forged packets latch nothing');
      assert.deepEqual(received, []);
      const got = new Promise<void>((resolve) => (onReceived = resolve));
      realPeer.socket.send(farEnd.protectRtp(rtpBytes(7, 1, [9])), session.socket.local.port, '127.0.0.1');
      await got;
      assert.deepEqual(session.socket.connectedTo, { address: '127.0.0.1', port: realPeer.port }, 'the key is the proof: latched and connected at once');
      assert.deepEqual(received, [7]);
    } finally {
      await session.close();
      for (const p of [signalled, realPeer, stranger]) p.socket.close();
    }
  });

  test('a learned source (NAT) gives way to the address the SDP names', async () => {
    const signalled = await udpPeer();
    const other = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const received: number[] = [];
    let onReceived = () => {};
    session.onPacket({ receiveRtp: (packet) => (received.push(packet.ssrc), onReceived()) });
    try {
      session.socket.setRemote({ address: '127.0.0.1', port: signalled.port });
      let got = new Promise<void>((resolve) => (onReceived = () => received.length >= 2 && resolve()));
      other.socket.send(rtpBytes(66, 1, [1]), session.socket.local.port, '127.0.0.1');
      other.socket.send(rtpBytes(66, 2, [1]), session.socket.local.port, '127.0.0.1');
      await got;
      got = new Promise<void>((resolve) => (onReceived = () => received.length >= 3 && resolve()));
      signalled.socket.send(rtpBytes(7, 1, [2]), session.socket.local.port, '127.0.0.1');
      await got;
      assert.deepEqual(session.socket.connectedTo, { address: '127.0.0.1', port: signalled.port });
      const arrived = signalled.next();
      session.sendFrame(0, Uint8Array.of(3), 160);
      assert.deepEqual([...(await arrived).payload], [3]);
    } finally {
      await session.close();
      signalled.socket.close();
      other.socket.close();
    }
  });

  test('a latched peer that closes its port is reported once (ICMP port unreachable) and the stream carries on when it is back', async () => {
    const peer = await udpPeer();
    const peerPort = peer.port;
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const errors: string[] = [];
    session.socket.onError = (error) => errors.push(error.message);
    session.socket.setRemote({ address: '127.0.0.1', port: peerPort });
    let back: Awaited<ReturnType<typeof udpPeer>> | undefined;
    try {
      const got = new Promise<void>((resolve) => session.onPacket({ receiveRtp: () => resolve() }));
      peer.socket.send(rtpBytes(7, 1, [1]), session.socket.local.port, '127.0.0.1');
      await got;
      await new Promise<void>((resolve) => peer.socket.close(resolve)); // the far end hung up first
      for (let i = 0; i < 5 && session.socket.counters.peerUnreachable < 2; i++) {
        assert.equal(session.sendFrame(0, Uint8Array.of(i), 160), true);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(session.socket.counters.peerUnreachable >= 2, `ICMP unreachable counted (${session.socket.counters.peerUnreachable})`);
      assert.deepEqual(errors, [`127.0.0.1:${peerPort} is not receiving (ICMP port unreachable); further ones only counted`]);
      // The same port again (a far end that restarted): the latched stream reaches it.
      back = await udpPeerOn(peerPort);
      const arrived = back.next();
      session.sendFrame(0, Uint8Array.of(9), 160);
      assert.deepEqual([...(await arrived).payload], [9]);
    } finally {
      await session.close();
      back?.socket.close();
    }
  });

  test('counts and drops malformed datagrams and multiplexed RTCP', async () => {
    const peer = await udpPeer();
    const session = new RtpSession(await RtpStreamSocket.open('127.0.0.1'));
    const got = new Promise<{ packet: RtpPacket }>((resolve) => session.onPacket({ receiveRtp: (packet) => resolve({ packet }) }));
    session.socket.setRemote({ address: '127.0.0.1', port: peer.port });
    try {
      const port = session.socket.local.port;
      peer.socket.send(Uint8Array.of(0x80, 0xc8, 0, 6, 0, 0, 0, 1), port, '127.0.0.1'); // RTCP SR header
      peer.socket.send(Uint8Array.of(0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), port, '127.0.0.1'); // CSRC count past end
      peer.socket.send(Uint8Array.of(1, 2, 3), port, '127.0.0.1'); // not RTP at all
      peer.socket.send(rtpBytes(5, 1, [1, 2]), port, '127.0.0.1');
      const first = await got;
      assert.equal(first.packet.ssrc, 5);
      assert.equal(session.counters.rtcpReceived, 1);
      assert.equal(session.counters.malformedReceived, 1);
      assert.equal(session.socket.counters.implausibleDropped, 1);
      assert.equal(session.counters.packetsReceived, 1);
      assert.equal(session.counters.bytesReceived, 2);
    } finally {
      await session.close();
      peer.socket.close();
    }
  });
});

describe('RTP session: a new session keeps the per-packet code optimized', () => {
  test("a session's first packet sent and received does not throw away the optimized sendFrame / receive code of the sessions before it", ON_NODE_20_V8, () => {
    // In a Node that can ask V8 (%GetOptimizationStatus, bit 6 = TurboFan), without concurrent
    // recompilation so the answer does not depend on timing. The first-packet bookkeeping once
    // called each session's own promise resolver inline: "wrong call target" at every new
    // session's first packet, and the call's per-packet code back on baseline code. So did the
    // owner's packet handler, a closure made per call (as the media session's was): each session
    // here has its own receiver, as each call has its own media session. And so did the random
    // 32-bit numbers: the first session's SSRCs and timestamps are small integers here, the next
    // one's above 2^31 (double-fields.ts: without the priming, sendFrame deoptimizes, "wrong map").
    const script = `
      const { RtpSession } = await import(${repoModule('src-main/core/media/rtp/rtp-session.ts')});
      class FakeSocket {
        rtcp = undefined; local = { address: '127.0.0.1', port: 1 }; receiver = undefined;
        send() { return true; }
        onDatagram(receiver) { this.receiver = receiver; }
      }
      class Owner { bytes = 0; receiveRtp(packet) { this.bytes += packet.payload.length; } }
      const session = (big) => {
        const s = new RtpSession(new FakeSocket(), big ? { ssrc: 0xf0000000, timestamp: 0xf0000000 } : { ssrc: 7, timestamp: 7 });
        s.onPacket(new Owner());
        return s;
      };
      const packet = (seq, big) => {
        const p = new Uint8Array(172);
        p[0] = 0x80; p[2] = seq >> 8; p[3] = seq & 255; p[11] = 7;
        if (big) p[4] = p[8] = 0xf0; // timestamp and SSRC above 2^31
        return Buffer.from(p.buffer);
      };
      const send = RtpSession.prototype.sendFrame;
      const receive = (session, seq, big = false) => session.socket.receiver.receiveDatagram(packet(seq, big), { address: '127.0.0.1', port: 2 });
      const payload = new Uint8Array(160);
      const first = session(false);
      const onDatagram = RtpSession.prototype.receiveDatagram;
      %PrepareFunctionForOptimization(send);
      %PrepareFunctionForOptimization(onDatagram);
      for (let i = 0; i < 20; i++) { first.sendFrame(0, payload, 160); receive(first, i); }
      %OptimizeFunctionOnNextCall(send);
      %OptimizeFunctionOnNextCall(onDatagram);
      first.sendFrame(0, payload, 160);
      receive(first, 20);
      const optimized = turbofan(send) && turbofan(onDatagram);
      const next = session(true);
      next.sendFrame(0, payload, 160);
      receive(next, 1, true);
      process.stdout.write(JSON.stringify({ optimized, afterNextSessionsFirstPackets: turbofan(send) && turbofan(onDatagram) }));
    `;
    assert.deepEqual(runWithV8Natives(script), { optimized: true, afterNextSessionsFirstPackets: true });
  });
});
