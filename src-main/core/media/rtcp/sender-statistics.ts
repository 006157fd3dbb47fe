/**
 * What we sent on one RTP stream, for the sender-info part of our SRs (RFC 3550 §6.4.1).
 *
 * Contract: onRtpSent for every RTP packet we send (payload octets exclude header and padding);
 * senderReport(nowUnixMs, reports) returns an SR whose RTP timestamp is the last sent timestamp
 * advanced by the wall time elapsed since that packet (so it corresponds to the NTP timestamp,
 * as RFC 3550 requires), or undefined if nothing was sent yet (then send an RR instead).
 * Counts wrap modulo 2^32.
 */
import type { RtcpReportBlock, RtcpSenderReport } from './rtcp-packet';
import { ntpFromUnixMs } from './ntp-time';

export class RtpSenderStatistics {
  private packets = 0;
  private octets = 0;
  private lastRtpTimestamp = 0;
  private lastSentUnixMs: number | undefined;

  constructor(
    readonly ssrc: number,
    private readonly clockRate: number,
  ) {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be positive, got ${clockRate}`);
  }

  get hasSent(): boolean {
    return this.lastSentUnixMs !== undefined;
  }

  onRtpSent(payloadOctets: number, rtpTimestamp: number, sentUnixMs: number): void {
    this.packets = (this.packets + 1) >>> 0;
    this.octets = (this.octets + payloadOctets) >>> 0;
    this.lastRtpTimestamp = rtpTimestamp >>> 0;
    this.lastSentUnixMs = sentUnixMs;
  }

  senderReport(nowUnixMs: number, reports: readonly RtcpReportBlock[] = []): RtcpSenderReport | undefined {
    if (this.lastSentUnixMs === undefined) return undefined;
    const elapsedTicks = Math.round(((nowUnixMs - this.lastSentUnixMs) * this.clockRate) / 1000);
    return {
      type: 'sr',
      ssrc: this.ssrc >>> 0,
      ntpTimestamp: ntpFromUnixMs(nowUnixMs),
      rtpTimestamp: (this.lastRtpTimestamp + elapsedTicks) >>> 0,
      packetCount: this.packets,
      octetCount: this.octets,
      reports,
    };
  }
}
