/**
 * Round-trip time from a report block the peer sent about OUR stream (RFC 3550 §6.4.1):
 *   RTT = A − LSR − DLSR, all in compact NTP (1/65536 s), A = when the report arrived.
 * Contract: returns milliseconds, or undefined when the block carries no LSR (the peer has not
 * received an SR from us yet) or when the result is negative (clock step, bogus DLSR).
 * `arrivalMs` must be on the same wall clock that produced the NTP timestamps of our SRs.
 */
import type { RtcpReportBlock } from './rtcp-packet';
import { compactNtpFromUnixMs } from './ntp-time';

export function roundTripTimeMs(block: RtcpReportBlock, arrivalUnixMs: number): number | undefined {
  if (block.lastSenderReport === 0) return undefined;
  const arrival = compactNtpFromUnixMs(arrivalUnixMs);
  const rtt = (arrival - block.lastSenderReport - block.delaySinceLastSenderReport) >>> 0;
  if (rtt >= 0x80000000) return undefined; // negative modulo 2^32
  return (rtt / 65536) * 1000;
}
