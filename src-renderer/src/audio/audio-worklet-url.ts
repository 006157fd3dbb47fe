// URL of the bundled audio-device processor for AudioEngine's `workletUrl`: Vite emits the
// processor (and what it imports) as a separate same-origin script (CSP script-src 'self').
// AudioWorklet modules do not load from file://, so Electron must serve the renderer from a
// privileged standard scheme (app://switchboard, src-main/electron/app-scheme.ts); dev:web serves
// it over http://127.0.0.1.
import workletUrl from './audio-device-processor?worker&url';

export const audioDeviceWorkletUrl: string = workletUrl;
