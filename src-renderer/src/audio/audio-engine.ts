/**
 * The renderer's audio device for calls: microphone -> AudioWorklet -> capture frames to main;
 * playout frames from main -> AudioWorklet -> speaker, over a FramePort (frame-protocol.ts).
 *
 * Graph:  getUserMedia track -> MediaStreamSource -> AudioWorkletNode (audio-device-processor)
 *         AudioWorkletNode -> MediaStreamDestination -> EchoReferenceRoute (<audio>, setSinkId)
 *           (echoReference 'loopback-peer-connection', the default: Chromium's AEC sees the far
 *           end, at ~46 ms more delay)
 *         or AudioWorkletNode -> context.destination (echoReference 'built-in-canceller': the
 *           worklet's own echo canceller, echo-canceller.ts, cancels what it plays; Chromium's
 *           canceller is not asked for)
 *         or AudioWorkletNode -> context.destination (echoReference 'audio-context': no AEC
 *           reference; for comparison, and the fallback, with a console warning, when the
 *           loopback cannot be opened: echoReferenceActive says which one is in use)
 * The context's clock (its sink follows the output device) drives the worklet, so the device
 * clock paces capture frames and playout consumption (see PortAudioDevice's pull mode).
 *
 * Frame port: a real MessagePort (Electron: the renderer's end of a MessageChannelMain) is MOVED
 * into the worklet, so frames never touch this thread; any other FramePort (WebSocket in dev:web)
 * is relayed by this thread. One port per start(): a moved port stays with the worklet, which
 * stop() destroys, so the main side makes a new channel for the next start.
 *
 * States: idle --start()--> running --stop()--> stopped (final). setSinkId, setInputDevice and
 * setProcessing work while running (input changes re-open the microphone with the new
 * constraints: Chromium applies echoCancellation/noiseSuppression/autoGainControl only at open).
 * A microphone that ends on its own while running (unplugged, access revoked: its track's 'ended')
 * is re-opened at once, the chosen device if it is there, else the default; with none to open,
 * again at each devicechange until one opens. `onMicrophone` hears each step: without it the
 * far end would hear silence for the rest of the call and nobody would know why.
 * Ownership: owns the AudioContext, microphone tracks, worklet node and echo route; the frame
 * port only when it was moved into the worklet. Renderer main thread.
 */
import { AUDIO_DEVICE_PROCESSOR, type AudioDeviceMeter, type AudioDeviceProcessorOptions, type EchoCancellerMessage } from './audio-device-messages';
import { EchoReferenceRoute } from './echo-reference-route';
import type { FrameMessage, FramePort } from '@common/audio/frame-protocol';

/**
 * Echo cancellation: false, true, or a W3C echo cancellation mode passed as is: 'remote-only'
 * (cancel what RTCPeerConnection tracks play) or 'all' (everything the system plays).
 * `true` with the loopback route requests 'remote-only': the far end IS a remote track there, and
 * that mode runs WebRTC's canceller with exactly that playout as reference (measured in
 * tests/renderer/audio-engine.test.ts: ~14 dB less echo). Chromium's plain `true` ("browser
 * decides", = 'all' in Chromium 156) uses the audio service's system-wide reference instead, which
 * cancelled nothing with fake devices there (not measurable without real hardware). Browsers that
 * do not know the modes convert the string to `true` (WebIDL boolean union), i.e. their default.
 * appliedProcessing() says what was applied.
 */
export type EchoCancellationSetting = boolean | 'all' | 'remote-only';

export interface AudioProcessing {
  echoCancellation: EchoCancellationSetting;
  noiseSuppression: boolean;
  autoGainControl: boolean;
}

export type EchoReference = 'built-in-canceller' | 'loopback-peer-connection' | 'audio-context';

export interface AudioEngineOptions {
  /** URL of the bundled audio-device-processor module (same origin: 'self' under our CSP). */
  workletUrl: string | URL;
  framePort: FramePort | MessagePort;
  /** Port rate: 8000, 16000 or 48000 (the call's codec rate avoids a second resampling in main). */
  sampleRate: number;
  /** Capture frame duration. Default 20. */
  frameMs?: 10 | 20;
  /** Default: all on. */
  processing?: Partial<AudioProcessing>;
  /** Default 'loopback-peer-connection'. */
  echoReference?: EchoReference;
  /** AudioContext rate; default the output device's own rate (no resampling by the browser). */
  contextSampleRate?: number;
  /** Playout (re)starts once this much is buffered in the worklet. Default 30 ms. */
  playoutStartMs?: number;
  /** Worklet playout ring capacity. Default 200 ms. */
  playoutMaxMs?: number;
  /** Levels and counters about every 100 ms. */
  onMeter?: (meter: AudioDeviceMeter) => void;
  /** The microphone in use ended on its own, and what the engine did about it. */
  onMicrophone?: (event: MicrophoneEvent) => void;
}

/**
 * - 'reopened': the microphone ended and `label` is in use now (the same device, or the default).
 * - 'unavailable': it ended and none could be opened (`error` says why); retried at each devicechange.
 */
export type MicrophoneEvent = { kind: 'reopened'; lost: string; label: string } | { kind: 'unavailable'; lost: string; error: string };

export interface AudioDevices {
  inputDeviceId?: string;
  outputDeviceId?: string;
}

export type AudioEngineState = 'idle' | 'starting' | 'running' | 'stopped';

const DEFAULT_PROCESSING: AudioProcessing = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class AudioEngine {
  private stateValue: AudioEngineState = 'idle';
  private context: AudioContext | undefined;
  private node: AudioWorkletNode | undefined;
  private microphone: MediaStream | undefined;
  private source: MediaStreamAudioSourceNode | undefined;
  private route: EchoReferenceRoute | undefined;
  private keepAlive: GainNode | undefined;
  private processing: AudioProcessing;
  private inputDeviceId: string | undefined;
  private outputDeviceId: string | undefined;
  private meter: AudioDeviceMeter | undefined;
  /** While the microphone is lost and none could be opened: the devicechange listener retrying. */
  private retryOnDeviceChange: (() => void) | undefined;

  constructor(private readonly options: AudioEngineOptions) {
    if (!Number.isInteger(options.sampleRate) || options.sampleRate <= 0) {
      throw new RangeError(`AudioEngine: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    const frameMs = options.frameMs ?? 20;
    if (frameMs !== 10 && frameMs !== 20) throw new RangeError(`AudioEngine: frameMs must be 10 or 20, got ${String(frameMs)}`);
    if ((options.sampleRate * frameMs) % 1000 !== 0) throw new RangeError(`AudioEngine: ${frameMs} ms at ${options.sampleRate} Hz is not a whole number of samples`);
    this.processing = { ...DEFAULT_PROCESSING, ...options.processing };
  }

  get state(): AudioEngineState {
    return this.stateValue;
  }

  /** Latest meter from the worklet (undefined until the first arrives). */
  get lastMeter(): AudioDeviceMeter | undefined {
    return this.meter;
  }

  /** The far end's audio as played (for level meters or a recording tap). */
  get playoutNode(): AudioNode | undefined {
    return this.node;
  }

  /** The <audio> element the far end is heard from ('loopback-peer-connection' only). */
  get playoutElement(): HTMLAudioElement | undefined {
    return this.route?.element;
  }

  /** Whether the far end plays through the loopback route Chromium's AEC uses as its reference. */
  get echoReferenceActive(): boolean {
    return this.route !== undefined;
  }

  /** The microphone track in use (its label names the device). */
  get microphoneTrack(): MediaStreamTrack | undefined {
    return this.microphone?.getAudioTracks()[0];
  }

  get audioContext(): AudioContext | undefined {
    return this.context;
  }

  async start(devices: AudioDevices = {}): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error(`AudioEngine: start() in state ${this.stateValue}; an engine starts once`);
    this.stateValue = 'starting';
    this.inputDeviceId = devices.inputDeviceId;
    this.outputDeviceId = devices.outputDeviceId;
    try {
      const o = this.options;
      const context = new AudioContext({ latencyHint: 'interactive', ...(o.contextSampleRate ? { sampleRate: o.contextSampleRate } : {}) });
      this.context = context;
      await context.audioWorklet.addModule(o.workletUrl);
      const processorOptions: AudioDeviceProcessorOptions = {
        portSampleRate: o.sampleRate,
        frameSamples: (o.sampleRate * (o.frameMs ?? 20)) / 1000,
        playoutStartMs: o.playoutStartMs ?? 30,
        playoutMaxMs: o.playoutMaxMs ?? 200,
        echoCanceller: this.builtInCancellerOn(),
      };
      const node = new AudioWorkletNode(context, AUDIO_DEVICE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: 'explicit',
        channelInterpretation: 'speakers',
        processorOptions,
      });
      this.node = node;
      node.onprocessorerror = () => console.error('AudioEngine: the audio worklet processor failed; call audio stopped');
      this.connectFramePort(node);
      await this.openMicrophone();
      if (this.echoReference === 'loopback-peer-connection') {
        const destination = context.createMediaStreamDestination();
        node.connect(destination);
        // A silent path to the context's destination keeps the graph rendering on the device clock.
        this.keepAlive = context.createGain();
        this.keepAlive.gain.value = 0;
        node.connect(this.keepAlive).connect(context.destination);
        try {
          this.route = await EchoReferenceRoute.open(destination.stream, this.outputDeviceId);
        } catch (error) {
          // Hearing the far end without echo cancellation beats not hearing it at all.
          console.warn(`AudioEngine: far end played without an echo-cancellation reference: ${(error as Error).message}`);
          node.disconnect();
          node.connect(context.destination);
        }
      } else {
        node.connect(context.destination);
      }
      if (this.outputDeviceId !== undefined) await this.setContextSink(this.outputDeviceId);
      await context.resume();
      this.stateValue = 'running';
    } catch (error) {
      await this.release();
      this.stateValue = 'stopped';
      throw new Error(`AudioEngine: could not start the audio device: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Output device for the far end ('' = default). */
  async setSinkId(deviceId: string): Promise<void> {
    this.requireRunning('setSinkId');
    this.outputDeviceId = deviceId;
    if (this.route) await this.route.setSinkId(deviceId);
    await this.setContextSink(deviceId);
  }

  /** Microphone (undefined = default); re-opens it. */
  async setInputDevice(deviceId: string | undefined): Promise<void> {
    this.requireRunning('setInputDevice');
    this.inputDeviceId = deviceId;
    await this.openMicrophone();
  }

  /**
   * Switch echo cancellation, noise suppression, AGC; re-opens the microphone. With the built-in
   * canceller, echo cancellation switches it (a fresh one when on).
   */
  async setProcessing(processing: Partial<AudioProcessing>): Promise<void> {
    this.requireRunning('setProcessing');
    this.processing = { ...this.processing, ...processing };
    if (this.echoReference === 'built-in-canceller') this.node?.port.postMessage({ kind: 'echo-canceller', enabled: this.builtInCancellerOn() } satisfies EchoCancellerMessage);
    await this.openMicrophone();
  }

  /** What the browser actually applied to the microphone (constraints are requests). */
  appliedProcessing(): Partial<AudioProcessing> {
    const settings = this.microphoneTrack?.getSettings();
    if (!settings) return {};
    return { echoCancellation: settings.echoCancellation as EchoCancellationSetting | undefined, noiseSuppression: settings.noiseSuppression, autoGainControl: settings.autoGainControl };
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    await this.release();
  }

  private requireRunning(what: string): void {
    if (this.stateValue !== 'running') throw new Error(`AudioEngine: ${what}() needs a running engine (state ${this.stateValue})`);
  }

  private connectFramePort(node: AudioWorkletNode): void {
    const port = this.options.framePort;
    if (typeof MessagePort !== 'undefined' && port instanceof MessagePort) {
      node.port.onmessage = (event: MessageEvent) => this.onProcessorMessage(event.data);
      node.port.postMessage({ kind: 'attach-port', port }, [port]);
      return;
    }
    const framePort = port as FramePort;
    // Relay: main -> worklet (raw data, the worklet validates), worklet -> main.
    framePort.onmessage = (event) => {
      const data = event.data;
      node.port.postMessage(data, data instanceof ArrayBuffer ? [data] : []);
    };
    node.port.onmessage = (event: MessageEvent) => this.onProcessorMessage(event.data);
  }

  private onProcessorMessage(data: unknown): void {
    if ((data as { kind?: unknown }).kind === 'meter') {
      this.meter = data as AudioDeviceMeter;
      this.options.onMeter?.(this.meter);
      return;
    }
    const port = this.options.framePort;
    if (typeof MessagePort !== 'undefined' && port instanceof MessagePort) return; // moved: nothing to relay
    const message = data as FrameMessage;
    (port as FramePort).postMessage(message, 'samples' in message ? [message.samples.buffer as ArrayBuffer] : []);
  }

  /** Opens the chosen microphone, or with `systemDefault` the system's default one. */
  private async openMicrophone(systemDefault = false): Promise<void> {
    const deviceId = systemDefault ? undefined : this.inputDeviceId;
    const context = this.context;
    const node = this.node;
    if (!context || !node) throw new Error('AudioEngine: no audio context');
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
        // The W3C modes are strings; TypeScript's DOM types still say boolean.
        echoCancellation: this.echoCancellationConstraint() as boolean,
        noiseSuppression: this.processing.noiseSuppression,
        autoGainControl: this.processing.autoGainControl,
        channelCount: 1,
      },
      video: false,
    });
    if (this.stateValue === 'stopped') {
      // Stopped while the browser was opening it.
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    const source = context.createMediaStreamSource(stream);
    source.connect(node);
    const previous = { source: this.source, microphone: this.microphone };
    this.source = source;
    this.microphone = stream;
    previous.source?.disconnect();
    for (const track of previous.microphone?.getTracks() ?? []) track.stop();
    this.stopRetrying();
    // stop() above and in release() fires no 'ended': only a device that went away does.
    const track = stream.getAudioTracks()[0];
    track?.addEventListener('ended', () => void this.onMicrophoneEnded(track), { once: true });
  }

  /** The track in use ended on its own: open another (see the class comment). */
  private async onMicrophoneEnded(track: MediaStreamTrack): Promise<void> {
    if (this.stateValue !== 'running' || this.microphoneTrack !== track || this.retryOnDeviceChange) return;
    const lost = track.label || 'the microphone';
    const tryOpen = async (): Promise<boolean> => {
      try {
        await this.openMicrophone();
      } catch (chosenError) {
        if (this.inputDeviceId === undefined) throw chosenError;
        // The chosen device is gone: the default for now (the settings put it back when it returns).
        await this.openMicrophone(true);
      }
      return this.stateValue === 'running';
    };
    const report = (event: MicrophoneEvent) => this.options.onMicrophone?.(event);
    const reopened = () => report({ kind: 'reopened', lost, label: this.microphoneTrack?.label || 'the default microphone' });
    try {
      if (await tryOpen()) reopened();
      return;
    } catch (error) {
      report({ kind: 'unavailable', lost, error: (error as Error).message || String(error) });
    }
    const retry = () => {
      if (this.stateValue !== 'running') return;
      tryOpen().then(
        (running) => running && reopened(),
        (error: unknown) => console.warn(`AudioEngine: still no microphone: ${(error as Error).message}`),
      );
    };
    this.retryOnDeviceChange = retry;
    navigator.mediaDevices.addEventListener('devicechange', retry);
  }

  private stopRetrying(): void {
    if (this.retryOnDeviceChange) navigator.mediaDevices.removeEventListener('devicechange', this.retryOnDeviceChange);
    this.retryOnDeviceChange = undefined;
  }

  private get echoReference(): EchoReference {
    return this.options.echoReference ?? 'loopback-peer-connection';
  }

  private builtInCancellerOn(): boolean {
    return this.echoReference === 'built-in-canceller' && this.processing.echoCancellation !== false;
  }

  /** What getUserMedia is asked for: Chromium's canceller only where it has a reference. */
  private echoCancellationConstraint(): EchoCancellationSetting {
    const wanted = this.processing.echoCancellation;
    if (this.echoReference === 'built-in-canceller') return false;
    return wanted === true && this.echoReference === 'loopback-peer-connection' ? 'remote-only' : wanted;
  }

  private async setContextSink(deviceId: string): Promise<void> {
    const context = this.context as (AudioContext & { setSinkId?: (id: string) => Promise<void> }) | undefined;
    if (context?.setSinkId) await context.setSinkId(deviceId);
  }

  private async release(): Promise<void> {
    this.stopRetrying();
    this.route?.close();
    this.route = undefined;
    this.source?.disconnect();
    this.node?.disconnect();
    this.keepAlive?.disconnect();
    for (const track of this.microphone?.getTracks() ?? []) track.stop();
    this.microphone = undefined;
    const port = this.options.framePort;
    if (!(typeof MessagePort !== 'undefined' && port instanceof MessagePort)) (port as FramePort).onmessage = null;
    if (this.context && this.context.state !== 'closed') await this.context.close();
  }
}
