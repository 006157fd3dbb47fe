// CallDtmf's receive side on a virtual clock: a key press whose end packets were all lost (a
// lossy link, or a far end that crashed mid-digit) is still reported, once, after the timeout.
// Real datagrams over 127.0.0.1; the clock decides when they arrive and when the timer looks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AudioSink, AudioSource } from '../../../src-main/core/media/audio/audio-port';
import { CallDtmf } from '../../../src-main/core/media/call-dtmf';
import { MediaSession } from '../../../src-main/core/media/media-session';
import { serializeRtpPacket } from '../../../src-main/core/media/rtp/rtp-packet';
import { RtpSession } from '../../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket } from '../../../src-main/core/media/rtp/rtp-stream-socket';
import { pcmuNegotiation } from '../../harness/pcmu-negotiation';
import { VirtualMediaClock, waitForIo } from '../../harness/virtual-media-clock';

const silence: AudioSource = { sampleRate: 8000, read: (frame) => frame.fill(0), close: async () => undefined };
const nowhere: AudioSink = { sampleRate: 8000, write: () => undefined, close: async () => undefined };

describe('CallDtmf (virtual clock)', () => {
  test('a digit whose end packets never come is reported once, after the 1 s timeout', async () => {
    const clock = new VirtualMediaClock();
    const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'), undefined, clock);
    // The far end sends from the address its SDP gives (what latches the stream at its first packet).
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    const media = new MediaSession({
      rtp,
      negotiated: pcmuNegotiation({ remoteRtp: { address: '127.0.0.1', port: sender.address().port }, direction: 'recvonly', telephoneEvent: { sendPayloadType: 101, receivePayloadType: 101, clockRate: 8000 } }),
      source: silence,
      sink: nowhere,
    });
    const digits: string[] = [];
    const logs: string[] = [];
    const dtmf = new CallDtmf(rtp, media, (digit) => digits.push(digit.digit), (message) => logs.push(message));
    try {
      media.start();
      const start = clock.now();
      // Digit 5 held for 60 ms: three updates, then nothing (the end packets are lost).
      for (let i = 0; i < 3; i++) {
        clock.advanceTo(start + 100 + 20 * i);
        const payload = new Uint8Array([5, 10, 0, 0]);
        new DataView(payload.buffer).setUint16(2, 160 * (i + 1));
        const before = rtp.counters.packetsReceived;
        sender.send(serializeRtpPacket({ marker: i === 0, payloadType: 101, sequenceNumber: i, timestamp: 8000, ssrc: 9, csrcs: [], payload, paddingLength: 0 }), rtp.socket.local.port, '127.0.0.1');
        await waitForIo(() => rtp.counters.packetsReceived > before, () => 'a datagram on 127.0.0.1 was not delivered');
      }
      clock.advanceTo(start + 800);
      assert.deepEqual(digits, [], 'still held 660 ms after the last update');
      clock.advanceTo(start + 1500);
      assert.deepEqual(digits, ['5'], 'closed by the timeout');
      clock.advanceTo(start + 6000);
      assert.deepEqual(digits, ['5'], 'reported once');
      assert.deepEqual(logs, []);
    } finally {
      dtmf.close();
      media.stop();
      sender.close();
      await rtp.close();
    }
  });
});
