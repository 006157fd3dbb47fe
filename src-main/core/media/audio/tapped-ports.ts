/**
 * A call's audio ports as its media session sees them: the device's source and sink, with every
 * frame read and written also handed to a tap (the call recorder, while one runs).
 *
 * Classes, not object literals, for the per-frame code: the media session reads `sampleRate` and
 * calls `read`/`write` for every frame. The object literals these were (a getter, arrow-function
 * members, a conditional spread) are dictionary-mode objects in V8, so every one of those accesses
 * was a hash lookup through V8's generic load stub (`Builtins_LoadIC` under the playout code in a
 * profile of a later call) instead of an inline-cached field load. A class instance has fast
 * properties and one shape for every call; the optional device-clock methods are always own
 * fields (a function or undefined), so the shape does not depend on the device either.
 *
 * Ownership: the ports do not own the source or sink (their opener closes them); `close()` is
 * the port interface's and passes through. Node main thread only.
 */
import type { AudioSink, AudioSource } from './audio-port';

/** Where tapped frames go; `active()` is asked for every frame before anything else is done. */
export interface FrameTap {
  active(): boolean;
  /** A frame read from the source (what we send), at `sampleRate`. */
  local(frame: Int16Array, sampleRate: number): void;
  /** A frame handed to the sink (what we play), at `sampleRate`. */
  remote(frame: Int16Array, sampleRate: number): void;
}

export class TappedSource implements AudioSource {
  /** The source's own device clock, kept (see AudioSource.setCaptureListener); undefined if it has none. */
  readonly setCaptureListener: ((listener: ((readable: number) => void) | undefined) => void) | undefined;

  constructor(
    private readonly source: AudioSource,
    private readonly tap: FrameTap,
  ) {
    this.setCaptureListener = source.setCaptureListener ? (listener) => source.setCaptureListener!(listener) : undefined;
  }

  get sampleRate(): number {
    return this.source.sampleRate;
  }

  read(frame: Int16Array): void {
    this.source.read(frame);
    if (this.tap.active()) this.tap.local(frame, this.source.sampleRate);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

export class TappedSink implements AudioSink {
  /** The sink's own device clock, kept (see AudioSink.setPuller): the tap gets what the device pulls. */
  readonly setPuller: ((pull: ((frame: Int16Array) => void) | undefined) => void) | undefined;

  constructor(
    private readonly sink: AudioSink,
    private readonly tap: FrameTap,
  ) {
    this.setPuller = sink.setPuller
      ? (pull) =>
          sink.setPuller!(
            pull &&
              ((frame) => {
                pull(frame);
                if (tap.active()) tap.remote(frame, sink.sampleRate);
              }),
          )
      : undefined;
  }

  get sampleRate(): number {
    return this.sink.sampleRate;
  }

  write(frame: Int16Array): void {
    if (this.tap.active()) this.tap.remote(frame, this.sink.sampleRate);
    this.sink.write(frame);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
