/**
 * WSOLA-lite time-scaling of one decoded frame, used by the jitter buffer to follow its target delay
 * and to absorb clock drift between the far end's sampling clock and our playout device.
 *
 * Both operations work on whole pitch periods so the result stays natural:
 * - shorten: with A = x[0..L), B = x[L..2L): output crossfade(A -> B), then x[2L..]. Removes L samples.
 * - lengthen: output A, crossfade(B -> A), then x[L..]. Inserts L samples.
 * The crossfades start and end on samples that are continuous with their neighbours, so no click.
 *
 * They only act where it is inaudible: on near-silence (any L), or on clearly periodic audio
 * (normalized correlation >= PERIODIC_THRESHOLD at the pitch lag); otherwise they return null and
 * the caller tries again on a later frame.
 */
import { findPitch, rms } from './pitch';
import { frameSamples } from '../frame-memory';

/** Frames below this RMS are treated as silence (about -50 dBFS). */
export const SILENCE_RMS = 100;
const PERIODIC_THRESHOLD = 0.85;

/**
 * The least `shortenFrame` ever removes (ms): the shortest pitch period it looks for. A caller that
 * could not use that much less audio need not run its pitch search at all.
 */
export const SHORTEN_MIN_MS = 2.5;

/** SHORTEN_MIN_MS in samples at `sampleRate`: the shortest lag (and cut) shortenFrame uses. */
export function shortestCutSamples(sampleRate: number): number {
  return Math.round((sampleRate * SHORTEN_MIN_MS) / 1000);
}

function chooseLag(frame: Int16Array, sampleRate: number): number | null {
  const minLag = shortestCutSamples(sampleRate);
  const maxLag = Math.min(Math.round(sampleRate * 0.015), Math.floor(frame.length / 2));
  if (maxLag < minLag) return null;
  if (rms(frame) < SILENCE_RMS) return maxLag;
  // Correlate the second period against the first: the search window is x[maxLag..2*maxLag) or less.
  const corrLen = Math.min(maxLag, frame.length - maxLag);
  const pitch = findPitch(frame, maxLag + corrLen, corrLen, minLag, maxLag, sampleRate);
  return pitch.correlation >= PERIODIC_THRESHOLD ? pitch.lag : null;
}

/** Remove about one pitch period from `frame`; null when the frame is not safe to shorten. */
export function shortenFrame(frame: Int16Array, sampleRate: number): Int16Array | null {
  const lag = chooseLag(frame, sampleRate);
  if (lag === null) return null;
  const out = frameSamples(frame.length - lag);
  for (let i = 0; i < lag; i++) {
    const w = (i + 0.5) / lag;
    out[i] = Math.round(frame[i]! * (1 - w) + frame[i + lag]! * w);
  }
  out.set(frame.subarray(2 * lag), lag);
  return out;
}

/** Insert about one pitch period into `frame`; null when the frame is not safe to lengthen. */
export function lengthenFrame(frame: Int16Array, sampleRate: number): Int16Array | null {
  const lag = chooseLag(frame, sampleRate);
  if (lag === null) return null;
  const out = frameSamples(frame.length + lag);
  out.set(frame.subarray(0, lag), 0);
  for (let i = 0; i < lag; i++) {
    const w = (i + 0.5) / lag;
    out[lag + i] = Math.round(frame[lag + i]! * (1 - w) + frame[i]! * w);
  }
  out.set(frame.subarray(lag), 2 * lag);
  return out;
}
