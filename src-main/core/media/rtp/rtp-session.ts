/**
 * One RTP session (RFC 3550) for one media stream: our sending state (SSRC, sequence number,
 * timestamp), parsing of what arrives, and the counters a call summary and benchmarks need.
 *
 * Sending rules:
 * - SSRC, initial sequence number and initial timestamp are random (RFC 3550 section 5.1).
 * - The sequence number increases by one per packet sent, wrapping at 2^16.
 * - The timestamp advances by the number of samples (at the RTP clock rate) each frame covers,
 *   wrapping at 2^32, including frames we did not send (`skip`), so the receiver's timeline
 *   stays true.
 * - The marker bit is set on the first packet of a talkspurt: the first packet of the stream and
 *   the first packet after `skip` (RFC 3551 section 4.1).
 *
 * Receiving: datagrams that are not valid RTP are counted and dropped; RTCP multiplexed on the
 * same port (RFC 5761: payload type 64..95 in the second byte) is counted and not passed on,
 * until an RTCP module takes it.
 *
 * Ownership: owns its RtpStreamSocket; Node main thread only.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseRtpPacket, serializeRtpPacket, RtpParseError, type RtpPacket } from './rtp-packet';
import type { RtpStreamSocket, TransportAddress } from './rtp-stream-socket';

export interface RtpCounters {
  packetsSent: number;
  /** Payload octets sent (RFC 3550 "sender's octet count"). */
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  malformedReceived: number;
  rtcpReceived: number;
  /** `performance.now()` when the first packet was sent / received, for benchmarks. */
  firstSentAt?: number;
  firstReceivedAt?: number;
}

export interface RtpSendState {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
}

export interface ReceivedRtp {
  packet: RtpPacket;
  source: TransportAddress;
  /** `performance.now()` at arrival. */
  receivedAt: number;
}

function randomUint32(): number {
  // randomInt's range is limited to < 2^48 span, fine for 32 bits.
  return randomInt(0, 0x1_0000_0000);
}

export class RtpSession {
  readonly counters: RtpCounters = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    malformedReceived: 0,
    rtcpReceived: 0,
  };
  private readonly state: RtpSendState;
  private nextMarker = true;
  private packetHandler: ((rtp: ReceivedRtp) => void) | undefined;
  private resolveFirstSent!: (at: number) => void;
  private resolveFirstReceived!: (at: number) => void;
  /** Resolves with `performance.now()` of the first packet sent. */
  readonly firstPacketSent: Promise<number>;
  /** Resolves with `performance.now()` of the first valid RTP packet received. */
  readonly firstPacketReceived: Promise<number>;

  constructor(
    readonly socket: RtpStreamSocket,
    initial?: Partial<RtpSendState>,
  ) {
    this.state = {
      ssrc: initial?.ssrc ?? randomUint32(),
      sequenceNumber: initial?.sequenceNumber ?? randomInt(0, 0x10000),
      timestamp: initial?.timestamp ?? randomUint32(),
    };
    this.firstPacketSent = new Promise((resolve) => (this.resolveFirstSent = resolve));
    this.firstPacketReceived = new Promise((resolve) => (this.resolveFirstReceived = resolve));
    socket.onDatagram((data, source) => this.onDatagram(data, source));
  }

  get ssrc(): number {
    return this.state.ssrc;
  }

  /** The values the next packet will carry. */
  get sendState(): Readonly<RtpSendState> {
    return { ...this.state };
  }

  onPacket(handler: (rtp: ReceivedRtp) => void): void {
    this.packetHandler = handler;
  }

  /**
   * Send one frame and advance the timestamp by `timestampIncrement` (samples at the RTP clock
   * rate covered by this frame). Returns false if there was no remote to send to; the sequence
   * number and timestamp advance anyway so the stream stays consistent.
   */
  sendFrame(payloadType: number, payload: Uint8Array, timestampIncrement: number): boolean {
    const bytes = serializeRtpPacket({
      marker: this.nextMarker,
      payloadType,
      sequenceNumber: this.state.sequenceNumber,
      timestamp: this.state.timestamp,
      ssrc: this.state.ssrc,
      csrcs: [],
      payload,
      paddingLength: 0,
    });
    this.state.sequenceNumber = (this.state.sequenceNumber + 1) & 0xffff;
    this.state.timestamp = (this.state.timestamp + timestampIncrement) >>> 0;
    const sent = this.socket.send(bytes);
    if (sent) {
      this.nextMarker = false;
      this.counters.packetsSent++;
      this.counters.bytesSent += payload.length;
      if (this.counters.firstSentAt === undefined) {
        this.counters.firstSentAt = performance.now();
        this.resolveFirstSent(this.counters.firstSentAt);
      }
    }
    return sent;
  }

  /** Advance the timestamp over a frame we do not send (silence, hold, lag); next packet gets the marker. */
  skip(timestampIncrement: number): void {
    this.state.timestamp = (this.state.timestamp + timestampIncrement) >>> 0;
    this.nextMarker = true;
  }

  async close(): Promise<void> {
    this.packetHandler = undefined;
    await this.socket.close();
  }

  private onDatagram(data: Buffer, source: TransportAddress): void {
    const secondByte = data[1]! & 0x7f;
    if (secondByte >= 64 && secondByte <= 95) {
      this.counters.rtcpReceived++;
      return;
    }
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch (error) {
      if (error instanceof RtpParseError) {
        this.counters.malformedReceived++;
        return;
      }
      throw error;
    }
    const receivedAt = performance.now();
    this.counters.packetsReceived++;
    this.counters.bytesReceived += packet.payload.length;
    if (this.counters.firstReceivedAt === undefined) {
      this.counters.firstReceivedAt = receivedAt;
      this.resolveFirstReceived(receivedAt);
    }
    this.packetHandler?.({ packet, source, receivedAt });
  }
}
