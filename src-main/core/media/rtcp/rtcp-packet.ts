/**
 * RTCP packet codec (RFC 3550 §6.4–6.6): SR, RR, SDES, BYE and compound packets.
 *
 * Contract:
 *   - encodeRtcpPacket(p) → one RTCP packet, 32-bit aligned, length field = words − 1, no padding
 *     bit. encodeRtcpCompound(ps) concatenates them (RFC 3550 §6.1: first SR or RR, then SDES
 *     with CNAME; the caller decides the order, see buildCompoundReport in rtcp-report.ts).
 *   - decodeRtcpCompound(bytes) → every packet in order; throws RtcpParseError with a reason on
 *     a malformed compound (wrong version, length overrun, padding bit on a non-final packet,
 *     count fields that do not fit). Unknown packet types (APP, RTPFB, PSFB, XR, …) are returned
 *     as `{ type: 'unknown' }` with their raw bytes, not rejected.
 *   - The first packet is not required to be SR/RR: reduced-size RTCP (RFC 5506) exists.
 * Numbers: SSRCs, timestamps and counts are unsigned 32-bit JS numbers; the 64-bit NTP timestamp
 * is a bigint; cumulativeLost is the signed 24-bit field; fractionLost is the raw 8-bit fixed point
 * (lost/expected · 256).
 */
export const RtcpPacketType = { sr: 200, rr: 201, sdes: 202, bye: 203, app: 204 } as const;

/** SDES item types, RFC 3550 §6.5. */
export const SdesItemType = { end: 0, cname: 1, name: 2, email: 3, phone: 4, loc: 5, tool: 6, note: 7, priv: 8 } as const;

export interface RtcpReportBlock {
  readonly ssrc: number;
  /** Fraction of packets lost since the previous report, 8-bit fixed point (0..255 = 0..99.6 %). */
  readonly fractionLost: number;
  /** Cumulative packets lost, signed 24-bit (negative when duplicates outnumber losses). */
  readonly cumulativeLost: number;
  readonly extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source, 0 if none. */
  readonly lastSenderReport: number;
  /** Delay since that SR, in units of 1/65536 s, 0 if none. */
  readonly delaySinceLastSenderReport: number;
}

export interface RtcpSenderReport {
  readonly type: 'sr';
  readonly ssrc: number;
  /** 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low). */
  readonly ntpTimestamp: bigint;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
  readonly reports: readonly RtcpReportBlock[];
}

export interface RtcpReceiverReport {
  readonly type: 'rr';
  readonly ssrc: number;
  readonly reports: readonly RtcpReportBlock[];
}

export interface RtcpSdesItem {
  /** SdesItemType value (1 = CNAME …). */
  readonly type: number;
  readonly text: string;
}

export interface RtcpSdesChunk {
  readonly ssrc: number;
  readonly items: readonly RtcpSdesItem[];
}

export interface RtcpSdes {
  readonly type: 'sdes';
  readonly chunks: readonly RtcpSdesChunk[];
}

export interface RtcpBye {
  readonly type: 'bye';
  readonly ssrcs: readonly number[];
  readonly reason?: string;
}

export interface RtcpUnknown {
  readonly type: 'unknown';
  readonly packetType: number;
  /** The 5-bit count/format field. */
  readonly count: number;
  /** The whole packet including its header. */
  readonly raw: Uint8Array;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpUnknown;

export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
}

const MAX_COUNT = 31;
const REPORT_BLOCK_SIZE = 24;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

// ---------------------------------------------------------------------------------------- encode

export function encodeRtcpCompound(packets: readonly RtcpPacket[]): Uint8Array {
  const parts = packets.map(encodeRtcpPacket);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function encodeRtcpPacket(packet: RtcpPacket): Uint8Array {
  switch (packet.type) {
    case 'sr': {
      checkCount('SR report blocks', packet.reports.length);
      const out = new Uint8Array(28 + packet.reports.length * REPORT_BLOCK_SIZE);
      const view = viewOf(out);
      header(view, packet.reports.length, RtcpPacketType.sr, out.length);
      view.setUint32(4, packet.ssrc >>> 0);
      view.setBigUint64(8, BigInt.asUintN(64, packet.ntpTimestamp));
      view.setUint32(16, packet.rtpTimestamp >>> 0);
      view.setUint32(20, packet.packetCount >>> 0);
      view.setUint32(24, packet.octetCount >>> 0);
      packet.reports.forEach((block, i) => writeReportBlock(view, 28 + i * REPORT_BLOCK_SIZE, block));
      return out;
    }
    case 'rr': {
      checkCount('RR report blocks', packet.reports.length);
      const out = new Uint8Array(8 + packet.reports.length * REPORT_BLOCK_SIZE);
      const view = viewOf(out);
      header(view, packet.reports.length, RtcpPacketType.rr, out.length);
      view.setUint32(4, packet.ssrc >>> 0);
      packet.reports.forEach((block, i) => writeReportBlock(view, 8 + i * REPORT_BLOCK_SIZE, block));
      return out;
    }
    case 'sdes': {
      checkCount('SDES chunks', packet.chunks.length);
      const chunks = packet.chunks.map(encodeSdesChunk);
      const out = new Uint8Array(4 + chunks.reduce((n, c) => n + c.length, 0));
      header(viewOf(out), packet.chunks.length, RtcpPacketType.sdes, out.length);
      let at = 4;
      for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return out;
    }
    case 'bye': {
      checkCount('BYE sources', packet.ssrcs.length);
      const reason = packet.reason !== undefined ? encoder.encode(packet.reason) : undefined;
      if (reason && reason.length > 255) throw new RangeError(`RTCP BYE reason is ${reason.length} bytes; at most 255 fit`);
      const body = 4 + packet.ssrcs.length * 4 + (reason ? 1 + reason.length : 0);
      const out = new Uint8Array(align4(body));
      const view = viewOf(out);
      header(view, packet.ssrcs.length, RtcpPacketType.bye, out.length);
      packet.ssrcs.forEach((ssrc, i) => view.setUint32(4 + i * 4, ssrc >>> 0));
      if (reason) {
        const at = 4 + packet.ssrcs.length * 4;
        out[at] = reason.length;
        out.set(reason, at + 1);
      }
      return out;
    }
    case 'unknown':
      return Uint8Array.from(packet.raw);
  }
}

function encodeSdesChunk(chunk: RtcpSdesChunk): Uint8Array {
  const items = chunk.items.map((item) => {
    if (item.type <= SdesItemType.end || item.type > 255) throw new RangeError(`SDES item type ${item.type} is invalid`);
    const text = encoder.encode(item.text);
    if (text.length > 255) throw new RangeError(`SDES item of type ${item.type} is ${text.length} bytes; at most 255 fit`);
    return { type: item.type, text };
  });
  // SSRC + items + at least one null octet (end of list), padded to a 32-bit boundary.
  const used = 4 + items.reduce((n, i) => n + 2 + i.text.length, 0);
  const out = new Uint8Array(align4(used + 1));
  viewOf(out).setUint32(0, chunk.ssrc >>> 0);
  let at = 4;
  for (const item of items) {
    out[at] = item.type;
    out[at + 1] = item.text.length;
    out.set(item.text, at + 2);
    at += 2 + item.text.length;
  }
  return out;
}

function header(view: DataView, count: number, packetType: number, byteLength: number): void {
  view.setUint8(0, 0x80 | count);
  view.setUint8(1, packetType);
  view.setUint16(2, byteLength / 4 - 1);
}

function writeReportBlock(view: DataView, at: number, block: RtcpReportBlock): void {
  if (!Number.isInteger(block.fractionLost) || block.fractionLost < 0 || block.fractionLost > 255)
    throw new RangeError(`Report block fractionLost ${block.fractionLost} is outside 0..255`);
  view.setUint32(at, block.ssrc >>> 0);
  const cumulative = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost)));
  view.setUint32(at + 4, ((block.fractionLost << 24) | (cumulative & 0xffffff)) >>> 0);
  view.setUint32(at + 8, block.extendedHighestSeq >>> 0);
  view.setUint32(at + 12, block.jitter >>> 0);
  view.setUint32(at + 16, block.lastSenderReport >>> 0);
  view.setUint32(at + 20, block.delaySinceLastSenderReport >>> 0);
}

function checkCount(what: string, count: number): void {
  if (count > MAX_COUNT) throw new RangeError(`RTCP packet can carry at most ${MAX_COUNT} ${what}, got ${count}`);
}

// ---------------------------------------------------------------------------------------- decode

export function decodeRtcpCompound(bytes: Uint8Array): RtcpPacket[] {
  if (bytes.length < 4) throw new RtcpParseError(`RTCP packet of ${bytes.length} bytes is shorter than a 4-byte header`);
  if (bytes.length % 4 !== 0) throw new RtcpParseError(`RTCP compound length ${bytes.length} is not a multiple of 4`);
  const view = viewOf(bytes);
  const packets: RtcpPacket[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 4) throw new RtcpParseError(`Trailing ${bytes.length - at} bytes after RTCP packet ${packets.length}`);
    const first = bytes[at]!;
    if (first >> 6 !== 2) throw new RtcpParseError(`RTCP packet ${packets.length} has version ${first >> 6}, expected 2`);
    const length = (view.getUint16(at + 2) + 1) * 4;
    if (at + length > bytes.length)
      throw new RtcpParseError(`RTCP packet ${packets.length} claims ${length} bytes but only ${bytes.length - at} remain`);
    let end = at + length;
    const padded = (first & 0x20) !== 0;
    if (padded) {
      if (end !== bytes.length) throw new RtcpParseError(`RTCP packet ${packets.length} has the padding bit but is not the last one`);
      const padding = bytes[end - 1]!;
      if (padding === 0 || padding > length - 4) throw new RtcpParseError(`RTCP padding count ${padding} is invalid`);
      end -= padding;
    }
    packets.push(decodeOne(bytes.subarray(at, end), packets.length));
    at += length;
  }
  return packets;
}

function decodeOne(packet: Uint8Array, position: number): RtcpPacket {
  const view = viewOf(packet);
  const count = packet[0]! & 0x1f;
  const packetType = packet[1]!;
  const where = `RTCP packet ${position} (type ${packetType})`;
  const need = (bytes: number, what: string): void => {
    if (packet.length < bytes) throw new RtcpParseError(`${where} is ${packet.length} bytes, too short for ${what}`);
  };
  switch (packetType) {
    case RtcpPacketType.sr: {
      need(28 + count * REPORT_BLOCK_SIZE, `${count} report block(s)`);
      return {
        type: 'sr',
        ssrc: view.getUint32(4),
        ntpTimestamp: view.getBigUint64(8),
        rtpTimestamp: view.getUint32(16),
        packetCount: view.getUint32(20),
        octetCount: view.getUint32(24),
        reports: readReportBlocks(view, 28, count),
      };
    }
    case RtcpPacketType.rr: {
      need(8 + count * REPORT_BLOCK_SIZE, `${count} report block(s)`);
      return { type: 'rr', ssrc: view.getUint32(4), reports: readReportBlocks(view, 8, count) };
    }
    case RtcpPacketType.sdes: {
      const chunks: RtcpSdesChunk[] = [];
      let at = 4;
      for (let c = 0; c < count; c++) {
        need(at + 4, `SDES chunk ${c}`);
        const ssrc = view.getUint32(at);
        at += 4;
        const items: RtcpSdesItem[] = [];
        for (;;) {
          need(at + 1, `SDES chunk ${c} items`);
          const type = packet[at]!;
          if (type === SdesItemType.end) break;
          need(at + 2, `SDES item length`);
          const length = packet[at + 1]!;
          need(at + 2 + length, `SDES item of ${length} bytes`);
          items.push({ type, text: decoder.decode(packet.subarray(at + 2, at + 2 + length)) });
          at += 2 + length;
        }
        at = align4(at + 1); // the null item, then padding to the next 32-bit boundary
        chunks.push({ ssrc, items });
      }
      return { type: 'sdes', chunks };
    }
    case RtcpPacketType.bye: {
      need(4 + count * 4, `${count} BYE source(s)`);
      const ssrcs = Array.from({ length: count }, (_, i) => view.getUint32(4 + i * 4));
      const at = 4 + count * 4;
      if (packet.length > at && packet[at]! > 0) {
        const length = packet[at]!;
        need(at + 1 + length, `a ${length}-byte BYE reason`);
        return { type: 'bye', ssrcs, reason: decoder.decode(packet.subarray(at + 1, at + 1 + length)) };
      }
      return { type: 'bye', ssrcs };
    }
    default:
      return { type: 'unknown', packetType, count, raw: Uint8Array.from(packet) };
  }
}

function readReportBlocks(view: DataView, at: number, count: number): RtcpReportBlock[] {
  const blocks: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK_SIZE) {
    const lossWord = view.getUint32(at + 4);
    blocks.push({
      ssrc: view.getUint32(at),
      fractionLost: lossWord >>> 24,
      cumulativeLost: (lossWord << 8) >> 8, // sign-extend the 24-bit field
      extendedHighestSeq: view.getUint32(at + 8),
      jitter: view.getUint32(at + 12),
      lastSenderReport: view.getUint32(at + 16),
      delaySinceLastSenderReport: view.getUint32(at + 20),
    });
  }
  return blocks;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
