// Per-header syntax rules (RFC 3261 section 25 and 20.x value ranges) for the headers a user
// agent relies on. Each check throws SipSyntaxError (400) on the first violation; headers not
// listed here only have to be free of raw control octets.

import { badRequest } from './sip-syntax-error';
import { checkNoControlCharacters, HeaderValueScanner } from './header-value-scanner';
import { checkUri, isHost } from './sip-uri-syntax';
import {
  digitsAtMost,
  isAllDigits,
  isDigit,
  isTokenChar,
  isWhitespace,
  isWordChar,
  MAX_UINT32,
} from './sip-characters';

/** What the message-level checks need from the header fields. */
export interface CheckedHeaderFacts {
  cseqMethod?: string;
  /** The CSeq value as received (unfolded), for the sip.js crash guard. */
  cseqValue?: string;
  contentLength?: number;
}

/** Display spelling of canonical (lower-case) names, for reason phrases. */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  via: 'Via',
  to: 'To',
  from: 'From',
  contact: 'Contact',
  route: 'Route',
  'record-route': 'Record-Route',
  'reply-to': 'Reply-To',
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'max-forwards': 'Max-Forwards',
  'content-length': 'Content-Length',
  'content-type': 'Content-Type',
  expires: 'Expires',
  'min-expires': 'Min-Expires',
  date: 'Date',
  'retry-after': 'Retry-After',
  warning: 'Warning',
  authorization: 'Authorization',
  'proxy-authorization': 'Proxy-Authorization',
  'www-authenticate': 'WWW-Authenticate',
  'proxy-authenticate': 'Proxy-Authenticate',
  subject: 'Subject',
  supported: 'Supported',
  require: 'Require',
  'proxy-require': 'Proxy-Require',
  allow: 'Allow',
  accept: 'Accept',
  event: 'Event',
  'refer-to': 'Refer-To',
  'user-agent': 'User-Agent',
  server: 'Server',
};

export function displayHeaderName(canonicalName: string): string {
  return DISPLAY_NAMES[canonicalName] ?? 'an extension';
}

/** Headers that MUST NOT appear twice (RFC 3261 7.3.1: not a comma-separated list). */
export const SINGLE_VALUED_HEADERS: ReadonlySet<string> = new Set([
  'to',
  'from',
  'call-id',
  'cseq',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'date',
]);

/** Checks one header field value; records CSeq method and Content-Length into `facts`. */
export function checkHeaderValue(canonicalName: string, value: string, facts: CheckedHeaderFacts): void {
  const header = displayHeaderName(canonicalName);
  switch (canonicalName) {
    case 'via':
      return checkVia(value);
    case 'to':
    case 'from':
    case 'reply-to':
      return checkSingleAddress(value, header);
    case 'contact':
      return checkContact(value);
    case 'route':
    case 'record-route':
      return checkRouteList(value, header);
    case 'call-id':
      return checkCallId(value);
    case 'cseq':
      facts.cseqMethod = checkCSeq(value);
      facts.cseqValue = value;
      return;
    case 'max-forwards':
      if (!isAllDigits(value)) badRequest('Max-Forwards is not a number');
      if (!digitsAtMost(value, 255)) badRequest('Max-Forwards exceeds 255');
      return;
    case 'content-length':
      facts.contentLength = checkContentLength(value);
      return;
    case 'content-type':
      return checkContentType(value);
    case 'expires':
    case 'min-expires':
      return checkDeltaSeconds(value, `${header} value`);
    case 'date':
      return checkDate(value);
    case 'retry-after':
      return checkRetryAfter(value);
    case 'warning':
      return checkWarning(value);
    default:
      return checkNoControlCharacters(value, header);
  }
}

/** delta-seconds = 1*DIGIT, at most 2**32-1 (RFC 3261 20.19, 20.10). */
function checkDeltaSeconds(value: string, what: string): void {
  if (!isAllDigits(value)) badRequest(`${what} is not a number of seconds`);
  if (!digitsAtMost(value, MAX_UINT32)) badRequest(`${what} exceeds 2**32-1`);
}

/**
 * Via = via-parm *(COMMA via-parm)
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport  (SLASH = SWS "/" SWS)
 */
function checkVia(value: string): void {
  const s = new HeaderValueScanner(value, 'Via');
  for (;;) {
    s.skipWhitespace();
    s.token('Malformed protocol name');
    s.expect('/', 'Malformed sent-protocol');
    s.skipWhitespace();
    s.token('Malformed protocol version');
    s.expect('/', 'Malformed sent-protocol');
    s.skipWhitespace();
    s.token('Malformed transport');
    if (!s.skipWhitespace()) s.fail('Missing space before sent-by');
    sentBy(s);
    const params = s.parameters();
    checkViaParameters(params, s);
    s.skipWhitespace();
    if (s.atEnd()) return;
    if (s.peek() !== ',') s.fail('Unexpected character');
    s.pos++;
    s.skipWhitespace();
    if (s.atEnd() || s.peek() === ',') s.fail('Empty value');
  }
}

/** sent-by = host [ COLON port ] */
function sentBy(s: HeaderValueScanner): void {
  const start = s.pos;
  if (s.peek() === '[') {
    while (!s.atEnd() && s.peek() !== ']') s.pos++;
    if (s.atEnd()) s.fail('Unterminated IPv6 reference');
    s.pos++;
  } else {
    while (!s.atEnd() && /[A-Za-z0-9_.-]/.test(s.peek())) s.pos++;
  }
  const host = s.text.slice(start, s.pos);
  if (!isHost(host)) s.fail('Malformed sent-by host');
  const afterHost = s.pos;
  s.skipWhitespace();
  if (s.peek() === ':') {
    s.pos++;
    s.skipWhitespace();
    const portStart = s.pos;
    while (isDigit(s.peek())) s.pos++;
    const port = s.text.slice(portStart, s.pos);
    if (port === '' || !digitsAtMost(port, 65535)) s.fail('Malformed sent-by port');
  } else {
    s.pos = afterHost;
  }
}

/** RFC 3261 20.42: ttl 0-255, received an address, rport a port if valued. */
function checkViaParameters(params: Map<string, string>, s: HeaderValueScanner): void {
  const ttl = params.get('ttl');
  if (ttl !== undefined && (!isAllDigits(ttl) || !digitsAtMost(ttl, 255))) s.fail('Malformed ttl parameter');
  const rport = params.get('rport');
  if (rport !== undefined && rport !== '' && (!isAllDigits(rport) || !digitsAtMost(rport, 65535))) {
    s.fail('Malformed rport parameter');
  }
  const received = params.get('received');
  if (received !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9A-Fa-f:.]+\]?)$/.test(received)) {
    s.fail('Malformed received parameter');
  }
}

/** To / From / Reply-To: exactly one ( name-addr / addr-spec ) *( SEMI param ). */
function checkSingleAddress(value: string, header: string): void {
  const s = new HeaderValueScanner(value, header);
  address(s, true);
  s.skipWhitespace();
  if (s.peek() === ',') s.fail('More than one value');
  s.expectEnd();
}

/** Contact = "*" / ( contact-param *(COMMA contact-param) ) */
function checkContact(value: string): void {
  if (value === '*') return;
  const s = new HeaderValueScanner(value, 'Contact');
  for (;;) {
    const params = address(s, true);
    const expires = params.get('expires');
    if (expires !== undefined) checkDeltaSeconds(expires, 'Contact expires parameter');
    const q = params.get('q');
    if (q !== undefined && !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q)) s.fail('Malformed q parameter');
    s.skipWhitespace();
    if (s.atEnd()) return;
    if (s.peek() !== ',') s.fail('Unexpected character');
    s.pos++;
  }
}

/** Route / Record-Route = name-addr *( SEMI param ) list; the URI MUST be in <>. */
function checkRouteList(value: string, header: string): void {
  const s = new HeaderValueScanner(value, header);
  for (;;) {
    address(s, false);
    s.skipWhitespace();
    if (s.atEnd()) return;
    if (s.peek() !== ',') s.fail('Unexpected character');
    s.pos++;
  }
}

/**
 * ( name-addr / addr-spec ) followed by header parameters; returns the parameters.
 * name-addr = [ display-name ] LAQUOT addr-spec RAQUOT, display-name = *(token LWS) / quoted-string
 * LAQUOT = SWS "<" and RAQUOT = ">" SWS: no whitespace inside the brackets (RFC 4475 3.1.2.14).
 * An addr-spec outside <> ends at ";" (what follows are header parameters), and so MUST NOT
 * contain ",", "?" or ";" itself (RFC 3261 20, RFC 4475 3.1.2.13).
 */
function address(s: HeaderValueScanner, allowAddrSpec: boolean): Map<string, string> {
  s.skipWhitespace();
  if (s.atEnd() || s.peek() === ',') s.fail('Empty value');
  let bracketed: boolean;
  if (s.peek() === '"') {
    s.quotedString();
    s.skipWhitespace();
    if (s.peek() !== '<') s.fail('Quoted display name not followed by a bracketed URI');
    bracketed = true;
  } else {
    // A display name cannot contain ":", so meeting ":" before "<" means the value starts with
    // a URI (addr-spec; a later "<" belongs to another list element). Stopping at the first of
    // the two keeps long Contact lists linear.
    let lt = s.pos;
    while (lt < s.text.length && s.text[lt] !== '<' && s.text[lt] !== ':') lt++;
    bracketed = s.text[lt] === '<';
    if (bracketed) {
      for (const c of s.text.slice(s.pos, lt)) {
        if (!isTokenChar(c) && !isWhitespace(c)) s.fail('Display name with non-token characters is not quoted');
      }
      s.pos = lt;
    }
  }
  if (bracketed) {
    s.pos++; // "<"
    const close = s.text.indexOf('>', s.pos);
    if (close < 0) s.fail('Missing closing angle bracket');
    const uri = s.text.slice(s.pos, close);
    if (uri === '') s.fail('Empty URI');
    if (isWhitespace(uri[0]!) || isWhitespace(uri[uri.length - 1]!)) s.fail('Whitespace inside angle brackets');
    checkUri(uri, `${s.header} header`);
    s.pos = close + 1;
  } else {
    if (!allowAddrSpec) s.fail('URI not enclosed in angle brackets');
    const start = s.pos;
    while (!s.atEnd() && !isWhitespace(s.peek()) && s.peek() !== ';' && s.peek() !== ',') s.pos++;
    const uri = s.text.slice(start, s.pos);
    const shape = checkUri(uri, `${s.header} header`);
    if (uri.includes('?') || shape.hasHeaders) s.fail('URI with ? not enclosed in angle brackets');
  }
  return s.parameters();
}

/** callid = word [ "@" word ] */
function checkCallId(value: string): void {
  const at = value.indexOf('@');
  const parts = at < 0 ? [value] : [value.slice(0, at), value.slice(at + 1)];
  for (const part of parts) {
    if (part === '' || ![...part].every(isWordChar)) badRequest('Call-ID is not word or word@word');
  }
}

/** CSeq = 1*DIGIT LWS Method; the number fits 32 bits unsigned (RFC 3261 8.1.1.5, 20.16). */
function checkCSeq(value: string): string {
  const s = new HeaderValueScanner(value, 'CSeq');
  const start = s.pos;
  while (isDigit(s.peek())) s.pos++;
  const digits = value.slice(start, s.pos);
  if (digits === '') s.fail('Missing sequence number');
  if (!digitsAtMost(digits, MAX_UINT32)) badRequest('CSeq sequence number exceeds 2**32-1');
  if (!s.skipWhitespace()) s.fail('Malformed sequence number');
  const method = s.token('Malformed method');
  s.expectEnd();
  return method;
}

function checkContentLength(value: string): number {
  if (/^-\d+$/.test(value)) badRequest('Negative Content-Length');
  if (!isAllDigits(value)) badRequest('Content-Length is not a number');
  if (!digitsAtMost(value, 0x7fffffff)) badRequest('Content-Length out of range');
  return Number(value);
}

/** Content-Type = m-type SLASH m-subtype *( SEMI m-parameter ) */
function checkContentType(value: string): void {
  const s = new HeaderValueScanner(value, 'Content-Type');
  s.token('Malformed media type');
  s.expect('/', 'Malformed media type');
  s.skipWhitespace();
  s.token('Malformed media subtype');
  s.parameters();
  s.expectEnd();
}

/**
 * SIP-date = rfc1123-date, always in GMT (RFC 3261 20.17, RFC 4475 3.1.2.12). A one-digit day is
 * tolerated: Date is informative, and dropping a registrar's 200 OK over it would cost more.
 */
function checkDate(value: string): void {
  const m = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (\S+)$/.exec(
    value,
  );
  if (!m) badRequest('Malformed Date');
  if (m[8] !== 'GMT') badRequest('Date not in GMT');
  if (Number(m[2]) > 31 || Number(m[5]) > 23 || Number(m[6]) > 59 || Number(m[7]) > 60) badRequest('Malformed Date');
}

/** Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) */
function checkRetryAfter(value: string): void {
  const digits = /^\d*/.exec(value)![0];
  checkDeltaSeconds(digits, 'Retry-After value');
  checkNoControlCharacters(value, 'Retry-After');
}

/** Warning = warning-value *(COMMA warning-value); warning-value = warn-code SP warn-agent SP warn-text */
function checkWarning(value: string): void {
  checkNoControlCharacters(value, 'Warning');
  const s = new HeaderValueScanner(value, 'Warning');
  for (;;) {
    s.skipWhitespace();
    const start = s.pos;
    while (isDigit(s.peek())) s.pos++;
    if (s.pos - start !== 3 || !isWhitespace(s.peek())) s.fail('warn-code is not 3 digits');
    s.skipWhitespace();
    const agentStart = s.pos;
    while (!s.atEnd() && !isWhitespace(s.peek())) s.pos++;
    if (s.pos === agentStart) s.fail('Missing warn-agent');
    s.skipWhitespace();
    s.quotedString();
    s.skipWhitespace();
    if (s.atEnd()) return;
    if (s.peek() !== ',') s.fail('Unexpected character');
    s.pos++;
  }
}
