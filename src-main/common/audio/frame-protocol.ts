/**
 * Audio frame protocol between the audio device (the renderer's AudioWorklet) and the core's
 * call media (PortAudioDevice in the main process). Pure TypeScript, no DOM and no node: both
 * sides import this one file, which is why it lives in common/ (the renderer imports it as
 * @common/audio/frame-protocol).
 *
 * Contract (version 2):
 * - Audio is mono signed 16-bit PCM at the port rate `sampleRate` (8000, 16000 or 48000 in
 *   practice; any positive integer is valid), in frames of `frameSamples` samples (10 or 20 ms).
 * - renderer -> main
 *     hello           first message after the device starts (and again after a restart): rates.
 *     capture         one frame of microphone audio; `seq` counts frames from 0 and increments by
 *                     one per frame, so a gap means frames were lost.
 *     playout-report  the device clock: cumulative counts, in port-rate samples, of audio the
 *                     device PLAYED from its buffer, UNDERRUN (silence it had to invent), and
 *                     DROPPED (overflow), plus what is BUFFERED now, and NEXTSEQ: one more than
 *                     the seq of the latest playout frame it received (0 before any). Sent about
 *                     once per frame duration of device time. Cumulative, so a late report never
 *                     double counts; with nextSeq main knows exactly what is still in flight, so
 *                     a frame lost on the way (sent before the page attached, a reload) is not
 *                     waited for (version 1 had no nextSeq: such a loss stalled playout for good).
 * - main -> renderer
 *     playout         one frame (any length) of far-end audio; `seq` increments by one per frame.
 * - Playout is PUSHED by main: the worklet's ring buffer absorbs arrival jitter, and main paces
 *   what it pushes by the reports (PortAudioDevice keeps buffered + in flight ≈ its target), so
 *   the device clock, not a timer in main, decides how fast far-end audio is consumed. This
 *   avoids a round trip per 128-sample render quantum.
 * - A receiver MUST reject (with a specific error) a message it cannot parse or whose
 *   sampleRate differs from the rate it was configured with; it MUST NOT guess.
 *
 * Carriers: a FramePort. Over a MessagePort the messages travel as these objects (structured
 * clone; the sample buffer may be transferred). Over a WebSocket they travel as binary messages
 * built by encodeFrameMessage (little-endian):
 *   byte 0 type (1 hello, 2 capture, 3 playout, 4 playout-report), byte 1 version, bytes 2-3 zero,
 *   hello:          u32 sampleRate, u32 frameSamples, u32 deviceSampleRate
 *   capture/playout u32 seq, u32 sampleRate, then int16 samples
 *   playout-report  u32 nextSeq, f64 played, f64 underrun, f64 dropped, f64 buffered
 */

export const FRAME_PROTOCOL_VERSION = 2;

export interface HelloMessage {
  type: 'hello';
  version: number;
  /** Port rate: the rate of every frame in both directions. */
  sampleRate: number;
  /** Samples per capture frame at the port rate. */
  frameSamples: number;
  /** The audio device's own rate (informational: the renderer resamples). */
  deviceSampleRate: number;
}

export interface AudioFrameMessage {
  type: 'capture' | 'playout';
  seq: number;
  sampleRate: number;
  samples: Int16Array;
}

export interface PlayoutReportMessage {
  type: 'playout-report';
  played: number;
  underrun: number;
  dropped: number;
  buffered: number;
  /** One more than the seq of the latest playout frame received; 0 before any. */
  nextSeq: number;
}

export type FrameMessage = HelloMessage | AudioFrameMessage | PlayoutReportMessage;

/**
 * What both ends talk over: a DOM MessagePort, a worklet's port, Electron's MessagePortMain (via
 * an adapter), or a WebSocket adapter. `transfer` lists buffers the sender gives up (a hint:
 * carriers that copy anyway may ignore it).
 */
export interface FramePort {
  postMessage(message: FrameMessage, transfer?: ArrayBuffer[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

const TYPE_CODES = { hello: 1, capture: 2, playout: 3, 'playout-report': 4 } as const;
const HEADER_BYTES = 12;
const REPORT_BYTES = 8 + 4 * 8;
const HELLO_BYTES = 4 + 3 * 4;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkRate(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 384000) {
    throw new Error(`Frame protocol: ${what} must be a positive integer sample rate, got ${String(value)}`);
  }
  return value;
}

function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`Frame protocol: ${what} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

function checkSeq(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`Frame protocol: ${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Validates a message received as an object (MessagePort carriers). Throws a specific Error. */
export function parseFrameMessage(data: unknown): FrameMessage {
  if (data instanceof ArrayBuffer) return decodeFrameMessage(data);
  if (typeof data !== 'object' || data === null) throw new Error(`Frame protocol: expected a message object, got ${typeof data}`);
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'hello':
      if (m.version !== FRAME_PROTOCOL_VERSION) {
        throw new Error(`Frame protocol: version ${String(m.version)} is not supported (this side speaks ${FRAME_PROTOCOL_VERSION})`);
      }
      return {
        type: 'hello',
        version: FRAME_PROTOCOL_VERSION,
        sampleRate: checkRate(m.sampleRate, 'hello.sampleRate'),
        frameSamples: checkRate(m.frameSamples, 'hello.frameSamples'),
        deviceSampleRate: checkRate(m.deviceSampleRate, 'hello.deviceSampleRate'),
      };
    case 'capture':
    case 'playout':
      if (!(m.samples instanceof Int16Array)) throw new Error(`Frame protocol: ${m.type}.samples must be an Int16Array`);
      return { type: m.type, seq: checkSeq(m.seq, `${m.type}.seq`), sampleRate: checkRate(m.sampleRate, `${m.type}.sampleRate`), samples: m.samples };
    case 'playout-report':
      return {
        type: 'playout-report',
        played: checkCount(m.played, 'playout-report.played'),
        underrun: checkCount(m.underrun, 'playout-report.underrun'),
        dropped: checkCount(m.dropped, 'playout-report.dropped'),
        buffered: checkCount(m.buffered, 'playout-report.buffered'),
        nextSeq: checkSeq(m.nextSeq, 'playout-report.nextSeq'),
      };
    default:
      throw new Error(`Frame protocol: unknown message type ${JSON.stringify(m.type)}`);
  }
}

/** Binary form for byte-stream carriers (WebSocket). */
export function encodeFrameMessage(message: FrameMessage): ArrayBuffer {
  let buffer: ArrayBuffer;
  let view: DataView;
  switch (message.type) {
    case 'hello':
      buffer = new ArrayBuffer(HELLO_BYTES);
      view = new DataView(buffer);
      view.setUint32(4, message.sampleRate, true);
      view.setUint32(8, message.frameSamples, true);
      view.setUint32(12, message.deviceSampleRate, true);
      break;
    case 'capture':
    case 'playout': {
      const samples = message.samples;
      buffer = new ArrayBuffer(HEADER_BYTES + samples.length * 2);
      view = new DataView(buffer);
      view.setUint32(4, message.seq >>> 0, true);
      view.setUint32(8, message.sampleRate, true);
      if (LITTLE_ENDIAN_HOST) new Int16Array(buffer, HEADER_BYTES, samples.length).set(samples);
      else for (let i = 0; i < samples.length; i++) view.setInt16(HEADER_BYTES + 2 * i, samples[i]!, true);
      break;
    }
    case 'playout-report':
      buffer = new ArrayBuffer(REPORT_BYTES);
      view = new DataView(buffer);
      view.setUint32(4, message.nextSeq >>> 0, true);
      view.setFloat64(8, message.played, true);
      view.setFloat64(16, message.underrun, true);
      view.setFloat64(24, message.dropped, true);
      view.setFloat64(32, message.buffered, true);
      break;
  }
  view.setUint8(0, TYPE_CODES[message.type]);
  view.setUint8(1, FRAME_PROTOCOL_VERSION);
  return buffer;
}

export function decodeFrameMessage(buffer: ArrayBuffer): FrameMessage {
  if (buffer.byteLength < 4) throw new Error(`Frame protocol: binary message of ${buffer.byteLength} bytes is too short`);
  const view = new DataView(buffer);
  const code = view.getUint8(0);
  const version = view.getUint8(1);
  if (version !== FRAME_PROTOCOL_VERSION) {
    throw new Error(`Frame protocol: version ${version} is not supported (this side speaks ${FRAME_PROTOCOL_VERSION})`);
  }
  const need = (bytes: number, what: string): void => {
    if (buffer.byteLength < bytes) throw new Error(`Frame protocol: ${what} message of ${buffer.byteLength} bytes is too short (needs ${bytes})`);
  };
  switch (code) {
    case 1:
      need(HELLO_BYTES, 'hello');
      return parseFrameMessage({
        type: 'hello',
        version,
        sampleRate: view.getUint32(4, true),
        frameSamples: view.getUint32(8, true),
        deviceSampleRate: view.getUint32(12, true),
      });
    case 2:
    case 3: {
      const type = code === 2 ? 'capture' : 'playout';
      need(HEADER_BYTES, type);
      if ((buffer.byteLength - HEADER_BYTES) % 2 !== 0) throw new Error(`Frame protocol: ${type} message has an odd number of sample bytes`);
      const count = (buffer.byteLength - HEADER_BYTES) / 2;
      const samples = new Int16Array(count);
      if (LITTLE_ENDIAN_HOST) samples.set(new Int16Array(buffer, HEADER_BYTES, count));
      else for (let i = 0; i < count; i++) samples[i] = view.getInt16(HEADER_BYTES + 2 * i, true);
      return parseFrameMessage({ type, seq: view.getUint32(4, true), sampleRate: view.getUint32(8, true), samples });
    }
    case 4:
      need(REPORT_BYTES, 'playout-report');
      return parseFrameMessage({
        type: 'playout-report',
        played: view.getFloat64(8, true),
        underrun: view.getFloat64(16, true),
        dropped: view.getFloat64(24, true),
        buffered: view.getFloat64(32, true),
        nextSeq: view.getUint32(4, true),
      });
    default:
      throw new Error(`Frame protocol: unknown binary message type ${code}`);
  }
}
