/**
 * The app's audio device as the call media sees it: an AudioSource (microphone) and AudioSink
 * (speaker) backed by the renderer's AudioWorklet at the other end of a FramePort (Electron
 * MessagePortMain in the app, a WebSocket in dev:web and tests). Protocol and its MUST rules:
 * src-renderer/src/audio/frame-protocol.ts.
 *
 * Capture (renderer -> here), two modes:
 * - listened (AudioSource.setCaptureListener: what a call's media session uses): the DEVICE CLOCK
 *   paces sending. After each captured frame the listener hears how much is buffered and reads it
 *   all, so the FIFO never holds more than a frame and a device clock off ours cannot make it
 *   creep up (latency, then drops) or run dry (gaps). A backlog from before the listener is skipped.
 * - read on a timer (no listener): frames arrive at the device's pace into a FIFO; `read` is called
 *   by the reader's own timer. States: buffering (read returns silence until captureTargetMs is
 * buffered, so timer jitter does not starve it; older audio beyond that is skipped so reading
 * starts at the target delay) -> flowing (read takes samples) -> buffering on an underrun. The FIFO is capped at captureMaxMs; overflow (device clock faster than the timer, or
 * nobody reading) drops the OLDEST samples so latency stays bounded.
 *
 * Playout (here -> renderer), two modes:
 * - push (AudioSink.write; local ringback before the call's media starts): each written frame is
 *   sent at once; the worklet's ring buffer absorbs arrival jitter and drops the oldest audio when
 *   it overflows.
 * - pull (AudioSink.setPuller(fill): what a call's media session uses): the
 *   DEVICE CLOCK paces playout. Each playout report says what the device has buffered and which
 *   frames it has received; we keep (buffered + sent since) at the playout target by calling
 *   `fill(frame)` (e.g. a jitter buffer's pull) for as many frames as are missing. No timer in main
 *   decides the far-end rate, so a jitter buffer behind `fill` is drained exactly at device speed.
 *   The target is learned from the reports (playout-target.ts): playoutTargetMs while the path
 *   keeps up, more after the device ran dry, up to playoutTargetMaxMs.
 *   `write` is then an error (two feeders would interleave).
 *
 * Ownership/threading: Node main thread only. The device does NOT own the port (it may outlive a
 * call): `close()` detaches from it (onmessage = null) and never closes it. One device per port
 * at a time. The same instance is usually both the call's source and sink, so `close` is
 * idempotent.
 */
import { parseFrameMessage, type FramePort, type HelloMessage, type PlayoutReportMessage } from '../../../common/audio/frame-protocol';
import type { AudioSink, AudioSource } from './audio-port';
import { PlayoutTarget } from './playout-target';

/** Playout frames remembered for in-flight accounting: over 5 s of 20 ms frames. */
const SENT_HISTORY = 256;

export interface PortAudioDeviceOptions {
  /** Port rate: every frame in both directions is at this rate. */
  sampleRate: number;
  /** Frame length used for pulled playout. Default 20 ms. */
  frameMs?: number;
  /** Capture audio buffered before `read` starts taking it. Default 40 ms. */
  captureTargetMs?: number;
  /** Capture FIFO cap; older audio is dropped beyond it. Default 200 ms. */
  captureMaxMs?: number;
  /**
   * Pull mode: audio kept queued ahead of the device (in flight + in its ring) while the path keeps
   * up. Default 40 ms (the worklet starts playing at 30 ms buffered; measured in Chromium, bench 6b).
   */
  playoutTargetMs?: number;
  /**
   * Pull mode: the most the target grows to after the device ran dry; at least playoutTargetMs.
   * Default 140 ms (the worklet's ring holds 200), or playoutTargetMs if that is more.
   */
  playoutTargetMaxMs?: number;
  /** Where protocol problems are reported (each kind once). Default console.warn. */
  log?: (message: string) => void;
}

export type CaptureState = 'buffering' | 'flowing';

export interface PortAudioDeviceStats {
  /** The renderer's hello, once it arrived (device rate, frame size). */
  device: HelloMessage | undefined;
  capture: {
    state: CaptureState;
    framesReceived: number;
    /** Frames missing according to sequence numbers. */
    framesLost: number;
    buffered: number;
    /** Reads that found too little audio (the rest was silence). */
    underruns: number;
    /** Samples dropped because the FIFO was full. */
    overflowDropped: number;
    /** Stale samples skipped when reading (re)started, to begin at the target delay. */
    backlogSkipped: number;
  };
  playout: {
    framesSent: number;
    samplesSent: number;
    /** Latest playout report (cumulative device counters), zeros before the first. */
    report: Omit<PlayoutReportMessage, 'type'>;
    reports: number;
    /** The playout target now (ms; see PlayoutTarget) and how often running dry raised it. */
    targetMs: number;
    targetRaises: number;
  };
  /** Messages rejected (unparseable, wrong rate, wrong direction). */
  protocolErrors: number;
}

function positive(value: number, what: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`PortAudioDevice: ${what} must be a positive number, got ${value}`);
  return value;
}

export class PortAudioDevice implements AudioSource, AudioSink {
  readonly sampleRate: number;
  readonly frameSamples: number;
  private readonly captureTarget: number;
  private readonly fifo: Int16Array;
  private fifoStart = 0;
  private fifoLength = 0;
  private captureState: CaptureState = 'buffering';
  private expectedSeq: number | undefined;
  private readonly playoutTarget: PlayoutTarget;
  private playoutSeq = 0;
  /** Samples sent before each recent playout frame, by seq % SENT_HISTORY (see inFlight). */
  private readonly sentBefore = new Float64Array(SENT_HISTORY);
  /** The first seq sent after the device's latest hello: earlier frames are not coming (a restarted device, a page not yet there). */
  private seqAtHello = 0;
  private puller: ((frame: Int16Array) => void) | undefined;
  private captureListener: ((readable: number) => void) | undefined;
  private closed = false;
  private readonly log: (message: string) => void;
  private readonly logged = new Set<string>();
  private readonly statsValue: PortAudioDeviceStats;

  constructor(
    private readonly port: FramePort,
    options: PortAudioDeviceOptions,
  ) {
    if (!Number.isInteger(options.sampleRate) || options.sampleRate <= 0) {
      throw new RangeError(`PortAudioDevice: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    this.sampleRate = options.sampleRate;
    const ms = (value: number, what: string): number => Math.max(1, Math.round((positive(value, what) * this.sampleRate) / 1000));
    this.frameSamples = ms(options.frameMs ?? 20, 'frameMs');
    this.captureTarget = ms(options.captureTargetMs ?? 40, 'captureTargetMs');
    const captureMax = ms(options.captureMaxMs ?? 200, 'captureMaxMs');
    if (captureMax < this.captureTarget) throw new RangeError(`PortAudioDevice: captureMaxMs must be at least captureTargetMs`);
    this.fifo = new Int16Array(captureMax);
    this.playoutTarget = new PlayoutTarget(
      this.sampleRate,
      ms(options.playoutTargetMs ?? 40, 'playoutTargetMs'),
      ms(options.playoutTargetMaxMs ?? Math.max(140, options.playoutTargetMs ?? 0), 'playoutTargetMaxMs'),
    );
    this.log = options.log ?? ((message) => console.warn(message));
    this.statsValue = {
      device: undefined,
      capture: { state: 'buffering', framesReceived: 0, framesLost: 0, buffered: 0, underruns: 0, overflowDropped: 0, backlogSkipped: 0 },
      playout: { framesSent: 0, samplesSent: 0, report: { played: 0, underrun: 0, dropped: 0, buffered: 0, nextSeq: 0 }, reports: 0, targetMs: 0, targetRaises: 0 },
      protocolErrors: 0,
    };
    port.onmessage = (event) => this.onMessage(event.data);
  }

  stats(): PortAudioDeviceStats {
    const s = this.statsValue;
    return {
      device: s.device,
      capture: { ...s.capture, state: this.captureState, buffered: this.fifoLength },
      playout: {
        ...s.playout,
        report: { ...s.playout.report },
        targetMs: (this.playoutTarget.samples * 1000) / this.sampleRate,
        targetRaises: this.playoutTarget.raises,
      },
      protocolErrors: s.protocolErrors,
    };
  }

  /** AudioSource: the next `frame.length` captured samples, silence where there are none. */
  read(frame: Int16Array): void {
    if (this.captureListener) {
      // The listener reads what it was told is there: no start-up delay, silence beyond it.
      const take = Math.min(frame.length, this.fifoLength);
      this.copyOut(frame, take);
      if (take < frame.length) {
        frame.fill(0, take);
        this.statsValue.capture.underruns++;
      }
      return;
    }
    if (this.captureState === 'buffering' && this.fifoLength >= this.captureTarget) {
      // Start at the target delay: a backlog that piled up while nobody read is stale audio.
      this.skip(this.fifoLength - this.captureTarget);
      this.captureState = 'flowing';
    }
    if (this.captureState === 'buffering') {
      frame.fill(0);
      return;
    }
    const take = Math.min(frame.length, this.fifoLength);
    this.copyOut(frame, take);
    if (take < frame.length) {
      frame.fill(0, take);
      this.statsValue.capture.underruns++;
      this.captureState = 'buffering';
    }
  }

  /** AudioSource: hear about every captured frame (see header, capture modes); undefined stops. */
  setCaptureListener(listener: ((readable: number) => void) | undefined): void {
    if (listener && !this.captureListener) this.skip(this.fifoLength); // stale: captured before anyone listened
    this.captureListener = listener;
    this.captureState = listener ? 'flowing' : 'buffering';
  }

  /** AudioSink (push mode): send one frame of far-end audio to the device. */
  write(frame: Int16Array): void {
    if (this.closed) return;
    if (this.puller) throw new Error('PortAudioDevice: playout is pulled by the device clock (setPuller); write() is not allowed');
    this.sendPlayout(frame.slice());
  }

  /**
   * AudioSink: switch playout to pull mode (`fill` gets a zeroed frame of frameSamples to fill), or
   * back to push mode with undefined. Nothing is pulled until the device reports its clock.
   */
  setPuller(fill: ((frame: Int16Array) => void) | undefined): void {
    if (fill && fill !== this.puller) this.playoutTarget.restart();
    this.puller = fill;
    if (fill && this.statsValue.playout.reports > 0) this.topUpPlayout();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.puller = undefined;
    this.captureListener = undefined;
    this.port.onmessage = null;
  }

  private onMessage(data: unknown): void {
    if (this.closed) return;
    let message;
    try {
      message = parseFrameMessage(data);
    } catch (error) {
      this.protocolError('parse', `PortAudioDevice: rejected a message from the audio device: ${(error as Error).message}`);
      return;
    }
    switch (message.type) {
      case 'hello':
        if (message.sampleRate !== this.sampleRate) {
          this.protocolError('hello-rate', `PortAudioDevice: the audio device speaks ${message.sampleRate} Hz, this call expects ${this.sampleRate} Hz`);
          return;
        }
        this.statsValue.device = message;
        this.expectedSeq = undefined; // a restarted device counts from 0 again
        this.seqAtHello = this.playoutSeq;
        return;
      case 'capture':
        if (message.sampleRate !== this.sampleRate) {
          this.protocolError('capture-rate', `PortAudioDevice: capture frame at ${message.sampleRate} Hz rejected, expected ${this.sampleRate} Hz`);
          return;
        }
        if (this.expectedSeq !== undefined && message.seq > this.expectedSeq) this.statsValue.capture.framesLost += message.seq - this.expectedSeq;
        this.expectedSeq = message.seq + 1;
        this.statsValue.capture.framesReceived++;
        this.copyIn(message.samples);
        this.notifyCapture();
        return;
      case 'playout-report':
        this.statsValue.playout.report = { played: message.played, underrun: message.underrun, dropped: message.dropped, buffered: message.buffered, nextSeq: message.nextSeq };
        this.statsValue.playout.reports++;
        if (this.puller) {
          this.playoutTarget.observe(message.played, message.underrun);
          this.topUpPlayout();
        }
        return;
      case 'playout':
        this.protocolError('direction', 'PortAudioDevice: received a playout frame; playout frames go to the device, not from it');
        return;
    }
  }

  private protocolError(kind: string, message: string): void {
    this.statsValue.protocolErrors++;
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    this.log(message);
  }

  private notifyCapture(): void {
    const listener = this.captureListener;
    if (!listener) return;
    try {
      listener(this.fifoLength);
    } catch (error) {
      this.protocolError('capture-listener', `PortAudioDevice: the capture listener failed, no longer calling it: ${(error as Error).message}`);
      this.setCaptureListener(undefined);
    }
  }

  private topUpPlayout(): void {
    const puller = this.puller;
    if (!puller) return;
    const { report } = this.statsValue.playout;
    let queued = report.buffered + this.inFlight(report.nextSeq);
    const target = this.playoutTarget.samples;
    while (queued < target && this.puller === puller && !this.closed) {
      const frame = new Int16Array(this.frameSamples);
      try {
        puller(frame);
      } catch (error) {
        this.protocolError('puller', `PortAudioDevice: the playout puller failed, stopping pulls until it is set again: ${(error as Error).message}`);
        this.puller = undefined;
        return;
      }
      queued += frame.length; // before sending: the transfer detaches the frame
      this.sendPlayout(frame);
    }
  }

  /**
   * Samples sent that the device had not received at its report (`nextSeq`): on their way. Frames
   * before `nextSeq` are in its buffer, played, dropped, or lost on the way, and none of them is
   * waited for (counting a lost frame as queued would wait for it forever).
   */
  private inFlight(nextSeq: number): number {
    let first = Math.max(nextSeq, this.seqAtHello);
    if (first >= this.playoutSeq) return 0;
    first = Math.max(first, this.playoutSeq - SENT_HISTORY); // a report that late: what we remember
    return this.statsValue.playout.samplesSent - this.sentBefore[first % SENT_HISTORY]!;
  }

  /** Sends a frame we own (its buffer is transferred). */
  private sendPlayout(samples: Int16Array): void {
    this.sentBefore[this.playoutSeq % SENT_HISTORY] = this.statsValue.playout.samplesSent;
    this.statsValue.playout.framesSent++;
    this.statsValue.playout.samplesSent += samples.length;
    this.port.postMessage({ type: 'playout', seq: this.playoutSeq++, sampleRate: this.sampleRate, samples }, [samples.buffer as ArrayBuffer]);
  }

  private copyIn(samples: Int16Array): void {
    const capacity = this.fifo.length;
    let input = samples;
    if (input.length > capacity) {
      this.statsValue.capture.overflowDropped += input.length - capacity;
      input = input.subarray(input.length - capacity);
    }
    const overflow = this.fifoLength + input.length - capacity;
    if (overflow > 0) {
      this.fifoStart = (this.fifoStart + overflow) % capacity;
      this.fifoLength -= overflow;
      this.statsValue.capture.overflowDropped += overflow;
    }
    let end = (this.fifoStart + this.fifoLength) % capacity;
    let offset = 0;
    while (offset < input.length) {
      const n = Math.min(input.length - offset, capacity - end);
      this.fifo.set(input.subarray(offset, offset + n), end);
      offset += n;
      end = (end + n) % capacity;
    }
    this.fifoLength += input.length;
  }

  private skip(count: number): void {
    if (count <= 0) return;
    this.fifoStart = (this.fifoStart + count) % this.fifo.length;
    this.fifoLength -= count;
    this.statsValue.capture.backlogSkipped += count;
  }

  private copyOut(frame: Int16Array, count: number): void {
    const capacity = this.fifo.length;
    let offset = 0;
    while (offset < count) {
      const n = Math.min(count - offset, capacity - this.fifoStart);
      frame.set(this.fifo.subarray(this.fifoStart, this.fifoStart + n), offset);
      offset += n;
      this.fifoStart = (this.fifoStart + n) % capacity;
    }
    this.fifoLength -= count;
  }
}
