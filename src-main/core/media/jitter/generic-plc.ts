/**
 * Generic packet loss concealment for codecs without their own (G.711, G.722), in the style of
 * ITU-T G.711 Appendix I: repeat the last pitch period(s) of good audio, widen the repeated span to
 * 2 then 3 periods after 10 / 20 ms to avoid a buzzy tone, fade out linearly from 10 ms to 60 ms of
 * continuous loss, and on the first good frame crossfade from the synthetic signal into it.
 * Unlike Appendix I we add no algorithmic delay (our output is already in the jitter buffer's hands),
 * so the start of concealment relies on the pitch lag being chosen for best continuity.
 *
 * Contract: every frame played to the user MUST pass through `observe()` (good audio, possibly after
 * time-scaling) or come from `conceal()`; the PLC keeps its own history from that.
 */
import { findPitch } from './pitch';
import { frameSamples } from '../frame-memory';

/**
 * The history is kept in a store this many times its span: a good frame is appended at the end,
 * and only when the store is full is the last span moved back to its start. Moving the whole span
 * back at every frame was two array built-ins per frame on the playout path instead of one.
 */
const HISTORY_STORE_SPANS = 4;

export class GenericPlc {
  /** The history: its last `span` samples end at `historyEnd` (zeros before any audio). */
  private readonly history: Int16Array;
  private readonly span: number;
  private historyEnd: number;
  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly corrLen: number;
  /** Samples of history filled so far (saturates at history.length). */
  private filled = 0;
  /** Samples concealed since the last good frame; 0 when not concealing. */
  private concealedRun = 0;
  private pitch = 0;
  /** Copy of the history tail the synthetic signal is made from (frozen at the start of a loss). */
  private source = new Int16Array(0);
  /** Read position in the repeated span, counted back from the end of `source`. */
  private phase = 0;

  constructor(private readonly sampleRate: number) {
    this.minLag = Math.round(sampleRate * 0.005);
    this.maxLag = Math.round(sampleRate * 0.015);
    this.corrLen = Math.round(sampleRate * 0.02);
    this.span = this.corrLen + 3 * this.maxLag;
    this.history = new Int16Array(this.span * HISTORY_STORE_SPANS);
    this.historyEnd = this.span;
  }

  /** Record a good frame before it is played; returns it, crossfaded if it ends a concealment. */
  observe(frame: Int16Array): Int16Array {
    let out = frame;
    if (this.concealedRun > 0) {
      // Overlap-add: 1/4 pitch period, plus 1 ms per 10 ms concealed (longer losses, softer join).
      const erased10ms = Math.ceil(this.concealedRun / (this.sampleRate / 100));
      const len = Math.min(frame.length, Math.round(this.pitch / 4 + (this.sampleRate / 1000) * (erased10ms - 1)));
      const synthetic = this.synthesize(len);
      out = Int16Array.from(frame);
      for (let i = 0; i < len; i++) {
        const w = (i + 0.5) / len;
        out[i] = Math.round(synthetic[i]! * (1 - w) + frame[i]! * w);
      }
      this.concealedRun = 0;
    }
    this.remember(out);
    return out;
  }

  /** Produce `samples` of concealment audio for a missing frame. */
  conceal(samples: number): Int16Array {
    if (this.concealedRun === 0) {
      if (this.filled < this.span) {
        // Not enough history to find a pitch (loss right at the start): silence is all we can do.
        this.pitch = this.minLag;
        this.source = new Int16Array(3 * this.maxLag);
      } else {
        const estimate = findPitch(this.history, this.historyEnd, this.corrLen, this.minLag, this.maxLag, this.sampleRate);
        this.pitch = estimate.lag;
        this.source = this.history.slice(this.historyEnd - 3 * this.pitch, this.historyEnd);
      }
      this.phase = 0;
    }
    const out = this.synthesize(samples);
    this.remember(out);
    return out;
  }

  /** Next `n` synthetic samples; advances the concealment clock. */
  private synthesize(n: number): Int16Array {
    const out = frameSamples(n);
    const tenMs = this.sampleRate / 100;
    for (let i = 0; i < n; i++) {
      const t = this.concealedRun + i;
      // Repeated span: 1 period for the first 10 ms, then 2, then 3. Switch only at a period boundary
      // (phase 0) so the waveform stays continuous.
      const periods = t < tenMs ? 1 : t < 2 * tenMs ? 2 : 3;
      const span = periods * this.pitch;
      if (this.phase === 0 || this.phase > span) this.phase = span;
      const sample = this.source[this.source.length - this.phase]!;
      this.phase--;
      // Gain: 1 for the first 10 ms, then -20 % per 10 ms, silent from 60 ms.
      const gain = t < tenMs ? 1 : Math.max(0, 1 - (0.2 * (t - tenMs)) / tenMs);
      out[i] = Math.round(sample * gain);
    }
    this.concealedRun += n;
    return out;
  }

  private remember(frame: Int16Array): void {
    const h = this.history;
    if (frame.length >= this.span) {
      h.set(frame.subarray(frame.length - this.span));
      this.historyEnd = this.span;
    } else {
      if (this.historyEnd + frame.length > h.length) {
        h.copyWithin(0, this.historyEnd - this.span, this.historyEnd);
        this.historyEnd = this.span;
      }
      h.set(frame, this.historyEnd);
      this.historyEnd += frame.length;
    }
    this.filled = Math.min(this.span, this.filled + frame.length);
  }
}
