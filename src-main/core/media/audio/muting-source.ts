/**
 * A call's microphone with a mute switch (call.mute): while `muted`, every frame read is silence.
 *
 * What mute does, as on a desk phone:
 * - the device is still read: its capture clock keeps pacing the outgoing stream and its buffer
 *   does not fill up while muted, so unmuting sends what is said from then on, not a backlog;
 * - the call keeps sending: silence, encoded like any audio (a codec with DTX may send less), so
 *   the far end's RTP timeout and any NAT binding on the way see a live stream;
 * - nothing is signalled: no re-INVITE, the far end just hears silence (hold is what tells it);
 * - the call recorder taps the frames after this (tapped-ports.ts), so a recording has what the
 *   far end heard, not what was said while muted.
 *
 * A class for the same reason as TappedSource: the media session calls `read` for every frame.
 * Ownership: does not own the source (`close()` passes through). Node main thread only.
 */
import type { AudioSource } from './audio-port';

export class MutingSource implements AudioSource {
  /** Frames read while true are silence. */
  muted = false;
  /** The source's own device clock, kept (see AudioSource.setCaptureListener); undefined if it has none. */
  readonly setCaptureListener: ((listener: ((readable: number) => void) | undefined) => void) | undefined;

  constructor(private readonly source: AudioSource) {
    this.setCaptureListener = source.setCaptureListener ? (listener) => source.setCaptureListener!(listener) : undefined;
  }

  get sampleRate(): number {
    return this.source.sampleRate;
  }

  read(frame: Int16Array): void {
    this.source.read(frame);
    if (this.muted) frame.fill(0);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
