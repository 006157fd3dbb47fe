/**
 * What the AudioEngine (renderer main thread) and its AudioWorklet processor say to each other on
 * the AudioWorkletNode's own port, besides frame-protocol messages (which carry `type`; these
 * carry `kind`). Shared by both sides; pure TypeScript.
 */

/** Name the processor is registered under (audio-device-processor.ts). */
export const AUDIO_DEVICE_PROCESSOR = 'switchboard-audio-device';

export interface AudioDeviceProcessorOptions {
  /** Port rate (frames in both directions). */
  portSampleRate: number;
  /** Samples per capture frame at the port rate (10 or 20 ms). */
  frameSamples: number;
  /** Playout starts (and restarts after an underrun) once this much is buffered. */
  playoutStartMs: number;
  /** Playout ring capacity; older audio is dropped beyond it. */
  playoutMaxMs: number;
  /** Run the built-in echo canceller (echo-canceller.ts) on capture, with the playout as its reference. */
  echoCanceller: boolean;
}

/** engine -> processor: speak the frame protocol on this port instead of the node's port. */
export interface AttachPortMessage {
  kind: 'attach-port';
  port: MessagePort;
}

/** processor -> engine, about every 100 ms: levels and counters for meters, diagnostics, tests. */
export interface AudioDeviceMeter {
  kind: 'meter';
  /** RMS of the capture signal (device rate, before resampling) over the last interval, 0..1. */
  captureRms: number;
  /** RMS of what was played over the last interval, 0..1. */
  playoutRms: number;
  captureFrames: number;
  playoutFramesReceived: number;
  /** Cumulative, in port-rate samples (as in playout-report). */
  played: number;
  underrun: number;
  dropped: number;
  buffered: number;
  playoutState: 'buffering' | 'playing';
  /** Messages on the frame port the processor rejected; the last reason. */
  protocolErrors: number;
  lastProtocolError: string | undefined;
  /** Present while the built-in echo canceller runs. */
  echoCanceller?: EchoCancellerMeter;
  /** Why the built-in echo canceller stopped, if it failed (the call's audio went on without it). */
  echoCancellerFault?: string;
}

/** engine -> processor: switch the built-in echo canceller on (a fresh one) or off. */
export interface EchoCancellerMessage {
  kind: 'echo-canceller';
  enabled: boolean;
}

/** The built-in echo canceller's state, as in a meter. */
export interface EchoCancellerMeter {
  /** Microphone over output power while the far end played (the linear filter's part), dB. */
  echoReductionDb: number;
  /** Delay of the strongest part of the echo path, ms. */
  echoDelayMs: number | undefined;
  adapted: boolean;
  resets: number;
}

export type ProcessorToEngineMessage = AudioDeviceMeter;
export type EngineToProcessorMessage = AttachPortMessage | EchoCancellerMessage;
