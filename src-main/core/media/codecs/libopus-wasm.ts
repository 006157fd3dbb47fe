/**
 * libopus (BSD licence) as WebAssembly: our own small binding to the plain build the npm package
 * `@evan/opus` ships as `wasm/opus.wasm`. That module exports libopus' C API (opus_encoder_init,
 * opus_encode, opus_decode with its decode_fec flag, the CTLs, malloc/free) and imports nothing but
 * WASI stubs; we use neither the package's JavaScript nor its native .node files.
 *
 * Contract:
 * - The module is compiled and instantiated once, on first use, synchronously. It is looked for
 *   beside the running script first (the Electron bundle ships it as dist/electron/opus.wasm), then
 *   in the package; if neither exists, the first use throws naming both paths.
 * - Every encoder/decoder is libopus state malloc'd in the one shared wasm heap: the owner MUST call
 *   destroy() exactly once (OpusEncoderState/OpusDecoderState do it in close()). Use after destroy
 *   throws.
 * - PCM is mono 16-bit at 48 kHz. Inputs and outputs are copied in and out of two scratch buffers
 *   (one packet, one 120 ms PCM block), so results stay valid after the next call.
 * - A negative libopus return code throws an Error with libopus' own text and what was being done.
 *
 * Ownership and threading: one wasm instance per JS realm, used from the Node main thread only
 * (the media session's); not re-entrant, and nothing in it runs concurrently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Opus at 48 kHz: the largest frame is 120 ms. */
export const OPUS_MAX_FRAME_SAMPLES = 5760;
/** Larger than any RTP payload we accept from a UDP datagram. */
const MAX_PACKET_BYTES = 1500;
const SAMPLE_RATE = 48000;
/** opus_defines.h */
export const OPUS_APPLICATION_VOIP = 2048;

/** The slice of the WebAssembly JS API we use (our tsconfig has no DOM lib to declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, () => number>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface LibopusExports {
  memory: { buffer: ArrayBuffer };
  _initialize?: () => void;
  malloc(size: number): number;
  free(pointer: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(state: number, sampleRate: number, channels: number, application: number): number;
  opus_encode(state: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  opus_encoder_ctl_set(state: number, request: number, value: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(state: number, sampleRate: number, channels: number): number;
  opus_decode(state: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
}

interface Libopus {
  api: LibopusExports;
  packet: number;
  pcm: number;
}

let instance: Libopus | undefined;

function wasmPath(): string {
  const beside = fileURLToPath(new URL('./opus.wasm', import.meta.url));
  if (existsSync(beside)) return beside;
  let packaged: string;
  try {
    packaged = createRequire(import.meta.url).resolve('@evan/opus/wasm/opus.wasm');
  } catch (error) {
    throw new Error(`libopus WebAssembly not found: neither ${beside} nor the @evan/opus package (${(error as Error).message})`, { cause: error });
  }
  return packaged;
}

function libopus(): Libopus {
  if (instance) return instance;
  const module = new wasmApi.Module(readFileSync(wasmPath()));
  // WASI stubs: libopus never does I/O; growth needs no notice since views are made per call.
  const noop = () => 0;
  const wasm = new wasmApi.Instance(module, {
    wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
    env: { emscripten_notify_memory_growth: noop },
  });
  const api = wasm.exports as unknown as LibopusExports;
  api._initialize?.();
  const packet = api.malloc(MAX_PACKET_BYTES);
  const pcm = api.malloc(OPUS_MAX_FRAME_SAMPLES * 2);
  if (packet === 0 || pcm === 0) throw new Error('libopus: out of wasm memory for scratch buffers');
  instance = { api, packet, pcm };
  return instance;
}

function check(lib: Libopus, code: number, doing: string): number {
  if (code >= 0) return code;
  const bytes = new Uint8Array(lib.api.memory.buffer);
  let end = lib.api.opus_strerror(code);
  const start = end;
  while (bytes[end] !== 0 && end < bytes.length) end++;
  const text = new TextDecoder().decode(bytes.subarray(start, end));
  throw new Error(`libopus: ${doing}: ${text} (${code})`);
}

/** Bytes of the wasm heap; exposed so tests can show that destroy() gives memory back. */
export function libopusHeapBytes(): number {
  return libopus().api.memory.buffer.byteLength;
}

abstract class OpusState {
  protected state: number;
  protected readonly lib = libopus();

  constructor(size: number, kind: string) {
    this.state = this.lib.api.malloc(size);
    if (this.state === 0) throw new Error(`libopus: out of wasm memory for an ${kind}`);
  }

  protected live(kind: string): number {
    if (this.state === 0) throw new Error(`Opus ${kind} used after close()`);
    return this.state;
  }

  destroy(): void {
    if (this.state !== 0) this.lib.api.free(this.state);
    this.state = 0;
  }
}

export class OpusEncoderState extends OpusState {
  constructor(application = OPUS_APPLICATION_VOIP) {
    super(libopus().api.opus_encoder_get_size(1), 'encoder');
    try {
      check(this.lib, this.lib.api.opus_encoder_init(this.state, SAMPLE_RATE, 1, application), 'encoder init');
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  ctl(request: number, value: number): void {
    check(this.lib, this.lib.api.opus_encoder_ctl_set(this.live('encoder'), request, value), `encoder CTL ${request}=${value}`);
  }

  encode(pcm: Int16Array): Uint8Array {
    const state = this.live('encoder');
    const { api, pcm: pcmPointer, packet } = this.lib;
    new Int16Array(api.memory.buffer, pcmPointer, pcm.length).set(pcm);
    const bytes = check(this.lib, api.opus_encode(state, pcmPointer, pcm.length, packet, MAX_PACKET_BYTES), `encode of ${pcm.length} samples`);
    return new Uint8Array(api.memory.buffer, packet, bytes).slice();
  }
}

export class OpusDecoderState extends OpusState {
  constructor() {
    super(libopus().api.opus_decoder_get_size(1), 'decoder');
    try {
      check(this.lib, this.lib.api.opus_decoder_init(this.state, SAMPLE_RATE, 1), 'decoder init');
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /**
   * opus_decode: `payload` undefined runs packet-loss concealment for `frameSize` samples; with
   * `fec`, the payload's in-band FEC rebuilds the frame BEFORE it (`frameSize` = that frame's length).
   */
  decode(payload: Uint8Array | undefined, frameSize: number, fec: boolean, doing: string): Int16Array {
    const state = this.live('decoder');
    const { api, pcm, packet } = this.lib;
    if (payload && payload.length > MAX_PACKET_BYTES) throw new RangeError(`${doing}: packet of ${payload.length} bytes exceeds ${MAX_PACKET_BYTES}`);
    if (payload) new Uint8Array(api.memory.buffer, packet, payload.length).set(payload);
    const samples = check(
      this.lib,
      api.opus_decode(state, payload ? packet : 0, payload ? payload.length : 0, pcm, Math.min(frameSize, OPUS_MAX_FRAME_SAMPLES), fec ? 1 : 0),
      doing,
    );
    return new Int16Array(api.memory.buffer, pcm, samples).slice();
  }
}
