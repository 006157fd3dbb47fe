// Writes RTP packets as a classic pcap file (Ethernet, IPv4, UDP on loopback), for SIPp's
// play_pcap_audio to send as a far end's media: SIPp sends each UDP payload to the peer's RTP
// address from its SDP, at the capture's timing.
import { writeFileSync } from 'node:fs';

export interface TimedRtp {
  /** When the packet goes out, ms from the first. */
  atMs: number;
  /** The whole RTP packet (header and payload). */
  rtp: Buffer;
}

/** An RTP packet: version 2, no CSRC/extension, `payload` after the 12-byte header. */
export function rtpPacket(fields: { payloadType: number; marker?: boolean; seq: number; timestamp: number; ssrc: number }, payload: Uint8Array): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet.writeUInt8(0x80, 0);
  packet.writeUInt8((fields.marker ? 0x80 : 0) | fields.payloadType, 1);
  packet.writeUInt16BE(fields.seq & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  packet.set(payload, 12);
  return packet;
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function writeRtpPcap(path: string, packets: readonly TimedRtp[], ports = { src: 30000, dst: 30002 }): void {
  const records: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16); // snaplen
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  records.push(global);
  const startUs = 1_700_000_000_000_000;
  for (const { atMs, rtp } of packets) {
    const frame = Buffer.alloc(14 + 20 + 8 + rtp.length);
    frame.writeUInt16BE(0x0800, 12); // IPv4; MAC addresses zero
    const ip = frame.subarray(14, 34);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(20 + 8 + rtp.length, 2);
    ip.writeUInt8(64, 8); // TTL
    ip.writeUInt8(17, 9); // UDP
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
    const udp = frame.subarray(34, 42);
    udp.writeUInt16BE(ports.src, 0);
    udp.writeUInt16BE(ports.dst, 2);
    udp.writeUInt16BE(8 + rtp.length, 4); // checksum 0: none (IPv4)
    rtp.copy(frame, 42);
    const header = Buffer.alloc(16);
    const us = startUs + Math.round(atMs * 1000);
    header.writeUInt32LE(Math.floor(us / 1_000_000), 0);
    header.writeUInt32LE(us % 1_000_000, 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    records.push(header, frame);
  }
  writeFileSync(path, Buffer.concat(records));
}
