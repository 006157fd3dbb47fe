/**
 * WebSocket carrier (node side): every WebSocket connection becomes one RpcChannel attached to the
 * ContractServer. One JSON-RPC message per text frame.
 *
 * Security contract (the core can place calls and holds credentials, so a web page MUST NOT be
 * able to drive it):
 * - It MUST only listen on loopback (listenWebSocketCarrier binds 127.0.0.1; callers that bring
 *   their own http server MUST bind it to 127.0.0.1).
 * - The Host header MUST name a loopback host (defeats DNS rebinding: a page on evil.example that
 *   re-resolves to 127.0.0.1 still sends Host: evil.example).
 * - A browser always sends Origin; it MUST be in `allowedOrigins` (defeats cross-site WebSocket
 *   hijacking). A request without Origin is not from a browser page; it is accepted only when
 *   `allowNonBrowserClients` is true (local scripts and tests), since a local process could reach
 *   the core by other means anyway.
 * Rejected upgrades get an HTTP 403 with the reason and are closed.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { ContractServer } from '../common/contract/contract-server';
import type { JsonRpcMessage, RpcChannel } from '../common/contract/json-rpc';

export interface WebSocketCarrierOptions {
  server: ContractServer;
  /** Exact origins allowed to connect, e.g. "http://127.0.0.1:5173". */
  allowedOrigins: readonly string[];
  /** Accept upgrade requests that carry no Origin header (non-browser clients). Default true. */
  allowNonBrowserClients?: boolean;
  /** URL path of the endpoint. Default "/rpc". */
  path?: string;
  /** Largest accepted frame. Default 1 MiB: contract messages are small. */
  maxPayloadBytes?: number;
  log?: (line: string) => void;
}

export interface WebSocketCarrier {
  /**
   * Offer an HTTP upgrade request to the carrier. Returns false (and leaves the socket alone) when
   * the path is not ours; otherwise accepts or rejects it and returns true.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Number of open connections. */
  readonly connectionCount: number;
  /** Close every connection (code 1001, "going away") and stop accepting. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The hostname part of a Host header ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "[::1]"). */
function hostnameOf(hostHeader: string): string {
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return match?.[1] ?? '';
}

/** Why an upgrade request must be refused, or undefined when it may connect. */
export function upgradeRefusal(
  headers: { host?: string | undefined; origin?: string | undefined },
  allowedOrigins: readonly string[],
  allowNonBrowserClients: boolean,
): string | undefined {
  if (!headers.host || !LOOPBACK_HOSTS.has(hostnameOf(headers.host)))
    return `Host "${headers.host ?? ''}" is not a loopback address`;
  if (headers.origin === undefined)
    return allowNonBrowserClients ? undefined : 'Missing Origin header';
  if (!allowedOrigins.includes(headers.origin)) return `Origin "${headers.origin}" is not allowed`;
  return undefined;
}

function refuse(socket: Duplex, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Wrap one open WebSocket as an RpcChannel. Binary or non-JSON frames are reported as undefined. */
function channelFor(ws: WebSocket, log: (line: string) => void): RpcChannel {
  return {
    send(message: JsonRpcMessage) {
      if (ws.readyState !== WebSocket.OPEN) return; // the peer is gone; its answer has no one to reach
      ws.send(JSON.stringify(message));
    },
    onMessage(listener) {
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) {
          log('websocket carrier: binary frame ignored as not JSON');
          listener(undefined);
          return;
        }
        let message: unknown;
        try {
          message = JSON.parse(data.toString());
        } catch (error) {
          // Not JSON: the RpcChannel contract reports it as undefined so the server answers ParseError.
          log(`websocket carrier: frame is not JSON: ${error instanceof Error ? error.message : String(error)}`);
          message = undefined;
        }
        listener(message);
      });
    },
    onClose(listener) {
      ws.on('close', () => listener());
    },
  };
}

export function createWebSocketCarrier(options: WebSocketCarrierOptions): WebSocketCarrier {
  const path = options.path ?? '/rpc';
  const log = options.log ?? (() => undefined);
  const allowNonBrowserClients = options.allowNonBrowserClients ?? true;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 1024 * 1024 });

  let closing: Promise<void> | undefined;

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', (error) => log(`websocket carrier: connection error: ${error.message}`));
    options.server.attach(channelFor(ws, log));
  });

  return {
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== path) return false;
      const refusal = upgradeRefusal(
        { host: request.headers.host, origin: request.headers.origin },
        options.allowedOrigins,
        allowNonBrowserClients,
      );
      if (refusal) {
        log(`websocket carrier: refused upgrade: ${refusal}`);
        refuse(socket, refusal);
        return true;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      return true;
    },
    get connectionCount() {
      return wss.clients.size;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const ws of wss.clients) ws.close(1001, 'Switchboard core shutting down');
        wss.close((error) => (error ? reject(error) : resolve()));
      });
      return closing;
    },
  };
}

export interface ListeningWebSocketCarrier {
  /** ws://127.0.0.1:PORT/rpc */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A standalone carrier on its own loopback HTTP server (no page serving). Port 0 = random.
 * Plain HTTP requests get 426 Upgrade Required.
 */
export async function listenWebSocketCarrier(
  options: WebSocketCarrierOptions & { port?: number },
): Promise<ListeningWebSocketCarrier> {
  const carrier = createWebSocketCarrier(options);
  const http = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    response.end('This endpoint speaks WebSocket only.\n');
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!carrier.handleUpgrade(request, socket, head)) refuse(socket, `No WebSocket endpoint at ${request.url ?? ''}`);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}${options.path ?? '/rpc'}`,
    port,
    close() {
      closing ??= (async () => {
        await carrier.close();
        http.closeAllConnections();
        await new Promise<void>((resolve, reject) => http.close((error) => (error ? reject(error) : resolve())));
      })();
      return closing;
    },
  };
}
