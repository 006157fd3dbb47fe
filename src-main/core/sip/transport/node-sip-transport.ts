// sip.js Transport over native UDP / TCP / TLS sockets (RFC 3261 §18, RFC 3581, RFC 3263, RFC 5626 keep-alives).
//
// State machine (sip.js api/transport.d.ts contract, same transitions as its web transport):
//   Disconnected --connect()--> Connecting --ready--> Connected --disconnect()--> Disconnecting --> Disconnected
//   Connecting --failure--> Disconnected (connect() rejects with the reason)
//   Connected --server connection lost--> Disconnected (onDisconnect(error)); NO automatic reconnect:
//   recovering is the account layer's job.
//   "Connected" means: UDP socket bound and server resolved; TCP/TLS: connected (and verified) to a server.
//
// Address bridging: sip.js writes the placeholder `viaPlaceholderHost` into Via and Contact. Outgoing,
// we substitute the real ip:port; incoming responses get their top Via sent-by set back to the bare
// placeholder (after learning received/rport) so sip.js's Via check accepts them.
//
// Ownership: one instance owns its UDP socket / TCP listener / stream connection pool and all timers;
// everything runs on the node event loop, no locking needed. disconnect()/dispose() release all of it.
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { EmitterImpl, TransportState, type Core, type Emitter, type Transport } from 'sip.js';
import { DnsServerLocator, defaultPort, parseSipUri, type ServerLocator, type ServerTarget } from '../dns/server-locator';
import * as defaultValidator from '../wire/message-validator';
import type { MessageValidator, SipTransportConfig } from './sip-transport-config';
import {
  cseqMethod,
  hasToTag,
  hasViaParam,
  isResponseText,
  joinHead,
  redactCredentials,
  requestMethod,
  requestUri,
  rewriteContacts,
  setTopVia,
  splitHead,
  statusCode,
  topRouteUri,
  topVia,
  viaParam,
  type SipHead,
  type ViaValue,
} from './sip-message-text';
import { connectStream, type TlsPolicy } from './stream-connector';
import { StreamFramer } from './stream-framer';
import { DEFAULT_TIMING, UdpRetransmitter, transactionKey, type RetransmitTiming } from './udp-retransmitter';
import { ProvisionalContactRepair } from './provisional-contact';

export type { SipTransportConfig, MessageValidator } from './sip-transport-config';

export interface HostPort {
  host: string;
  port: number;
}

/** One TCP/TLS connection in the pool, keyed by remote "ip:port". */
interface StreamConnection {
  key: string;
  socket: net.Socket;
  remote: HostPort;
  /** The connection to the configured server whose loss means Disconnected. */
  isServer: boolean;
}

/** Outstanding UDP request: where it goes now, for retransmission and failover. */
interface PendingUdpRequest {
  text: string;
  targets: ServerTarget[];
  index: number;
  viaServer: boolean;
  failoverTimer: NodeJS.Timeout | undefined;
}

const MAX_REMEMBERED_BRANCHES = 2000;
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function unmapIPv4(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

function hostPortKey(host: string, port: number): string {
  return `${unmapIPv4(host)}:${port}`;
}

function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export class NodeSipTransport implements Transport {
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;

  private readonly logger: Core.Logger;
  private readonly config: SipTransportConfig;
  private readonly locator: ServerLocator;
  private readonly validator: MessageValidator;
  private readonly timing: RetransmitTiming;
  private readonly retransmitter: UdpRetransmitter;
  private readonly keepAliveMs: number;
  private readonly failoverTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly acceptDirect: boolean;

  private _state: TransportState = TransportState.Disconnected;
  private readonly stateEmitter = new EmitterImpl<TransportState>();
  private transitioning = false;
  private connectPromise: Promise<void> | undefined;
  private connectResolve: (() => void) | undefined;
  private connectReject: ((error: Error) => void) | undefined;
  private disconnectPromise: Promise<void> | undefined;
  private disconnectResolve: (() => void) | undefined;
  private disconnectReject: ((error: Error) => void) | undefined;
  /** Incremented whenever a connect attempt is abandoned, so late async steps can tell. */
  private epoch = 0;

  private udpSocket: dgram.Socket | undefined;
  private tcpListener: net.Server | undefined;
  private readonly pool = new Map<string, StreamConnection>();
  private readonly connecting = new Map<string, Promise<StreamConnection>>();
  private serverConnection: StreamConnection | undefined;
  private serverTargets: ServerTarget[] = [];
  private serverIndex = 0;
  private readonly serverSources = new Set<string>();
  /** Hosts we sent requests to directly (dialog peers when the PBX does not record-route). */
  private readonly knownPeers = new Set<string>();
  private readonly localIpCache = new Map<string, string>();
  private local: HostPort | undefined;
  private publicAddress: HostPort | undefined;
  private readonly pendingUdp = new Map<string, PendingUdpRequest>();
  /** Stream connection an incoming request arrived on, by top Via branch, for its responses (18.2.2). */
  private readonly requestConnections = new Map<string, StreamConnection>();
  private readonly provisionalContacts = new ProvisionalContactRepair();
  private keepAliveTimer: NodeJS.Timeout | undefined;

  constructor(logger: Core.Logger, options: SipTransportConfig) {
    if (!options || typeof options !== 'object') throw new Error('NodeSipTransport: transportOptions are required');
    if (!['udp', 'tcp', 'tls'].includes(options.protocol)) {
      throw new Error(`NodeSipTransport: protocol must be udp, tcp or tls, got "${String(options.protocol)}"`);
    }
    if (!options.viaPlaceholderHost || /[\s;:<>,]/.test(options.viaPlaceholderHost)) {
      throw new Error(`NodeSipTransport: viaPlaceholderHost must be a bare host name, got "${options.viaPlaceholderHost}"`);
    }
    if (options.server !== undefined) parseSipUri(options.server); // throws "Not a SIP URI" early
    if ((options.tls as { rejectUnauthorized?: unknown } | undefined)?.rejectUnauthorized !== undefined) {
      throw new Error('NodeSipTransport: tls.rejectUnauthorized is not supported; use tls.caFile, tls.caPem or tls.pinnedCertSha256');
    }
    if (options.localPort !== undefined && (!Number.isInteger(options.localPort) || options.localPort < 0 || options.localPort > 65535)) {
      throw new Error(`NodeSipTransport: localPort must be 0..65535, got ${options.localPort}`);
    }
    this.logger = logger;
    this.config = options;
    this.locator = options.locator ?? new DnsServerLocator();
    this.validator = options.validator ?? defaultValidator;
    this.timing = { ...DEFAULT_TIMING, ...options.timers };
    this.retransmitter = new UdpRetransmitter(this.timing);
    this.keepAliveMs = 1000 * (options.keepAliveSeconds ?? (options.protocol === 'udp' ? 25 : 30));
    this.failoverTimeoutMs = options.failoverTimeoutMs ?? 4000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
    this.acceptDirect = options.server === undefined || options.acceptDirect === true;
  }

  // ---------------------------------------------------------------- public API

  get protocol(): string {
    return this.config.protocol.toUpperCase();
  }

  get state(): TransportState {
    return this._state;
  }

  get stateChange(): Emitter<TransportState> {
    return this.stateEmitter;
  }

  isConnected(): boolean {
    return this._state === TransportState.Connected;
  }

  /** Address written into Via/Contact for the server route (never a wildcard). */
  localAddress(): HostPort {
    if (!this.local) throw new Error('NodeSipTransport: local address is known only after connect()');
    return { ...this.local };
  }

  /** Address written into Contact: the public one learned from received/rport, else localAddress(). */
  contactAddress(): HostPort {
    return this.publicAddress ? { ...this.publicAddress } : this.localAddress();
  }

  /** Resolved server targets, in failover order (empty when serverless or before connect()). */
  serverAddresses(): ServerTarget[] {
    return this.serverTargets.map((t) => ({ ...t }));
  }

  connect(): Promise<void> {
    switch (this._state) {
      case TransportState.Connecting:
        if (this.transitioning) return Promise.reject(this.loopError(TransportState.Connecting));
        return this.connectPromise!;
      case TransportState.Connected:
        if (this.transitioning) return Promise.reject(this.loopError(TransportState.Connecting));
        return Promise.resolve();
      case TransportState.Disconnecting:
      case TransportState.Disconnected:
        break;
    }
    this.connectPromise = new Promise<void>((resolve, reject) => {
      this.connectResolve = resolve;
      this.connectReject = reject;
    });
    const promise = this.connectPromise;
    try {
      this.transitionState(TransportState.Connecting);
    } catch (error) {
      this.connectPromise = undefined;
      return Promise.reject(error);
    }
    const epoch = ++this.epoch;
    this.openNetwork(epoch).then(
      () => {
        if (epoch !== this.epoch || this._state !== TransportState.Connecting) return;
        this.transitionState(TransportState.Connected);
      },
      (error: Error) => {
        if (epoch !== this.epoch || this._state !== TransportState.Connecting) return;
        this.logger.warn(`SIP ${this.protocol} transport failed to connect: ${error.message}`);
        void this.closeNetwork().then(() => {
          if (epoch !== this.epoch || this._state !== TransportState.Connecting) return;
          this.transitionState(TransportState.Disconnected, error);
        });
      },
    );
    return promise;
  }

  disconnect(): Promise<void> {
    switch (this._state) {
      case TransportState.Disconnecting:
        if (this.transitioning) return Promise.reject(this.loopError(TransportState.Disconnecting));
        return this.disconnectPromise!;
      case TransportState.Disconnected:
        if (this.transitioning) return Promise.reject(this.loopError(TransportState.Disconnecting));
        return Promise.resolve();
      case TransportState.Connecting:
      case TransportState.Connected:
        break;
    }
    this.disconnectPromise = new Promise<void>((resolve, reject) => {
      this.disconnectResolve = resolve;
      this.disconnectReject = reject;
    });
    const promise = this.disconnectPromise;
    this.transitionState(TransportState.Disconnecting);
    const epoch = ++this.epoch;
    void this.closeNetwork().then(() => {
      if (epoch !== this.epoch || this._state !== TransportState.Disconnecting) return;
      this.transitionState(TransportState.Disconnected);
    });
    return promise;
  }

  dispose(): Promise<void> {
    return this.disconnect();
  }

  async send(message: string): Promise<void> {
    if (this._state !== TransportState.Connected) {
      throw new Error(`Cannot send SIP message: transport is ${this._state}`);
    }
    const head = splitHead(message);
    if (isResponseText(message)) await this.sendResponse(head);
    else await this.sendRequest(head);
  }

  // ---------------------------------------------------------------- state machine

  private loopError(target: TransportState): Error {
    const message = `State transition loop: ${this._state} -> ${target} requested from a state-change callback`;
    this.logger.error(message);
    return new Error(message);
  }

  private transitionState(newState: TransportState, error?: Error): void {
    if (this.transitioning) throw this.loopError(newState);
    const allowed: Record<TransportState, TransportState[]> = {
      [TransportState.Disconnected]: [TransportState.Connecting],
      [TransportState.Connecting]: [TransportState.Connected, TransportState.Disconnecting, TransportState.Disconnected],
      [TransportState.Connected]: [TransportState.Disconnecting, TransportState.Disconnected],
      [TransportState.Disconnecting]: [TransportState.Connecting, TransportState.Disconnected],
    };
    if (!allowed[this._state].includes(newState)) {
      throw new Error(`Invalid transport state transition from ${this._state} to ${newState}`);
    }
    this.transitioning = true;
    try {
      const oldState = this._state;
      this._state = newState;
      const { connectResolve, connectReject, disconnectResolve, disconnectReject } = this;
      if (oldState === TransportState.Connecting) {
        this.connectPromise = undefined;
        this.connectResolve = undefined;
        this.connectReject = undefined;
      }
      if (oldState === TransportState.Disconnecting) {
        this.disconnectPromise = undefined;
        this.disconnectResolve = undefined;
        this.disconnectReject = undefined;
      }
      this.logger.log(`SIP ${this.protocol} transport: ${oldState} -> ${newState}`);
      this.stateEmitter.emit(newState);
      if (newState === TransportState.Connected) {
        this.startKeepAlives();
        this.onConnect?.();
      }
      if (oldState === TransportState.Connected) {
        this.stopKeepAlives();
        if (error) this.onDisconnect?.(error);
        else this.onDisconnect?.();
      }
      if (oldState === TransportState.Connecting) {
        if (newState === TransportState.Connected) connectResolve?.();
        else connectReject?.(error ?? new Error('Connect aborted by disconnect()'));
      }
      if (oldState === TransportState.Disconnecting) {
        if (newState === TransportState.Disconnected) disconnectResolve?.();
        else disconnectReject?.(new Error('Disconnect aborted by connect()'));
      }
    } finally {
      this.transitioning = false;
    }
  }

  /** Connection to the server lost while Connected: report it, release everything, no reconnect. */
  private failConnected(error: Error): void {
    if (this._state !== TransportState.Connected) return;
    this.logger.warn(`SIP ${this.protocol} transport lost: ${error.message}`);
    this.epoch++;
    void this.closeNetwork();
    this.transitionState(TransportState.Disconnected, error);
  }

  // ---------------------------------------------------------------- open / close

  private async openNetwork(epoch: number): Promise<void> {
    const { config } = this;
    this.publicAddress = undefined;
    this.serverTargets = [];
    this.serverIndex = 0;
    this.serverSources.clear();
    if (config.server !== undefined) {
      let targets = await this.locator.locate(config.server, config.protocol);
      if (config.protocol === 'udp') targets = targets.filter((t) => net.isIP(t.host) === this.udpFamily());
      if (targets.length === 0) throw new Error(`No IPv${this.udpFamily()} address for SIP server ${config.server}`);
      if (epoch !== this.epoch) return;
      this.serverTargets = targets;
      for (const t of targets) this.serverSources.add(unmapIPv4(t.host));
    }
    this.knownPeers.clear();
    if (config.protocol === 'udp') {
      const socket = await this.bindUdp();
      if (epoch !== this.epoch) {
        socket.close();
        return;
      }
      this.udpSocket = socket;
      const port = socket.address().port;
      const toward = this.serverTargets[0];
      this.local = { host: toward ? await this.localIpToward(toward) : this.defaultLocalIp(), port };
      return;
    }
    if (config.protocol === 'tcp') {
      const listener = await this.listenTcp();
      if (epoch !== this.epoch) {
        listener.close();
        return;
      }
      this.tcpListener = listener;
    }
    if (this.serverTargets.length > 0) {
      const conn = await this.connectToTargets(this.serverTargets, this.serverTlsName(), true);
      if (epoch !== this.epoch) return;
      if (conn.socket.destroyed) throw new Error(`${this.protocol} connection to SIP server ${formatHostPort(conn.remote)} closed while connecting`);
      this.serverIndex = this.serverTargets.findIndex((t) => hostPortKey(t.host, t.port) === conn.key);
      this.local = this.streamLocalAddress(conn);
    } else {
      const port = this.tcpListener ? (this.tcpListener.address() as net.AddressInfo).port : (config.localPort ?? 0);
      this.local = { host: this.defaultLocalIp(), port };
    }
  }

  private async closeNetwork(): Promise<void> {
    this.stopKeepAlives();
    this.retransmitter.stopAll();
    for (const p of this.pendingUdp.values()) if (p.failoverTimer) clearTimeout(p.failoverTimer);
    this.pendingUdp.clear();
    this.requestConnections.clear();
    const closing: Promise<void>[] = [];
    const udp = this.udpSocket;
    this.udpSocket = undefined;
    if (udp) closing.push(new Promise((resolve) => udp.close(() => resolve())));
    const listener = this.tcpListener;
    this.tcpListener = undefined;
    if (listener) closing.push(new Promise((resolve) => listener.close(() => resolve())));
    this.serverConnection = undefined;
    for (const conn of this.pool.values()) conn.socket.destroy();
    this.pool.clear();
    await Promise.all(closing);
  }

  private udpFamily(): 4 | 6 {
    return net.isIPv6(this.config.localAddress ?? '') ? 6 : 4;
  }

  private bindUdp(): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(this.udpFamily() === 6 ? 'udp6' : 'udp4');
      const onBindError = (error: Error): void => {
        socket.close();
        reject(new Error(`Cannot bind UDP ${this.config.localAddress ?? '0.0.0.0'}:${this.config.localPort ?? 0}: ${error.message}`, { cause: error }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: this.config.localAddress ?? (this.udpFamily() === 6 ? '::' : '0.0.0.0'), port: this.config.localPort ?? 0 }, () => {
        socket.removeListener('error', onBindError);
        socket.on('error', (error) => this.logger.warn(`SIP UDP socket error: ${error.message}`));
        socket.on('message', (data, rinfo) => {
          if (socket === this.udpSocket) this.receive(data, { host: unmapIPv4(rinfo.address), port: rinfo.port }, undefined);
        });
        resolve(socket);
      });
    });
  }

  private listenTcp(): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        if (server !== this.tcpListener) {
          socket.destroy();
          return;
        }
        const remote = { host: unmapIPv4(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
        this.adoptConnection(socket, remote, false);
      });
      const onListenError = (error: Error): void => {
        reject(new Error(`Cannot listen on TCP ${this.config.localAddress ?? '0.0.0.0'}:${this.config.localPort ?? 0}: ${error.message}`, { cause: error }));
      };
      server.once('error', onListenError);
      server.listen({ host: this.config.localAddress ?? '0.0.0.0', port: this.config.localPort ?? 0 }, () => {
        server.removeListener('error', onListenError);
        server.on('error', (error) => this.logger.warn(`SIP TCP listener error: ${error.message}`));
        resolve(server);
      });
    });
  }

  /** IP of the local interface the kernel would use to reach `target` (a connected UDP probe sends nothing). */
  private async localIpToward(target: { host: string; port: number }): Promise<string> {
    const configured = this.config.localAddress;
    if (configured !== undefined && !WILDCARDS.has(configured)) return configured;
    const cached = this.localIpCache.get(target.host);
    if (cached) return cached;
    const family = net.isIPv6(target.host) ? 'udp6' : 'udp4';
    const probe = dgram.createSocket(family);
    try {
      const ip = await new Promise<string>((resolve, reject) => {
        probe.once('error', reject);
        probe.connect(target.port || 5060, target.host, () => resolve(probe.address().address));
      });
      this.localIpCache.set(target.host, ip);
      return ip;
    } catch (error) {
      throw new Error(`No route to ${target.host}: ${(error as Error).message}`, { cause: error });
    } finally {
      probe.close();
    }
  }

  /** Serverless: the configured bind address, else the first non-internal IPv4, else loopback. */
  private defaultLocalIp(): string {
    const configured = this.config.localAddress;
    if (configured !== undefined && !WILDCARDS.has(configured)) return configured;
    for (const list of Object.values(os.networkInterfaces())) {
      for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
    }
    return '127.0.0.1';
  }

  private serverTlsName(): string {
    return this.config.server === undefined ? '' : parseSipUri(this.config.server).host;
  }

  // ---------------------------------------------------------------- stream connections

  private tlsPolicy(serverName: string): TlsPolicy | undefined {
    if (this.config.protocol !== 'tls') return undefined;
    const policy: TlsPolicy = { serverName };
    if (this.config.tls?.caFile !== undefined) policy.caFile = this.config.tls.caFile;
    if (this.config.tls?.caPem !== undefined) policy.caPem = this.config.tls.caPem;
    if (this.config.tls?.pinnedCertSha256 !== undefined) policy.pinnedCertSha256 = this.config.tls.pinnedCertSha256;
    return policy;
  }

  /** Tries targets in order (RFC 3263 failover for stream transports); rejects with every failure listed. */
  private async connectToTargets(targets: ServerTarget[], tlsName: string, isServer: boolean): Promise<StreamConnection> {
    const failures: string[] = [];
    for (const target of targets) {
      try {
        const conn = await this.connectionTo(target, tlsName || target.name);
        if (isServer) {
          conn.isServer = true;
          this.serverConnection = conn;
        }
        return conn;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    throw new Error(failures.length === 1 ? failures[0]! : `All ${failures.length} targets failed: ${failures.join('; ')}`);
  }

  private async connectionTo(target: HostPort, tlsName: string): Promise<StreamConnection> {
    const key = hostPortKey(target.host, target.port);
    const existing = this.pool.get(key);
    if (existing) return existing;
    const inFlight = this.connecting.get(key);
    if (inFlight) return inFlight;
    const epoch = this.epoch;
    const attempt = connectStream(target, this.tlsPolicy(tlsName), this.connectTimeoutMs).then((socket) => {
      if (epoch !== this.epoch) {
        socket.destroy();
        throw new Error('Transport was disconnected while connecting');
      }
      return this.adoptConnection(socket, { host: unmapIPv4(target.host), port: target.port }, false);
    });
    this.connecting.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.connecting.delete(key);
    }
  }

  private adoptConnection(socket: net.Socket, remote: HostPort, isServer: boolean): StreamConnection {
    const key = hostPortKey(remote.host, remote.port);
    const conn: StreamConnection = { key, socket, remote, isServer };
    this.pool.set(key, conn);
    socket.setNoDelay(true);
    const framer = new StreamFramer({
      onMessage: (message) => this.receive(message, remote, conn),
      onPing: () => {
        socket.write('\r\n');
      },
      onError: (error) => {
        this.config.onInvalidMessage?.({ remote: formatHostPort(remote), reason: error.message });
        socket.destroy(error);
      },
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    let lastError: Error | undefined;
    socket.on('error', (error) => {
      lastError = error;
      this.logger.warn(`SIP ${this.protocol} connection ${formatHostPort(remote)} error: ${error.message}`);
    });
    socket.on('close', () => {
      if (this.pool.get(key) === conn) this.pool.delete(key);
      for (const [branch, c] of this.requestConnections) if (c === conn) this.requestConnections.delete(branch);
      if (conn.isServer && this.serverConnection === conn) {
        this.serverConnection = undefined;
        const reason = lastError ? `: ${lastError.message}` : '';
        this.failConnected(new Error(`${this.protocol} connection to SIP server ${formatHostPort(remote)} closed${reason}`));
      }
    });
    return conn;
  }

  private streamLocalAddress(conn: StreamConnection): HostPort {
    const host = unmapIPv4(conn.socket.localAddress ?? '127.0.0.1');
    // TCP: we listen, so advertise the listener port (peers may connect to our Contact).
    // TLS: we have no certificate to listen with; advertise the connection's own port so the
    // server reuses this connection (it looks connections up by remote ip:port).
    const port = this.tcpListener ? (this.tcpListener.address() as net.AddressInfo).port : (conn.socket.localPort ?? 0);
    return { host, port };
  }

  // ---------------------------------------------------------------- outgoing

  private async sendRequest(head: SipHead): Promise<void> {
    const method = requestMethod(head);
    const inviteBranch = method === 'INVITE' ? viaParam(topVia(head)!, 'branch') : undefined;
    if (inviteBranch !== undefined) this.provisionalContacts.sent(transactionKey(inviteBranch, method), head);
    const route = await this.requestRoute(head);
    if (this.config.protocol === 'udp') {
      const target = route.targets[route.index]!;
      const sentBy = { host: await this.localIpToward(target), port: this.udpSocket!.address().port };
      const text = this.bridgeOutgoing(head, sentBy);
      if (!route.viaServer) this.knownPeers.add(unmapIPv4(target.host));
      const branch = viaParam(topVia(head)!, 'branch');
      if (branch === undefined || method === 'ACK') {
        await this.sendDatagram(text, target);
        return;
      }
      // A request that Timers A/E will resend: a failed first send (EPERM from a local firewall,
      // ENETUNREACH while Wi-Fi roams, ENOBUFS) is a lost datagram, not a dead transport.
      await this.sendDatagram(text, target).catch((error: Error) =>
        this.logger.warn(`SIP UDP send of ${method} failed, will retransmit: ${error.message}`),
      );
      this.trackUdpRequest(transactionKey(branch, cseqMethod(head) || method), method, text, route);
      return;
    }
    const conn = route.viaServer && this.serverConnection
      ? this.serverConnection
      : await this.connectToTargets(route.targets.slice(route.index), route.tlsName, false);
    if (!conn.isServer) this.knownPeers.add(conn.remote.host);
    const text = this.bridgeOutgoing(head, this.streamLocalAddress(conn));
    await this.writeStream(conn, text);
  }

  /**
   * Next hop (RFC 3261 8.1.2 / 12.2.1.1 with RFC 3263):
   *  - server configured: every request goes to it, except an in-dialog request without Route whose
   *    Request-URI does not resolve to the server (the PBX did not record-route) — that goes to the
   *    remote target directly.
   *  - serverless: the top Route, else the Request-URI.
   */
  private async requestRoute(head: SipHead): Promise<{ targets: ServerTarget[]; index: number; viaServer: boolean; tlsName: string }> {
    const serverRoute = { targets: this.serverTargets, index: this.serverIndex, viaServer: true, tlsName: this.serverTlsName() };
    const routeUri = topRouteUri(head);
    if (this.config.server !== undefined) {
      if (routeUri !== undefined || !hasToTag(head)) return serverRoute;
    }
    const uri = routeUri ?? requestUri(head);
    let targets = await this.locator.locate(uri, this.config.protocol);
    if (this.config.protocol === 'udp') targets = targets.filter((t) => net.isIP(t.host) === this.udpFamily());
    if (targets.length === 0) throw new Error(`No usable address for ${uri}`);
    const toServer = targets.some((t) => this.serverTargets.some((s) => s.host === t.host && s.port === t.port));
    if (toServer) return serverRoute;
    return { targets, index: 0, viaServer: false, tlsName: parseSipUri(uri).host };
  }

  /** Placeholder -> real address in the top Via (requests) and in Contact (requests and responses). */
  private bridgeOutgoing(head: SipHead, sentBy: HostPort): string {
    const placeholder = this.config.viaPlaceholderHost.toLowerCase();
    if (!isResponseText(head.startLine)) {
      const via = topVia(head);
      if (!via) throw new Error('Outgoing SIP request has no Via header');
      if (via.host.toLowerCase() === placeholder) {
        via.host = sentBy.host;
        via.port = sentBy.port;
        setTopVia(head, via);
      }
    }
    const contact = this.publicAddress ?? sentBy;
    rewriteContacts(head, this.config.viaPlaceholderHost, contact.host, contact.port, this.config.protocol);
    return joinHead(head);
  }

  private trackUdpRequest(key: string, method: string, text: string, route: { targets: ServerTarget[]; index: number; viaServer: boolean }): void {
    const previous = this.pendingUdp.get(key);
    if (previous?.failoverTimer) clearTimeout(previous.failoverTimer);
    // Forget requests whose retransmission ended without a response (sip.js reported the timeout).
    for (const [k, p] of this.pendingUdp) {
      if (!p.failoverTimer && !this.retransmitter.isTrackingRequest(k)) this.pendingUdp.delete(k);
    }
    const pending: PendingUdpRequest = { text, targets: route.targets, index: route.index, viaServer: route.viaServer, failoverTimer: undefined };
    this.pendingUdp.set(key, pending);
    this.retransmitter.trackRequest(key, method, () => {
      this.sendDatagram(pending.text, pending.targets[pending.index]!).catch((error: Error) =>
        this.logger.warn(`SIP UDP retransmission of ${method} failed: ${error.message}`),
      );
    });
    this.scheduleFailover(key, pending);
  }

  /** RFC 3263 4.3: no response from this target within failoverTimeoutMs -> resend to the next one. */
  private scheduleFailover(key: string, pending: PendingUdpRequest): void {
    if (pending.index + 1 >= pending.targets.length) return;
    pending.failoverTimer = setTimeout(() => {
      pending.failoverTimer = undefined;
      if (this.pendingUdp.get(key) !== pending || !this.retransmitter.isTrackingRequest(key)) return;
      const from = pending.targets[pending.index]!;
      pending.index += 1;
      const to = pending.targets[pending.index]!;
      this.logger.warn(`SIP server ${formatHostPort(from)} did not answer; failing over to ${formatHostPort(to)}`);
      if (pending.viaServer) this.serverIndex = pending.index;
      this.retransmitter.restartRequest(key);
      this.sendDatagram(pending.text, to).catch((error: Error) => this.logger.warn(`SIP UDP failover send failed: ${error.message}`));
      this.scheduleFailover(key, pending);
    }, this.failoverTimeoutMs);
  }

  private async sendResponse(head: SipHead): Promise<void> {
    const via = topVia(head);
    if (!via) throw new Error('Outgoing SIP response has no Via header');
    const branch = viaParam(via, 'branch');
    if (this.config.protocol === 'udp') {
      const dest = await this.udpResponseDestination(via);
      const sentBy = { host: await this.localIpToward(dest), port: this.udpSocket!.address().port };
      const text = this.bridgeOutgoing(head, sentBy);
      await this.sendDatagram(text, dest);
      const status = statusCode(head);
      if (branch !== undefined && status >= 300 && cseqMethod(head) === 'INVITE') {
        this.retransmitter.trackInviteFinalResponse(transactionKey(branch, 'INVITE'), () => {
          this.sendDatagram(text, dest).catch((error: Error) => this.logger.warn(`SIP UDP response retransmission failed: ${error.message}`));
        });
      }
      return;
    }
    let conn = branch !== undefined ? this.requestConnections.get(branch) : undefined;
    if (!conn || conn.socket.destroyed) {
      // RFC 3261 18.2.2: connection gone -> open one to received (or sent-by host) at the sent-by port.
      const host = viaParam(via, 'received') ?? via.host;
      const port = via.port ?? defaultPort(this.config.protocol);
      const targets = await this.locator.locate(`sip:${host.includes(':') ? `[${host}]` : host}:${port}`, this.config.protocol);
      conn = await this.connectToTargets(targets, via.host, false);
    }
    await this.writeStream(conn, this.bridgeOutgoing(head, this.streamLocalAddress(conn)));
  }

  /** RFC 3261 18.2.2 + RFC 3581 4: received:rport, else received:sent-by-port, else sent-by (default 5060). */
  private async udpResponseDestination(via: ViaValue): Promise<HostPort> {
    const received = viaParam(via, 'received');
    const rport = viaParam(via, 'rport');
    const port = rport !== undefined && /^\d+$/.test(rport) ? Number(rport) : (via.port ?? 5060);
    const host = received ?? via.host;
    if (net.isIP(host) !== 0) return { host, port };
    const [first] = await this.locator.locate(`sip:${host}:${port}`, 'udp');
    return { host: first!.host, port };
  }

  private sendDatagram(text: string, target: HostPort): Promise<void> {
    const socket = this.udpSocket;
    if (!socket) return Promise.reject(new Error('UDP socket is closed'));
    this.traceOut(text, target);
    return new Promise((resolve, reject) => {
      socket.send(Buffer.from(text, 'utf8'), target.port, target.host, (error) => {
        if (error) reject(new Error(`UDP send to ${formatHostPort(target)} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  private writeStream(conn: StreamConnection, text: string): Promise<void> {
    this.traceOut(text, conn.remote);
    return new Promise((resolve, reject) => {
      conn.socket.write(text, 'utf8', (error) => {
        if (error) reject(new Error(`${this.protocol} send to ${formatHostPort(conn.remote)} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  private traceOut(text: string, remote: HostPort): void {
    this.config.trace?.({ direction: 'out', remote: formatHostPort(remote), text: redactCredentials(text) });
  }

  // ---------------------------------------------------------------- incoming

  /** One datagram or one framed stream message from `remote` (`conn` for streams). */
  private receive(raw: Buffer, remote: HostPort, conn: StreamConnection | undefined): void {
    if (this._state !== TransportState.Connected) return;
    if (conn === undefined && /^[\r\n]*$/.test(raw.toString('latin1'))) return; // UDP keep-alive / pong
    const remoteText = formatHostPort(remote);
    const isResponse = raw.subarray(0, 8).toString('latin1') === 'SIP/2.0 ';
    if (!isResponse && !this.acceptDirect && !this.serverSources.has(remote.host) && !this.knownPeers.has(remote.host)) {
      this.config.onInvalidMessage?.({ remote: remoteText, reason: `request from ${remote.host}, which is not the configured SIP server` });
      return;
    }
    const verdict = this.validator.validateSipMessage(raw);
    if (verdict.kind === 'drop') {
      this.config.onInvalidMessage?.({ remote: remoteText, reason: verdict.reason });
      return;
    }
    if (verdict.kind === 'reject') {
      this.rejectInvalid(raw, remote, conn, verdict.status, verdict.reason);
      return;
    }
    const text = raw.toString('utf8');
    this.config.trace?.({ direction: 'in', remote: remoteText, text: redactCredentials(text) });
    const head = splitHead(text);
    const via = topVia(head);
    if (!via) {
      this.config.onInvalidMessage?.({ remote: remoteText, reason: 'message has no parsable Via header' });
      return;
    }
    const delivered = isResponse ? this.acceptResponse(head, via, remote) : this.acceptRequest(head, via, remote, conn);
    if (delivered === undefined) return;
    try {
      this.onMessage?.(delivered);
    } catch (error) {
      // Not rethrown: an exception escaping a socket handler would take the whole process down.
      this.logger.error(`sip.js failed to handle a message from ${remoteText}: ${(error as Error).stack ?? String(error)}`);
    }
  }

  private acceptResponse(head: SipHead, via: ViaValue, remote: HostPort): string | undefined {
    const placeholder = this.config.viaPlaceholderHost;
    const branch = viaParam(via, 'branch');
    const status = statusCode(head);
    if (branch !== undefined) {
      const key = transactionKey(branch, cseqMethod(head));
      if (this.provisionalContacts.received(key, head)) {
        this.logger.log(`${status} from ${formatHostPort(remote)} has no Contact: taken as ringing, its early dialog targets the INVITE's Request-URI`);
      }
      this.retransmitter.onResponse(key, status);
      const pending = this.pendingUdp.get(key);
      if (pending) {
        // Any response proves the target is alive: no failover for this transaction.
        if (pending.failoverTimer) clearTimeout(pending.failoverTimer);
        pending.failoverTimer = undefined;
        if (!this.retransmitter.isTrackingRequest(key)) this.pendingUdp.delete(key);
      }
    }
    if (via.host.toLowerCase() === placeholder.toLowerCase()) {
      // A response that still carries the placeholder was not bridged by us; nothing to learn.
      return joinHead(head);
    }
    if (this.config.server === undefined || this.serverSources.has(remote.host)) this.learnPublicAddress(via);
    via.host = placeholder;
    delete via.port;
    setTopVia(head, via);
    return joinHead(head);
  }

  /** RFC 3581: received/rport in the server's answer show the address it sees us at (NAT binding). */
  private learnPublicAddress(via: ViaValue): void {
    const received = viaParam(via, 'received');
    const rport = viaParam(via, 'rport');
    const rportNumber = rport !== undefined && /^\d+$/.test(rport) ? Number(rport) : undefined;
    const sentBy = { host: via.host, port: via.port ?? defaultPort(this.config.protocol) };
    let seen: HostPort;
    if (this.config.protocol === 'udp') seen = { host: received ?? sentBy.host, port: rportNumber ?? sentBy.port };
    // Streams: the source port is the connection's, not our listener's; only a different IP means NAT.
    else seen = received !== undefined && received !== sentBy.host ? { host: received, port: rportNumber ?? sentBy.port } : sentBy;
    const current = this.publicAddress ?? sentBy;
    if (seen.host === current.host && seen.port === current.port) return;
    if (this.publicAddress === undefined && seen.host === sentBy.host && seen.port === sentBy.port) return;
    this.publicAddress = seen;
    this.logger.log(`SIP public address is ${formatHostPort(seen)} (was ${formatHostPort(current)})`);
    this.config.onPublicAddressChanged?.({ ...seen });
  }

  private acceptRequest(head: SipHead, via: ViaValue, remote: HostPort, conn: StreamConnection | undefined): string {
    // RFC 3261 18.2.1: received when sent-by differs from the source; RFC 3581: always with rport, and fill rport.
    const wantsRport = hasViaParam(via, 'rport');
    if (via.host !== remote.host || wantsRport) {
      via.params = via.params.filter(([k]) => k.toLowerCase() !== 'received');
      via.params.push(['received', remote.host]);
    }
    if (wantsRport) {
      via.params = via.params.map(([k, v]) => (k.toLowerCase() === 'rport' ? [k, String(remote.port)] : [k, v]));
    }
    setTopVia(head, via);
    const branch = viaParam(via, 'branch');
    if (branch !== undefined) {
      if (requestMethod(head) === 'ACK') this.retransmitter.onAck(transactionKey(branch, 'INVITE'));
      if (conn) {
        this.requestConnections.delete(branch);
        this.requestConnections.set(branch, conn);
        if (this.requestConnections.size > MAX_REMEMBERED_BRANCHES) {
          this.requestConnections.delete(this.requestConnections.keys().next().value!);
        }
      }
    }
    return joinHead(head);
  }

  /** Validator said reject: answer statelessly where RFC 3261 18.2.2 says, or drop if unanswerable. */
  private rejectInvalid(raw: Buffer, remote: HostPort, conn: StreamConnection | undefined, status: number, reason: string): void {
    const remoteText = formatHostPort(remote);
    const response = this.validator.buildStatelessErrorResponse(raw, status, reason);
    if (response === undefined) {
      this.config.onInvalidMessage?.({ remote: remoteText, reason });
      return;
    }
    this.config.onInvalidMessage?.({ remote: remoteText, reason, answered: status });
    if (conn) {
      this.writeStream(conn, response).catch((error: Error) => this.logger.warn(`Could not send ${status} to ${remoteText}: ${error.message}`));
      return;
    }
    const via = topVia(splitHead(response));
    let dest: HostPort = remote;
    if (via) {
      // The raw request's Via was never given received/rport by us: the source address is "received".
      dest = { host: remote.host, port: hasViaParam(via, 'rport') ? remote.port : (via.port ?? 5060) };
    }
    this.sendDatagram(response, dest).catch((error: Error) => this.logger.warn(`Could not send ${status} to ${remoteText}: ${error.message}`));
  }

  // ---------------------------------------------------------------- keep-alives

  private startKeepAlives(): void {
    this.stopKeepAlives();
    if (this.config.server === undefined || this.keepAliveMs <= 0) return;
    this.keepAliveTimer = setInterval(() => this.sendKeepAlive(), this.keepAliveMs);
  }

  private stopKeepAlives(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  /** UDP: CRLFCRLF datagram refreshes the NAT binding; streams: RFC 5626 CRLFCRLF ping on the server connection. */
  private sendKeepAlive(): void {
    if (this._state !== TransportState.Connected) return;
    if (this.config.protocol === 'udp') {
      const target = this.serverTargets[this.serverIndex];
      if (target && this.udpSocket) {
        this.udpSocket.send('\r\n\r\n', target.port, target.host, (error) => {
          if (error) this.logger.warn(`SIP UDP keep-alive to ${formatHostPort(target)} failed: ${error.message}`);
        });
      }
      return;
    }
    this.serverConnection?.socket.write('\r\n\r\n');
  }
}
