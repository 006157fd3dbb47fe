/**
 * The UDP socket of one RTP stream, with symmetric RTP ("comedia", RFC 4961 behaviour).
 *
 * Port: RTP uses an EVEN port so that RTCP can use port+1 (RFC 3550 section 11). We bind port 0
 * and keep the socket only if the kernel gave us an even port AND port+1 is free for RTCP (bound
 * at once as the `rtcp` companion, so nobody takes it while the call is set up); otherwise retry.
 * The companion is used when rtcp-mux is not negotiated; it follows the same latching rules.
 *
 * Remote address (latching) rules:
 * - Until the stream is latched we send to the address from the remote SDP (`setRemote`).
 * - Latching: from then on we send where the far end's packets come from (what makes media work
 *   behind NAT, where the SDP advertises a private address the packets never come from), and
 *   datagrams from any other source are dropped (and counted): a stranger must not be able to
 *   inject audio or take the stream. What latches:
 *   1. the first datagram from the SDP's address and port that the receiver accepts (with SRTP:
 *      that authenticates);
 *   2. with SRTP, a datagram from anywhere that authenticates (only the peer has its key);
 *   3. plain RTP from another address (the NAT case): two datagrams in a row from one source, of
 *      one SSRC, the second with the next sequence number (RTCP: two of one SSRC). Until then what
 *      comes from there is not played (the receiver is told the source is not trusted); once
 *      latched, the first is played before the second. One stray or sprayed datagram no longer
 *      takes the stream (before session 27 the first plausible datagram from anyone did, also with
 *      SRTP: our RTP then went to the stranger and the kernel dropped the real peer's). Such a
 *      latch is provisional: a datagram from the SDP's address takes the stream over (rule 1).
 * - `setRemote` (new remote SDP, e.g. re-INVITE) clears the latch, so a moved peer is followed.
 *
 * Connected while latched (rules 1 and 2; a provisional latch stays unconnected so that the SDP's
 * address can still take over): latching also `connect()`s the socket to the latched source, and
 * `setRemote` disconnects it. So the kernel drops datagrams from any other source before they
 * wake us (a stranger's RTP flood costs the process nothing; the check above only counts what was
 * queued before the latch), and a send carries no address (Node no longer converts the address
 * string, nor the kernel looks up the route, for every datagram: the bench's bare-Node floor cost
 * 0.89x side by side, the headless in calls 0.95x / 1.00x, within that bench's noise; README,
 * session 20). A connected UDP socket also hears the peer's ICMP port-unreachable (ECONNREFUSED on
 * its next receive or send: the far end closed its port, e.g. it hung up first, or one-way audio
 * to a dead address): counted in `peerUnreachable`, reported once per latch, never fatal.
 *
 * Ownership: one socket per RTP stream, owned by its RtpSession; Node main thread only.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { isRtcpDatagram } from '../rtcp/rtcp-mux';

export interface TransportAddress {
  address: string;
  port: number;
}

export function formatTransportAddress(a: TransportAddress): string {
  return isIP(a.address) === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export interface RtpStreamSocketCounters {
  /** Datagrams from a source other than the latched one that reached us (queued before the latch connected the socket; later ones the kernel drops, see header). */
  foreignSourceDropped: number;
  /** Datagrams dropped because they were too short or not RTP version 2. */
  implausibleDropped: number;
  /** Datagrams we had to drop because no remote address is known yet. */
  sendWithoutRemote: number;
  /** ICMP port-unreachable from the latched peer, reported by the kernel on the connected socket (see header). */
  peerUnreachable: number;
}

/**
 * Where a socket's datagrams go: an object with a method, not a callback, so the per-packet call
 * has one target in every call (the receiver class's method). With a closure made per call, each
 * call's first packet was a new target: V8 threw the optimized receive code away ("wrong call
 * target") and, in the headless, did not compile it again for the rest of the process (V8's log
 * of a bench run, session 18: the receive path on baseline code from the second call on).
 */
export interface DatagramReceiver {
  /**
   * One datagram of this socket. `trusted` (default true) false: its source is not (yet) this
   * stream's; the receiver MUST NOT play or count what it cannot authenticate from it. Returns
   * 'authentic' when the datagram authenticated (SRTP/SRTCP), 'unverified' for a well-formed
   * datagram without authentication, 'rejected' otherwise (see the latching rules above).
   */
  receiveDatagram(data: Buffer, source: TransportAddress, trusted?: boolean): DatagramVerdict;
}

export type DatagramVerdict = 'authentic' | 'unverified' | 'rejected';

/** A source being learned (rule 3): its first datagram waits to be played once it is latched. */
interface Candidate {
  address: string;
  port: number;
  ssrc: number;
  seq: number;
  rtcp: boolean;
  first: Buffer;
}

/** SSRC (RTP: bytes 8-11; RTCP: the sender's, 4-7) and sequence number (RTP only) of a datagram. */
function streamIdOf(data: Buffer): { ssrc: number; seq: number; rtcp: boolean } | undefined {
  const rtcp = isRtcpDatagram(data);
  if (rtcp) return { ssrc: data.readUInt32BE(4), seq: -1, rtcp };
  if (data.length < 12) return undefined;
  return { ssrc: data.readUInt32BE(8), seq: data.readUInt16BE(2), rtcp };
}

/** Cheap check before latching: RTP/RTCP version 2 and at least an RTCP header's length. */
function isPlausibleRtpOrRtcp(data: Buffer): boolean {
  return data.length >= 8 && data[0]! >> 6 === 2;
}

/**
 * dgram resolves the destination of every send, even an IP literal, through dns.lookup, which
 * answers on the next tick: a deferred callback per RTP packet. Media destinations come from SDP
 * and are IP addresses, so answer those synchronously; anything else goes to the real resolver.
 * The last literal is remembered: isIP runs a regular expression, and a stream sends to one address.
 */
let lastLiteral = { hostname: '', family: 0 };
function literalFirstLookup(
  hostname: string,
  options: LookupOneOptions | number,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  if (hostname !== lastLiteral.hostname) {
    const family = isIP(hostname);
    if (family === 0) {
      dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
      return;
    }
    lastLiteral = { hostname, family };
  }
  callback(null, hostname, lastLiteral.family);
}

/** Check a send's outcome once per this many datagrams (see `send`). */
const SEND_CHECK_EVERY = 50;

function bindUdp(address: string, port: number): Promise<Socket> {
  const type = isIP(address) === 6 ? 'udp6' : 'udp4';
  const socket = createSocket({ type, reuseAddr: false, lookup: literalFirstLookup });
  return new Promise<Socket>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  }).catch((error: unknown) => {
    socket.close();
    throw error;
  });
}

/** Whether Node has the socket connected; `remoteAddress()` is its one public view of that (it throws when not). */
function isConnected(socket: Socket): boolean {
  try {
    socket.remoteAddress();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_SOCKET_DGRAM_NOT_CONNECTED') return false;
    throw error;
  }
}

function closeQuietly(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => socket.close(() => resolve()));
}

/**
 * An even RTP port and, when `withRtcp`, the odd port above it. The kernel picks the port (a
 * socket bound to port 0), but the socket kept is bound to it BY NUMBER: Linux takes its port away
 * from a UDP socket bound to port 0 when it is disconnected (the port is "not locked": the socket
 * is unhashed and would bind a new port at its next send), and `setRemote` disconnects (see header).
 * Someone may take the port between the two binds: then another pair is tried.
 */
async function bindEvenPair(address: string, maxAttempts: number, withRtcp: boolean): Promise<[Socket, Socket | undefined]> {
  if (isIP(address) === 0) throw new Error(`RTP bind address must be an IP address, got "${address}"`);
  let lastProblem = '';
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    let probe: Socket;
    try {
      probe = await bindUdp(address, 0);
    } catch (error) {
      throw new Error(`Cannot bind an RTP socket on ${address}: ${(error as Error).message}`, { cause: error });
    }
    const port = probe.address().port;
    await closeQuietly(probe);
    if (port % 2 !== 0) {
      lastProblem = `got odd port ${port}`;
      continue;
    }
    let socket: Socket;
    try {
      socket = await bindUdp(address, port);
    } catch (error) {
      lastProblem = `RTP port ${port}: ${(error as Error).message}`;
      continue;
    }
    if (!withRtcp) return [socket, undefined];
    try {
      return [socket, await bindUdp(address, port + 1)];
    } catch (error) {
      // Port+1 is taken (or the bind failed): try another pair.
      lastProblem = `RTCP port ${port + 1}: ${(error as Error).message}`;
      await closeQuietly(socket);
    }
  }
  throw new Error(`Could not get an even UDP port pair on ${address} after ${maxAttempts} attempts (last: ${lastProblem})`);
}

export class RtpStreamSocket {
  readonly counters: RtpStreamSocketCounters = { foreignSourceDropped: 0, implausibleDropped: 0, sendWithoutRemote: 0, peerUnreachable: 0 };
  private sdpRemote: TransportAddress | undefined;
  private latched: TransportAddress | undefined;
  /** The latch came from learning (rule 3): the SDP's address may still take over. */
  private provisional = false;
  private candidate: Candidate | undefined;
  /** Connected to `latched` (see header): sends carry no address. */
  private connected = false;
  /** This latch's first ICMP port-unreachable was reported (see header). */
  private unreachableReported = false;
  /** Closed until the constructor has wired the socket (see there). */
  private closed = true;
  private receiver: DatagramReceiver | undefined;
  private sendsUntilCheck = 0;

  private constructor(
    private readonly socket: Socket,
    readonly local: TransportAddress,
  ) {
    socket.on('message', (data, rinfo) => {
      try {
        this.onMessage(data, rinfo);
      } catch (error) {
        // What the receiver's work threw (a bug, a codec failing): the owner's to handle; never
        // the event loop's (it would end the process, every call with it).
        this.fault(error);
      }
    });
    // ICMP errors surface here (see header); a media socket must survive them.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!this.peerUnreachable(error)) this.onError?.(error);
    });
    // Open from here on. Written here as well as in close(), so V8 never compiles the per-packet
    // code with `closed` as a constant (see media-session.ts, "Teardown and V8").
    this.closed = false;
  }

  /** Optional sink for socket errors (logged by the owner). */
  onError: ((error: Error) => void) | undefined;

  /** An exception from the receiver's work on a datagram (RTP or RTCP); without one it is rethrown. */
  onFault: ((error: unknown) => void) | undefined;

  /** To onFault, or rethrown where nobody took it (the RTCP companion's go to this socket's). */
  private fault(error: unknown): void {
    if (!this.onFault) throw error;
    this.onFault(error);
  }

  /** The RTCP socket on port+1, when opened with `withRtcp` (default). Closed with this one. */
  rtcp: RtpStreamSocket | undefined;

  /** Bind a socket on `bindAddress` with an even port (and its RTCP companion on port+1). */
  static async open(bindAddress: string, maxAttempts = 64, withRtcp = true): Promise<RtpStreamSocket> {
    const [socket, rtcpSocket] = await bindEvenPair(bindAddress, maxAttempts, withRtcp);
    const stream = new RtpStreamSocket(socket, { address: bindAddress, port: socket.address().port });
    if (rtcpSocket) {
      stream.rtcp = new RtpStreamSocket(rtcpSocket, { address: bindAddress, port: rtcpSocket.address().port });
      stream.rtcp.onError = (error) => stream.onError?.(error);
      stream.rtcp.onFault = (error) => stream.fault(error);
    }
    return stream;
  }

  /** Set the destination from the remote SDP; clears any latch (the peer may have moved). */
  setRemote(remote: TransportAddress | undefined): void {
    this.sdpRemote = remote ? { ...remote } : undefined;
    this.latched = undefined;
    this.provisional = false;
    this.candidate = undefined;
    if (this.connected) {
      this.connected = false;
      if (!this.closed) this.socket.disconnect();
    }
  }

  /** The address the kernel has this socket connected to (the latched source), if any. */
  get connectedTo(): TransportAddress | undefined {
    if (this.closed || !isConnected(this.socket)) return undefined;
    const { address, port } = this.socket.remoteAddress();
    return { address, port };
  }

  /** Where packets go now: the latched source if any, else the SDP address. */
  get remote(): TransportAddress | undefined {
    return this.latched ?? this.sdpRemote;
  }

  get isLatched(): boolean {
    return this.latched !== undefined;
  }

  /** Hand every plausible datagram from the latched (or first) source to `receiver`. */
  onDatagram(receiver: DatagramReceiver | undefined): void {
    this.receiver = receiver;
  }

  /**
   * Send one datagram to the current remote. Returns false when there is nowhere to send.
   * A send callback costs a deferred call per packet, so the outcome is checked on the first
   * datagram and then once every SEND_CHECK_EVERY (once a second at 20 ms ptime): a broken route
   * is reported within a second, and keeps being reported while it lasts.
   */
  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    const remote = this.remote;
    if (!remote || remote.port === 0) {
      this.counters.sendWithoutRemote++;
      return false;
    }
    if (this.sendsUntilCheck-- > 0) {
      if (this.connected) this.socket.send(data);
      else this.socket.send(data, remote.port, remote.address);
      return true;
    }
    this.sendsUntilCheck = SEND_CHECK_EVERY - 1;
    const checked = (error: NodeJS.ErrnoException | null) => {
      if (error && !this.peerUnreachable(error)) this.onError?.(new Error(`RTP send to ${formatTransportAddress(remote)} failed: ${error.message}`, { cause: error }));
    };
    if (this.connected) this.socket.send(data, checked);
    else this.socket.send(data, remote.port, remote.address, checked);
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.receiver = undefined;
    await Promise.all([closeQuietly(this.socket), this.rtcp?.close()]);
  }

  private onMessage(data: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    if (!isPlausibleRtpOrRtcp(data)) {
      this.counters.implausibleDropped++;
      return;
    }
    const latched = this.latched;
    if (latched && latched.address === rinfo.address && latched.port === rinfo.port) {
      this.receiver?.receiveDatagram(data, rinfo); // rinfo is a fresh object per datagram (Node's), not copied again
      return;
    }
    if (latched && !this.provisional) {
      this.counters.foreignSourceDropped++;
      return;
    }
    this.fromUnlatchedSource(data, rinfo);
  }

  /** A datagram while not latched, or latched provisionally to another source: the latching rules. */
  private fromUnlatchedSource(data: Buffer, rinfo: RemoteInfo): void {
    const receiver = this.receiver;
    if (!receiver) return;
    const sdp = this.sdpRemote;
    const signalled = sdp !== undefined && sdp.address === rinfo.address && sdp.port === rinfo.port;
    const verdict = receiver.receiveDatagram(data, rinfo, signalled);
    if (verdict === 'authentic' || (signalled && verdict === 'unverified')) {
      this.latch({ address: rinfo.address, port: rinfo.port }, false);
      return;
    }
    if (verdict !== 'unverified' || this.latched) {
      this.counters.foreignSourceDropped++;
      return;
    }
    // Rule 3: learn the source from two datagrams in a row.
    const id = streamIdOf(data);
    if (!id) return;
    const candidate = this.candidate;
    const follows =
      candidate !== undefined &&
      candidate.address === rinfo.address &&
      candidate.port === rinfo.port &&
      candidate.ssrc === id.ssrc &&
      candidate.rtcp === id.rtcp &&
      (id.rtcp || id.seq === ((candidate.seq + 1) & 0xffff));
    if (!follows) {
      this.candidate = { address: rinfo.address, port: rinfo.port, ...id, first: data };
      return;
    }
    this.candidate = undefined;
    this.latch({ address: rinfo.address, port: rinfo.port }, true);
    receiver.receiveDatagram(candidate.first, rinfo);
    receiver.receiveDatagram(data, rinfo);
  }

  /** The peer's ICMP port-unreachable (see header): counted, reported once per latch. False for any other error. */
  private peerUnreachable(error: NodeJS.ErrnoException): boolean {
    if (error.code !== 'ECONNREFUSED') return false;
    this.counters.peerUnreachable++;
    if (!this.unreachableReported) {
      this.unreachableReported = true;
      const peer = this.latched ? formatTransportAddress(this.latched) : 'the peer';
      this.onError?.(new Error(`${peer} is not receiving (ICMP port unreachable); further ones only counted`, { cause: error }));
    }
    return true;
  }

  /** Latch to `source`; connect the socket to it unless the latch is `provisional` (see header). */
  private latch(source: TransportAddress, provisional: boolean): void {
    this.latched = source;
    this.provisional = provisional;
    this.candidate = undefined;
    this.unreachableReported = false;
    if (provisional) {
      if (this.connected) {
        this.connected = false;
        this.socket.disconnect();
      }
      return;
    }
    // Node resolves the address with the socket's lookup (literalFirstLookup: at once for an IP
    // literal, which a datagram's source always is), so the socket is connected on return; the
    // callback only reports a failure (then sends keep their address).
    this.socket.connect(source.port, source.address, (error?: Error) => {
      if (error) this.onError?.(new Error(`Cannot connect the RTP socket to ${formatTransportAddress(source)}: ${error.message}`, { cause: error }));
    });
    this.connected = isConnected(this.socket);
  }
}
