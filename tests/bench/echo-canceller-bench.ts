/**
 * The built-in echo canceller's cost (src-renderer/src/audio/echo-canceller.ts, and at 48 kHz the
 * split-band one the app uses there, beside the full-band one it replaced), measured in this
 * process: V8 as in the renderer's audio worklet. 12 s of a speech-like far end and its echo in a
 * room at each port rate; CPU over the last 8 s (compiled, adapted), as % of one core.
 */
import { EchoCanceller, type CaptureEchoCanceller } from '../../src-renderer/src/audio/echo-canceller';
import { createEchoCanceller } from '../../src-renderer/src/audio/split-band-echo-canceller';
import { convolve, roomImpulseResponse, speechLike } from '../harness/echo-simulation';

export interface EchoCancellerFigures {
  sampleRate: number;
  /** 'split-band': the filter runs at 16 kHz on the band below 8 kHz (what the app uses at 48 kHz). */
  kind: 'full-band' | 'split-band';
  /** % of one core while a call runs. */
  cpuPercent: number;
  /** Worst-case delay it adds to the microphone (block filling + the suppressor's overlap), ms. */
  delayMs: number;
}

interface Room {
  far: Float32Array;
  echo: Float32Array;
}

const SECONDS = 12;

function room(rate: number): Room {
  const far = speechLike(rate, SECONDS, 1, 0.1);
  return { far, echo: convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 })) };
}

/** CPU of one run, % of a core over its last 8 s. */
function measure(rate: number, { far, echo }: Room, canceller: CaptureEchoCanceller): number {
  const quantum = Math.round((128 * rate) / 48000);
  const out = new Float32Array(canceller.maxOutputFor(quantum));
  let cpuFrom: NodeJS.CpuUsage | undefined;
  for (let i = 0; i + quantum <= far.length; i += quantum) {
    if (cpuFrom === undefined && i >= 4 * rate) cpuFrom = process.cpuUsage();
    canceller.playback(far.subarray(i, i + quantum));
    canceller.capture(echo.subarray(i, i + quantum), quantum, out);
  }
  const used = process.cpuUsage(cpuFrom);
  return ((used.user + used.system) / 1e6 / (SECONDS - 4)) * 100;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The canceller the app runs at each rate, and the full-band one at 48 kHz for comparison: three
 * runs of each, interleaved (so a busy moment of this 2-core machine hits all alike), median.
 */
export function benchEchoCanceller(rates: readonly number[] = [8000, 16000, 48000], runs = 3): EchoCancellerFigures[] {
  const configs = rates.map((rate) => ({ rate, make: () => createEchoCanceller({ sampleRate: rate }) }));
  if (rates.includes(48000)) configs.push({ rate: 48000, make: () => new EchoCanceller({ sampleRate: 48000 }) });
  const rooms = new Map(rates.map((rate) => [rate, room(rate)]));
  const cpu = configs.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) configs.forEach((c, i) => cpu[i]!.push(measure(c.rate, rooms.get(c.rate)!, c.make())));
  return configs.map((c, i) => {
    const canceller = c.make();
    return {
      sampleRate: c.rate,
      kind: canceller instanceof EchoCanceller ? 'full-band' : 'split-band',
      cpuPercent: median(cpu[i]!),
      delayMs: (canceller.delaySamples * 1000) / c.rate,
    };
  });
}
