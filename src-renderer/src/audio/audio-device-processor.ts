/**
 * AudioWorklet processor: the app's audio device. Runs on the audio rendering thread; loaded by
 * AudioEngine with audioWorklet.addModule (bundle this file as its own module).
 *
 * Each render quantum (128 frames at the device rate):
 * - capture: the mono input is resampled to the port rate, passed through the built-in echo
 *   canceller when it is on (its reference: this quantum's output, resampled the same way, so the
 *   two stay sample-aligned on the audio clock), and cut into frames of frameSamples, each posted
 *   as a `capture` message (Int16, seq from 0, buffer transferred);
 * - playout: `playout` messages are resampled to the device rate into a FloatRing as they arrive;
 *   the quantum is taken from the ring. States: buffering (output silence until playoutStartMs is
 *   buffered) -> playing -> buffering when the ring runs dry. Every silent sample output after the
 *   first playout frame arrived counts as underrun. Overflow beyond playoutMaxMs drops the oldest audio (counted as dropped).
 * - about once per frame duration a `playout-report` gives main the device clock (cumulative
 *   played/underrun/dropped, in port-rate samples, what is buffered and the next playout seq
 *   expected), which paces main's playout pulls.
 *
 * Frame protocol port: the node's own port (AudioEngine relays to a WebSocket), or a MessagePort
 * handed over by `attach-port` (Electron: frames then go straight between this thread and the main
 * process). Ownership: this processor owns its resamplers, ring and the attached port; everything
 * here runs on the one audio thread (see FloatRing for why no locking is needed).
 */
import { AUDIO_DEVICE_PROCESSOR, type AudioDeviceMeter, type AudioDeviceProcessorOptions, type EchoCancellerMeter } from './audio-device-messages';
import { FRAME_PROTOCOL_VERSION, parseFrameMessage, type FrameMessage } from '@common/audio/frame-protocol';
import type { CaptureEchoCanceller } from './echo-canceller';
import { FloatRing } from './float-ring';
import { createEchoCanceller } from './split-band-echo-canceller';
import { StreamingResampler } from './streaming-resampler';

// AudioWorkletGlobalScope (not in TypeScript's DOM lib).
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

interface MessageTarget {
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const QUANTUM = 128;
const METER_INTERVAL_S = 0.1;

class AudioDeviceProcessor extends AudioWorkletProcessor {
  private readonly options: AudioDeviceProcessorOptions;
  private readonly deviceRate = sampleRate;
  private framePort: MessageTarget;
  private captureResampler: StreamingResampler;
  private readonly playoutResampler: StreamingResampler;
  private readonly mono = new Float32Array(QUANTUM);
  private captureScratch: Float32Array;
  private playoutScratch = new Float32Array(0);
  private readonly frame: Float32Array;
  private frameFill = 0;
  private captureSeq = 0;
  private readonly ring: FloatRing;
  private readonly playoutStart: number;
  private playing = false;
  // Cumulative device-rate counters.
  private played = 0;
  private underrun = 0;
  private dropped = 0;
  private readonly reportEvery: number;
  private sinceReport = 0;
  private readonly meterEvery: number;
  private sinceMeter = 0;
  private captureEnergy = 0;
  private playoutEnergy = 0;
  private playoutFramesReceived = 0;
  /** One more than the seq of the latest playout frame received (the report's nextSeq). */
  private playoutNextSeq = 0;
  private protocolErrors = 0;
  private lastProtocolError: string | undefined;
  /** The built-in echo canceller while it is on, and its reference path (playout at the port rate). */
  private echoCanceller: CaptureEchoCanceller | undefined;
  private referenceResampler: StreamingResampler | undefined;
  private referenceScratch = new Float32Array(0);
  private silence = new Float32Array(QUANTUM);
  private cancelledScratch = new Float32Array(0);
  private echoCancellerFault: string | undefined;

  constructor(nodeOptions: { processorOptions: AudioDeviceProcessorOptions }) {
    super();
    const o = nodeOptions.processorOptions;
    this.options = o;
    this.captureResampler = new StreamingResampler(this.deviceRate, o.portSampleRate);
    this.playoutResampler = new StreamingResampler(o.portSampleRate, this.deviceRate);
    this.captureScratch = new Float32Array(this.captureResampler.maxOutputFor(QUANTUM));
    this.frame = new Float32Array(o.frameSamples);
    this.ring = new FloatRing(Math.round((o.playoutMaxMs * this.deviceRate) / 1000));
    this.playoutStart = Math.min(this.ring.capacity, Math.round((o.playoutStartMs * this.deviceRate) / 1000));
    this.reportEvery = Math.max(QUANTUM, Math.round((o.frameSamples * this.deviceRate) / o.portSampleRate));
    this.meterEvery = Math.round(METER_INTERVAL_S * this.deviceRate);
    if (o.echoCanceller) this.setEchoCanceller(true, false);
    this.framePort = this.port;
    this.port.onmessage = (event: MessageEvent) => this.onNodeMessage(event.data);
    this.post({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: o.portSampleRate, frameSamples: o.frameSamples, deviceSampleRate: this.deviceRate });
  }

  private onNodeMessage(data: unknown): void {
    const kind = (data as { kind?: unknown } | null)?.kind;
    if (kind === 'attach-port') {
      const port = (data as { port: MessagePort }).port;
      port.onmessage = (event: MessageEvent) => this.onFrameMessage(event.data);
      this.framePort = port;
      // The peer on the new port has not seen our hello.
      const o = this.options;
      this.post({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: o.portSampleRate, frameSamples: o.frameSamples, deviceSampleRate: this.deviceRate });
      return;
    }
    if (kind === 'echo-canceller') {
      this.setEchoCanceller((data as { enabled: unknown }).enabled === true);
      return;
    }
    this.onFrameMessage(data);
  }

  /** `midStream`: capture has run, so its converter restarts beside the reference's (see below). */
  private setEchoCanceller(enabled: boolean, midStream = true): void {
    if (!enabled) {
      this.echoCanceller = undefined;
      this.referenceResampler = undefined;
      return;
    }
    if (this.echoCanceller) return;
    const rate = this.options.portSampleRate;
    this.echoCanceller = createEchoCanceller({ sampleRate: rate });
    // Two fresh converters alike, so capture and reference produce the same count each quantum and
    // stay paired sample for sample (switched on mid-call, capture's restart costs ~1 ms of audio;
    // at construction capture's is fresh already).
    if (midStream) this.captureResampler = new StreamingResampler(this.deviceRate, rate);
    this.referenceResampler = new StreamingResampler(this.deviceRate, rate);
  }

  private onFrameMessage(data: unknown): void {
    let message: FrameMessage;
    try {
      message = parseFrameMessage(data);
      if (message.type !== 'playout') throw new Error(`the audio device accepts only playout frames, got ${message.type}`);
      if (message.sampleRate !== this.options.portSampleRate) {
        throw new Error(`playout frame at ${message.sampleRate} Hz rejected, the port runs at ${this.options.portSampleRate} Hz`);
      }
    } catch (error) {
      this.protocolErrors++;
      this.lastProtocolError = (error as Error).message;
      return;
    }
    this.playoutFramesReceived++;
    this.playoutNextSeq = message.seq + 1;
    const samples = message.samples;
    const need = this.playoutResampler.maxOutputFor(samples.length);
    if (this.playoutScratch.length < need) this.playoutScratch = new Float32Array(need);
    const input = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) input[i] = samples[i]! / 32768;
    const n = this.playoutResampler.process(input, this.playoutScratch);
    this.dropped += this.ring.write(this.playoutScratch, n);
  }

  private post(message: FrameMessage, transfer?: Transferable[]): void {
    // Transfer only within the renderer (node port). Across processes the bytes are copied anyway,
    // and Electron's MessagePortMain is not Blink: plain structured clone is what it surely reads.
    if (this.framePort === this.port && transfer) this.framePort.postMessage(message, transfer);
    else this.framePort.postMessage(message);
  }

  private toPort(deviceSamples: number): number {
    return Math.round((deviceSamples * this.options.portSampleRate) / this.deviceRate);
  }

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const input = inputs[0] ?? [];
    const output = outputs[0]?.[0];
    const n = output?.length ?? input[0]?.length ?? QUANTUM;
    this.playout(outputs[0] ?? [], n);
    this.capture(input, n);
    this.sinceReport += n;
    if (this.sinceReport >= this.reportEvery) {
      this.sinceReport = 0;
      this.post({
        type: 'playout-report',
        played: this.toPort(this.played),
        underrun: this.toPort(this.underrun),
        dropped: this.toPort(this.dropped),
        buffered: this.toPort(this.ring.length),
        nextSeq: this.playoutNextSeq,
      });
    }
    this.sinceMeter += n;
    if (this.sinceMeter >= this.meterEvery) this.sendMeter();
    return true;
  }

  private capture(input: Float32Array[], n: number): void {
    const mono = this.mono;
    if (input.length === 0) mono.fill(0, 0, n);
    else {
      const channels = input.length;
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += input[c]![i]!;
        mono[i] = sum / channels;
      }
    }
    for (let i = 0; i < n; i++) this.captureEnergy += mono[i]! * mono[i]!;
    if (this.captureScratch.length < this.captureResampler.maxOutputFor(n)) this.captureScratch = new Float32Array(this.captureResampler.maxOutputFor(n));
    let produced = this.captureResampler.process(mono, this.captureScratch, n);
    let captured = this.captureScratch;
    if (this.echoCanceller) {
      const need = this.echoCanceller.maxOutputFor(produced);
      if (this.cancelledScratch.length < need) this.cancelledScratch = new Float32Array(need);
      try {
        produced = this.echoCanceller.capture(captured, produced, this.cancelledScratch);
        captured = this.cancelledScratch;
      } catch (error) {
        this.echoCancellerFailed(error);
      }
    }
    const frame = this.frame;
    for (let i = 0; i < produced; i++) {
      frame[this.frameFill++] = captured[i]!;
      if (this.frameFill === frame.length) {
        const pcm = new Int16Array(frame.length);
        for (let j = 0; j < frame.length; j++) {
          const v = Math.round(frame[j]! * 32768);
          pcm[j] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
        this.post({ type: 'capture', seq: this.captureSeq++, sampleRate: this.options.portSampleRate, samples: pcm }, [pcm.buffer]);
        this.frameFill = 0;
      }
    }
  }

  private playout(channels: Float32Array[], n: number): void {
    const out = channels[0];
    if (!out) {
      if (this.silence.length < n) this.silence = new Float32Array(n);
      this.feedReference(this.silence, n);
      return;
    }
    if (!this.playing && this.ring.length >= this.playoutStart) this.playing = true;
    let got = 0;
    if (this.playing) {
      got = this.ring.read(out, 0, n);
      if (got < n) this.playing = false;
    }
    // Silence once far-end audio has started is an underrun (also while refilling to the start level).
    if (this.playoutFramesReceived > 0) this.underrun += n - got;
    out.fill(0, got, n);
    this.played += got;
    for (let i = 0; i < got; i++) this.playoutEnergy += out[i]! * out[i]!;
    for (let c = 1; c < channels.length; c++) channels[c]!.set(out.subarray(0, n));
    this.feedReference(out, n);
  }

  /** What was played this quantum, to the echo canceller (if on) at the port rate. */
  private feedReference(played: Float32Array, n: number): void {
    if (!this.echoCanceller || !this.referenceResampler) return;
    const need = this.referenceResampler.maxOutputFor(n);
    if (this.referenceScratch.length < need) this.referenceScratch = new Float32Array(need);
    const produced = this.referenceResampler.process(played, this.referenceScratch, n);
    try {
      this.echoCanceller.playback(this.referenceScratch, produced);
    } catch (error) {
      this.echoCancellerFailed(error);
    }
  }

  /** A fault in the canceller switches it off (the call goes on without it) and is reported in the meter. */
  private echoCancellerFailed(error: unknown): void {
    this.echoCancellerFault = error instanceof Error ? error.message : String(error);
    this.setEchoCanceller(false);
  }

  private echoCancellerMeter(canceller: CaptureEchoCanceller): EchoCancellerMeter {
    const stats = canceller.stats();
    return { echoReductionDb: stats.echoReductionDb, echoDelayMs: stats.echoDelayMs, adapted: stats.adapted, resets: stats.resets };
  }

  private sendMeter(): void {
    const meter: AudioDeviceMeter = {
      kind: 'meter',
      captureRms: Math.sqrt(this.captureEnergy / this.sinceMeter),
      playoutRms: Math.sqrt(this.playoutEnergy / this.sinceMeter),
      captureFrames: this.captureSeq,
      playoutFramesReceived: this.playoutFramesReceived,
      played: this.toPort(this.played),
      underrun: this.toPort(this.underrun),
      dropped: this.toPort(this.dropped),
      buffered: this.toPort(this.ring.length),
      playoutState: this.playing ? 'playing' : 'buffering',
      protocolErrors: this.protocolErrors,
      lastProtocolError: this.lastProtocolError,
      ...(this.echoCanceller ? { echoCanceller: this.echoCancellerMeter(this.echoCanceller) } : {}),
      ...(this.echoCancellerFault ? { echoCancellerFault: this.echoCancellerFault } : {}),
    };
    this.sinceMeter = 0;
    this.captureEnergy = 0;
    this.playoutEnergy = 0;
    this.port.postMessage(meter);
  }
}

registerProcessor(AUDIO_DEVICE_PROCESSOR, AudioDeviceProcessor);
