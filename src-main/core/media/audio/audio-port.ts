/**
 * Where call audio comes from and goes to. In the app these are backed by the renderer's
 * AudioWorklet over MessagePorts; in headless mode by WAV files paced in real time.
 *
 * Frames are mono signed 16-bit PCM at `sampleRate`. The media session resamples when the
 * codec's rate differs.
 */
export interface AudioSource {
  readonly sampleRate: number;
  /** Fill `frame` with the next frame of captured audio (silence when there is none). */
  read(frame: Int16Array): void;
  /**
   * Optional: the source captures on its own clock (a sound card) and says when audio came in.
   * Once given a `listener`, it calls it after each captured chunk is buffered, with how many
   * samples `read` can now take without running dry; the reader sends as capture arrives, so the
   * device's clock paces the outgoing stream and nothing piles up or runs dry between two clocks.
   * `read` MUST then return exactly the buffered audio first (no start-up delay of its own), and
   * silence beyond it. `setCaptureListener(undefined)` stops the calls.
   */
  setCaptureListener?(listener: ((readable: number) => void) | undefined): void;
  close(): Promise<void>;
}

export interface AudioSink {
  readonly sampleRate: number;
  /** Play (or record) one frame of received audio. */
  write(frame: Int16Array): void;
  /**
   * Optional: switch to another rate while in use (a recording opened for ringback before the
   * codec was known follows the negotiated codec's rate). Sinks without it are fed resampled audio.
   */
  followSampleRate?(sampleRate: number): void;
  /**
   * Optional: the sink plays on its own clock (a sound card) and asks for audio when it needs it.
   * Once given a `pull`, it calls it for every frame it needs, at the moment it takes the frame
   * (the jitter buffer's deadline is then, whatever queue the device has after it): `pull` MUST
   * fill the whole `frame` (at sampleRate; silence where there is nothing) and MUST NOT keep it.
   * Meanwhile `write` MUST NOT be called. `setPuller(undefined)` stops the pulls.
   */
  setPuller?(pull: ((frame: Int16Array) => void) | undefined): void;
  close(): Promise<void>;
}
