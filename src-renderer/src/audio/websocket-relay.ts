/**
 * The page's side of websocket-relay-worker.ts: starts the worker, hands it the socket URL and
 * one end of a MessageChannel, and gives the AudioEngine the other end (a real MessagePort, moved
 * into the worklet as in Electron). `close()` ends the socket and the worker.
 *
 * Ownership: the relay owns its worker; the returned port belongs to whoever it is given to.
 */
export class WebSocketRelay {
  private constructor(
    private readonly worker: Worker,
    /** The worklet's end of the channel. */
    readonly port: MessagePort,
  ) {}

  /** Resolves once the worker's socket is open; rejects with the reason otherwise. */
  static connect(workerUrl: string | URL, socketUrl: string): Promise<WebSocketRelay> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerUrl, { type: 'module', name: 'audio frame relay' });
      const channel = new MessageChannel();
      const fail = (message: string) => {
        worker.terminate();
        channel.port2.close();
        reject(new Error(message));
      };
      worker.onmessage = (event: MessageEvent) => {
        const reply = event.data as { kind?: unknown; message?: unknown };
        worker.onmessage = null;
        worker.onerror = null;
        if (reply.kind === 'open') resolve(new WebSocketRelay(worker, channel.port2));
        else fail(typeof reply.message === 'string' ? reply.message : `Audio frame relay: unexpected reply ${String(reply.kind)}`);
      };
      worker.onerror = (event: ErrorEvent) => fail(`Audio frame relay worker failed to start: ${event.message || 'no reason given'}`);
      worker.postMessage({ kind: 'connect', url: socketUrl, port: channel.port1 }, [channel.port1]);
    });
  }

  close(): void {
    this.worker.postMessage({ kind: 'close' });
  }
}
