// Request-Line and Status-Line rules (RFC 3261 7.1, 7.2, 25.1; RFC 4475 3.1.2.7-3.1.2.11,
// 3.1.2.16, 3.1.2.19).
//   Request-Line = Method SP Request-URI SP SIP-Version   (exactly one SP each, none trailing)
//   Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase

import { badRequest, SipSyntaxError } from './sip-syntax-error';
import { isAllTokenChars, isControl } from './sip-characters';
import { checkUri } from './sip-uri-syntax';

/** SIP-Version is case-insensitive (RFC 3261 7.1); a method cannot contain "/", so this is unambiguous. */
export function isStatusLine(startLine: string): boolean {
  return /^SIP\//i.test(startLine);
}

export interface RequestLine {
  method: string;
  /** Lower-case Request-URI scheme. */
  uriScheme: string;
}

/** Throws 505 for a well-formed SIP-Version other than 2.0, 400 for any other defect. */
export function checkRequestLine(line: string): RequestLine {
  if (line === '' || /^[ \t]/.test(line)) badRequest('Request-Line starts with whitespace');
  if (/[ \t]$/.test(line)) badRequest('Trailing whitespace in Request-Line');
  if (/\t| {2}/.test(line)) badRequest('Request-Line elements not separated by single SP');
  const parts = line.split(' ');
  if (parts.length < 3) badRequest('Request-Line has no SIP-Version');
  if (parts.length > 3) badRequest('Whitespace inside Request-URI');
  const [method, uri, version] = parts as [string, string, string];
  if (!isAllTokenChars(method)) badRequest('Method is not a token');
  const versionMatch = /^SIP\/(\d+)\.(\d+)$/i.exec(version);
  if (!versionMatch) badRequest('Malformed SIP-Version');
  if (Number(versionMatch[1]) !== 2 || Number(versionMatch[2]) !== 0) {
    throw new SipSyntaxError(505, 'Version Not Supported');
  }
  if (uri.startsWith('<')) badRequest('Request-URI enclosed in angle brackets');
  const shape = checkUri(uri, 'Request-URI');
  if (shape.hasHeaders) badRequest('Request-URI contains headers');
  return { method, uriScheme: shape.scheme };
}

/** Returns the status code; throws (the caller drops, never answers) on any defect. */
export function checkStatusLine(line: string): number {
  const m = /^SIP\/(\d+)\.(\d+) (\d{3}) (.*)$/is.exec(line);
  if (!m) badRequest(/^SIP\/\d+\.\d+ \d+ /i.test(line) ? 'Status-Code is not 3 digits' : 'Malformed Status-Line');
  if (Number(m[1]) !== 2 || Number(m[2]) !== 0) badRequest('Unsupported SIP-Version in Status-Line');
  const status = Number(m[3]);
  if (status < 100 || status > 699) badRequest('Status-Code outside 100-699');
  // Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
  for (const c of m[4]!) if (isControl(c)) badRequest('Control character in Reason-Phrase');
  return status;
}
