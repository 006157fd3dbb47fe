/**
 * Our binding to libopus compiled to WebAssembly: the plain (non-SIMD) build `wasm/opus.wasm` of the
 * npm package `@evan/opus` 1.0.3. Only that file is used; the package's JavaScript (which prefers
 * its native .node addons) is not. Unlike opusscript, this exposes opus_decode's decode_fec flag.
 *
 * Contract:
 * - Mono, 48 kHz only. PCM is 16-bit; one call handles at most MAX_FRAME_SAMPLES (120 ms) and
 *   packets of at most MAX_PACKET_BYTES.
 * - The wasm module is loaded and instantiated once, synchronously, on first use:
 *   first `opus.wasm` beside the running script (the Electron bundle ships it as
 *   dist/electron/opus.wasm), else the file inside node_modules/@evan/opus.
 * - Every handle from createEncoder()/createDecoder() lives in the one shared wasm heap and MUST be
 *   passed to destroyEncoder()/destroyDecoder() exactly once; nothing frees it otherwise. Using a
 *   handle after destroy throws (it is checked, not left to corrupt the heap).
 * - Results (encode/decode/conceal) are fresh copies the caller owns; input is copied in.
 * - Node main thread only: calls share two scratch buffers in the wasm heap and are not re-entrant.
 * - Errors: a negative libopus return code throws an Error saying what was being done and
 *   libopus' own text (opus_strerror); bad arguments throw RangeError before reaching libopus.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { frameBytes, frameSamples } from '../frame-memory';

export const SAMPLE_RATE = 48000;
/** 120 ms at 48 kHz: the longest Opus packet (RFC 6716 §3.2.5). */
export const MAX_FRAME_SAMPLES = 5760;
/** Largest packet encode() produces or decode() accepts: one Ethernet MTU, ample for mono voice. */
export const MAX_PACKET_BYTES = 1500;
/** 2.5 ms at 48 kHz: FEC and concealment lengths must be multiples of this (opus_decode). */
export const SAMPLES_PER_2_5_MS = 120;

/** opus_encoder_init application for speech (opus_defines.h). */
export const OPUS_APPLICATION_VOIP = 2048;

/** The slice of the WebAssembly JS API we use: our tsconfig (ES2023 lib, no DOM) does not declare it. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, (...args: number[]) => unknown>>) => { readonly exports: object };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export type OpusEncoderHandle = number & { readonly __brand: 'OpusEncoderHandle' };
export type OpusDecoderHandle = number & { readonly __brand: 'OpusDecoderHandle' };

/** The exports of @evan/opus' opus.wasm we call (its own thin C wrappers around libopus). */
interface OpusExports {
  memory: WasmMemory;
  _initialize(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, sampleRate: number, channels: number, application: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, sampleRate: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
}

const REQUIRED_FUNCTIONS = [
  '_initialize', 'malloc', 'free', 'opus_strerror', 'opus_encoder_get_size', 'opus_encoder_init',
  'opus_encoder_ctl_set', 'opus_encode', 'opus_decoder_get_size', 'opus_decoder_init', 'opus_decode',
] as const;

/** WASI errno ENOSYS: the module's stdio stubs report "not supported" rather than fake success. */
const WASI_ENOSYS = 52;

interface Loaded {
  readonly wasm: OpusExports;
  readonly pcmPtr: number;
  readonly packetPtr: number;
  /** Views on the wasm memory; replaced when it grows (growth detaches the old ArrayBuffer). */
  heap: Uint8Array;
  pcm: Int16Array;
  packet: Uint8Array;
}

let loaded: Loaded | undefined;
const liveEncoders = new Set<number>();
const liveDecoders = new Set<number>();

function locateWasm(): string {
  const beside = fileURLToPath(new URL('./opus.wasm', import.meta.url));
  if (existsSync(beside)) return beside;
  const specifier = '@evan/opus/wasm/opus.wasm';
  let resolved: string;
  try {
    resolved = createRequire(import.meta.url).resolve(specifier);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(`libopus wasm not found: tried ${beside} and ${specifier} (not installed)`, { cause: error });
  }
  if (!existsSync(resolved)) throw new Error(`libopus wasm not found: tried ${beside} and ${resolved}`);
  return resolved;
}

/** The first `length` elements of a view on the wasm memory, copied into a frame of our own (frame-memory.ts). */
function copyOf<T extends Uint8Array | Int16Array>(view: T, length: number, frame: (length: number) => T): T {
  const out = frame(length);
  out.set(view.subarray(0, length));
  return out;
}

/** Views on the wasm memory as it is now (growth detaches the old ArrayBuffer). */
function viewsOf(buffer: ArrayBuffer, pcmPtr: number, packetPtr: number): Pick<Loaded, 'heap' | 'pcm' | 'packet'> {
  return {
    heap: new Uint8Array(buffer),
    pcm: new Int16Array(buffer, pcmPtr, MAX_FRAME_SAMPLES),
    packet: new Uint8Array(buffer, packetPtr, MAX_PACKET_BYTES),
  };
}

function refreshViews(state: Loaded): void {
  Object.assign(state, viewsOf(state.wasm.memory.buffer, state.pcmPtr, state.packetPtr));
}

function load(): Loaded {
  const path = locateWasm();
  const module = new wasmApi.Module(readFileSync(path));
  const instance = new wasmApi.Instance(module, {
    // libopus never does I/O; these exist only because the toolchain links them.
    wasi_snapshot_preview1: {
      fd_seek: () => WASI_ENOSYS,
      fd_write: () => WASI_ENOSYS,
      fd_close: () => WASI_ENOSYS,
      proc_exit: (code: number) => {
        throw new Error(`libopus wasm called exit(${code})`);
      },
    },
    env: {
      // Growth detaches memory.buffer. (Before `loaded` is set there are no views to refresh.)
      emscripten_notify_memory_growth: () => {
        if (loaded) refreshViews(loaded);
      },
    },
  });
  const exports = instance.exports as Record<string, unknown>;
  for (const name of REQUIRED_FUNCTIONS) {
    if (typeof exports[name] !== 'function') throw new Error(`${path} does not export ${name}(): not the expected @evan/opus 1.0.3 build`);
  }
  if (!(exports.memory instanceof wasmApi.Memory)) throw new Error(`${path} does not export its memory`);
  const wasm = exports as unknown as OpusExports;
  wasm._initialize();
  const pcmPtr = wasm.malloc(MAX_FRAME_SAMPLES * 2);
  const packetPtr = wasm.malloc(MAX_PACKET_BYTES);
  if (pcmPtr === 0 || packetPtr === 0) throw new Error('libopus wasm: out of memory for scratch buffers');
  return { wasm, pcmPtr, packetPtr, ...viewsOf(wasm.memory.buffer, pcmPtr, packetPtr) };
}

function lib(): Loaded {
  loaded ??= load();
  return loaded;
}

function strerror(state: Loaded, code: number): string {
  const ptr = state.wasm.opus_strerror(code);
  const end = state.heap.indexOf(0, ptr);
  return new TextDecoder().decode(state.heap.subarray(ptr, end < 0 ? ptr : end));
}

/** Returns `code` when it is not an error; else throws with libopus' text. */
function check(state: Loaded, code: number, what: string): number {
  if (code < 0) throw new Error(`libopus ${what}: ${strerror(state, code)} (${code})`);
  return code;
}

/**
 * malloc a libopus state of `bytes`, run its init, and track it in `live`; on a failed init the
 * memory is freed before the error is thrown. Returns the state's pointer.
 */
function createState(what: 'encoder' | 'decoder', bytes: number, init: (ptr: number) => number, live: Set<number>): number {
  const state = lib();
  const ptr = state.wasm.malloc(bytes);
  if (ptr === 0) throw new Error(`libopus ${what}: out of wasm memory (${bytes} bytes)`);
  const code = init(ptr);
  if (code < 0) {
    state.wasm.free(ptr);
    check(state, code, `opus_${what}_init`);
  }
  live.add(ptr);
  return ptr;
}

function liveEncoder(enc: OpusEncoderHandle): Loaded {
  if (!liveEncoders.has(enc)) throw new Error('libopus encoder used after destroyEncoder() (or never created)');
  return lib();
}

function liveDecoder(dec: OpusDecoderHandle): Loaded {
  if (!liveDecoders.has(dec)) throw new Error('libopus decoder used after destroyDecoder() (or never created)');
  return lib();
}

/** RangeError unless 1..MAX_FRAME_SAMPLES samples (and, if asked, a multiple of 2.5 ms). */
export function checkSamples(samples: number, what: string, multipleOf2_5ms: boolean): void {
  if (!Number.isInteger(samples) || samples <= 0 || samples > MAX_FRAME_SAMPLES) {
    throw new RangeError(`${what}: ${samples} samples is not 1..${MAX_FRAME_SAMPLES}`);
  }
  if (multipleOf2_5ms && samples % SAMPLES_PER_2_5_MS !== 0) {
    throw new RangeError(`${what}: ${samples} samples is not a multiple of 2.5 ms (${SAMPLES_PER_2_5_MS})`);
  }
}

/** A mono 48 kHz encoder. The caller MUST destroyEncoder() it. */
export function createEncoder(application: number): OpusEncoderHandle {
  const { wasm } = lib();
  return createState('encoder', wasm.opus_encoder_get_size(1), (ptr) => wasm.opus_encoder_init(ptr, SAMPLE_RATE, 1, application), liveEncoders) as OpusEncoderHandle;
}

export function destroyEncoder(enc: OpusEncoderHandle): void {
  const state = liveEncoder(enc);
  liveEncoders.delete(enc);
  state.wasm.free(enc);
}

/** opus_encoder_ctl for the integer SET requests (OPUS_SET_BITRATE, OPUS_SET_INBAND_FEC, ...). */
export function encoderCtl(enc: OpusEncoderHandle, request: number, value: number): void {
  const state = liveEncoder(enc);
  check(state, state.wasm.opus_encoder_ctl_set(enc, request, value), `opus_encoder_ctl(${request}, ${value})`);
}

/** Encode one frame (2.5/5/10/20/40/60/80/100/120 ms); returns the packet. */
export function encode(enc: OpusEncoderHandle, pcm: Int16Array): Uint8Array {
  const state = liveEncoder(enc);
  checkSamples(pcm.length, 'opus_encode', true);
  state.pcm.set(pcm);
  const bytes = check(
    state,
    state.wasm.opus_encode(enc, state.pcmPtr, pcm.length, state.packetPtr, MAX_PACKET_BYTES),
    `opus_encode of ${pcm.length} samples`,
  );
  return copyOf(state.packet, bytes, frameBytes);
}

/** A mono 48 kHz decoder. The caller MUST destroyDecoder() it. */
export function createDecoder(): OpusDecoderHandle {
  const { wasm } = lib();
  return createState('decoder', wasm.opus_decoder_get_size(1), (ptr) => wasm.opus_decoder_init(ptr, SAMPLE_RATE, 1), liveDecoders) as OpusDecoderHandle;
}

export function destroyDecoder(dec: OpusDecoderHandle): void {
  const state = liveDecoder(dec);
  liveDecoders.delete(dec);
  state.wasm.free(dec);
}

/**
 * opus_decode of one packet. fec=false: decode it; `frameSize` is the most samples accepted
 * (MAX_FRAME_SAMPLES takes any packet). fec=true: rebuild the frame lost just BEFORE this packet
 * from its in-band FEC (libopus conceals instead when it carries none); `frameSize` is exactly the
 * lost duration, a multiple of 2.5 ms.
 */
export function decode(dec: OpusDecoderHandle, payload: Uint8Array, frameSize: number, fec: boolean): Int16Array {
  const state = liveDecoder(dec);
  if (payload.length === 0 || payload.length > MAX_PACKET_BYTES) {
    throw new RangeError(`opus_decode: packet of ${payload.length} bytes is not 1..${MAX_PACKET_BYTES}`);
  }
  checkSamples(frameSize, 'opus_decode', fec);
  state.packet.set(payload);
  const samples = check(
    state,
    state.wasm.opus_decode(dec, state.packetPtr, payload.length, state.pcmPtr, frameSize, fec ? 1 : 0),
    fec ? 'opus_decode with decode_fec=1' : 'opus_decode',
  );
  return copyOf(state.pcm, samples, frameSamples);
}

/** libopus' packet loss concealment for `frameSize` samples (a multiple of 2.5 ms). */
export function conceal(dec: OpusDecoderHandle, frameSize: number): Int16Array {
  const state = liveDecoder(dec);
  checkSamples(frameSize, 'opus_decode (concealment)', true);
  const samples = check(
    state,
    state.wasm.opus_decode(dec, 0, 0, state.pcmPtr, frameSize, 0),
    `opus_decode concealment of ${frameSize} samples`,
  );
  return copyOf(state.pcm, samples, frameSamples);
}

/** Size of the shared wasm heap in bytes (for leak checks: it only ever grows). */
export function libopusHeapBytes(): number {
  return lib().wasm.memory.buffer.byteLength;
}
