/**
 * The local ringback signal, what a caller hears while the far end is alerted and sends no audio
 * of its own: 425 Hz at -16 dBFS, ETSI/CEPT cadence 1 s on, 4 s off (ETSI TR 101 041).
 *
 * Generated into frames of any length at any rate. The cadence and the sine's phase follow the
 * samples generated, not a clock, so the signal can move from one player to another mid-cadence
 * (a RingbackTone pushing it before media starts, then a media session's idle playout during early
 * media, see session-description-handler.ts) without a jump in its rhythm.
 *
 * Ownership: one player at a time; Node main thread only.
 */
export const RINGBACK_HZ = 425;
const ON_S = 1;
const PERIOD_S = 5;
const AMPLITUDE = 0.16 * 32767;

export class RingbackSignal {
  /** Seconds into the current cadence period. */
  private position = 0;
  private phase = 0;

  /** Write the next `frame.length` samples of the signal at `sampleRate` over `frame`. */
  readonly fill = (frame: Int16Array, sampleRate: number): void => {
    const step = (2 * Math.PI * RINGBACK_HZ) / sampleRate;
    const dt = 1 / sampleRate;
    for (let i = 0; i < frame.length; i++) {
      frame[i] = this.position < ON_S ? Math.round(AMPLITUDE * Math.sin(this.phase)) : 0;
      this.phase = (this.phase + step) % (2 * Math.PI);
      this.position += dt;
      if (this.position >= PERIOD_S) this.position -= PERIOD_S;
    }
  };
}
