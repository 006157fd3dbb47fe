/**
 * Fixed-capacity FIFO of Float32 samples for the audio thread: no allocation after construction.
 *
 * Writing more than fits drops the OLDEST samples (returned as a count) so latency stays bounded;
 * reading more than is there returns what is there. Single-threaded by design: in the worklet both
 * the port's onmessage (writer) and process() (reader) run on the audio rendering thread, one after
 * the other, so no locks or atomics are needed (and no SharedArrayBuffer, which would require
 * cross-origin isolation that a file:// Electron page does not have).
 */
export class FloatRing {
  private readonly data: Float32Array;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`FloatRing: capacity must be a positive integer, got ${capacity}`);
    this.data = new Float32Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends `source[0..count)`; returns how many of the oldest samples were dropped to make room. */
  write(source: ArrayLike<number>, count = source.length): number {
    let from = 0;
    let dropped = 0;
    if (count > this.capacity) {
      dropped += count - this.capacity;
      from = count - this.capacity;
    }
    const incoming = count - from;
    const overflow = this.size + incoming - this.capacity;
    if (overflow > 0) {
      this.start = (this.start + overflow) % this.capacity;
      this.size -= overflow;
      dropped += overflow;
    }
    let end = (this.start + this.size) % this.capacity;
    for (let i = from; i < count; i++) {
      this.data[end] = source[i]!;
      end = end + 1 === this.capacity ? 0 : end + 1;
    }
    this.size += incoming;
    return dropped;
  }

  /** Moves up to `count` samples into `target` starting at `offset`; returns how many. */
  read(target: Float32Array, offset: number, count: number): number {
    const n = Math.min(count, this.size);
    let at = this.start;
    for (let i = 0; i < n; i++) {
      target[offset + i] = this.data[at]!;
      at = at + 1 === this.capacity ? 0 : at + 1;
    }
    this.start = at;
    this.size -= n;
    return n;
  }

  clear(): void {
    this.start = 0;
    this.size = 0;
  }
}
