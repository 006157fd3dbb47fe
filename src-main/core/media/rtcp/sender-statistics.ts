/**
 * What we sent on one RTP stream, for the sender-info part of our SRs (RFC 3550 §6.4.1).
 *
 * Contract: onRtpSent for every RTP packet we send (payload octets exclude header and padding),
 * with the time it was sent on a ms clock of the caller's choice; senderReport(nowMs, reports,
 * nowUnixMs) returns an SR whose RTP timestamp is the last sent timestamp advanced by the time
 * elapsed since that packet on that same clock (`nowMs`), and whose NTP timestamp is the wall
 * time `nowUnixMs` (default: `nowMs`, for a caller whose clock is the wall clock), so the two
 * correspond as RFC 3550 requires; or undefined if nothing was sent yet (then send an RR instead).
 * The media session passes its monotonic media clock: the packet's own tick time, so sending
 * reads no clock per packet, and a wall-clock step between two reports does not bend the
 * RTP timestamp. Counts wrap modulo 2^32.
 */
import type { RtcpReportBlock, RtcpSenderReport } from './rtcp-packet';
import { ntpFromUnixMs } from './ntp-time';
import { DOUBLE_FIELD } from '../double-fields';

export class RtpSenderStatistics {
  private packets = 0;
  private octets = 0;
  /** A random 32-bit number: a double field from the start (double-fields.ts). */
  private lastRtpTimestamp = DOUBLE_FIELD;
  private lastSentMs: number | undefined;

  /**
   * `continuing`: the statistics of this stream until its RTP clock changed (a codec change): its
   * packet and octet counts go on (RFC 3550: they count from the start of the SSRC's
   * transmission); the timestamp mapping starts afresh with the new clock.
   */
  constructor(
    readonly ssrc: number,
    private readonly clockRate: number,
    continuing?: RtpSenderStatistics,
  ) {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be positive, got ${clockRate}`);
    if (continuing && continuing.ssrc === ssrc) {
      this.packets = continuing.packets;
      this.octets = continuing.octets;
    }
  }

  get hasSent(): boolean {
    return this.lastSentMs !== undefined;
  }

  /** Packets sent so far (modulo 2^32). */
  get packetCount(): number {
    return this.packets;
  }

  onRtpSent(payloadOctets: number, rtpTimestamp: number, sentMs: number): void {
    this.packets = (this.packets + 1) >>> 0;
    this.octets = (this.octets + payloadOctets) >>> 0;
    this.lastRtpTimestamp = rtpTimestamp >>> 0;
    this.lastSentMs = sentMs;
  }

  senderReport(nowMs: number, reports: readonly RtcpReportBlock[] = [], nowUnixMs = nowMs): RtcpSenderReport | undefined {
    if (this.lastSentMs === undefined) return undefined;
    const elapsedTicks = Math.round(((nowMs - this.lastSentMs) * this.clockRate) / 1000);
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
