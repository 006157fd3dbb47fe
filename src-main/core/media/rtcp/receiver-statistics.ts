/**
 * Reception statistics for one remote RTP source (RFC 3550 Appendix A.1, A.3, A.8, §6.4.1).
 *
 * Contract:
 *   - onRtpPacket({ seq, rtpTimestamp, arrivalMs }) for every RTP packet of this SSRC, in arrival
 *     order. Returns whether the packet counts as valid (A.1 update_seq): false while the source is
 *     on probation (MIN_SEQUENTIAL in-order packets needed, default 2), and for a single large
 *     sequence jump (which is only accepted, as a restart, if the next packet continues it).
 *   - Sequence numbers are extended with a cycle count (wrap at 65536); a packet up to
 *     MAX_DROPOUT (3000) ahead is a jump forward (gap = loss), up to MAX_MISORDER (100) behind is
 *     late/duplicate and still counted as received — as RFC 3550 defines "received", so the
 *     cumulative lost count may go negative when duplicates outnumber losses.
 *   - Interarrival jitter: J += (|D| − J)/16 with D the difference of relative transit times in RTP
 *     timestamp units (A.8); arrival times are converted with `clockRate`.
 *   - onRtpSequence(seq) instead for a packet of this SSRC that is no audio sample of its clock
 *     (an RFC 4733 telephone-event: its timestamp is its event's start, repeated by every update,
 *     so A.8 would count the event's length as jitter): sequence accounting only. Without it the
 *     event's sequence numbers would be loss.
 *   - onSenderReport(ntpTimestamp, arrivalMs) remembers LSR and its arrival for DLSR.
 *   - reportBlock(nowMs) builds the RR/SR report block and STARTS A NEW INTERVAL for the fraction
 *     lost (A.3): call it exactly once per RTCP report sent. snapshot() reads without side effects.
 * Ownership: one instance per remote SSRC, owned by the media session, Node main thread only.
 */
import type { RtcpReportBlock } from './rtcp-packet';
import { compactNtp } from './ntp-time';
import { DOUBLE_FIELD, primeShape } from '../double-fields';

const RTP_SEQ_MOD = 0x10000;
const TWO_TO_31 = 2 ** 31;
const TWO_TO_32 = 2 ** 32;
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
export const MIN_SEQUENTIAL = 2;

export interface ReceivedRtpPacket {
  readonly seq: number;
  readonly rtpTimestamp: number;
  /** Arrival time in milliseconds on any monotonic clock (fractions allowed). */
  readonly arrivalMs: number;
}

// The RTCP session's per-packet literal, `{ seq, rtpTimestamp, arrivalMs }`: a random RTP timestamp.
primeShape({ seq: 0, rtpTimestamp: DOUBLE_FIELD, arrivalMs: DOUBLE_FIELD });

export interface ReceiverStatisticsSnapshot {
  readonly ssrc: number;
  /** Packets counted as received (incl. late and duplicate), A.3. */
  readonly received: number;
  /** extendedHighestSeq − baseSeq + 1, 0 before the source validated. */
  readonly expected: number;
  /** expected − received (may be negative, see contract). */
  readonly cumulativeLost: number;
  readonly extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units (fractional). */
  readonly jitter: number;
  readonly jitterMs: number;
  /** Fraction lost (0..1) in the interval since the last reportBlock(), as it would be reported now. */
  readonly fractionLost: number;
}

export interface ReceiverStatisticsOptions {
  readonly ssrc: number;
  /** RTP clock rate of the payload format (8000 for PCMU/PCMA/G.722, 48000 for Opus). */
  readonly clockRate: number;
  readonly minSequential?: number;
}

export class RtpReceiverStatistics {
  readonly ssrc: number = DOUBLE_FIELD; // random 32 bits (double-fields.ts)
  private readonly clockRate: number;
  private readonly minSequential: number;

  // A.1 state
  private started = false;
  private probation: number;
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private validated = false;

  // A.8 state
  private transit: number | undefined;
  private jitter = 0;

  // LSR / DLSR
  private lastSrCompact = DOUBLE_FIELD; // 32 bits of NTP time (double-fields.ts)
  private lastSrArrivalMs: number | undefined;

  constructor(options: ReceiverStatisticsOptions) {
    if (!(options.clockRate > 0)) throw new RangeError(`RTP clock rate must be positive, got ${options.clockRate}`);
    this.ssrc = options.ssrc >>> 0;
    this.clockRate = options.clockRate;
    this.minSequential = options.minSequential ?? MIN_SEQUENTIAL;
    if (!Number.isInteger(this.minSequential) || this.minSequential < 1)
      throw new RangeError(`minSequential must be an integer ≥ 1, got ${options.minSequential}`);
    this.probation = this.minSequential;
  }

  onRtpPacket(packet: ReceivedRtpPacket): boolean {
    const seq = packet.seq & 0xffff;
    if (!this.started) {
      this.initSequence(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
      this.started = true;
    }
    const valid = this.updateSequence(seq);
    if (valid) this.updateJitter(packet);
    return valid;
  }

  /** See the contract: sequence accounting without jitter; returns whether the packet is valid. */
  onRtpSequence(seq: number): boolean {
    seq &= 0xffff;
    if (!this.started) {
      this.initSequence(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
      this.started = true;
    }
    return this.updateSequence(seq);
  }

  onSenderReport(ntpTimestamp: bigint, arrivalMs: number): void {
    this.lastSrCompact = compactNtp(ntpTimestamp);
    this.lastSrArrivalMs = arrivalMs;
  }

  snapshot(): ReceiverStatisticsSnapshot {
    const expected = this.expected();
    const expectedInterval = expected - this.expectedPrior;
    const lostInterval = expectedInterval - (this.received - this.receivedPrior);
    return {
      ssrc: this.ssrc,
      received: this.received,
      expected,
      cumulativeLost: expected - this.received,
      extendedHighestSeq: this.extendedMax(),
      jitter: this.jitter,
      jitterMs: (this.jitter / this.clockRate) * 1000,
      fractionLost: expectedInterval <= 0 || lostInterval <= 0 ? 0 : lostInterval / expectedInterval,
    };
  }

  /** Report block for our next SR/RR; closes the current loss interval (A.3). */
  reportBlock(nowMs: number): RtcpReportBlock {
    const expected = this.expected();
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
    const sinceSr = this.lastSrArrivalMs === undefined ? 0 : Math.max(0, nowMs - this.lastSrArrivalMs);
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: lost,
      extendedHighestSeq: this.extendedMax() >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lastSenderReport: this.lastSrArrivalMs === undefined ? 0 : this.lastSrCompact,
      delaySinceLastSenderReport: this.lastSrArrivalMs === undefined ? 0 : Math.round((sinceSr / 1000) * 65536) >>> 0,
    };
  }

  private expected(): number {
    return this.validated ? this.extendedMax() - this.baseSeq + 1 : 0;
  }

  private extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  private initSequence(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1; // so seq == badSeq is false
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** RFC 3550 A.1 update_seq. */
  private updateSequence(seq: number): boolean {
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSequence(seq);
          this.validated = true;
          this.received++;
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return false;
    } else if (udelta < MAX_DROPOUT) {
      // in order, with permissible gap
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD; // wrapped
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // the sequence number made a very large jump
      if (seq === this.badSeq) {
        // two sequential packets: assume the other side restarted without telling us
        this.initSequence(seq);
        this.transit = undefined;
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
    } else {
      // duplicate or reordered packet: counted as received, max unchanged
    }
    this.received++;
    return true;
  }

  /** RFC 3550 A.8. */
  private updateJitter(packet: ReceivedRtpPacket): void {
    const arrival = (packet.arrivalMs * this.clockRate) / 1000;
    // Work modulo 2^32 like the RTP timestamp itself, so timestamp wrap does not spike D.
    const transit = arrival - packet.rtpTimestamp;
    if (this.transit === undefined) {
      this.transit = transit;
      return;
    }
    let d = transit - this.transit;
    this.transit = transit;
    // Nearly always already in range: the floating-point modulo (a C call in V8) only when not.
    if (d < -TWO_TO_31 || d >= TWO_TO_31) d = ((((d + TWO_TO_31) % TWO_TO_32) + TWO_TO_32) % TWO_TO_32) - TWO_TO_31;
    this.jitter += (Math.abs(d) - this.jitter) / 16;
  }
}
