/**
 * Reads the classic pcap files dumpcap writes with -P, keeping only IPv4/UDP datagrams: all the
 * benchmarks look at (SIP over UDP and RTP on the loopback interface).
 *
 * Supported: little/big-endian, microsecond and nanosecond timestamp variants; link types
 * Ethernet (1, what Linux "lo" reports), Linux cooked v1 (113) and v2 (276), raw IPv4 (228).
 * Anything else is an error, so a capture we cannot read never silently yields "no packets".
 */
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** Capture time, ms since the Unix epoch (kernel timestamp, µs resolution). */
  timeMs: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

const LINK_HEADER_BYTES: Record<number, { bytes: number; etherTypeAt?: number }> = {
  1: { bytes: 14, etherTypeAt: 12 },
  113: { bytes: 16, etherTypeAt: 14 },
  276: { bytes: 20, etherTypeAt: 0 },
  228: { bytes: 0 },
};

function ipv4(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

export function readPcapUdp(path: string): UdpDatagram[] {
  const file = readFileSync(path);
  if (file.length < 24) throw new Error(`${path}: ${file.length} bytes is too short for a pcap file`);
  const magicLe = file.readUInt32LE(0);
  let littleEndian: boolean;
  let nanoseconds: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    littleEndian = true;
    nanoseconds = magicLe === 0xa1b23c4d;
  } else if (file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d) {
    littleEndian = false;
    nanoseconds = file.readUInt32BE(0) === 0xa1b23c4d;
  } else {
    throw new Error(`${path}: not a classic pcap file (magic 0x${magicLe.toString(16)}; pcapng is not supported, capture with dumpcap -P)`);
  }
  const u32 = (at: number) => (littleEndian ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0x0fffffff;
  const link = LINK_HEADER_BYTES[linkType];
  if (!link) throw new Error(`${path}: unsupported link type ${linkType}`);
  const out: UdpDatagram[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const captured = u32(offset + 8);
    const frame = file.subarray(offset + 16, offset + 16 + captured);
    offset += 16 + captured;
    if (frame.length < captured) break; // last record cut short (capture stopped mid-write)
    const timeMs = seconds * 1000 + (nanoseconds ? fraction / 1e6 : fraction / 1e3);
    if (link.etherTypeAt !== undefined && frame.length >= link.bytes && frame.readUInt16BE(link.etherTypeAt) !== 0x0800) continue;
    const ip = link.bytes;
    if (frame.length < ip + 20 || frame[ip]! >> 4 !== 4 || frame[ip + 9] !== 17) continue;
    const fragment = frame.readUInt16BE(ip + 6);
    if ((fragment & 0x1fff) !== 0 || (fragment & 0x2000) !== 0) continue; // fragments: not on lo in practice
    const udp = ip + (frame[ip]! & 0x0f) * 4;
    if (frame.length < udp + 8) continue;
    const udpLength = frame.readUInt16BE(udp + 4);
    out.push({
      timeMs,
      src: ipv4(frame, ip + 12),
      dst: ipv4(frame, ip + 16),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: frame.subarray(udp + 8, Math.min(frame.length, udp + udpLength)),
    });
  }
  return out;
}
