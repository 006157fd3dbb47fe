// Shared bits for transport unit tests: a silent sip.js logger, loopback UDP/TCP peers that record
// what they receive, and sip.js-shaped messages carrying the Via/Contact placeholder.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { Core } from 'sip.js';
import { StreamFramer } from '../../../src-main/core/sip/transport/stream-framer';

export const PLACEHOLDER = 'sb-test0placeholder.invalid';

export function testLogger(lines: string[] = []): Core.Logger {
  const add = (level: string) => (content: string) => lines.push(`${level}: ${content}`);
  return { error: add('error'), warn: add('warn'), log: add('log'), debug: add('debug') } as unknown as Core.Logger;
}

/** Resolves when `check` returns a value, polling every 5 ms; rejects after `timeoutMs` (safety net). */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Received {
  text: string;
  from: { host: string; port: number };
}

export interface UdpPeer {
  port: number;
  received: Received[];
  send(text: string, port: number, host?: string): Promise<void>;
  close(): Promise<void>;
}

export async function udpPeer(): Promise<UdpPeer> {
  const socket = dgram.createSocket('udp4');
  const received: Received[] = [];
  socket.on('message', (msg, rinfo) => received.push({ text: msg.toString('utf8'), from: { host: rinfo.address, port: rinfo.port } }));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    received,
    send: (text, port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => socket.send(text, port, host, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export interface TcpPeerConnection {
  socket: net.Socket;
  received: string[];
  raw: string[];
}

export interface TcpPeer {
  port: number;
  connections: TcpPeerConnection[];
  close(): Promise<void>;
}

/** A TCP (or, with `tlsOptions`, TLS) server that frames what each connection sends. */
export async function tcpPeer(tlsOptions?: tls.TlsOptions): Promise<TcpPeer> {
  const connections: TcpPeerConnection[] = [];
  const onConnection = (socket: net.Socket): void => {
    const conn: TcpPeerConnection = { socket, received: [], raw: [] };
    connections.push(conn);
    const framer = new StreamFramer({
      onMessage: (m) => conn.received.push(m.toString('utf8')),
      onPing: () => conn.received.push('<ping>'),
      onError: (e) => conn.received.push(`<error ${e.message}>`),
    });
    socket.on('data', (d: Buffer) => {
      conn.raw.push(d.toString('utf8'));
      framer.push(d);
    });
    // Peers see resets when the transport under test drops a connection; that is expected here.
    socket.on('error', (e) => conn.received.push(`<socket error ${e.message}>`));
  };
  const server = tlsOptions ? tls.createServer(tlsOptions, onConnection) : net.createServer(onConnection);
  if (tlsOptions) server.on('tlsClientError', () => undefined); // clients rejecting our cert is what TLS tests provoke
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface RequestOptions {
  method?: string;
  ruri?: string;
  branch?: string;
  callId?: string;
  cseq?: number;
  toTag?: string;
  route?: string;
  transport?: string;
  viaHost?: string;
  body?: string;
  extraHeaders?: string[];
}

/** A request as sip.js writes it: placeholder sent-by with ;rport and a placeholder Contact. */
export function sipJsRequest(o: RequestOptions = {}): string {
  const method = o.method ?? 'REGISTER';
  const body = o.body ?? '';
  const lines = [
    `${method} ${o.ruri ?? 'sip:127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/${(o.transport ?? 'udp').toUpperCase()} ${o.viaHost ?? PLACEHOLDER};branch=${o.branch ?? 'z9hG4bKtest1'};rport`,
    ...(o.route ? [`Route: <${o.route}>`] : []),
    'Max-Forwards: 70',
    `To: <sip:alice@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    'From: <sip:alice@127.0.0.1>;tag=fromtag1',
    `Call-ID: ${o.callId ?? 'call-1'}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:abcde@${PLACEHOLDER};transport=${o.transport ?? 'udp'}>;expires=600`,
    ...(o.extraHeaders ?? []),
    `Content-Length: ${Buffer.byteLength(body, 'utf8')}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** A response from a server to `request` (as received by it), copying Via/From/To/Call-ID/CSeq. */
export function responseTo(request: string, status: number, reason: string, viaOverride?: string): string {
  const header = (name: string) => request.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))!;
  return [
    `SIP/2.0 ${status} ${reason}`,
    viaOverride ?? header('Via'),
    header('From'),
    header('To') + (status > 100 ? ';tag=servertag' : ''),
    header('Call-ID'),
    header('CSeq'),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export function headerOf(message: string, name: string): string | undefined {
  const line = message.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return line?.slice(line.indexOf(':') + 1).trim();
}
