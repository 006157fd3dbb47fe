/**
 * The few facts the benchmarks need from a SIP message seen on the wire: request method or
 * response status, Call-ID, CSeq method, From user, and the audio address of an SDP body.
 * Deliberately not a SIP parser (the product has one); compact header forms (i, f) are accepted
 * because a proxy may forward them.
 */
export interface SipMessageFacts {
  method?: string;
  status?: number;
  callId: string;
  cseqMethod: string;
  fromUser: string;
  /** c= address and m=audio port of the SDP body, if there is one. */
  audio?: { address: string; port: number };
}

const REQUEST_LINE = /^([A-Z]+) \S+ SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 (\d{3}) /;

/** Facts of a SIP message, or undefined when the datagram is not SIP (e.g. RTP, keep-alive). */
export function sipMessageFacts(payload: Buffer): SipMessageFacts | undefined {
  const text = payload.toString('latin1');
  const headerEnd = text.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const lines = text.slice(0, headerEnd).split('\r\n');
  const first = lines[0]!;
  const request = REQUEST_LINE.exec(first);
  const status = STATUS_LINE.exec(first);
  if (!request && !status) return undefined;
  const header = (full: string, compact?: string): string | undefined => {
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === full || name === compact) return line.slice(colon + 1).trim();
    }
    return undefined;
  };
  const callId = header('call-id', 'i');
  const cseq = header('cseq');
  const from = header('from', 'f');
  if (!callId || !cseq || !from) return undefined;
  const fromUser = /sips?:([^@;>]+)@/.exec(from)?.[1] ?? '';
  const body = text.slice(headerEnd + 4);
  let audio: SipMessageFacts['audio'];
  const m = /^m=audio (\d+) /m.exec(body);
  const c = /^c=IN IP4 (\S+)/m.exec(body);
  if (m && c) audio = { address: c[1]!, port: Number(m[1]) };
  return {
    method: request?.[1],
    status: status ? Number(status[1]) : undefined,
    callId,
    cseqMethod: cseq.split(/\s+/)[1] ?? '',
    fromUser,
    audio,
  };
}

/** RTP (not RTCP) by its first two bytes: version 2 and a payload type outside 72..76 (RFC 5761). */
export function looksLikeRtp(payload: Buffer): boolean {
  if (payload.length < 12 || payload[0]! >> 6 !== 2) return false;
  const pt = payload[1]! & 0x7f;
  return pt < 64 || pt > 95;
}
