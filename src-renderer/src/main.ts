import { mount } from 'svelte';
import { z } from 'zod';
import App from './App.svelte';
import { connectToCore } from './carrier/connect-to-core';
import { AccountsState } from './state/accounts.svelte';
import { AudioSettingsState } from './state/audio-settings.svelte';
import { CallAudioState } from './state/call-audio.svelte';
import { CallsState } from './state/calls.svelte';
import { ConnectionState } from './state/connection.svelte';
import { RingerState } from './state/ringer.svelte';
import './app.css';

// zod would probe `new Function` for its JIT; the CSP forbids eval, so skip the probe.
z.config({ jitless: true });

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');

let connection: ConnectionState | undefined;
let startupError: string | undefined;
try {
  connection = new ConnectionState(connectToCore(window));
} catch (error) {
  startupError = error instanceof Error ? error.message : String(error);
  console.error('Switchboard: cannot connect to the core', error);
}

mount(App, {
  target,
  props: connection
    ? (() => {
        const audioSettings = new AudioSettingsState();
        // Electron hands each call's audio port over (preload); dev:web opens /audio sockets.
        const carrier = connection.carrier === 'Electron IPC' ? 'message-port' : 'websocket';
        return {
          connection,
          accounts: new AccountsState(connection.client),
          calls: new CallsState(connection.client),
          audioSettings,
          callAudio: new CallAudioState(connection.client, audioSettings, carrier),
          ringer: new RingerState(connection.client, audioSettings),
        };
      })()
    : { startupError },
});
