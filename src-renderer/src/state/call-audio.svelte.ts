/**
 * Runs one AudioEngine per call that has media, so the user hears and is heard.
 *
 * Per call:  (none) --media link--> starting --engine started--> running --call ended--> (none)
 *                                   starting/running --failure--> failed (problem shown) --ended--> (none)
 * The media link depends on the carrier (call-audio-link.ts):
 * - 'websocket' (dev:web): when call.state says ringing (our call's local ringback), early-media or
 *   connected, a relay worker opens /audio for it (websocket-relay.ts).
 * - 'message-port' (Electron): when main hands over the call's port (window message); main does
 *   so when the call's media starts, which can be before the call.state event arrives here.
 * The engine follows AudioSettingsState: device and processing changes apply to running calls.
 * A microphone that goes away mid-call is replaced by the engine; the view says what it did.
 * Ownership: owns the engines and (dev:web) the relay workers with their sockets. Renderer main thread.
 */
import type { CallSnapshot } from '@common/contract/contract';
import type { ContractClient } from '@common/contract/contract-client';
import type { FramePort } from '@common/audio/frame-protocol';
import { AudioEngine, type MicrophoneEvent } from '../audio/audio-engine';
import type { AudioDeviceMeter, EchoCancellerMeter } from '../audio/audio-device-messages';
import { audioDeviceWorkletUrl } from '../audio/audio-worklet-url';
import { AUDIO_PORT_MESSAGE_TYPE, audioPortMessageOf, connectAudioSocket, DEV_WEB_AUDIO_PORT_RATE } from '../audio/call-audio-link';
import type { AudioSettingsState } from './audio-settings.svelte';
import { errorText } from './error-text';

export type CallAudioCarrier = 'websocket' | 'message-port';
export type CallAudioStatus = 'starting' | 'running' | 'failed';

export interface CallAudioView {
  status: CallAudioStatus;
  problem?: string;
  /** Something the user should know that is not a failure (the microphone changed by itself). */
  notice?: string;
  /** Far-end level as played, 0..1 (latest meter). */
  playoutLevel: number;
  /** Microphone level, 0..1 (latest meter). */
  captureLevel: number;
  /** The built-in echo canceller's state, while it runs (latest meter). */
  echo?: EchoCancellerMeter;
}

interface RunningAudio {
  engine: AudioEngine | undefined;
  socket: { close(): void } | undefined;
  ended: boolean;
}

/** States in which a call has audio for the page: 'ringing' is our outgoing call's local ringback. */
const MEDIA_STATES = new Set<CallSnapshot['state']>(['ringing', 'early-media', 'connected']);

export class CallAudioState {
  /** Per call with audio. */
  byCall = $state<Record<string, CallAudioView>>({});
  // Bookkeeping, not UI state (the UI renders byCall).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly running = new Map<string, RunningAudio>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly ended = new Set<string>();

  constructor(
    client: ContractClient,
    private readonly settings: AudioSettingsState,
    private readonly carrier: CallAudioCarrier,
    private readonly win: Window = window,
  ) {
    client.on('call.state', (snapshot) => this.onCall(snapshot));
    client.call('call.list', {}).then(
      ({ calls }) => calls.forEach((call) => this.onCall(call)),
      (error: unknown) => console.warn(`Switchboard audio: could not list calls: ${errorText(error)}`),
    );
    if (carrier === 'message-port') {
      win.addEventListener('message', (event: MessageEvent) => {
        // Only the preload's announcement: same window, our origin, exactly one port.
        if (event.source !== win || event.origin !== win.location.origin) return;
        if ((event.data as { type?: unknown } | null)?.type !== AUDIO_PORT_MESSAGE_TYPE) return;
        const message = audioPortMessageOf(event.data);
        const port = event.ports[0];
        if (!message || !port || event.ports.length !== 1) {
          console.error('Switchboard audio: malformed audio port message ignored');
          return;
        }
        this.start(message.callId, message.sampleRate, async () => ({ port, socket: undefined }));
      });
    }
    settings.onChange((change) => {
      // The ringing device is the ringer's (RingerState), not the call's.
      if (change.kind !== 'ring') void this.applySettings(change.kind);
    });
  }

  private onCall(call: CallSnapshot): void {
    if (call.state === 'ended') {
      this.ended.add(call.callId);
      void this.stop(call.callId);
      return;
    }
    if (this.carrier !== 'websocket' || !MEDIA_STATES.has(call.state) || this.running.has(call.callId)) return;
    this.start(call.callId, DEV_WEB_AUDIO_PORT_RATE, async () => {
      const relay = await connectAudioSocket(this.win.location, call.callId);
      return { port: relay.port, socket: relay };
    });
  }

  private start(callId: string, sampleRate: number, link: () => Promise<{ port: FramePort | MessagePort; socket: { close(): void } | undefined }>): void {
    if (this.ended.has(callId)) return;
    if (this.running.has(callId)) void this.stop(callId); // a new port replaces the old one
    const entry: RunningAudio = { engine: undefined, socket: undefined, ended: false };
    this.running.set(callId, entry);
    this.byCall[callId] = { status: 'starting', playoutLevel: 0, captureLevel: 0 };
    void (async () => {
      try {
        const { port, socket } = await link();
        entry.socket = socket;
        if (entry.ended) {
          socket?.close();
          return;
        }
        const engine = new AudioEngine({
          workletUrl: audioDeviceWorkletUrl,
          framePort: port,
          sampleRate,
          processing: this.settings.processing,
          // The loopback route exists for Chromium's echo canceller and costs ~46 ms of delay
          // (README, bench 6b): without echo cancellation (a headset), or with the built-in
          // canceller, the far end plays directly. Decided when the call's audio starts; switching
          // echo cancellation later changes the microphone (and switches the built-in canceller).
          echoReference:
            this.settings.echoCancellation === false ? 'audio-context' : this.settings.echoCanceller === 'built-in' ? 'built-in-canceller' : 'loopback-peer-connection',
          onMeter: (meter) => this.onMeter(callId, entry, meter),
          onMicrophone: (event) => this.onMicrophone(callId, entry, event),
        });
        entry.engine = engine;
        await engine.start({
          inputDeviceId: this.settings.inputDeviceId || undefined,
          outputDeviceId: this.settings.outputDeviceId || undefined,
        });
        if (entry.ended) return;
        this.byCall[callId] = { status: 'running', playoutLevel: 0, captureLevel: 0 };
        void this.settings.refresh(); // device labels are visible now that the microphone is open
      } catch (error) {
        if (entry.ended) return;
        const problem = `Call audio could not start: ${errorText(error)}`;
        console.error(`Switchboard audio: ${callId}: ${problem}`);
        this.byCall[callId] = { status: 'failed', problem, playoutLevel: 0, captureLevel: 0 };
      }
    })();
  }

  private onMeter(callId: string, entry: RunningAudio, meter: AudioDeviceMeter): void {
    const view = this.byCall[callId];
    if (entry.ended || !view || view.status !== 'running') return;
    view.playoutLevel = meter.playoutRms;
    view.captureLevel = meter.captureRms;
    view.echo = meter.echoCanceller;
    if (meter.echoCancellerFault && !view.problem) {
      view.problem = `The built-in echo canceller failed (${meter.echoCancellerFault}) and was switched off for this call: the other side may hear itself.`;
      console.error(`Switchboard audio: ${callId}: ${view.problem}`);
    }
  }

  private onMicrophone(callId: string, entry: RunningAudio, event: MicrophoneEvent): void {
    const view = this.byCall[callId];
    if (entry.ended || !view) return;
    if (event.kind === 'reopened') {
      view.problem = undefined;
      view.notice = `The microphone (${event.lost}) went away; now using ${event.label}.`;
    } else {
      view.notice = undefined;
      view.problem = `The microphone (${event.lost}) went away and no other could be opened (${event.error}): the other side hears nothing. A microphone plugged in is used at once.`;
      console.error(`Switchboard audio: ${callId}: ${view.problem}`);
    }
    void this.settings.refresh();
  }

  private async stop(callId: string): Promise<void> {
    const entry = this.running.get(callId);
    delete this.byCall[callId];
    if (!entry) return;
    this.running.delete(callId);
    entry.ended = true;
    try {
      await entry.engine?.stop();
    } catch (error) {
      console.error(`Switchboard audio: ${callId}: stopping the audio device failed: ${errorText(error)}`);
    } finally {
      entry.socket?.close();
    }
  }

  private async applySettings(kind: 'input' | 'output' | 'processing'): Promise<void> {
    for (const [callId, entry] of this.running) {
      const engine = entry.engine;
      if (!engine || engine.state !== 'running') continue;
      try {
        if (kind === 'input') await engine.setInputDevice(this.settings.inputDeviceId || undefined);
        else if (kind === 'output') await engine.setSinkId(this.settings.outputDeviceId);
        else await engine.setProcessing(this.settings.processing);
      } catch (error) {
        const problem = `Could not change the audio ${kind === 'processing' ? 'processing' : 'device'}: ${errorText(error)}`;
        console.error(`Switchboard audio: ${callId}: ${problem}`);
        const view = this.byCall[callId];
        if (view) view.problem = problem;
      }
    }
  }
}
