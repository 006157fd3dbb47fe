/**
 * The preload bridge Electron exposes as `window.switchboard` (src-main/electron/preload.electron.ts).
 * It is the whole surface the renderer gets from the main process: one contract channel, nothing
 * else. Declared here because the renderer may import nothing from the main side;
 * tests/electron/preload-bridge.test.ts checks that the built preload exposes exactly this shape.
 */
export interface SwitchboardBridge {
  /** Send one JSON-RPC message (structured-clonable object) to the core. */
  send(message: unknown): void;
  /** Receive every JSON-RPC message the core sends to this window. */
  onMessage(listener: (message: unknown) => void): void;
}

declare global {
  interface Window {
    switchboard?: SwitchboardBridge;
  }
}
