/**
 * Why a call may sound bad, in words, from its media statistics (`call.stats`): each direction
 * on its own (what we receive, measured here; what the other side receives of ours, from its RTCP
 * reports), so the user can tell "I hear them badly" from "they hear me badly", which the one
 * E-model score cannot. Thresholds are where a listener starts to notice:
 * - loss: 3 % (packet-loss concealment hides isolated losses below that; G.711 Appendix I, Opus PLC);
 * - jitter: 40 ms (the jitter buffer follows it by adding as much delay, or drops what comes later);
 * - round trip: 400 ms (ITU-T G.114: above ~200 ms one way, people start talking over each other);
 * - concealment: 5 % of what is played filled in, whatever the cause (loss, late packets, underruns).
 */
import type { CallStats } from '@common/contract/contract';

export const NOTICEABLE = {
  lossPercent: 3,
  jitterMs: 40,
  roundTripMs: 400,
  expandRate: 0.05,
} as const;

const percent = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} %`;

/** Problems a listener would notice, most telling first; empty when the call should sound fine. */
export function qualityProblems(stats: CallStats): string[] {
  const problems: string[] = [];
  if (stats.lossPercent >= NOTICEABLE.lossPercent) problems.push(`You are missing ${percent(stats.lossPercent)} of their audio (lost or late on the way to you)`);
  const theirLoss = (stats.remote?.fractionLost ?? 0) * 100;
  if (theirLoss >= NOTICEABLE.lossPercent) problems.push(`They are missing ${percent(theirLoss)} of your audio (lost on the way to them)`);
  if (stats.roundTripTimeMs !== undefined && stats.roundTripTimeMs >= NOTICEABLE.roundTripMs)
    problems.push(`Long delay: ${Math.round(stats.roundTripTimeMs)} ms there and back, so you may talk over each other`);
  if (stats.jitterMs >= NOTICEABLE.jitterMs) problems.push(`Their audio arrives unevenly (jitter ${Math.round(stats.jitterMs)} ms), which adds delay`);
  if (stats.remote && stats.remote.jitterMs >= NOTICEABLE.jitterMs) problems.push(`Your audio reaches them unevenly (jitter ${Math.round(stats.remote.jitterMs)} ms)`);
  // Concealment that loss does not already explain (late packets, underruns, a far end's clock).
  const expand = stats.jitterBuffer?.expandRate ?? 0;
  if (expand >= NOTICEABLE.expandRate && stats.lossPercent < NOTICEABLE.lossPercent)
    problems.push(`${percent(expand * 100)} of what you hear is filled in because their audio came too late`);
  return problems;
}
