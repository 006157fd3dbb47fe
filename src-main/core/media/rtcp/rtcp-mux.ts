/**
 * RTP/RTCP demultiplexing on one port (rtcp-mux, RFC 5761 §4).
 *
 * Contract: a packet is RTCP when its second octet is 192..223, i.e. the RTP payload-type field
 * (low 7 bits) lies in 64..95 — the range RFC 5761 forbids for RTP payload types when muxing, and
 * which covers RTCP packet types 200..207 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR) with the
 * marker bit set. Anything else with RTP version 2 is RTP. SRTP/SRTCP keep these octets in
 * the clear, so the rule applies before decryption too.
 */
export type MuxedPacketKind = 'rtp' | 'rtcp' | 'other';

export function classifyMuxedPacket(packet: Uint8Array): MuxedPacketKind {
  if (packet.length < 2 || packet[0]! >> 6 !== 2) return 'other'; // STUN, DTLS, ZRTP, garbage
  return isRtcpDatagram(packet) ? 'rtcp' : 'rtp';
}

/**
 * Whether a version-2 datagram of the RTP port is RTCP (the rule above, without the version check:
 * for callers that made it already; the RTP socket calls this for every datagram).
 */
export function isRtcpDatagram(packet: Uint8Array): boolean {
  return isRtcpRange(packet[1]! & 0x7f);
}

/** RFC 5761 §4: payload types 64..95 MUST NOT be used for RTP when RTCP is muxed. */
export function isPayloadTypeMuxSafe(payloadType: number): boolean {
  return payloadType >= 0 && payloadType <= 127 && !isRtcpRange(payloadType);
}

function isRtcpRange(payloadType: number): boolean {
  return payloadType >= 64 && payloadType <= 95;
}
