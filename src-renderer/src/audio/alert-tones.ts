/**
 * The phone's alert tones, synthesized as one loopable cycle of 16-bit mono WAV each (no audio
 * files to ship or license):
 * - RING: an incoming call while no other call is going on. A double ring (0.4 s on, 0.2 s off,
 *   0.4 s on, 2 s off) of 400 + 450 Hz: the cadence office phones in much of the world use, short
 *   enough that a call is noticed within a second of arriving, on whatever device the user rings on.
 * - CALL_WAITING: another call arriving during a call: two short 440 Hz beeps every 5 s, played
 *   softly on the call's own output (the headset), where a ring would be too loud and the speakers
 *   the wrong place (ITU-T E.180 leaves the cadence national; this is the common short form).
 * Each burst fades in and out over 10 ms so it starts and stops without a click.
 */

export interface AlertTone {
  /** For logs and the page's `data-alert` attribute. */
  readonly name: 'ring' | 'call-waiting';
  /** Tone frequencies of a burst, Hz. */
  readonly frequenciesHz: readonly number[];
  /** Bursts as [start, end] seconds within one cycle. */
  readonly bursts: readonly (readonly [number, number])[];
  readonly cycleSeconds: number;
  /** Peak amplitude of the sum, 0..1. */
  readonly level: number;
}

export const RING: AlertTone = {
  name: 'ring',
  frequenciesHz: [400, 450],
  bursts: [
    [0, 0.4],
    [0.6, 1.0],
  ],
  cycleSeconds: 3,
  level: 0.5,
};

export const CALL_WAITING: AlertTone = {
  name: 'call-waiting',
  frequenciesHz: [440],
  bursts: [
    [0, 0.2],
    [0.4, 0.6],
  ],
  cycleSeconds: 5,
  level: 0.15,
};

/** Tones are below 500 Hz: 8 kHz sampling is plenty, and keeps a cycle at 48-80 KB. */
export const ALERT_SAMPLE_RATE = 8000;
const FADE_SECONDS = 0.01;

/** One cycle of `tone` as samples in -1..1 at `sampleRate`. */
export function alertToneSamples(tone: AlertTone, sampleRate = ALERT_SAMPLE_RATE): Float32Array {
  const samples = new Float32Array(Math.round(tone.cycleSeconds * sampleRate));
  const perTone = tone.level / tone.frequenciesHz.length;
  for (const [start, end] of tone.bursts) {
    const first = Math.round(start * sampleRate);
    const last = Math.min(samples.length, Math.round(end * sampleRate));
    const fade = Math.round(FADE_SECONDS * sampleRate);
    for (let i = first; i < last; i++) {
      const t = i / sampleRate;
      const edge = Math.min(i - first, last - 1 - i);
      const envelope = edge >= fade ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / fade);
      let sum = 0;
      for (const hz of tone.frequenciesHz) sum += Math.sin(2 * Math.PI * hz * t);
      samples[i] = perTone * envelope * sum;
    }
  }
  return samples;
}

/** One cycle of `tone` as the bytes of a 16-bit mono PCM WAV file. */
export function alertToneWav(tone: AlertTone, sampleRate = ALERT_SAMPLE_RATE): Uint8Array<ArrayBuffer> {
  const samples = alertToneSamples(tone, sampleRate);
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), true);
  return bytes;
}
