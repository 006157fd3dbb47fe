/**
 * dev:web's AudioDeviceBroker: the page's AudioEngine reaches a call's audio device over a
 * WebSocket at `/audio?call=<callId>&rate=<port rate>` on the page's own server.
 *
 * Security: the same rules as the contract carrier (/rpc, websocket-carrier.ts upgradeRefusal):
 * loopback Host, Origin in allowedOrigins (or absent, for local non-browser clients). Audio is a
 * microphone: a foreign page must never be able to listen in.
 *
 * Per call, a CallAudioLink is the FramePort the core's PortAudioDevice talks to. Its socket can
 * arrive before or after the call's media starts (the page reacts to call.state events, which may
 * overtake media start-up), so states per call are:
 *   parked (socket, no media yet; closed if media does not start within PARK_MS)
 *   -> linked (media + socket) <-> waiting (media, no socket: frames to the page are dropped)
 *   -> closed (broker.close: the call no longer needs audio; the socket is closed with 1000).
 * A newer socket for the same call replaces the older one (page reload).
 * Ownership: the broker owns the sockets it accepted. Node main thread.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FrameMessage, FramePort } from '../common/audio/frame-protocol';
import { upgradeRefusal } from '../carriers/websocket-carrier';
import { WebSocketFramePort } from '../core/media/audio/port-websocket';
import type { AudioDeviceBroker } from '../core/media/audio/renderer-audio-provider';

export const AUDIO_PATH = '/audio';
/** How long a socket may wait for its call's media to start. */
const PARK_MS = 15_000;
const CALL_ID = /^[\w.-]{1,64}$/;

/** The FramePort of one call: relays to whichever page socket is attached now. */
class CallAudioLink implements FramePort {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  /** Frames for the page dropped while no page was attached. */
  droppedWithoutPage = 0;
  sampleRate: number | undefined;
  socket: WebSocket | undefined;
  private socketPort: WebSocketFramePort | undefined;
  parkTimer: NodeJS.Timeout | undefined;

  postMessage(message: FrameMessage): void {
    if (!this.socketPort) {
      this.droppedWithoutPage++;
      return;
    }
    this.socketPort.postMessage(message);
  }

  attach(socket: WebSocket): void {
    this.socket?.close(1000, 'Replaced by a newer audio connection for this call');
    this.socket = socket;
    const port = new WebSocketFramePort(socket);
    port.onmessage = (event) => this.onmessage?.(event);
    this.socketPort = port;
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.socketPort = undefined;
    });
  }

  close(reason: string): void {
    clearTimeout(this.parkTimer);
    this.socket?.close(1000, reason);
    this.socket = undefined;
    this.socketPort = undefined;
    this.onmessage = null;
  }
}

export interface WebSocketAudioBroker {
  readonly broker: AudioDeviceBroker;
  /** Offer an upgrade request; false when the path is not AUDIO_PATH (socket left alone). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Calls with a link (media running or a page socket parked). */
  readonly linkCount: number;
  close(): Promise<void>;
}

export function createWebSocketAudioBroker(options: {
  allowedOrigins: readonly string[];
  allowNonBrowserClients?: boolean;
  log?: (line: string) => void;
}): WebSocketAudioBroker {
  const log = options.log ?? (() => undefined);
  // Frames are ~2 KB (20 ms at 48 kHz); anything far larger is not ours.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const links = new Map<string, CallAudioLink>();

  const refuse = (socket: Duplex, status: string, reason: string): void => {
    log(`audio socket: refused upgrade: ${reason}`);
    const body = `${reason}\n`;
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };

  const broker: AudioDeviceBroker = {
    open({ callId, sampleRate }) {
      let link = links.get(callId);
      if (link?.sampleRate !== undefined) throw new Error(`audio broker: call ${callId} already has an audio link`);
      if (!link) links.set(callId, (link = new CallAudioLink()));
      clearTimeout(link.parkTimer);
      link.sampleRate = sampleRate;
      return link;
    },
    close(callId) {
      const link = links.get(callId);
      if (!link) return;
      links.delete(callId);
      link.close('Call audio ended');
      if (link.droppedWithoutPage > 0) log(`audio socket: call ${callId}: ${link.droppedWithoutPage} frames had no page to go to`);
    },
  };

  return {
    broker,
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== AUDIO_PATH) return false;
      const refusal = upgradeRefusal(
        { host: request.headers.host, origin: request.headers.origin },
        options.allowedOrigins,
        options.allowNonBrowserClients ?? true,
      );
      if (refusal) {
        refuse(socket, '403 Forbidden', refusal);
        return true;
      }
      const callId = url.searchParams.get('call') ?? '';
      if (!CALL_ID.test(callId)) {
        refuse(socket, '400 Bad Request', `The call parameter must be a call id, got "${callId}"`);
        return true;
      }
      const rate = Number(url.searchParams.get('rate'));
      const existing = links.get(callId);
      if (existing?.sampleRate !== undefined && rate !== existing.sampleRate) {
        refuse(socket, '409 Conflict', `Call ${callId} audio runs at ${existing.sampleRate} Hz, the page asked for ${String(url.searchParams.get('rate'))}`);
        return true;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        ws.on('error', (error) => log(`audio socket: call ${callId}: ${error.message}`));
        let link = links.get(callId);
        if (!link) {
          // The page heard of the call before its media started: park until broker.open.
          links.set(callId, (link = new CallAudioLink()));
          const parked = link;
          parked.parkTimer = setTimeout(() => {
            if (parked.sampleRate !== undefined || links.get(callId) !== parked) return;
            links.delete(callId);
            parked.close(`No audio started for call ${callId}`);
          }, PARK_MS);
        }
        link.attach(ws);
      });
      return true;
    },
    get linkCount() {
      return links.size;
    },
    close() {
      for (const [callId, link] of links) {
        links.delete(callId);
        link.close('Switchboard core shutting down');
      }
      return new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
