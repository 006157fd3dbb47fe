// Wire-level gate in front of sip.js's parser: every received SIP message is judged here first
// (RFC 3261 section 25 grammar, 7.3.1, 18.3 framing; RFC 4475 torture tests).
//
// Contract (the transport relies on it):
// - validateSipMessage MUST NOT throw, whatever the bytes.
// - 'accept': syntactically valid as far as a UA cares; hand the message to sip.js. The
//   application layer decides the rest (404, 405, 420, 415...). Octets after Content-Length
//   are left in place; sip.js ignores them too (RFC 3261 18.3, RFC 4475 3.1.1.8).
// - 'reject': a request we MUST refuse and CAN answer; the transport sends
//   buildStatelessErrorResponse(raw, status, reason), which then never returns undefined.
//   status is 400 (syntax), 505 (SIP-Version other than 2.0), 416 (Request-URI scheme other
//   than sip/sips, which sip.js 0.21.2 cannot represent: it throws "Request-URI undefined") or
//   603 (a REFER whose Refer-To sip.js cannot parse, e.g. a tel: URI: sipjs-crash-guard.ts).
// - 'drop': discard silently. Every malformed response (a response is never answered),
//   every malformed ACK, and requests without the Via/From/To/Call-ID/CSeq an answer needs.
//
// Deliberate refusals of messages RFC 4475 files as syntactically valid (3.3.x), because
// sip.js would mishandle them: repeated single-valued headers (To, From, Call-ID, CSeq,
// Content-Length... — sip.js silently keeps the last one; RFC 4475 3.3.8, 3.3.9) get 400, and
// non-SIP Request-URIs get 416 (RFC 4475 3.3.2, 3.3.3). Responses whose CSeq would crash sip.js's
// parser are dropped (sipjs-crash-guard.ts).
//
// Reasons never quote received bytes (see sip-syntax-error.ts), so they are safe to log and to
// send as a Reason-Phrase.

import { SipSyntaxError, badRequest } from './sip-syntax-error';
import { checkHeaderValue, displayHeaderName, SINGLE_VALUED_HEADERS, type CheckedHeaderFacts } from './header-syntax';
import { splitSipMessage, type SipMessageSections } from './sip-message-sections';
import { checkRequestLine, checkStatusLine, isStatusLine } from './start-line-syntax';
import { extractAnswerHeaders } from './stateless-response';
import { guardReferTo, guardResponseCSeq } from './sipjs-crash-guard';

export { buildStatelessErrorResponse } from './stateless-response';

/** What the transport does with a received message. */
export type Verdict =
  | { kind: 'accept' }
  | { kind: 'reject'; status: number; reason: string }
  | { kind: 'drop'; reason: string };

/** raw = one complete SIP message (one UDP datagram, or one Content-Length-framed stream message). */
export function validateSipMessage(raw: Buffer): Verdict {
  try {
    return judge(raw);
  } catch (error) {
    // Only a bug in this module gets here; the message is dropped rather than crashing the UA,
    // and the reason carries the error so the transport's log shows it.
    return { kind: 'drop', reason: `Validator internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function judge(raw: Buffer): Verdict {
  if (!(raw instanceof Uint8Array)) return { kind: 'drop', reason: 'Not a byte buffer' };
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  if (/^(?:\r\n)*$/.test(text)) return { kind: 'drop', reason: 'Empty message or CRLF keep-alive' };
  const sections = splitSipMessage(text);
  if (!sections) return { kind: 'drop', reason: 'No CRLF: not a SIP message' };

  if (isStatusLine(sections.startLine)) {
    const problem = syntaxProblem(() => checkResponse(sections));
    return problem ? { kind: 'drop', reason: `Malformed response: ${problem.reason}` } : { kind: 'accept' };
  }

  const problem = syntaxProblem(() => checkRequest(sections));
  if (!problem) return { kind: 'accept' };
  if (/^ACK[ \t]/.test(sections.startLine)) return { kind: 'drop', reason: `${problem.reason} (ACK is never answered)` };
  if (!extractAnswerHeaders(text)) {
    return { kind: 'drop', reason: `${problem.reason} (unanswerable: no usable Via, From, To, Call-ID or CSeq)` };
  }
  return { kind: 'reject', status: problem.status, reason: problem.reason };
}

function syntaxProblem(check: () => void): SipSyntaxError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof SipSyntaxError) return error;
    throw error;
  }
}

/** Order matters only for which defect is named: start line, headers in order, framing, semantics. */
function checkRequest(sections: SipMessageSections): void {
  const requestLine = checkRequestLine(sections.startLine);
  const facts = checkHeaderSection(sections);
  checkFraming(sections, facts);
  if (facts.cseqMethod !== undefined && facts.cseqMethod !== requestLine.method) {
    badRequest('CSeq method does not match the Request-Line');
  }
  if (requestLine.uriScheme !== 'sip' && requestLine.uriScheme !== 'sips') {
    throw new SipSyntaxError(416, 'Unsupported URI Scheme');
  }
  if (requestLine.method === 'REFER') {
    const referTo = sections.headers.find((h) => h.canonicalName === 'refer-to');
    if (referTo !== undefined) guardReferTo(referTo.value);
  }
}

function checkResponse(sections: SipMessageSections): void {
  checkStatusLine(sections.startLine);
  const facts = checkHeaderSection(sections);
  checkFraming(sections, facts);
  if (facts.cseqValue !== undefined) guardResponseCSeq(facts.cseqValue);
}

function checkHeaderSection(sections: SipMessageSections): CheckedHeaderFacts {
  const facts: CheckedHeaderFacts = {};
  const seen = new Set<string>();
  for (const field of sections.headers) {
    if (field.problem !== undefined) badRequest(field.problem);
    if (SINGLE_VALUED_HEADERS.has(field.canonicalName)) {
      if (seen.has(field.canonicalName)) {
        badRequest(
          field.canonicalName === 'content-length'
            ? 'Multiple Content-Length values'
            : `Multiple ${displayHeaderName(field.canonicalName)} header fields`,
        );
      }
      seen.add(field.canonicalName);
    }
    checkHeaderValue(field.canonicalName, field.value, facts);
  }
  return facts;
}

/** RFC 3261 7.5 / 18.3: the empty line is mandatory; the body must hold Content-Length octets. */
function checkFraming(sections: SipMessageSections, facts: CheckedHeaderFacts): void {
  if (!sections.headerSectionTerminated) badRequest('Header section not terminated by an empty line');
  if (facts.contentLength !== undefined && facts.contentLength > sections.body.length) {
    badRequest('Content-Length exceeds the message body');
  }
}
