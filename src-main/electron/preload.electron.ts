/**
 * Preload for the main window (sandboxed, context-isolated). Exposes exactly one thing to the page:
 * `window.switchboard` = { send(message), onMessage(listener) } on the contract channel.
 * No ipcRenderer, no event objects, no other channels: the page can speak the contract and
 * nothing else. Shape kept in step with src-renderer/src/carrier/switchboard-bridge.ts.
 *
 * Besides the bridge, one forwarder: a call's audio port (electron-audio-broker.main.ts) arrives on
 * AUDIO_PORT_CHANNEL from main (ipcRenderer only ever receives from main) and is handed to the page
 * with window.postMessage, to our own origin only, as { type, callId, sampleRate } plus exactly
 * that one port (src-renderer/src/audio/call-audio-link.ts). Anything malformed is dropped.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CONTRACT_IPC_CHANNEL } from '../carriers/ipc-contract-channel';

// Literals, not imports: the sandboxed preload bundle stays tiny (kept in step with
// electron-audio-broker.main.ts and src-renderer/src/audio/call-audio-link.ts).
const AUDIO_PORT_CHANNEL = 'audio-port';
const AUDIO_PORT_MESSAGE_TYPE = 'switchboard-audio-port';
/** The window (this tsconfig has no DOM types); its postMessage reaches the page's main world. */
const page = globalThis as unknown as {
  postMessage(message: unknown, targetOrigin: string, transfer: unknown[]): void;
  location: { origin: string };
};

ipcRenderer.on(AUDIO_PORT_CHANNEL, (event, message: unknown) => {
  const m = message as { callId?: unknown; sampleRate?: unknown } | null;
  const port = event.ports[0];
  if (event.ports.length !== 1 || !port || typeof m?.callId !== 'string' || typeof m.sampleRate !== 'number') {
    console.error('Switchboard preload: malformed audio port message dropped');
    return;
  }
  page.postMessage({ type: AUDIO_PORT_MESSAGE_TYPE, callId: m.callId, sampleRate: m.sampleRate }, page.location.origin, [port]);
});

contextBridge.exposeInMainWorld('switchboard', {
  send(message: unknown): void {
    ipcRenderer.send(CONTRACT_IPC_CHANNEL, message);
  },
  onMessage(listener: (message: unknown) => void): void {
    if (typeof listener !== 'function') throw new TypeError('switchboard.onMessage needs a function');
    // Only the message crosses into the page, never the IpcRendererEvent (it carries ipcRenderer).
    ipcRenderer.on(CONTRACT_IPC_CHANNEL, (_event, message: unknown) => listener(message));
  },
});
