/**
 * Assembling the compound RTCP packet we send each interval (RFC 3550 §6.1):
 *   SR (if we sent RTP since … — simplified: if we ever sent) else RR, then SDES with our CNAME,
 *   then BYE when leaving. Report blocks beyond 31 are dropped (a phone call has one source).
 */
import { encodeRtcpCompound, SdesItemType, type RtcpPacket, type RtcpReportBlock } from './rtcp-packet';
import type { RtpSenderStatistics } from './sender-statistics';

export interface CompoundReportOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly sender?: RtpSenderStatistics;
  readonly reports: readonly RtcpReportBlock[];
  readonly nowUnixMs: number;
  /** Now on the clock the sender statistics were fed with (default: nowUnixMs). */
  readonly nowMs?: number;
  /** Append a BYE (with optional reason) — the last report of a stream. */
  readonly bye?: { readonly reason?: string };
}

export function buildCompoundReport(options: CompoundReportOptions): Uint8Array {
  const reports = options.reports.slice(0, 31);
  const packets: RtcpPacket[] = [
    options.sender?.senderReport(options.nowMs ?? options.nowUnixMs, reports, options.nowUnixMs) ?? { type: 'rr', ssrc: options.ssrc, reports },
    { type: 'sdes', chunks: [{ ssrc: options.ssrc, items: [{ type: SdesItemType.cname, text: options.cname }] }] },
  ];
  if (options.bye) packets.push({ type: 'bye', ssrcs: [options.ssrc], ...(options.bye.reason !== undefined ? { reason: options.bye.reason } : {}) });
  return encodeRtcpCompound(packets);
}
