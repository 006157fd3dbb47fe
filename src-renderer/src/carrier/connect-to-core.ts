/**
 * Chooses the carrier at startup:
 * - Electron: the preload bridge `window.switchboard` exists → IPC.
 * - Browser (dev:web): WebSocket to `?rpc=ws://127.0.0.1:PORT/rpc` when given, else same origin `/rpc`.
 */
import type { RpcChannel } from '@common/contract/json-rpc';
import { createIpcBridgeChannel } from './ipc-bridge-channel';
import { createWebSocketChannel } from './websocket-channel';
import './switchboard-bridge';

export interface CoreConnection {
  readonly channel: RpcChannel;
  /** Which carrier, in words, for the status line. */
  readonly carrier: 'Electron IPC' | 'WebSocket';
  /** Resolves when messages can flow; rejects with a readable reason. */
  readonly ready: Promise<void>;
}

/** Resolve the WebSocket URL for a page location; throws on a URL that is not ws: or wss:. */
export function webSocketUrlFor(location: { href: string; protocol: string; host: string; search: string }): string {
  const requested = new URLSearchParams(location.search).get('rpc');
  if (requested !== null) {
    const url = new URL(requested, location.href);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
      throw new Error(`The rpc parameter must be a ws:// or wss:// URL, got "${requested}"`);
    return url.href;
  }
  if (location.protocol !== 'http:' && location.protocol !== 'https:')
    throw new Error('No Electron bridge and no ?rpc=ws://… parameter: cannot reach the Switchboard core');
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/rpc`;
}

export function connectToCore(win: Window): CoreConnection {
  if (win.switchboard) {
    return { channel: createIpcBridgeChannel(win.switchboard), carrier: 'Electron IPC', ready: Promise.resolve() };
  }
  const channel = createWebSocketChannel(webSocketUrlFor(win.location));
  return { channel, carrier: 'WebSocket', ready: channel.opened };
}
