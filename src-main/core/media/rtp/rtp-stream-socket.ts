/**
 * The UDP socket of one RTP stream, with symmetric RTP ("comedia", RFC 4961 behaviour).
 *
 * Port: RTP uses an EVEN port so that RTCP can use port+1 (RFC 3550 section 11). We bind port 0
 * and keep the socket only if the kernel gave us an even port AND port+1 is free for RTCP (bound
 * at once as the `rtcp` companion, so nobody takes it while the call is set up); otherwise retry.
 * The companion is used when rtcp-mux is not negotiated; it follows the same latching rules.
 *
 * Remote address (latching) rules:
 * - Until the first plausible RTP/RTCP datagram arrives we send to the address from the remote
 *   SDP (`setRemote`).
 * - The first plausible datagram "latches" the stream to its real source address:port; from then
 *   on we send there. This is what makes media work behind NAT, where the SDP advertises a
 *   private address the packets never come from.
 * - After latching, datagrams from any other source are dropped (and counted): a stranger must
 *   not be able to inject audio or steal the stream.
 * - `setRemote` (new remote SDP, e.g. re-INVITE) clears the latch, so a moved peer is followed.
 *
 * Ownership: one socket per RTP stream, owned by its RtpSession; Node main thread only.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

export interface TransportAddress {
  address: string;
  port: number;
}

export function formatTransportAddress(a: TransportAddress): string {
  return isIP(a.address) === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export interface RtpStreamSocketCounters {
  /** Datagrams dropped because they came from a source other than the latched one. */
  foreignSourceDropped: number;
  /** Datagrams dropped because they were too short or not RTP version 2. */
  implausibleDropped: number;
  /** Datagrams we had to drop because no remote address is known yet. */
  sendWithoutRemote: number;
}

/**
 * Where a socket's datagrams go: an object with a method, not a callback, so the per-packet call
 * has one target in every call (the receiver class's method). With a closure made per call, each
 * call's first packet was a new target: V8 threw the optimized receive code away ("wrong call
 * target") and, in the headless, did not compile it again for the rest of the process (V8's log
 * of a bench run, session 18: the receive path on baseline code from the second call on).
 */
export interface DatagramReceiver {
  receiveDatagram(data: Buffer, source: TransportAddress): void;
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

function closeQuietly(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => socket.close(() => resolve()));
}

/** An even RTP port and, when `withRtcp`, the odd port above it. */
async function bindEvenPair(address: string, maxAttempts: number, withRtcp: boolean): Promise<[Socket, Socket | undefined]> {
  if (isIP(address) === 0) throw new Error(`RTP bind address must be an IP address, got "${address}"`);
  let lastProblem = '';
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    let socket: Socket;
    try {
      socket = await bindUdp(address, 0);
    } catch (error) {
      throw new Error(`Cannot bind an RTP socket on ${address}: ${(error as Error).message}`, { cause: error });
    }
    const port = socket.address().port;
    if (port % 2 !== 0) {
      lastProblem = `got odd port ${port}`;
      await closeQuietly(socket);
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
  readonly counters: RtpStreamSocketCounters = { foreignSourceDropped: 0, implausibleDropped: 0, sendWithoutRemote: 0 };
  private sdpRemote: TransportAddress | undefined;
  private latched: TransportAddress | undefined;
  /** Closed until the constructor has wired the socket (see there). */
  private closed = true;
  private receiver: DatagramReceiver | undefined;
  private sendsUntilCheck = 0;

  private constructor(
    private readonly socket: Socket,
    readonly local: TransportAddress,
  ) {
    socket.on('message', (data, rinfo) => this.onMessage(data, rinfo));
    socket.on('error', (error) => {
      // ICMP port unreachable etc. surface here on some platforms; a media socket must survive them.
      this.onError?.(error);
    });
    // Open from here on. Written here as well as in close(), so V8 never compiles the per-packet
    // code with `closed` as a constant (see media-session.ts, "Teardown and V8").
    this.closed = false;
  }

  /** Optional sink for socket errors (logged by the owner). */
  onError: ((error: Error) => void) | undefined;

  /** The RTCP socket on port+1, when opened with `withRtcp` (default). Closed with this one. */
  rtcp: RtpStreamSocket | undefined;

  /** Bind a socket on `bindAddress` with an even port (and its RTCP companion on port+1). */
  static async open(bindAddress: string, maxAttempts = 64, withRtcp = true): Promise<RtpStreamSocket> {
    const [socket, rtcpSocket] = await bindEvenPair(bindAddress, maxAttempts, withRtcp);
    const stream = new RtpStreamSocket(socket, { address: bindAddress, port: socket.address().port });
    if (rtcpSocket) {
      stream.rtcp = new RtpStreamSocket(rtcpSocket, { address: bindAddress, port: rtcpSocket.address().port });
      stream.rtcp.onError = (error) => stream.onError?.(error);
    }
    return stream;
  }

  /** Set the destination from the remote SDP; clears any latch (the peer may have moved). */
  setRemote(remote: TransportAddress | undefined): void {
    this.sdpRemote = remote ? { ...remote } : undefined;
    this.latched = undefined;
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
      this.socket.send(data, remote.port, remote.address);
      return true;
    }
    this.sendsUntilCheck = SEND_CHECK_EVERY - 1;
    this.socket.send(data, remote.port, remote.address, (error) => {
      if (error) this.onError?.(new Error(`RTP send to ${formatTransportAddress(remote)} failed: ${error.message}`, { cause: error }));
    });
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
    if (this.latched) {
      if (this.latched.address !== rinfo.address || this.latched.port !== rinfo.port) {
        this.counters.foreignSourceDropped++;
        return;
      }
    } else {
      this.latched = { address: rinfo.address, port: rinfo.port };
    }
    this.receiver?.receiveDatagram(data, rinfo); // rinfo is a fresh object per datagram (Node's), not copied again
  }
}
