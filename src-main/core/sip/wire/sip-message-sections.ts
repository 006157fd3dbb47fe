// Splits one received SIP message (latin1 text, one char per octet) into start line, header
// fields and body, without judging them: the validator turns `problem`s into 400s, the
// stateless-response builder skips them. Never throws.
//
// Framing rules (RFC 3261 7.3.1, 7.5, 18.3):
// - lines end in CRLF; a line starting with SP/HTAB continues the previous header field
//   (folding), and is unfolded to a single SP-joined value here;
// - the header section ends at the first empty line; everything after it is the body, which
//   Content-Length may shorten (trailing octets of a datagram are ignored, RFC 3261 18.3);
// - a message whose header section never ends (no empty line) is reported as unterminated.

import { isAllTokenChars, isWhitespace } from './sip-characters';

/** Compact header names (RFC 3261 7.3.3 and the IANA registry) → full lower-case names. */
const COMPACT_HEADER_NAMES: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

export interface HeaderField {
  /** The name as received (trimmed), e.g. "v" or "ViA". */
  name: string;
  /** Full lower-case name: compact forms expanded ("v" → "via"). */
  canonicalName: string;
  /** Unfolded value without leading/trailing SP/HTAB. */
  value: string;
  /** Set when the line is not `token *WSP ":" value`; value/name are then best effort. */
  problem?: string;
}

export interface SipMessageSections {
  startLine: string;
  headers: HeaderField[];
  /** False when no empty line ends the header section (the header fields run to the end). */
  headerSectionTerminated: boolean;
  /** Octets after the empty line (latin1), including any trailing octets beyond Content-Length. */
  body: string;
}

/** Undefined when there is no CRLF at all (nothing that could be a start line). */
export function splitSipMessage(text: string): SipMessageSections | undefined {
  const startLineEnd = text.indexOf('\r\n');
  if (startLineEnd < 0) return undefined;
  const startLine = text.slice(0, startLineEnd);
  const sectionEnd = text.indexOf('\r\n\r\n', startLineEnd);
  const headerSectionTerminated = sectionEnd >= 0;
  let headerText: string;
  let body: string;
  if (headerSectionTerminated) {
    headerText = text.slice(startLineEnd + 2, sectionEnd);
    body = text.slice(sectionEnd + 4);
  } else {
    headerText = text.slice(startLineEnd + 2);
    if (headerText.endsWith('\r\n')) headerText = headerText.slice(0, -2);
    body = '';
  }
  return { startLine, headers: splitHeaderFields(headerText), headerSectionTerminated, body };
}

function splitHeaderFields(headerText: string): HeaderField[] {
  if (headerText === '') return [];
  const lines: string[] = [];
  let orphanContinuation = false;
  for (const line of headerText.split('\r\n')) {
    if (line.length > 0 && isWhitespace(line[0]!)) {
      if (lines.length === 0) orphanContinuation = true;
      else lines[lines.length - 1] += ' ' + line;
    } else {
      lines.push(line);
    }
  }
  const fields = lines.map(parseHeaderLine);
  if (orphanContinuation) {
    // Its text is discarded: it belongs to no header field.
    fields.unshift({ name: '', canonicalName: '', value: '', problem: 'Header section starts with a continuation line' });
  }
  return fields;
}

function parseHeaderLine(line: string): HeaderField {
  const colon = line.indexOf(':');
  if (colon < 0) return { name: '', canonicalName: '', value: line, problem: 'Header field line without a colon' };
  const name = line.slice(0, colon).replace(/[ \t]+$/, '');
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  const lower = name.toLowerCase();
  const field: HeaderField = { name, canonicalName: COMPACT_HEADER_NAMES[lower] ?? lower, value };
  if (/[\r\n]/.test(line)) field.problem = 'Bare CR or LF in a header field';
  else if (!isAllTokenChars(name)) field.problem = 'Header field name is not a token';
  return field;
}
