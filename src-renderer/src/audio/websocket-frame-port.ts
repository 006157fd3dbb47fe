/**
 * FramePort over a browser WebSocket (dev:web): the renderer's end of the main side's
 * WebSocketFramePort. Every message is one binary WebSocket message (encodeFrameMessage); incoming
 * ones are handed on as ArrayBuffers for the consumer (the worklet) to parse and validate.
 *
 * Ownership: `connect` opens the socket and the port owns it: `close()` closes it. Messages posted
 * while it is not open are dropped and counted (real-time audio is never queued).
 */
import { encodeFrameMessage, type FrameMessage, type FramePort } from '@common/audio/frame-protocol';

export class WebSocketFramePort implements FramePort {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  droppedWhileClosed = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: MessageEvent) => this.onmessage?.({ data: event.data });
  }

  /** Opens `url` (ws://127.0.0.1:PORT/...) and resolves once it is open; rejects with the reason otherwise. */
  static connect(url: string): Promise<WebSocketFramePort> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => {
        socket.onerror = null;
        resolve(new WebSocketFramePort(socket));
      };
      socket.onerror = () => reject(new Error(`Audio frame WebSocket ${url} could not be opened`));
    });
  }

  postMessage(message: FrameMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) {
      this.droppedWhileClosed++;
      return;
    }
    this.socket.send(encodeFrameMessage(message));
  }

  close(): void {
    this.socket.close();
  }
}
