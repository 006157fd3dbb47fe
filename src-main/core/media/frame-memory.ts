/**
 * Per-frame typed arrays (codec output, RTP packets, jitter-buffer pulls) carved from shared slabs.
 *
 * Why: V8 gives `new Uint8Array(n)` / `new Int16Array(n)` of more than 64 bytes an ArrayBuffer of
 * its own: a zeroed off-heap allocation, a backing-store record and external-memory accounting,
 * ~0.85 µs each here even in a hot loop, against ~0.06 µs for a view of an existing ArrayBuffer.
 * A call allocates 4-5 such arrays per 20 ms frame; in perf profiles of a call their construction
 * (CreateTypedArray, the ArrayBuffer constructor, BackingStore::Allocate) was ~6 % of the process's
 * samples.
 *
 * Contract: `frameBytes(n)` and `frameSamples(n)` return what `new Uint8Array(n)` and
 * `new Int16Array(n)` would: n zeroed elements the caller owns, which nothing else is ever given
 * (slab memory is never reused). The difference: their `.buffer` is a slab shared with other
 * frames, so code MUST use `byteOffset`/`byteLength` with it and MUST NOT transfer or detach it
 * (a frame that crosses a MessagePort with a transfer list is copied first, see
 * port-audio-device.ts). A slab lives as long as any frame carved from it: one frame kept for
 * a call's lifetime keeps SLAB_BYTES alive, not more.
 *
 * Threads: module state, so each JavaScript thread (the main thread, a worker) has its own slab.
 */

/** Bytes per slab: ~40 frames of 8 kHz audio, ~15 of 48 kHz. */
const SLAB_BYTES = 64 * 1024;

/** Larger requests get their own ArrayBuffer (rare: start-up, long concealment, resampling blocks). */
const MAX_CARVED_BYTES = SLAB_BYTES / 8;

/**
 * The first slab: made by the first `carve`, through the same `new ArrayBuffer` as every later
 * one, not at module load. V8 optimizes the per-frame code (the G.711 encoder and decoder: within
 * a call's first second) before the first slab runs out. When the module made the first slab,
 * carve's new-slab line had never run by then, the optimized code had no way through it, and the
 * first new slab threw that code away ("Insufficient type feedback for construct", encode and
 * decode in V8's log of a headless's first call). Run at the first frame, the line has feedback
 * (with the app's V8 tuning, which gives a function feedback from its first call: app/v8-tuning.ts).
 */
let slab = new ArrayBuffer(0);
let used = SLAB_BYTES;

/** Byte offset of `bytes` fresh bytes in the current slab (8-aligned, so any typed array fits). */
function carve(bytes: number): number {
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const offset = used;
  used += (bytes + 7) & ~7;
  return offset;
}

/** A fresh, zeroed Uint8Array of `length` (see the contract above). */
export function frameBytes(length: number): Uint8Array<ArrayBuffer> {
  if (length > MAX_CARVED_BYTES || length === 0) return new Uint8Array(length);
  const offset = carve(length); // first: it may start a new slab
  return new Uint8Array(slab, offset, length);
}

/** A fresh, zeroed Int16Array of `length` samples (see the contract above). */
export function frameSamples(length: number): Int16Array<ArrayBuffer> {
  if (length * 2 > MAX_CARVED_BYTES || length === 0) return new Int16Array(length);
  const offset = carve(length * 2);
  return new Int16Array(slab, offset, length);
}
