/**
 * Dedicated worker that carries a call's audio frames between the page's server (a WebSocket,
 * dev:web) and the AudioWorklet (a MessagePort moved into it), so frames never wait for the
 * page's main thread: a layout, a garbage collection or a busy Svelte update there used to hold
 * them up and make the worklet's ring run dry (audio-engine.test.ts: the page busy for 300 ms,
 * 261 ms of silence when the page relayed, none through this worker). It is also the shape of the Electron
 * app, where the main process's port is moved into the worklet: the same worklet code path.
 *
 * Protocol with the page (WebSocketRelay, websocket-relay.ts):
 *   page -> worker  { kind: 'connect', url, port }  (port transferred: the worklet's peer)
 *   worker -> page  { kind: 'open' } once the socket is open, or { kind: 'error', message }
 *   page -> worker  { kind: 'close' }: closes the socket and the port; the worker then ends.
 * Frames: socket -> port as the ArrayBuffers received (transferred; the worklet parses and
 * validates them); port -> socket as encodeFrameMessage of the worklet's FrameMessages. A frame
 * that arrives while the socket is not open is dropped (real-time audio is never queued).
 *
 * Ownership: the worker owns the socket and its end of the port; one call's audio per worker.
 */
import { encodeFrameMessage, type FrameMessage } from '@common/audio/frame-protocol';

interface ConnectMessage {
  kind: 'connect';
  url: string;
  port: MessagePort;
}

// DedicatedWorkerGlobalScope, structurally (the renderer's tsconfig has the DOM lib, not WebWorker).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

let socket: WebSocket | undefined;
let port: MessagePort | undefined;

function connect({ url, port: workletPort }: ConnectMessage): void {
  port = workletPort;
  const ws = new WebSocket(url);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    ws.onerror = null;
    scope.postMessage({ kind: 'open' });
  };
  ws.onerror = () => scope.postMessage({ kind: 'error', message: `Audio frame WebSocket ${url} could not be opened` });
  ws.onmessage = (event: MessageEvent) => {
    const data = event.data as ArrayBuffer;
    workletPort.postMessage(data, [data]);
  };
  workletPort.onmessage = (event: MessageEvent) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrameMessage(event.data as FrameMessage));
  };
}

scope.onmessage = (event: MessageEvent) => {
  const message = event.data as { kind?: unknown };
  if (message.kind === 'connect' && !socket) connect(event.data as ConnectMessage);
  else if (message.kind === 'close') {
    socket?.close();
    port?.close();
    scope.close();
  }
};
