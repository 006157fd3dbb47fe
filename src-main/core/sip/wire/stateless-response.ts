// Stateless error responses to requests the validator refuses (RFC 3261 8.2.6 and 8.2.7):
// copy every Via (in order), From, To, Call-ID and CSeq; add a To tag when there is none;
// Content-Length: 0. Built from a lenient reading of the request, since the request is known
// to be malformed: a header line that is itself broken (no colon, bare CR/LF) is skipped, and
// when one of the copied headers is missing the request cannot be answered at all.
//
// The returned string is meant to be encoded as UTF-8: copied values are decoded from the
// received octets as UTF-8, so valid UTF-8 (e.g. display names) goes back unchanged.

import { randomBytes } from 'node:crypto';
import { isAllTokenChars } from './sip-characters';
import { splitSipMessage } from './sip-message-sections';
import { isStatusLine } from './start-line-syntax';

/** The header values a stateless response copies, as received (latin1, unfolded). */
export interface AnswerHeaders {
  method: string;
  vias: string[];
  from: string;
  to: string;
  callId: string;
  cseq: string;
}

/**
 * Undefined when `text` is not a request we may answer: a response, an ACK (never answered,
 * RFC 3261 17.1.1.3), or a request lacking a usable Via, From, To, Call-ID or CSeq.
 */
export function extractAnswerHeaders(text: string): AnswerHeaders | undefined {
  const sections = splitSipMessage(text);
  if (!sections || isStatusLine(sections.startLine)) return undefined;
  const method = /^([^ \t]+)[ \t]/.exec(sections.startLine)?.[1];
  if (method === undefined || !isAllTokenChars(method) || method === 'ACK') return undefined;
  const vias: string[] = [];
  const first = new Map<string, string>();
  for (const field of sections.headers) {
    if (field.problem !== undefined || field.value === '' || /[\r\n]/.test(field.value)) continue;
    if (field.canonicalName === 'via') vias.push(field.value);
    else if (!first.has(field.canonicalName)) first.set(field.canonicalName, field.value);
  }
  const from = first.get('from');
  const to = first.get('to');
  const callId = first.get('call-id');
  const cseq = first.get('cseq');
  // The top Via must at least name a transport and a sent-by, or there is nowhere to answer.
  const topViaUsable = vias.length > 0 && /^[^\s/]+\s*\/\s*[^\s/]+\s*\/\s*[^\s/;,]+\s+[^\s;,]/.test(vias[0]!);
  if (!topViaUsable || from === undefined || to === undefined || callId === undefined || cseq === undefined) {
    return undefined;
  }
  return { method, vias, from, to, callId, cseq };
}

/** ASCII part of Reason-Phrase = *(reserved / unreserved / escaped / ... / SP / HTAB): no < > " % etc. */
const REASON_PHRASE = /^[A-Za-z0-9\-_.!~*'() \t;/?:@&=+$,]+$/;

/** RFC 3261 8.2.6.2 response text, or undefined (see extractAnswerHeaders). */
export function buildStatelessErrorResponse(raw: Buffer, status: number, reason: string): string | undefined {
  if (!Number.isInteger(status) || status < 300 || status > 699) {
    throw new RangeError(`Stateless error response status must be an integer 300-699, got ${String(status)}`);
  }
  if (!REASON_PHRASE.test(reason) || reason.trim() === '') {
    throw new RangeError('Stateless error response reason must be non-empty ASCII Reason-Phrase characters');
  }
  const headers = extractAnswerHeaders(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1'));
  if (!headers) return undefined;
  const to = hasTag(headers.to) ? headers.to : `${headers.to};tag=${randomBytes(8).toString('hex')}`;
  const lines = [
    `SIP/2.0 ${status} ${reason.trim()}`,
    ...headers.vias.map((via) => `Via: ${utf8(via)}`),
    `From: ${utf8(headers.from)}`,
    `To: ${utf8(to)}`,
    `Call-ID: ${utf8(headers.callId)}`,
    `CSeq: ${utf8(headers.cseq)}`,
    'Content-Length: 0',
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A tag header parameter follows the ">" of a name-addr, or the first ";" of an addr-spec. */
function hasTag(to: string): boolean {
  const close = to.lastIndexOf('>');
  const params = close >= 0 ? to.slice(close + 1) : to.slice(Math.max(0, to.indexOf(';')));
  return /;[ \t]*tag[ \t]*=/i.test(params);
}

function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}
