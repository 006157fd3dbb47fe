/**
 * RTP fixed header (RFC 3550 section 5.1) with CSRC list, header extension (5.3.1) and padding.
 *
 *   0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers (CC x 32)   |
 *   |  extension profile (16)       |  extension length in words    |  (if X)
 *   |  payload ...                  |  padding ... | padding count  |  (if P)
 *
 * `parseRtpPacket` returns views into the given buffer (no copy): the caller must not reuse the
 * buffer while it still needs the packet.
 *
 * Cost: both run for every packet of every call, cold (the process slept since the last packet),
 * so the fields are read and written byte by byte: a DataView is a C++ builtin call and one more
 * object per packet, and a packet without CSRCs (nearly all) shares one frozen empty list.
 */
import { frameBytes } from '../frame-memory';
import { DOUBLE_FIELD, primeShape } from '../double-fields';

export interface RtpHeaderExtension {
  /** "defined by profile" 16-bit value, e.g. 0xBEDE for RFC 8285 one-byte headers. */
  profile: number;
  /** Extension body; length MUST be a multiple of 4 bytes. */
  data: Uint8Array;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Frozen (and shared) when empty, as parsed. */
  csrcs: readonly number[];
  extension?: RtpHeaderExtension;
  payload: Uint8Array;
  /** Number of padding bytes at the end (including the count byte); 0 = no padding. */
  paddingLength: number;
}

export class RtpParseError extends Error {
  override name = 'RtpParseError';
}

const FIXED_HEADER = 12;
const NO_CSRCS: readonly number[] = Object.freeze([]);

function readUint16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

const TWO_POW_32 = 4294967296;

/**
 * Unsigned 32 bits: the signed value, plus 2^32 when negative. Not `>>> 0`: V8 compiles that for
 * small results when a process's first call drew small SSRCs and timestamps, and throws the
 * parser's optimized code away at the first call with a value of 2^31 or more ("lost precision");
 * this sum is double arithmetic from the first packet on (see double-fields.ts).
 */
function readUint32(b: Uint8Array, at: number): number {
  const signed = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  return signed + (signed >>> 31) * TWO_POW_32;
}

function writeUint16(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 8;
  b[at + 1] = value;
}

function writeUint32(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 24;
  b[at + 1] = value >>> 16;
  b[at + 2] = value >>> 8;
  b[at + 3] = value;
}

/**
 * A plain Uint8Array over `buffer`'s bytes [start, end). Not `subarray`: on a Node Buffer (every
 * datagram) that looks up the species constructor and builds another Buffer (FastBuffer).
 */
function view(buffer: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset + start, end - start);
}

const EMPTY_PAYLOAD = new Uint8Array(0);
// The parsed packet's literal below, keys in its order: random SSRCs and timestamps (double-fields.ts).
primeShape({
  marker: false,
  payloadType: 0,
  sequenceNumber: 0,
  timestamp: DOUBLE_FIELD,
  ssrc: DOUBLE_FIELD,
  csrcs: NO_CSRCS,
  payload: EMPTY_PAYLOAD,
  paddingLength: 0,
} satisfies RtpPacket);

export function parseRtpPacket(buffer: Uint8Array): RtpPacket {
  if (buffer.length < FIXED_HEADER) {
    throw new RtpParseError(`RTP packet too short: ${buffer.length} bytes, the fixed header needs 12`);
  }
  const b0 = buffer[0]!;
  const version = b0 >> 6;
  if (version !== 2) throw new RtpParseError(`Not RTP version 2 (version field is ${version})`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buffer[1]!;
  let offset = FIXED_HEADER + csrcCount * 4;
  if (buffer.length < offset) {
    throw new RtpParseError(`RTP packet truncated: CSRC count ${csrcCount} needs ${offset} bytes, got ${buffer.length}`);
  }
  let csrcs = NO_CSRCS;
  if (csrcCount > 0) {
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(readUint32(buffer, FIXED_HEADER + i * 4));
    csrcs = list;
  }
  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (buffer.length < offset + 4) throw new RtpParseError('RTP packet truncated inside the header extension');
    const profile = readUint16(buffer, offset);
    const words = readUint16(buffer, offset + 2);
    const start = offset + 4;
    const end = start + words * 4;
    if (buffer.length < end) {
      throw new RtpParseError(`RTP header extension of ${words} words runs past the end of the packet`);
    }
    extension = { profile, data: view(buffer, start, end) };
    offset = end;
  }
  let end = buffer.length;
  let paddingLength = 0;
  if (hasPadding) {
    paddingLength = buffer[buffer.length - 1]!;
    if (paddingLength === 0 || end - paddingLength < offset) {
      throw new RtpParseError(`Invalid RTP padding count ${paddingLength}`);
    }
    end -= paddingLength;
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: readUint16(buffer, 2),
    timestamp: readUint32(buffer, 4),
    ssrc: readUint32(buffer, 8),
    csrcs,
    payload: view(buffer, offset, end),
    paddingLength,
  };
  if (extension) packet.extension = extension;
  return packet;
}

function checkUint(name: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`RTP ${name} must be an unsigned ${bits}-bit integer, got ${value}`);
  }
}

/** The 12-byte fixed header; `flags`: the P, X and CC bits of the first byte (version 2 is added). */
function writeFixedHeader(out: Uint8Array, flags: number, marker: boolean, payloadType: number, sequenceNumber: number, timestamp: number, ssrc: number): void {
  out[0] = 0x80 | flags;
  out[1] = (marker ? 0x80 : 0) | payloadType;
  writeUint16(out, 2, sequenceNumber);
  writeUint32(out, 4, timestamp);
  writeUint32(out, 8, ssrc);
}

export function serializeRtpPacket(packet: RtpPacket): Uint8Array {
  checkUint('payload type', packet.payloadType, 7);
  checkUint('sequence number', packet.sequenceNumber, 16);
  checkUint('timestamp', packet.timestamp, 32);
  checkUint('SSRC', packet.ssrc, 32);
  if (packet.csrcs.length > 15) throw new RangeError(`RTP allows at most 15 CSRCs, got ${packet.csrcs.length}`);
  for (const csrc of packet.csrcs) checkUint('CSRC', csrc, 32);
  if (packet.paddingLength < 0 || packet.paddingLength > 255 || !Number.isInteger(packet.paddingLength)) {
    throw new RangeError(`RTP padding length must be 0..255, got ${packet.paddingLength}`);
  }
  const ext = packet.extension;
  if (ext) {
    checkUint('extension profile', ext.profile, 16);
    if (ext.data.length % 4 !== 0) {
      throw new RangeError(`RTP header extension length must be a multiple of 4, got ${ext.data.length}`);
    }
    if (ext.data.length / 4 > 0xffff) throw new RangeError('RTP header extension too long');
  }
  const headerLength = FIXED_HEADER + packet.csrcs.length * 4 + (ext ? 4 + ext.data.length : 0);
  const total = headerLength + packet.payload.length + packet.paddingLength;
  const out = frameBytes(total);
  const flags = (packet.paddingLength > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | packet.csrcs.length;
  writeFixedHeader(out, flags, packet.marker, packet.payloadType, packet.sequenceNumber, packet.timestamp, packet.ssrc);
  let offset = FIXED_HEADER;
  for (const csrc of packet.csrcs) {
    writeUint32(out, offset, csrc);
    offset += 4;
  }
  if (ext) {
    writeUint16(out, offset, ext.profile);
    writeUint16(out, offset + 2, ext.data.length / 4);
    out.set(ext.data, offset + 4);
    offset += 4 + ext.data.length;
  }
  out.set(packet.payload, offset);
  if (packet.paddingLength > 0) out[total - 1] = packet.paddingLength;
  return out;
}

/**
 * The common packet of a media stream, without building an RtpPacket: no CSRCs, no extension,
 * no padding. Same bytes as serializeRtpPacket of those fields; the sender's own state (sequence
 * number, timestamp, SSRC kept in range by RtpSession) is not checked again per packet, the
 * payload type is.
 */
export function serializeRtpFrame(marker: boolean, payloadType: number, sequenceNumber: number, timestamp: number, ssrc: number, payload: Uint8Array): Uint8Array {
  if ((payloadType & 0x7f) !== payloadType) checkUint('payload type', payloadType, 7);
  const out = frameBytes(FIXED_HEADER + payload.length);
  writeFixedHeader(out, 0, marker, payloadType, sequenceNumber, timestamp, ssrc);
  out.set(payload, FIXED_HEADER);
  return out;
}

/** Forward distance from sequence number `from` to `to` modulo 2^16, as -32768..32767. */
export function sequenceDelta(from: number, to: number): number {
  return ((((to - from) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Forward distance from timestamp `from` to `to` modulo 2^32, as -2^31..2^31-1. */
export function timestampDelta(from: number, to: number): number {
  return ((to - from) | 0);
}
