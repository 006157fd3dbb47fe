/**
 * The user's audio device choices: microphone, call speaker and ringing device (setSinkId), and
 * the microphone's processing (echo cancellation, noise suppression, automatic gain control), and
 * which echo canceller runs: Chromium's (the default: mature, needs the far end played through a
 * loopback route, ~46 ms more delay) or the built-in one in the audio worklet (no route;
 * echo-canceller.ts). The canceller is chosen when a call's audio starts.
 * Device lists come from enumerateDevices (labels appear once microphone access was granted, so
 * `refresh` runs again after each call's audio starts) and follow devicechange. '' means the
 * system default.
 * Choices are kept across restarts (saved-audio-settings.ts). A chosen device that is not there
 * (a headset unplugged) is replaced by the default while it is away and used again when it comes
 * back: the choice is remembered, the selection (`inputDeviceId`, ...) is what is in use.
 * Changes of what is in use are announced to subscribers (CallAudioState applies them to running
 * calls, RingerState to a sounding ring).
 */
import type { AudioProcessing } from '../audio/audio-engine';
import { AlertPlayer } from '../audio/alert-player';
import { errorText } from './error-text';
import { loadAudioSettings, saveAudioSettings } from './saved-audio-settings';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export type AudioSettingsChange = { kind: 'input' } | { kind: 'output' } | { kind: 'ring' } | { kind: 'processing' };

type DeviceRole = 'input' | 'output' | 'ring';

export type EchoCancellerChoice = 'chromium' | 'built-in';

export class AudioSettingsState {
  inputs = $state<DeviceOption[]>([]);
  outputs = $state<DeviceOption[]>([]);
  inputDeviceId = $state('');
  outputDeviceId = $state('');
  ringDeviceId = $state('');
  echoCancellation = $state(true);
  echoCanceller = $state<EchoCancellerChoice>('chromium');
  noiseSuppression = $state(true);
  autoGainControl = $state(true);
  /** Whether this browser can choose the call's output device (AudioContext.setSinkId). */
  readonly canChooseOutput: boolean;
  /** Whether it can choose the ringing device (HTMLMediaElement.setSinkId). */
  readonly canChooseRing: boolean;
  problem = $state<string | undefined>(undefined);
  /** Why the saved choices could not be read or kept (shown until the next successful save). */
  storageProblem = $state<string | undefined>(undefined);
  /** The user's device choices, whether or not the device is there now. */
  private readonly chosen: Record<DeviceRole, string> = { input: '', output: '', ring: '' };
  // Subscribers, not UI state: nothing renders from this set.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly listeners = new Set<(change: AudioSettingsChange) => void>();

  constructor(
    private readonly media: MediaDevices | undefined = globalThis.navigator?.mediaDevices,
    private readonly storage: Storage | undefined = globalThis.localStorage,
  ) {
    this.canChooseOutput = typeof AudioContext !== 'undefined' && 'setSinkId' in AudioContext.prototype;
    this.canChooseRing = AlertPlayer.canChooseDevice;
    const { saved, problem } = loadAudioSettings(storage);
    this.storageProblem = problem;
    if (saved) {
      this.chosen.input = saved.inputDeviceId ?? '';
      this.chosen.output = saved.outputDeviceId ?? '';
      this.chosen.ring = saved.ringDeviceId ?? '';
      this.echoCancellation = saved.echoCancellation ?? true;
      this.echoCanceller = saved.echoCanceller ?? 'chromium';
      this.noiseSuppression = saved.noiseSuppression ?? true;
      this.autoGainControl = saved.autoGainControl ?? true;
    }
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
    this.choose('input', deviceId);
  }

  selectOutput(deviceId: string): void {
    this.choose('output', deviceId);
  }

  selectRing(deviceId: string): void {
    this.choose('ring', deviceId);
  }

  setProcessing(processing: Partial<AudioProcessing>): void {
    if (processing.echoCancellation !== undefined) this.echoCancellation = processing.echoCancellation !== false;
    if (processing.noiseSuppression !== undefined) this.noiseSuppression = processing.noiseSuppression;
    if (processing.autoGainControl !== undefined) this.autoGainControl = processing.autoGainControl;
    this.save();
    this.emit({ kind: 'processing' });
  }

  /** Which canceller the next call's audio uses (a running call keeps its own). */
  setEchoCanceller(choice: EchoCancellerChoice): void {
    this.echoCanceller = choice;
    this.save();
  }

  private choose(role: DeviceRole, deviceId: string): void {
    this.chosen[role] = deviceId;
    this.save();
    this.use(role, deviceId);
  }

  /** Puts `deviceId` in use for `role`, announcing it if that changes what is in use. */
  private use(role: DeviceRole, deviceId: string): void {
    const field = role === 'input' ? 'inputDeviceId' : role === 'output' ? 'outputDeviceId' : 'ringDeviceId';
    if (this[field] === deviceId) return;
    this[field] = deviceId;
    this.emit({ kind: role });
  }

  private save(): void {
    try {
      saveAudioSettings(this.storage, {
        inputDeviceId: this.chosen.input,
        outputDeviceId: this.chosen.output,
        ringDeviceId: this.chosen.ring,
        echoCancellation: this.echoCancellation,
        echoCanceller: this.echoCanceller,
        noiseSuppression: this.noiseSuppression,
        autoGainControl: this.autoGainControl,
      });
      this.storageProblem = undefined;
    } catch (error) {
      this.storageProblem = `Audio settings cannot be saved for next time: ${errorText(error)}`;
    }
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
      // A chosen device that is not there is replaced by the default until it comes back.
      const present = (list: DeviceOption[], id: string): string => (id !== '' && list.some((d) => d.deviceId === id) ? id : '');
      this.use('input', present(this.inputs, this.chosen.input));
      this.use('output', present(this.outputs, this.chosen.output));
      this.use('ring', present(this.outputs, this.chosen.ring));
      this.problem = undefined;
    } catch (error) {
      this.problem = `Could not list audio devices: ${errorText(error)}`;
    }
  }

  private emit(change: AudioSettingsChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
