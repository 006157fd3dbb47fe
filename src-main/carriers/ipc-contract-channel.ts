/**
 * The Electron IPC carrier, minus Electron: the channel name, who may talk on it, and the
 * RpcChannel over one window. The electron-importing glue (src-main/electron/ipc-carrier.main.ts)
 * feeds these with ipcMain events and a WebContents, so this file runs and is tested under plain Node.
 *
 * Contract:
 * - Messages are JSON-RPC objects moved by structured clone on CONTRACT_IPC_CHANNEL, both ways.
 * - The main process MUST accept a message only from our window's WebContents, from its main
 *   frame, with that frame showing our own page (same scheme, host and path as the trusted page
 *   URL: app://switchboard/index.html in the app).
 *   Anything else (a subframe, a navigated-away page, another window) is dropped and logged.
 */
import type { JsonRpcMessage, RpcChannel } from '../common/contract/json-rpc';

export const CONTRACT_IPC_CHANNEL = 'switchboard:contract';

export interface IpcSender {
  /** WebContents id of the sender. */
  webContentsId: number;
  /** URL of the frame that sent the message; undefined when the frame is gone. */
  frameUrl: string | undefined;
  /** Whether that frame is the top-level frame of its WebContents. */
  isMainFrame: boolean;
}

export interface TrustedPage {
  webContentsId: number;
  /** URL of our index.html (app://switchboard/index.html in the app). */
  pageUrl: string;
}

/** Why a message must be dropped, or undefined when the sender is our page. */
export function ipcSenderRefusal(sender: IpcSender, trusted: TrustedPage): string | undefined {
  if (sender.webContentsId !== trusted.webContentsId) return `message from another WebContents (${sender.webContentsId})`;
  if (!sender.isMainFrame) return 'message from a subframe';
  if (sender.frameUrl === undefined) return 'message from a frame that no longer exists';
  let url: URL;
  try {
    url = new URL(sender.frameUrl);
  } catch (error) {
    return `message from an unparsable frame URL (${String(error)})`;
  }
  const page = new URL(trusted.pageUrl);
  const scheme = page.protocol.slice(0, -1);
  if (url.protocol !== page.protocol) return `message from non-${scheme} origin ${url.protocol}`;
  if (url.host !== page.host || url.pathname !== page.pathname) return `message from another page (${url.pathname})`;
  return undefined;
}

/** The part of a WebContents the channel needs. */
export interface IpcPeer {
  send(channel: string, message: unknown): void;
  isDestroyed(): boolean;
}

export interface IpcContractChannel extends RpcChannel {
  /** Hand over a message received (and sender-checked) from the peer. */
  deliver(message: unknown): void;
  /** The peer is gone: notify close listeners once. */
  close(): void;
}

export function createIpcContractChannel(peer: IpcPeer): IpcContractChannel {
  const messageListeners: Array<(message: unknown) => void> = [];
  const closeListeners: Array<() => void> = [];
  let closed = false;
  return {
    send(message: JsonRpcMessage) {
      // Answers to a window that has just closed have no one to reach.
      if (closed || peer.isDestroyed()) return;
      peer.send(CONTRACT_IPC_CHANNEL, message);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    deliver(message) {
      if (closed) return;
      for (const listener of messageListeners) listener(message);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const listener of closeListeners) listener();
    },
  };
}
