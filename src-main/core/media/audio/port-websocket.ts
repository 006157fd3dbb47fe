/**
 * FramePort over a `ws` WebSocket (dev:web and tests): every frame-protocol message is one binary
 * WebSocket message (encodeFrameMessage). Incoming binary messages are handed on as ArrayBuffers
 * (PortAudioDevice parses and validates them); a text message is a protocol error, reported to
 * the consumer as such rather than dropped silently.
 *
 * Ownership: the adapter does not own the socket; whoever accepted it closes it. Messages posted
 * while the socket is not open are dropped and counted (audio is real-time: no queueing).
 */
import type { RawData, WebSocket } from 'ws';
import { encodeFrameMessage, type FrameMessage, type FramePort } from '../../../common/audio/frame-protocol';

export class WebSocketFramePort implements FramePort {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  /** Messages posted while the socket was not open. */
  droppedWhileClosed = 0;

  constructor(private readonly socket: WebSocket) {
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const handler = this.onmessage;
      if (!handler) return;
      // A text message is passed on as a string: the consumer rejects it with a specific error.
      handler({ data: isBinary ? toArrayBuffer(data) : data.toString() });
    });
  }

  postMessage(message: FrameMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) {
      this.droppedWhileClosed++;
      return;
    }
    this.socket.send(new Uint8Array(encodeFrameMessage(message)), { binary: true });
  }
}

/** A standalone, aligned ArrayBuffer copy (a Buffer may be a slice of a shared pool). */
function toArrayBuffer(data: RawData): ArrayBuffer {
  const chunks = Array.isArray(data) ? data : [data instanceof ArrayBuffer ? new Uint8Array(data) : data];
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}
