/**
 * The RTCP side of one call's RTP session (RFC 3550 §6): sends our SR/RR + SDES compound
 * periodically, reads the peer's, and keeps what the call statistics need (RTT, the peer's view of
 * our stream, reception statistics of the peer's stream).
 *
 * Interval (RFC 3550 §6.2/§6.3, simplified and documented as such): a call has exactly two
 * participants and RTCP's 5 % bandwidth share of even G.711 is far more than two reports need, so
 * the deterministic interval is always the 5 s minimum. Each interval is randomised to
 * [0.5, 1.5] × 5 s (§6.3.1, avoids synchronised reports) and the first report goes out after half
 * of that (§6.2 "initial interval"). No reconsideration (only needed with many members). On stop()
 * a final compound with BYE is sent (§6.3.7).
 *
 * Where RTCP goes: on the RTP port when rtcp-mux was negotiated, else from our port+1 to the peer's
 * RTCP address (a=rtcp or port+1, from NegotiatedAudio). SRTCP is applied by RtpSession.
 *
 * Reports we send: SR once we have sent RTP (sender info from RtpSenderStatistics), else RR; one
 * report block for the peer's current SSRC once it validated (RtpReceiverStatistics).
 * Reports we receive: an SR's NTP time is remembered for LSR/DLSR; a report block about OUR SSRC
 * gives the RTT (A − LSR − DLSR) and the loss/jitter the peer sees. Malformed compounds are counted
 * and logged once, never thrown.
 *
 * Clocks: arrival and send times for statistics and the report timer are the RTP session's clock
 * (media-clock.ts); NTP timestamps come from Date.now()
 * (RTT only needs both ends of the subtraction on our own wall clock).
 * Ownership: owned by the MediaSession; Node main thread only.
 */
import { randomBytes } from 'node:crypto';
import type { MediaTimer } from '../media-clock';
import { DOUBLE_FIELD, primeShape } from '../double-fields';
import { RtpReceiverStatistics, type ReceiverStatisticsOptions } from '../rtcp/receiver-statistics';
import { decodeRtcpCompound, type RtcpReportBlock } from '../rtcp/rtcp-packet';
import { buildCompoundReport } from '../rtcp/rtcp-report';
import { roundTripTimeMs } from '../rtcp/round-trip-time';
import { RtpSenderStatistics } from '../rtcp/sender-statistics';
import type { RtpSession } from './rtp-session';

// The receiver statistics' options literal in onRtpReceived, made once per call with its random SSRC (double-fields.ts).
primeShape({ ssrc: DOUBLE_FIELD, clockRate: 0 } satisfies ReceiverStatisticsOptions);

export const RTCP_INTERVAL_MS = 5000;

/** The peer's latest report about our stream. */
export interface RemoteReceptionReport {
  /** Fraction of our packets lost in the peer's last interval, 0..1. */
  fractionLost: number;
  cumulativeLost: number;
  /** Interarrival jitter the peer measured on our stream, ms. */
  jitterMs: number;
}

export interface RtcpStats {
  sent: number;
  received: number;
  malformed: number;
  /** Latest round-trip time from the peer's report blocks, ms. */
  roundTripTimeMs?: number;
  remote?: RemoteReceptionReport;
  /** Reception statistics of the peer's current stream (SSRC), once it validated. */
  reception?: { received: number; expected: number; cumulativeLost: number; jitterMs: number };
  /** The peer said BYE. */
  byeReceived: boolean;
}

export interface RtcpSessionOptions {
  rtp: RtpSession;
  /** Whether RTCP shares the RTP port (may change on re-INVITE: see setMux). */
  mux: boolean;
  cname?: string;
  intervalMs?: number;
  log: (message: string) => void;
  /** Each report the peer sends about our stream (after `stats().remote` took it). */
  onRemoteReport?: (report: RemoteReceptionReport) => void;
  /** An exception from the report timer's work (MediaSessionOptions.onFault); default: rethrown. */
  onFault?: (error: unknown) => void;
}

export class RtcpSession {
  private readonly rtp: RtpSession;
  private readonly cname: string;
  private readonly intervalMs: number;
  private readonly log: (message: string) => void;
  private readonly onRemoteReport: ((report: RemoteReceptionReport) => void) | undefined;
  private readonly onFault: ((error: unknown) => void) | undefined;
  private mux: boolean;
  private sender: RtpSenderStatistics | undefined;
  /** Packets we had sent at the report before the last one and at the last one (SR or RR, see sendReport). */
  private sentAtReports: [number, number] = [-1, -1];
  private receiver: RtpReceiverStatistics | undefined;
  private receiveClockRate = 8000;
  private timer: MediaTimer | undefined;
  private stopped = false;
  private readonly counts = { sent: 0, received: 0, malformed: 0 };
  private lastSendFailure: string | undefined;
  private roundTrip: number | undefined;
  private remote: RemoteReceptionReport | undefined;
  private sendClockRate = 8000;
  private byeReceived = false;
  private lastCompoundAt = Number.NEGATIVE_INFINITY;

  constructor(options: RtcpSessionOptions) {
    this.rtp = options.rtp;
    this.mux = options.mux;
    this.cname = options.cname ?? `switchboard-${randomBytes(6).toString('hex')}`;
    this.intervalMs = options.intervalMs ?? RTCP_INTERVAL_MS;
    this.log = options.log;
    this.onRemoteReport = options.onRemoteReport;
    this.onFault = options.onFault;
    this.rtp.onRtcp((data, receivedAt) => this.onCompound(data, receivedAt));
  }

  /** When the far end's last valid RTCP compound arrived (the RTP session's clock; none yet: -Infinity). */
  get lastReceivedAt(): number {
    return this.lastCompoundAt;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule(0.5);
  }

  setMux(mux: boolean): void {
    this.mux = mux;
  }

  /** Every RTP media packet we send: payload octets, the timestamp it carried, and when (the RTP session's clock). */
  onRtpSent(payloadOctets: number, rtpTimestamp: number, clockRate: number, sentAt: number): void {
    if (!this.sender || clockRate !== this.sendClockRate) {
      // A new clock (codec change) makes old timestamps meaningless for the SR: the mapping starts
      // anew, the counts go on.
      this.sendClockRate = clockRate;
      this.sender = new RtpSenderStatistics(this.rtp.ssrc, clockRate, this.sender);
    }
    this.sender.onRtpSent(payloadOctets, rtpTimestamp, sentAt);
  }

  /** Every RTP media packet received (before the jitter buffer). */
  onRtpReceived(ssrc: number, seq: number, rtpTimestamp: number, arrivalMs: number, clockRate: number): void {
    // `ssrc` is the parser's unsigned 32-bit value; no `>>> 0` here (it deoptimized at the first SSRC of 2^31 or more, see rtp-packet.ts readUint32).
    if (!this.receiver || this.receiver.ssrc !== ssrc || clockRate !== this.receiveClockRate) {
      this.receiveClockRate = clockRate;
      this.receiver = new RtpReceiverStatistics({ ssrc, clockRate });
    }
    this.receiver.onRtpPacket({ seq, rtpTimestamp, arrivalMs }); // the shape receiver-statistics.ts primes (double-fields.ts)
  }

  /**
   * A received RFC 4733 telephone-event packet: its sequence number counts (it is no loss), its
   * timestamp does not (see RtpReceiverStatistics.onRtpSequence). `clockRate` is the event's,
   * which the negotiation makes the audio's.
   */
  onEventReceived(ssrc: number, seq: number, clockRate: number): void {
    if (!this.receiver || this.receiver.ssrc !== ssrc || clockRate !== this.receiveClockRate) {
      this.receiveClockRate = clockRate;
      this.receiver = new RtpReceiverStatistics({ ssrc, clockRate });
    }
    this.receiver.onRtpSequence(seq);
  }

  stats(): RtcpStats {
    const snapshot = this.receiver?.snapshot();
    return {
      ...this.counts,
      ...(this.roundTrip !== undefined ? { roundTripTimeMs: this.roundTrip } : {}),
      ...(this.remote ? { remote: { ...this.remote } } : {}),
      ...(snapshot && snapshot.expected > 0
        ? { reception: { received: snapshot.received, expected: snapshot.expected, cumulativeLost: snapshot.cumulativeLost, jitterMs: snapshot.jitterMs } }
        : {}),
      byeReceived: this.byeReceived,
    };
  }

  /** Stop the timer; with `bye`, send a last report with BYE (call ended). */
  stop(bye: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    if (bye) this.sendReport(true);
    this.rtp.onRtcp(undefined);
  }

  private schedule(fraction: number): void {
    const delay = this.intervalMs * fraction * (0.5 + Math.random());
    this.timer = this.rtp.clock.setTimer(
      () => {
        this.timer = undefined;
        if (this.stopped) return;
        try {
          this.sendReport(false);
          this.schedule(1);
        } catch (error) {
          if (!this.onFault) throw error;
          this.onFault(error);
        }
      },
      delay,
      true,
    );
  }

  private sendReport(bye: boolean): void {
    const reports: RtcpReportBlock[] = [];
    if (this.receiver && this.receiver.snapshot().expected > 0) reports.push(this.receiver.reportBlock(this.rtp.clock.now()));
    // RFC 3550 s. 6.4: an SR if we sent RTP since the report before the last one, else an RR (a
    // call on hold both ways, inactive, sends none).
    const sent = this.sender?.packetCount ?? 0;
    const sending = this.sender?.hasSent === true && sent !== this.sentAtReports[0];
    this.sentAtReports = [this.sentAtReports[1], sent];
    try {
      const compound = buildCompoundReport({
        ssrc: this.rtp.ssrc,
        cname: this.cname,
        ...(sending ? { sender: this.sender } : {}),
        reports,
        nowUnixMs: Date.now(),
        nowMs: this.rtp.clock.now(),
        ...(bye ? { bye: {} } : {}),
      });
      if (this.rtp.sendRtcp(compound, this.mux)) this.counts.sent++;
    } catch (error) {
      // Said once per different failure: one that persists would otherwise be a line every report.
      const message = (error as Error).message;
      if (message !== this.lastSendFailure) this.log(`RTCP report not sent: ${message}`);
      this.lastSendFailure = message;
    }
  }

  private onCompound(data: Uint8Array, receivedAt: number): void {
    let packets;
    try {
      packets = decodeRtcpCompound(data);
    } catch (error) {
      if (this.counts.malformed++ === 0) this.log(`Malformed RTCP dropped: ${(error as Error).message}`);
      return;
    }
    this.counts.received++;
    this.lastCompoundAt = receivedAt;
    const arrivalUnixMs = Date.now() - (this.rtp.clock.now() - receivedAt);
    for (const packet of packets) {
      if (packet.type === 'sr') {
        // LSR/DLSR refer to the peer's stream; remember the SR even before its RTP validated.
        if (this.receiver?.ssrc === packet.ssrc) this.receiver.onSenderReport(packet.ntpTimestamp, receivedAt);
        else this.pendingSr = { ssrc: packet.ssrc, ntp: packet.ntpTimestamp, at: receivedAt };
      }
      if (packet.type === 'sr' || packet.type === 'rr') {
        for (const block of packet.reports) if (block.ssrc === this.rtp.ssrc) this.onReportAboutUs(block, arrivalUnixMs);
      }
      if (packet.type === 'bye') this.byeReceived = true;
    }
    if (this.pendingSr && this.receiver?.ssrc === this.pendingSr.ssrc) {
      this.receiver.onSenderReport(this.pendingSr.ntp, this.pendingSr.at);
      this.pendingSr = undefined;
    }
  }

  private pendingSr: { ssrc: number; ntp: bigint; at: number } | undefined;

  private onReportAboutUs(block: RtcpReportBlock, arrivalUnixMs: number): void {
    const rtt = roundTripTimeMs(block, arrivalUnixMs);
    if (rtt !== undefined) this.roundTrip = rtt;
    this.remote = {
      fractionLost: block.fractionLost / 256,
      cumulativeLost: block.cumulativeLost,
      jitterMs: (block.jitter / this.sendClockRate) * 1000,
    };
    this.onRemoteReport?.({ ...this.remote });
  }
}
