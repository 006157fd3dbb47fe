/**
 * Preload for the main window (sandboxed, context-isolated). Exposes exactly one thing to the page:
 * `window.switchboard` = { send(message), onMessage(listener) } on the contract channel.
 * No ipcRenderer, no event objects, no other channels: the page can speak the contract and
 * nothing else. Shape kept in step with src-renderer/src/carrier/switchboard-bridge.ts.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CONTRACT_IPC_CHANNEL } from '../carriers/ipc-contract-channel';

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
