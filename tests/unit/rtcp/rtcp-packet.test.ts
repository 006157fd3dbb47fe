// RTCP codec: exact wire bytes for hand-assembled packets (RFC 3550 §6.4–6.6 layouts), round trips,
// compound parsing and rejection of malformed compounds; rtcp-mux demultiplexing (RFC 5761 §4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RtcpParseError,
  SdesItemType,
  decodeRtcpCompound,
  encodeRtcpCompound,
  encodeRtcpPacket,
  type RtcpPacket,
} from '../../../src-main/core/media/rtcp/rtcp-packet';
import { classifyMuxedPacket, isPayloadTypeMuxSafe } from '../../../src-main/core/media/rtcp/rtcp-mux';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const block = {
  ssrc: 2,
  fractionLost: 0x40,
  cumulativeLost: -2,
  extendedHighestSeq: 0x00010005,
  jitter: 0x20,
  lastSenderReport: 0x12345678,
  delaySinceLastSenderReport: 0x00010000,
};

describe('RTCP encoding (exact bytes)', () => {
  test('RR with one report block; negative cumulative loss as 24-bit two’s complement', () => {
    const bytes = encodeRtcpPacket({ type: 'rr', ssrc: 1, reports: [block] });
    assert.equal(
      toHex(bytes),
      '81c90007' + '00000001' + '00000002' + '40fffffe' + '00010005' + '00000020' + '12345678' + '00010000',
    );
  });

  test('SR sender info', () => {
    const bytes = encodeRtcpPacket({
      type: 'sr',
      ssrc: 0xcafebabe,
      ntpTimestamp: 0xe1b2c3d4_80000000n,
      rtpTimestamp: 0xdecafbad,
      packetCount: 3,
      octetCount: 480,
      reports: [],
    });
    assert.equal(toHex(bytes), '80c80006' + 'cafebabe' + 'e1b2c3d480000000' + 'decafbad' + '00000003' + '000001e0');
  });

  test('SDES CNAME chunk ends with a null item and pads to 32 bits', () => {
    // 9-byte CNAME: 4 (SSRC) + 2 + 9 + 1 null = 16, no further padding
    assert.equal(
      toHex(encodeRtcpPacket({ type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: SdesItemType.cname, text: 'user@host' }] }] })),
      '81ca0004' + '00000007' + '0109' + Buffer.from('user@host').toString('hex') + '00',
    );
    // 8-byte CNAME: 4 + 2 + 8 = 14, + null = 15 → padded to 16 with one more zero
    assert.equal(
      toHex(encodeRtcpPacket({ type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: SdesItemType.cname, text: 'a@b.com.' }] }] })),
      '81ca0004' + '00000007' + '0108' + Buffer.from('a@b.com.').toString('hex') + '0000',
    );
    // 10-byte CNAME: 4 + 2 + 10 = 16 → a whole extra word of nulls is required
    assert.equal(
      toHex(encodeRtcpPacket({ type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: SdesItemType.cname, text: 'ab@host.io' }] }] })),
      '81ca0005' + '00000007' + '010a' + Buffer.from('ab@host.io').toString('hex') + '00000000',
    );
  });

  test('BYE with reason', () => {
    assert.equal(
      toHex(encodeRtcpPacket({ type: 'bye', ssrcs: [0x11223344], reason: 'bye' })),
      '81cb0002' + '11223344' + '03' + Buffer.from('bye').toString('hex'),
    );
  });

  test('more than 31 report blocks is refused', () => {
    assert.throws(() => encodeRtcpPacket({ type: 'rr', ssrc: 1, reports: Array(32).fill(block) }), /at most 31/);
  });
});

describe('RTCP compound decoding', () => {
  const compound: RtcpPacket[] = [
    { type: 'sr', ssrc: 5, ntpTimestamp: 0x1234567890abcdefn, rtpTimestamp: 160, packetCount: 1, octetCount: 160, reports: [block, { ...block, ssrc: 3, cumulativeLost: 0x7fffff }] },
    {
      type: 'sdes',
      chunks: [
        { ssrc: 5, items: [{ type: SdesItemType.cname, text: 'alice@example.org' }, { type: SdesItemType.tool, text: 'Switchboard' }] },
        { ssrc: 6, items: [{ type: SdesItemType.cname, text: 'x' }] },
      ],
    },
    { type: 'bye', ssrcs: [5, 6], reason: 'hung up' },
  ];

  test('round trip of SR + SDES (two chunks) + BYE', () => {
    assert.deepEqual(decodeRtcpCompound(encodeRtcpCompound(compound)), compound);
  });

  test('unknown packet types are kept raw (APP, feedback)', () => {
    const app = hex('81cc0003 00000005 6e616d65 01020304'); // APP, subtype 1, name "name"
    const bytes = new Uint8Array([...encodeRtcpPacket({ type: 'rr', ssrc: 5, reports: [] }), ...app]);
    const decoded = decodeRtcpCompound(bytes);
    assert.equal(decoded[1]!.type, 'unknown');
    assert.deepEqual(decoded[1], { type: 'unknown', packetType: 204, count: 1, raw: app });
  });

  test('padding on the last packet is stripped', () => {
    // BYE for one SSRC, no reason, padded with 4 bytes (padding bit set, last byte = 4)
    const decoded = decodeRtcpCompound(hex('a1cb0002 00000009 00000004'));
    assert.deepEqual(decoded, [{ type: 'bye', ssrcs: [9] }]);
  });

  const malformed: [string, string, RegExp][] = [
    ['wrong version', '41c90001 00000001', /version 1/],
    ['length beyond the buffer', '81c90007 00000001', /claims 32 bytes but only 8 remain/],
    ['padding bit on a non-final packet', 'a1c90001 00000001 81c90001 00000001', /padding bit but is not the last/],
    ['report count larger than the packet', '81c90001 00000001', /too short for 1 report block/],
    ['SDES item running past the end', '81ca0002 00000001 01ff0000', /too short for SDES item of 255 bytes/],
    ['libsrtp’s truncated SR (length says 48 bytes, 24 present)', '81c8000bcafebabe' + 'ab'.repeat(16), /claims 48 bytes/],
  ];
  for (const [name, bytes, message] of malformed)
    test(`rejects ${name}`, () => {
      assert.throws(() => decodeRtcpCompound(hex(bytes)), (e: unknown) => e instanceof RtcpParseError && message.test(e.message));
    });
});

describe('rtcp-mux demultiplexing (RFC 5761 §4)', () => {
  test('RTCP packet types 200..207 are RTCP', () => {
    for (let pt = 200; pt <= 207; pt++) assert.equal(classifyMuxedPacket(new Uint8Array([0x80, pt, 0, 1])), 'rtcp', `PT ${pt}`);
  });

  test('the 64..95 boundary, with and without the marker bit', () => {
    const kind = (second: number): string => classifyMuxedPacket(new Uint8Array([0x80, second, 0, 0]));
    assert.equal(kind(0xbf), 'rtp'); // marker + PT 63
    assert.equal(kind(0xc0), 'rtcp'); // marker + PT 64 = 192
    assert.equal(kind(0xdf), 'rtcp'); // marker + PT 95 = 223
    assert.equal(kind(0xe0), 'rtp'); // marker + PT 96 (dynamic audio payload with marker)
    assert.equal(kind(0x00), 'rtp'); // PCMU
    assert.equal(kind(0x08), 'rtp'); // PCMA
    assert.equal(kind(0x65), 'rtp'); // telephone-event 101
  });

  test('non-RTP traffic (STUN) is neither', () => {
    assert.equal(classifyMuxedPacket(hex('0001 0000 2112a442')), 'other');
    assert.equal(classifyMuxedPacket(new Uint8Array([0x80])), 'other');
  });

  test('payload types 64..95 are not mux-safe', () => {
    assert.deepEqual([0, 63, 64, 95, 96, 127, 128].map(isPayloadTypeMuxSafe), [true, true, false, false, true, true, false]);
  });
});
