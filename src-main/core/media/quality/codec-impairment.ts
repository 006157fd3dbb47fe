/**
 * Codec equipment impairment values for the E-model (ITU-T G.113 Appendix I): Ie is the codec's
 * own impairment at zero loss, Bpl its packet-loss robustness (higher = degrades more slowly).
 *
 * The narrowband E-model has no values for wideband codecs (G.722, Opus); rating them like G.711
 * with PLC is a deliberate, documented approximation (`approximate: true`) — it keeps the score
 * on the familiar 1..4.5 scale and never rates a wideband call worse than narrowband.
 * Lookup is by SDP encoding name, case-insensitive; unknown codecs get the G.711/PLC values.
 */
export interface CodecImpairment {
  /** Equipment impairment factor Ie. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl. */
  readonly bpl: number;
  /** True when the values are borrowed, not published for this codec. */
  readonly approximate: boolean;
}

const G711_WITH_PLC: CodecImpairment = { ie: 0, bpl: 25.1, approximate: false };

const TABLE: Readonly<Record<string, CodecImpairment>> = {
  PCMU: G711_WITH_PLC,
  PCMA: G711_WITH_PLC,
  G729: { ie: 11, bpl: 19.0, approximate: false }, // G.729A + VAD
  G723: { ie: 15, bpl: 16.1, approximate: false }, // G.723.1 6.3 kbit/s + VAD
  G722: { ...G711_WITH_PLC, approximate: true },
  OPUS: { ...G711_WITH_PLC, approximate: true },
};

export function codecImpairment(encodingName: string): CodecImpairment {
  return TABLE[encodingName.toUpperCase()] ?? { ...G711_WITH_PLC, approximate: true };
}

/** G.711 without packet-loss concealment (random loss), G.113 Appendix I. */
export const G711_WITHOUT_PLC: CodecImpairment = { ie: 0, bpl: 4.3, approximate: false };
