// Receive stall (media-session.ts, RECEIVE_STALL_MS): a call whose far end's packets stop coming,
// or never came, says so after 5 s, but not while the far end holds the call or we do, and says
// so no longer at the next packet. A far end that said it fell silent (RFC 3389 comfort noise) is
// judged by its RTCP instead, over SILENT_FAR_END_STALL_MS. On a virtual clock, the playout clock
// driven by the test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaSession, RECEIVE_STALL_MS, SILENT_FAR_END_STALL_MS } from '../../../src-main/core/media/media-session';
import type { NegotiatedAudio } from '../../../src-main/core/media/sdp/offer-answer';
import { VirtualMediaClock } from '../../harness/virtual-media-clock';
import { socketlessRtpSession } from '../../harness/socketless-rtp';
import { pcmuNegotiation } from '../../harness/pcmu-negotiation';
import { rtpPacket } from '../../harness/rtp-pcap';

const negotiated = (over: Partial<NegotiatedAudio> = {}): NegotiatedAudio => pcmuNegotiation({ direction: 'sendrecv', ...over });

/** A call's media on a virtual clock: `run(ms)` plays out (and sends far-end packets while `farEndSends`). */
function call(over: Partial<NegotiatedAudio> = {}) {
  const clock = new VirtualMediaClock(1000);
  const rtp = socketlessRtpSession(clock, { ssrc: 1, timestamp: 0 });
  const events: Array<{ at: number; stalled: boolean }> = [];
  const media = new MediaSession({
    rtp,
    negotiated: negotiated(over),
    source: { sampleRate: 8000, read: (frame) => frame.fill(0), close: async () => undefined },
    sink: { sampleRate: 8000, write: () => undefined, close: async () => undefined },
    manualPlayout: true,
    log: () => undefined,
    onReceiveStall: (stalled) => events.push({ at: clock.now() - 1000, stalled }),
  });
  let seq = 0;
  const state = {
    clock,
    media,
    events,
    farEndSends: false,
    run(ms: number): void {
      for (const end = clock.now() + ms; clock.now() < end; ) {
        clock.advanceTo(clock.now() + 20);
        if (state.farEndSends) {
          const packet = Buffer.alloc(12 + 160, 0xff); // u-law silence
          packet.writeUInt8(0x80, 0);
          packet.writeUInt8(0, 1); // PCMU
          packet.writeUInt16BE(seq, 2);
          packet.writeUInt32BE(seq * 160, 4);
          packet.writeUInt32BE(0xfa, 8);
          seq++;
          rtp.receiveDatagram(packet, { address: '127.0.0.1', port: 9 });
        }
        media.playoutFrame(clock.now());
      }
    },
    /** The far end sends for `ms`, then stops. */
    talk(ms: number): void {
      state.farEndSends = true;
      state.run(ms);
      state.farEndSends = false;
    },
    /** One RFC 3389 SID (payload type 13, -40 dBov) in the far end's numbering. */
    sendSid(): void {
      const packet = rtpPacket({ payloadType: 13, seq, timestamp: seq * 160, ssrc: 0xfa }, Uint8Array.of(40));
      seq++;
      rtp.receiveDatagram(packet, { address: '127.0.0.1', port: 9 });
    },
    /** One RTCP receiver report (no report blocks) from the far end, on the muxed port. */
    sendReport(): void {
      const report = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0xfa]);
      rtp.receiveDatagram(report, { address: '127.0.0.1', port: 9 });
    },
  };
  media.start();
  return state;
}

describe('receive stall: nothing from the far end though it should be sending', () => {
  test('never a packet (one-way audio from the start): stalled once 5 s have passed, not before', () => {
    const c = call();
    c.run(RECEIVE_STALL_MS - 100);
    assert.deepEqual(c.events, []);
    assert.equal(c.media.summary().stalled, false);
    c.run(200);
    assert.deepEqual(c.events, [{ at: RECEIVE_STALL_MS, stalled: true }]);
    assert.equal(c.media.summary().stalled, true);
    c.run(10_000);
    assert.equal(c.events.length, 1, 'said once, not at every frame');
    c.media.stop();
  });

  test("packets for 2 s, then none: stalled 5 s after the last; the next packet ends it", () => {
    const c = call();
    c.talk(2000);
    c.run(RECEIVE_STALL_MS + 100);
    assert.deepEqual(c.events, [{ at: 2000 + RECEIVE_STALL_MS, stalled: true }]);
    c.farEndSends = true;
    c.run(40);
    assert.deepEqual(c.events.map((e) => e.stalled), [true, false]);
    assert.equal(c.media.summary().stalled, false);
    c.media.stop();
  });

  test('not while the far end holds the call (sendonly or inactive, it may send nothing) nor while we do', () => {
    for (const over of [
      { direction: 'recvonly', peerDirection: 'sendonly' },
      { direction: 'inactive', peerDirection: 'inactive' },
      { direction: 'sendonly', peerDirection: 'recvonly' },
    ] as const) {
      const c = call(over);
      c.run(3 * RECEIVE_STALL_MS);
      assert.deepEqual(c.events, [], JSON.stringify(over));
      c.media.stop();
    }
  });

  test('a stall during hold is none; after resuming, 5 s count from the resume', () => {
    const c = call();
    c.talk(1000);
    c.media.update(negotiated({ direction: 'sendonly', peerDirection: 'recvonly' })); // we hold
    c.run(20_000);
    assert.deepEqual(c.events, []);
    c.media.update(negotiated()); // resumed at 21 s; the far end's packets do not come back
    c.run(RECEIVE_STALL_MS + 100);
    assert.deepEqual(c.events, [{ at: 21_000 + RECEIVE_STALL_MS, stalled: true }]);
    c.media.stop();
  });
});

describe('receive stall: a far end silent by comfort noise (RFC 3389)', () => {
  const withCn = { comfortNoise: { receivePayloadType: 13 } };
  /** A call whose far end talked for 1 s and then sent a SID (comfort noise negotiated or not). */
  const talkedThenSid = (over: Partial<NegotiatedAudio>) => {
    const c = call(over);
    c.talk(1000);
    c.sendSid();
    return c;
  };

  test('after its SID, 5 s of nothing is silence, not a stall, while its RTCP keeps coming', () => {
    const c = talkedThenSid(withCn);
    for (let i = 0; i < 12; i++) {
      c.run(5000);
      c.sendReport();
    }
    assert.deepEqual(c.events, [], 'a minute of silence with reports every 5 s');
    assert.equal(c.media.summary().stalled, false);
    assert.equal(c.media.stats().packetsLost, 0, 'the SID took its sequence number: no loss reported');
    c.media.stop();
  });

  test('its reports stop too: stalled 25 s after the last one; a report after that ends it', () => {
    const c = talkedThenSid(withCn);
    c.run(3000);
    c.sendReport(); // at 4 s
    c.run(SILENT_FAR_END_STALL_MS + 1000);
    assert.deepEqual(c.events, [{ at: 4000 + SILENT_FAR_END_STALL_MS, stalled: true }]);
    c.sendReport();
    c.run(40);
    assert.deepEqual(c.events.map((e) => e.stalled), [true, false]);
    c.media.stop();
  });

  test('a silent far end that never sent RTCP: nothing tells a dead line from silence, no stall', () => {
    const c = talkedThenSid(withCn);
    c.run(120_000);
    assert.equal(c.events.length, 0);
    c.talk(1000); // talks again; then goes quiet WITHOUT a SID: a stall after 5 s as always
    c.run(RECEIVE_STALL_MS + 100);
    assert.deepEqual(c.events.map((e) => e.stalled), [true]);
    c.media.stop();
  });

  test('control: comfort noise not negotiated, the same SID is an unknown payload type and 5 s of nothing a stall', () => {
    const c = talkedThenSid({});
    c.run(RECEIVE_STALL_MS + 100);
    assert.equal(c.media.counters.unknownPayloadType, 1);
    assert.equal(c.events.length, 1);
    c.media.stop();
  });
});
