/**
 * RpcChannel over a browser WebSocket (dev:web). One JSON-RPC message per text frame.
 * Messages sent before the socket opens are queued and flushed on open, so callers can use the
 * channel immediately. A frame that is not JSON is reported as `undefined` (RpcChannel rule).
 */
import type { JsonRpcMessage, RpcChannel } from '@common/contract/json-rpc';

export interface WebSocketChannel extends RpcChannel {
  /** Resolves when the socket is open; rejects with a readable error if it never opens. */
  readonly opened: Promise<void>;
  close(): void;
}

export function createWebSocketChannel(url: string): WebSocketChannel {
  const socket = new WebSocket(url);
  const queue: string[] = [];
  const messageListeners: Array<(message: unknown) => void> = [];
  const closeListeners: Array<() => void> = [];
  let closed = false;

  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => {
      for (const text of queue.splice(0)) socket.send(text);
      resolve();
    });
    socket.addEventListener('close', (event) => {
      reject(new Error(`Could not connect to the Switchboard core at ${url} (WebSocket closed, code ${event.code})`));
    });
  });
  // The caller may never await `opened`; the close listeners report the failure instead.
  opened.catch(() => undefined);

  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      console.warn('Switchboard: core sent a frame that is not JSON', error);
      message = undefined;
    }
    for (const listener of messageListeners) listener(message);
  });
  socket.addEventListener('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });

  return {
    opened,
    send(message: JsonRpcMessage) {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(text);
      else throw new Error('Connection to the Switchboard core is closed');
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    close() {
      socket.close(1000, 'renderer closing');
    },
  };
}
