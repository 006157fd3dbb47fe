/**
 * The built-in echo canceller's cost (src-renderer/src/audio/echo-canceller.ts), measured in this
 * process: V8 as in the renderer's audio worklet. 12 s of a speech-like far end and its echo in a
 * room at each port rate; CPU over the last 8 s (compiled, adapted), as % of one core.
 */
import { EchoCanceller } from '../../src-renderer/src/audio/echo-canceller';
import { convolve, roomImpulseResponse, speechLike } from '../harness/echo-simulation';

export interface EchoCancellerFigures {
  sampleRate: number;
  /** % of one core while a call runs. */
  cpuPercent: number;
  /** Worst-case delay it adds to the microphone (block filling + the suppressor's overlap), ms. */
  delayMs: number;
}

export function benchEchoCanceller(rates: readonly number[] = [8000, 16000, 48000]): EchoCancellerFigures[] {
  return rates.map((rate) => {
    const seconds = 12;
    const far = speechLike(rate, seconds, 1, 0.1);
    const echo = convolve(far, roomImpulseResponse(rate, 2, { delayMs: 40 }));
    const canceller = new EchoCanceller({ sampleRate: rate });
    const quantum = Math.round((128 * rate) / 48000);
    const out = new Float32Array(4 * quantum + 4 * canceller.blockSamples);
    let cpuFrom: NodeJS.CpuUsage | undefined;
    for (let i = 0; i + quantum <= far.length; i += quantum) {
      if (cpuFrom === undefined && i >= 4 * rate) cpuFrom = process.cpuUsage();
      canceller.playback(far.subarray(i, i + quantum));
      canceller.capture(echo.subarray(i, i + quantum), quantum, out);
    }
    const used = process.cpuUsage(cpuFrom);
    return { sampleRate: rate, cpuPercent: ((used.user + used.system) / 1e6 / (seconds - 4)) * 100, delayMs: (canceller.delaySamples * 1000) / rate };
  });
}
