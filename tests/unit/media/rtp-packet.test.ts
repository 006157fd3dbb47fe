import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRtpPacket,
  RtpParseError,
  sequenceDelta,
  serializeRtpFrame,
  serializeRtpPacket,
  timestampDelta,
  type RtpPacket,
} from '../../../src-main/core/media/rtp/rtp-packet';

const basic: RtpPacket = {
  marker: true,
  payloadType: 8,
  sequenceNumber: 0xfffe,
  timestamp: 0xfffffff0,
  ssrc: 0xdeadbeef,
  csrcs: [],
  payload: Uint8Array.from([1, 2, 3, 4, 5]),
  paddingLength: 0,
};

describe('RTP packet (RFC 3550 5.1)', () => {
  test('serializes the fixed header bit-exactly', () => {
    const bytes = serializeRtpPacket(basic);
    assert.deepEqual(
      [...bytes],
      [0x80, 0x88, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5],
    );
  });

  test("a media stream's frame serializes to the same bytes as the general packet; a bad payload type is refused", () => {
    for (const marker of [true, false]) {
      const packet = { ...basic, marker };
      assert.deepEqual(
        [...serializeRtpFrame(marker, packet.payloadType, packet.sequenceNumber, packet.timestamp, packet.ssrc, packet.payload)],
        [...serializeRtpPacket(packet)],
      );
    }
    for (const payloadType of [128, -1, 0.5]) {
      assert.throws(() => serializeRtpFrame(false, payloadType, 1, 1, 1, basic.payload), /payload type must be an unsigned 7-bit integer/);
    }
  });

  test('a parsed payload is a view of the datagram, not a copy', () => {
    const datagram = Buffer.from([0x80, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 7, 8, 9]);
    const { payload } = parseRtpPacket(datagram);
    assert.deepEqual([...payload], [7, 8, 9]);
    datagram[13] = 42;
    assert.equal(payload[1], 42);
  });

  test('round-trips CSRCs, header extension and padding', () => {
    const packet: RtpPacket = {
      ...basic,
      marker: false,
      payloadType: 101,
      csrcs: [1, 0xffffffff, 42],
      extension: { profile: 0xbede, data: Uint8Array.from([0x10, 0xaa, 0, 0, 1, 2, 3, 4]) },
      paddingLength: 3,
    };
    const bytes = serializeRtpPacket(packet);
    assert.equal(bytes[0], 0x80 | 0x20 | 0x10 | 3);
    assert.equal(bytes.length, 12 + 12 + 4 + 8 + 5 + 3);
    assert.equal(bytes[bytes.length - 1], 3);
    const parsed = parseRtpPacket(bytes);
    assert.deepEqual(
      { ...parsed, payload: [...parsed.payload], extension: { ...parsed.extension!, data: [...parsed.extension!.data] } },
      { ...packet, payload: [...packet.payload], extension: { ...packet.extension!, data: [...packet.extension!.data] } },
    );
  });

  test('parses a packet produced by another stack (baresip-style PCMU)', () => {
    const bytes = Uint8Array.from([0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x01, 0x40, 0x01, 0x02, 0x03, 0x04, 0xff, 0x7f]);
    const p = parseRtpPacket(bytes);
    assert.equal(p.marker, false);
    assert.equal(p.payloadType, 0);
    assert.equal(p.sequenceNumber, 0x1234);
    assert.equal(p.timestamp, 320);
    assert.equal(p.ssrc, 0x01020304);
    assert.deepEqual([...p.payload], [0xff, 0x7f]);
  });

  test('rejects malformed packets with a specific error', () => {
    const good = serializeRtpPacket(basic);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['too short', good.subarray(0, 11), /too short/],
      ['version 1', Uint8Array.from([0x40, ...good.subarray(1)]), /version field is 1/],
      ['CSRC count beyond end', Uint8Array.from([0x8f, ...good.subarray(1)]), /CSRC count 15/],
      ['extension beyond end', Uint8Array.from([0x90, ...good.subarray(1, 12), 0xbe, 0xde, 0x00, 0x09]), /header extension/],
      ['padding count zero', Uint8Array.from([0xa0, ...good.subarray(1, 16), 0]), /padding count 0/],
      ['padding larger than payload', Uint8Array.from([0xa0, ...good.subarray(1, 16), 200]), /padding count 200/],
    ];
    for (const [name, bytes, message] of cases) {
      assert.throws(() => parseRtpPacket(bytes), (e: unknown) => e instanceof RtpParseError && message.test(e.message), name);
    }
  });

  test('refuses to serialize out-of-range fields', () => {
    assert.throws(() => serializeRtpPacket({ ...basic, payloadType: 128 }), /payload type/);
    assert.throws(() => serializeRtpPacket({ ...basic, sequenceNumber: 65536 }), /sequence number/);
    assert.throws(() => serializeRtpPacket({ ...basic, timestamp: 2 ** 32 }), /timestamp/);
    assert.throws(() => serializeRtpPacket({ ...basic, csrcs: new Array(16).fill(1) }), /at most 15/);
    assert.throws(() => serializeRtpPacket({ ...basic, extension: { profile: 1, data: new Uint8Array(3) } }), /multiple of 4/);
  });

  test('sequence and timestamp distances wrap around', () => {
    assert.equal(sequenceDelta(0xffff, 0), 1);
    assert.equal(sequenceDelta(0, 0xffff), -1);
    assert.equal(sequenceDelta(100, 99), -1);
    assert.equal(timestampDelta(0xffffff60, 0x00000000), 160);
    assert.equal(timestampDelta(0x00000000, 0xffffff60), -160);
    assert.equal(timestampDelta(1000, 1160), 160);
  });
});
