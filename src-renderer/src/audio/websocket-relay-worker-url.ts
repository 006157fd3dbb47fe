// URL of the bundled frame relay worker (websocket-relay-worker.ts) for WebSocketRelay.connect:
// Vite emits it as a separate same-origin module script (CSP worker-src 'self').
import relayWorkerUrl from './websocket-relay-worker?worker&url';

export const websocketRelayWorkerUrl: string = relayWorkerUrl;
