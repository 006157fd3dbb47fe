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
 * Receiving: datagrams that are not valid RTP are counted and dropped. RTCP multiplexed on the
 * same port (RFC 5761: payload type 64..95 in the second byte) and everything arriving on the
 * socket's RTCP companion (port+1) is counted, SRTCP-unprotected when `srtp` is set, and handed
 * to `onRtcp`.
 * Sending RTCP: `sendRtcp(bytes, mux)` goes out on the RTP socket when rtcp-mux was negotiated,
 * else on the companion socket (whose remote the owner sets from the SDP: port+1 or a=rtcp).
 *
 * Ownership: owns its RtpStreamSocket; Node main thread only.
 */
import { randomInt } from 'node:crypto';
import { parseRtpPacket, serializeRtpFrame, serializeRtpPacket, RtpParseError, type RtpPacket } from './rtp-packet';
import { isRtcpDatagram } from '../rtcp/rtcp-mux';
import type { DatagramReceiver, DatagramVerdict, RtpStreamSocket, TransportAddress } from './rtp-stream-socket';
import type { SrtpSession } from '../srtp/srtp-session';
import { SrtpError } from '../srtp/srtp-error';
import { systemMediaClock, type MediaClock } from '../media-clock';
import { DOUBLE_FIELD } from '../double-fields';

export interface RtpCounters {
  packetsSent: number;
  /** Payload octets sent (RFC 3550 "sender's octet count"). */
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  malformedReceived: number;
  rtcpReceived: number;
  rtcpSent: number;
  /** SRTP packets dropped because they failed unprotect (wrong key, replay, ...), by reason. */
  srtpDropped: Record<string, number>;
  /** `clock.now()` when the first packet was sent / received, for benchmarks. */
  firstSentAt?: number;
  firstReceivedAt?: number;
}

export interface RtpSendState {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
}

/**
 * Receives each valid RTP packet: the packet (views into the datagram, see rtp-packet.ts),
 * `clock.now()` at its arrival, and where it came from. Arguments, not one object: this runs for
 * every packet, and each object a packet costs is memory it touches. An object with a method,
 * not a callback made per call (see DatagramReceiver in rtp-stream-socket.ts).
 */
export interface RtpPacketReceiver {
  receiveRtp(packet: RtpPacket, receivedAt: number, source: TransportAddress): void;
}

/** The RTCP companion socket's datagrams (port+1): all RTCP, whatever their first bytes say. */
class RtcpCompanionReceiver implements DatagramReceiver {
  constructor(private readonly session: RtpSession) {}
  receiveDatagram(data: Buffer, _source: TransportAddress, trusted = true): DatagramVerdict {
    return this.session.receiveRtcpDatagram(data, trusted);
  }
}

function randomUint32(): number {
  // randomInt's range is limited to < 2^48 span, fine for 32 bits.
  return randomInt(0, 0x1_0000_0000);
}

export class RtpSession implements DatagramReceiver {
  readonly counters: RtpCounters = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    malformedReceived: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
    srtpDropped: {},
  };
  /**
   * SRTP layer (media-B): when set, every RTP packet is protected before it is sent and every
   * datagram unprotected before it is parsed; packets failing unprotect are counted and dropped.
   * Set/replaced by the session description handler after each offer/answer.
   */
  srtp: SrtpSession | undefined;
  private readonly state: RtpSendState;
  private nextMarker = true;
  private packetReceiver: RtpPacketReceiver | undefined;
  private rtcpHandler: ((data: Uint8Array, receivedAt: number) => void) | undefined;
  private resolveFirstSent!: (at: number) => void;
  private resolveFirstReceived!: (at: number) => void;
  /** Resolves with `clock.now()` of the first packet sent. */
  readonly firstPacketSent: Promise<number>;
  /** Resolves with `clock.now()` of the first valid RTP packet received. */
  readonly firstPacketReceived: Promise<number>;

  constructor(
    readonly socket: RtpStreamSocket,
    initial?: Partial<RtpSendState>,
    /** Stamps arrivals; the media and RTCP sessions on this RTP session run on it (media-clock.ts). */
    readonly clock: MediaClock = systemMediaClock,
  ) {
    // SSRC and timestamp: random 32-bit numbers, double fields from the start (double-fields.ts).
    this.state = { ssrc: DOUBLE_FIELD, sequenceNumber: 0, timestamp: DOUBLE_FIELD };
    this.state.ssrc = initial?.ssrc ?? randomUint32();
    this.state.sequenceNumber = initial?.sequenceNumber ?? randomInt(0, 0x10000);
    this.state.timestamp = initial?.timestamp ?? randomUint32();
    this.firstPacketSent = new Promise((resolve) => (this.resolveFirstSent = resolve));
    this.firstPacketReceived = new Promise((resolve) => (this.resolveFirstReceived = resolve));
    socket.onDatagram(this);
    socket.rtcp?.onDatagram(new RtcpCompanionReceiver(this));
  }

  get ssrc(): number {
    return this.state.ssrc;
  }

  /** RTP timestamp the next frame will carry (no copy: read once per frame). */
  get nextTimestamp(): number {
    return this.state.timestamp;
  }

  /** The values the next packet will carry. */
  get sendState(): Readonly<RtpSendState> {
    return { ...this.state };
  }

  /** Where valid RTP packets go (undefined: dropped after counting). */
  onPacket(receiver: RtpPacketReceiver | undefined): void {
    this.packetReceiver = receiver;
  }

  /** Receive RTCP compounds (muxed or from port+1), with `clock.now()` at arrival. */
  onRtcp(handler: ((data: Uint8Array, receivedAt: number) => void) | undefined): void {
    this.rtcpHandler = handler;
  }

  /**
   * Send one RTCP compound: on the RTP port when `mux`, else from our port+1 to the RTCP remote.
   * Returns false when there is no socket or remote to send with.
   */
  sendRtcp(data: Uint8Array, mux: boolean): boolean {
    const socket = mux ? this.socket : this.socket.rtcp;
    if (!socket) return false;
    const sent = socket.send(this.srtp ? this.srtp.protectRtcp(data) : data);
    if (sent) this.counters.rtcpSent++;
    return sent;
  }

  /**
   * Send one frame and advance the timestamp by `timestampIncrement` (samples at the RTP clock
   * rate covered by this frame). Returns false if there was no remote to send to; the sequence
   * number and timestamp advance anyway so the stream stays consistent.
   */
  sendFrame(payloadType: number, payload: Uint8Array, timestampIncrement: number): boolean {
    const bytes = serializeRtpFrame(this.nextMarker, payloadType, this.state.sequenceNumber, this.state.timestamp, this.state.ssrc, payload);
    this.state.sequenceNumber = (this.state.sequenceNumber + 1) & 0xffff;
    this.state.timestamp = (this.state.timestamp + timestampIncrement) >>> 0;
    const sent = this.socket.send(this.srtp ? this.srtp.protectRtp(bytes) : bytes);
    if (sent) {
      this.nextMarker = false;
      this.counters.packetsSent++;
      this.counters.bytesSent += payload.length;
      if (this.counters.firstSentAt === undefined) this.onFirstSent();
    }
    return sent;
  }

  /**
   * Send one packet with an explicit timestamp and marker that does NOT advance the stream's
   * timestamp (RFC 4733 telephone-events share the event start timestamp). Same SSRC/sequence.
   */
  sendEvent(payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): boolean {
    const bytes = serializeRtpPacket({
      marker,
      payloadType,
      sequenceNumber: this.state.sequenceNumber,
      timestamp,
      ssrc: this.state.ssrc,
      csrcs: [],
      payload,
      paddingLength: 0,
    });
    this.state.sequenceNumber = (this.state.sequenceNumber + 1) & 0xffff;
    const sent = this.socket.send(this.srtp ? this.srtp.protectRtp(bytes) : bytes);
    if (sent) {
      this.counters.packetsSent++;
      this.counters.bytesSent += payload.length;
    }
    return sent;
  }

  /** Advance the timestamp over a frame we do not send (silence, hold, lag); next packet gets the marker. */
  skip(timestampIncrement: number): void {
    this.state.timestamp = (this.state.timestamp + timestampIncrement) >>> 0;
    this.nextMarker = true;
  }

  async close(): Promise<void> {
    this.packetReceiver = undefined;
    await this.socket.close();
  }

  /**
   * The first packet's bookkeeping, out of line: sendFrame and onDatagram run for every packet,
   * and a call in them to this session's own promise resolver (a different function in every
   * session) made V8 throw their optimized code away at the next session's first packet.
   */
  private onFirstSent(): void {
    this.counters.firstSentAt = this.clock.now();
    this.resolveFirstSent(this.counters.firstSentAt);
  }

  private onFirstReceived(receivedAt: number): void {
    this.counters.firstReceivedAt = receivedAt;
    this.resolveFirstReceived(receivedAt);
  }

  /**
   * A datagram of the RTCP companion socket, or RTCP muxed on the RTP port: SRTCP-unprotected,
   * counted, handed on; plain RTCP from a source not `trusted` is only judged (DatagramReceiver).
   */
  receiveRtcpDatagram(wire: Uint8Array, trusted = true): DatagramVerdict {
    let data = wire;
    if (this.srtp) {
      try {
        data = this.srtp.unprotectRtcp(wire);
      } catch (error) {
        if (!(error instanceof SrtpError)) throw error;
        this.counters.srtpDropped[`rtcp-${error.reason}`] = (this.counters.srtpDropped[`rtcp-${error.reason}`] ?? 0) + 1;
        return 'rejected';
      }
    } else if (!trusted) {
      return 'unverified';
    }
    this.counters.rtcpReceived++;
    this.rtcpHandler?.(data, this.clock.now());
    return this.srtp ? 'authentic' : 'unverified';
  }

  /** A datagram of the RTP socket (the socket calls this): RTP, or RTCP muxed on the port (RFC 5761). */
  receiveDatagram(wire: Buffer, source: TransportAddress, trusted = true): DatagramVerdict {
    if (isRtcpDatagram(wire)) return this.receiveRtcpDatagram(wire, trusted);
    let data = wire;
    if (this.srtp) {
      try {
        // A Buffer like every plain datagram, so the parser sees one kind of array.
        const plain = this.srtp.unprotectRtp(wire);
        data = Buffer.from(plain.buffer, plain.byteOffset, plain.length);
      } catch (error) {
        if (!(error instanceof SrtpError)) throw error;
        if (trusted) this.counters.srtpDropped[error.reason] = (this.counters.srtpDropped[error.reason] ?? 0) + 1;
        return 'rejected';
      }
    }
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch (error) {
      if (error instanceof RtpParseError) {
        if (trusted) this.counters.malformedReceived++;
        return 'rejected';
      }
      throw error;
    }
    if (!trusted && !this.srtp) return 'unverified';
    const receivedAt = this.clock.now();
    this.counters.packetsReceived++;
    this.counters.bytesReceived += packet.payload.length;
    if (this.counters.firstReceivedAt === undefined) this.onFirstReceived(receivedAt);
    this.packetReceiver?.receiveRtp(packet, receivedAt, source);
    return this.srtp ? 'authentic' : 'unverified';
  }
}
