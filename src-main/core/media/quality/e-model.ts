/**
 * Call quality estimate: E-model R-factor (ITU-T G.107, simplified as VoIP clients use it) and MOS.
 *
 * eModelRFactor — the model we show to users:
 *   d      = one-way mouth-to-ear delay + 2 · jitter   (a jitter buffer holds ≈ 2× the jitter)
 *   Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)    (Cole & Rosenbluth's fit of G.107's delay
 *            impairment with default echo parameters; H = step function)
 *   Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)   (G.107 §7.5, Ppl in percent)
 *   R      = 93.2 − Id − Ie,eff                          (93.2 = Ro − Is with G.107 defaults, A = 0)
 *   With no delay, jitter or loss on G.711 this gives G.107's default R = 93.2 (MOS 4.41).
 *
 * simplifiedRFactor — the older "VoIP client" formula (as in baresip's mos_calculate), kept so our
 * numbers can be compared with baresip/others and verified against baresip's test vectors:
 *   d = delay + 2 · jitter + 10;  R = 93.2 − (d < 160 ? d/40 : (d − 120)/10) − 2.5 · loss%
 *
 * MOS from R per G.107 Annex B (mos.ts). Inputs must be finite and non-negative; loss in percent
 * (0..100). Both functions are pure.
 */
import { codecImpairment, type CodecImpairment } from './codec-impairment';
import { mosFromRFactor, ratingFromRFactor, type QualityRating } from './mos';

const R_DEFAULT = 93.2;

export interface EModelInput {
  /** One-way mouth-to-ear delay in ms (if only RTT is known: RTT / 2 plus local buffering). */
  readonly oneWayDelayMs: number;
  /** Interarrival jitter in ms (RTCP jitter converted with the clock rate). */
  readonly jitterMs: number;
  /** Packet loss in percent, 0..100. */
  readonly packetLossPercent: number;
  /** SDP encoding name ("PCMU", "G722", "opus", …) or explicit impairment values. */
  readonly codec: string | CodecImpairment;
  /** G.107 BurstR: 1 for random loss (default), > 1 for bursty loss. */
  readonly burstRatio?: number;
}

export function delayImpairment(effectiveDelayMs: number): number {
  return 0.024 * effectiveDelayMs + (effectiveDelayMs > 177.3 ? 0.11 * (effectiveDelayMs - 177.3) : 0);
}

export function effectiveEquipmentImpairment(impairment: CodecImpairment, packetLossPercent: number, burstRatio = 1): number {
  check('packet loss', packetLossPercent, 100);
  if (!(burstRatio >= 1)) throw new RangeError(`BurstR must be ≥ 1, got ${burstRatio}`);
  const { ie, bpl } = impairment;
  return ie + ((95 - ie) * packetLossPercent) / (packetLossPercent / burstRatio + bpl);
}

export function eModelRFactor(input: EModelInput): number {
  check('one-way delay', input.oneWayDelayMs);
  check('jitter', input.jitterMs);
  const impairment = typeof input.codec === 'string' ? codecImpairment(input.codec) : input.codec;
  const id = delayImpairment(input.oneWayDelayMs + 2 * input.jitterMs);
  return R_DEFAULT - id - effectiveEquipmentImpairment(impairment, input.packetLossPercent, input.burstRatio ?? 1);
}

export interface SimplifiedInput {
  /** Latency in ms (baresip passes the RTT here). */
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly packetLossPercent: number;
}

export function simplifiedRFactor(input: SimplifiedInput): number {
  check('delay', input.delayMs);
  check('jitter', input.jitterMs);
  check('packet loss', input.packetLossPercent, 100);
  const effective = input.delayMs + 2 * input.jitterMs + 10;
  const delayPart = effective < 160 ? effective / 40 : (effective - 120) / 10;
  return R_DEFAULT - delayPart - 2.5 * input.packetLossPercent;
}

export interface CallQuality {
  readonly rFactor: number;
  readonly mos: number;
  readonly rating: QualityRating;
  /** True when the codec's impairment values are an approximation (wideband/unknown codec). */
  readonly approximate: boolean;
}

export interface CallQualityInput {
  /** Round-trip time from RTCP (RR LSR/DLSR); one-way delay is taken as half of it. */
  readonly roundTripTimeMs?: number;
  /**
   * Delay we add locally (the jitter buffer's measured playout delay, packetization), added to the
   * network one-way delay. Given, it replaces the model's 2 · jitter (what a jitter buffer would
   * hold for that jitter): the buffer's real delay is that, measured; counting both counted it twice.
   */
  readonly localDelayMs?: number;
  readonly jitterMs: number;
  readonly packetLossPercent: number;
  readonly codec: string;
  readonly burstRatio?: number;
}

/** What the UI shows: G.107 R-factor, MOS and G.109 rating from RTCP-derived numbers. */
export function estimateCallQuality(input: CallQualityInput): CallQuality {
  const impairment = codecImpairment(input.codec);
  const rFactor = eModelRFactor({
    oneWayDelayMs: (input.roundTripTimeMs ?? 0) / 2 + (input.localDelayMs ?? 0),
    jitterMs: input.localDelayMs === undefined ? input.jitterMs : 0,
    packetLossPercent: input.packetLossPercent,
    codec: impairment,
    ...(input.burstRatio !== undefined ? { burstRatio: input.burstRatio } : {}),
  });
  return { rFactor, mos: mosFromRFactor(rFactor), rating: ratingFromRFactor(rFactor), approximate: impairment.approximate };
}

/** RTCP's 8-bit fraction lost (lost/expected · 256) as a percentage. */
export function lossPercentFromRtcpFraction(fractionLost: number): number {
  if (!Number.isInteger(fractionLost) || fractionLost < 0 || fractionLost > 255)
    throw new RangeError(`RTCP fraction lost must be an integer 0..255, got ${fractionLost}`);
  return (fractionLost / 256) * 100;
}

function check(what: string, value: number, max = Number.POSITIVE_INFINITY): void {
  if (!Number.isFinite(value) || value < 0 || value > max)
    throw new RangeError(`${what} must be a finite number between 0 and ${max}, got ${value}`);
}
