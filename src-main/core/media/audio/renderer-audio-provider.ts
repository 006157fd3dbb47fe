/**
 * The app's CallAudioProvider: each call's audio is the renderer's audio device (AudioEngine +
 * AudioWorklet) at the far end of a FramePort, as a PortAudioDevice at PORT_SAMPLE_RATE.
 *
 * Contract:
 * - One device per call. When a call's media starts (CallAudioProvider.open) the provider asks the
 *   broker for that call's FramePort (`broker.open({ callId, sampleRate })`) and builds a
 *   PortAudioDevice over it, used as the call's source AND sink (the media session resamples to
 *   the codec's rate), with the device's clocks: capture paces sending (setCaptureListener) and
 *   the worklet pulls playout (setPuller).
 * - When the media session closes the source and sink (call ended, or media torn down), the device
 *   detaches from the port and `broker.close(callId)` is called exactly once: the broker then
 *   releases whatever carries the port (a WebSocket, a MessageChannelMain) and tells the renderer.
 * - A session that the phone does not know (no call id) is an error: without a call id no renderer
 *   could ever attach to its device.
 * Carriers (how a port reaches the renderer) live in the broker: dev:web (WebSocket /audio) and
 * Electron (MessageChannelMain). Ownership: Node main thread; the broker owns the ports.
 */
import type { Session } from 'sip.js';
import type { FramePort } from '../../../common/audio/frame-protocol';
import type { AudioSink, AudioSource } from './audio-port';
import { PortAudioDevice, type PortAudioDeviceOptions } from './port-audio-device';

/** Port rate between the renderer and the core: the device's native class rate. */
export const PORT_SAMPLE_RATE = 48000;

/** Hands out the renderer-side link for a call's audio device. */
export interface AudioDeviceBroker {
  /** A FramePort whose far end is (or will be) the renderer's audio engine for this call. */
  open(call: { callId: string; sampleRate: number }): FramePort;
  /** The call no longer needs its device: release the port's carrier. Called once per open. */
  close(callId: string): void;
}

export interface RendererAudioProviderOptions {
  broker: AudioDeviceBroker;
  /** Our call id for a session (Phone.callIdOf). */
  callIdOf: (session: Session) => string | undefined;
  /** Device tuning (tests); sampleRate is always PORT_SAMPLE_RATE. */
  device?: Omit<PortAudioDeviceOptions, 'sampleRate'>;
  log?: (line: string) => void;
}

export class RendererAudioProvider {
  private readonly devices = new Map<string, PortAudioDevice>();

  constructor(private readonly options: RendererAudioProviderOptions) {}

  /** The device of a call whose media is running (diagnostics, tests). */
  deviceOf(callId: string): PortAudioDevice | undefined {
    return this.devices.get(callId);
  }

  open(session: Session): { source: AudioSource; sink: AudioSink } {
    const callId = this.options.callIdOf(session);
    if (callId === undefined) throw new Error('RendererAudioProvider: media started for a session that is not a known call');
    if (this.devices.has(callId)) throw new Error(`RendererAudioProvider: call ${callId} already has an audio device`);
    const port = this.options.broker.open({ callId, sampleRate: PORT_SAMPLE_RATE });
    const log = this.options.log;
    const device = new PortAudioDevice(port, {
      ...this.options.device,
      sampleRate: PORT_SAMPLE_RATE,
      log: log ? (message) => log(`[${callId}] ${message}`) : undefined,
    });
    this.devices.set(callId, device);
    let closing: Promise<void> | undefined;
    // The media session closes source and sink separately; the first close releases both.
    const close = (): Promise<void> => {
      closing ??= device.close().finally(() => {
        this.devices.delete(callId);
        this.options.broker.close(callId);
      });
      return closing;
    };
    // The device's own clocks go with it (capture listener, playout puller): without them the
    // media session would read and push on its timer, against a sound card that drifts from it.
    const source: AudioSource = {
      sampleRate: PORT_SAMPLE_RATE,
      read: (frame) => device.read(frame),
      setCaptureListener: (listener) => device.setCaptureListener(listener),
      close,
    };
    const sink: AudioSink = {
      sampleRate: PORT_SAMPLE_RATE,
      write: (frame) => device.write(frame),
      setPuller: (pull) => device.setPuller(pull),
      close,
    };
    return { source, sink };
  }
}
