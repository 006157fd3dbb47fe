/**
 * The user's audio device choices: microphone, speaker (setSinkId) and the microphone's processing
 * (echo cancellation, noise suppression, automatic gain control). Device lists come from
 * enumerateDevices (labels appear once microphone access was granted, so `refresh` runs again
 * after each call's audio starts) and follow devicechange. '' means the system default.
 * Changes are announced to subscribers (CallAudioState applies them to running calls).
 */
import type { AudioProcessing } from '../audio/audio-engine';
import { errorText } from './error-text';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export type AudioSettingsChange = { kind: 'input' } | { kind: 'output' } | { kind: 'processing' };

export class AudioSettingsState {
  inputs = $state<DeviceOption[]>([]);
  outputs = $state<DeviceOption[]>([]);
  inputDeviceId = $state('');
  outputDeviceId = $state('');
  echoCancellation = $state(true);
  noiseSuppression = $state(true);
  autoGainControl = $state(true);
  /** Whether this browser can choose the output device (setSinkId). */
  readonly canChooseOutput: boolean;
  problem = $state<string | undefined>(undefined);
  // Subscribers, not UI state: nothing renders from this set.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly listeners = new Set<(change: AudioSettingsChange) => void>();

  constructor(private readonly media: MediaDevices | undefined = globalThis.navigator?.mediaDevices) {
    this.canChooseOutput = typeof AudioContext !== 'undefined' && 'setSinkId' in AudioContext.prototype;
    if (!media) {
      this.problem = 'This browser gives the page no audio devices.';
      return;
    }
    media.addEventListener('devicechange', () => void this.refresh());
    void this.refresh();
  }

  get processing(): AudioProcessing {
    return { echoCancellation: this.echoCancellation, noiseSuppression: this.noiseSuppression, autoGainControl: this.autoGainControl };
  }

  onChange(listener: (change: AudioSettingsChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  selectInput(deviceId: string): void {
    this.inputDeviceId = deviceId;
    this.emit({ kind: 'input' });
  }

  selectOutput(deviceId: string): void {
    this.outputDeviceId = deviceId;
    this.emit({ kind: 'output' });
  }

  setProcessing(processing: Partial<AudioProcessing>): void {
    if (processing.echoCancellation !== undefined) this.echoCancellation = processing.echoCancellation !== false;
    if (processing.noiseSuppression !== undefined) this.noiseSuppression = processing.noiseSuppression;
    if (processing.autoGainControl !== undefined) this.autoGainControl = processing.autoGainControl;
    this.emit({ kind: 'processing' });
  }

  async refresh(): Promise<void> {
    if (!this.media) return;
    try {
      const devices = await this.media.enumerateDevices();
      const options = (kind: MediaDeviceKind, noun: string): DeviceOption[] =>
        devices
          .filter((d) => d.kind === kind && d.deviceId !== '' && d.deviceId !== 'default')
          .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${noun} ${i + 1}` }));
      this.inputs = options('audioinput', 'Microphone');
      this.outputs = options('audiooutput', 'Speaker');
      // A chosen device that disappeared falls back to the default.
      if (this.inputDeviceId !== '' && !this.inputs.some((d) => d.deviceId === this.inputDeviceId)) this.selectInput('');
      if (this.outputDeviceId !== '' && !this.outputs.some((d) => d.deviceId === this.outputDeviceId)) this.selectOutput('');
      this.problem = undefined;
    } catch (error) {
      this.problem = `Could not list audio devices: ${errorText(error)}`;
    }
  }

  private emit(change: AudioSettingsChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
