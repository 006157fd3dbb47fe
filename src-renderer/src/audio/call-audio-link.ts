/**
 * How a call's audio device (AudioEngine) reaches the core, per carrier:
 * - dev:web: when the call has media (connected or early media) a dedicated worker opens
 *   ws(s)://<its host>/audio?call=<callId>&rate=<port rate> (the server's websocket-audio-broker
 *   routes it) and relays its frames to a MessagePort the engine moves into its worklet
 *   (websocket-relay.ts): frames never pass the page's main thread, as in Electron.
 * - Electron: main creates a MessageChannelMain per call when its media starts and posts one end
 *   to the preload, which forwards it here with window.postMessage as an AudioPortMessage (only
 *   that message type, only with one transferred port). The engine moves the port into its worklet.
 * Pure renderer code: no node, no electron.
 */
import { WebSocketRelay } from './websocket-relay';
import { websocketRelayWorkerUrl } from './websocket-relay-worker-url';

/** Port rate dev:web uses (the core's PORT_SAMPLE_RATE; the server refuses any other). */
export const DEV_WEB_AUDIO_PORT_RATE = 48000;

/** window.postMessage type the Electron preload uses to hand over a call's audio port. */
export const AUDIO_PORT_MESSAGE_TYPE = 'switchboard-audio-port';

export interface AudioPortMessage {
  type: typeof AUDIO_PORT_MESSAGE_TYPE;
  callId: string;
  sampleRate: number;
}

/** The audio port announcement in a window message, or undefined when it is not one. */
export function audioPortMessageOf(data: unknown): AudioPortMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  if (m.type !== AUDIO_PORT_MESSAGE_TYPE) return undefined;
  if (typeof m.callId !== 'string' || m.callId === '') return undefined;
  if (typeof m.sampleRate !== 'number' || !Number.isInteger(m.sampleRate) || m.sampleRate <= 0) return undefined;
  return { type: AUDIO_PORT_MESSAGE_TYPE, callId: m.callId, sampleRate: m.sampleRate };
}

/** ws URL of a call's audio device on the page's own server. */
export function audioSocketUrl(location: { protocol: string; host: string }, callId: string, sampleRate: number): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/audio?call=${encodeURIComponent(callId)}&rate=${sampleRate}`;
}

export function connectAudioSocket(location: { protocol: string; host: string }, callId: string): Promise<WebSocketRelay> {
  return WebSocketRelay.connect(websocketRelayWorkerUrl, audioSocketUrl(location, callId, DEV_WEB_AUDIO_PORT_RATE));
}
