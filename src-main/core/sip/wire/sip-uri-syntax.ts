// Syntax checks for URIs in the Request-Line and in name-addr/addr-spec header values
// (RFC 3261 19.1 and 25.1). SIP and SIPS URIs are checked part by part; other schemes only as
// absoluteURI (scheme ":" and no whitespace, controls or delimiters), since a UA need not
// understand them to parse the message (RFC 4475 3.3.2-3.3.4).

import { badRequest } from './sip-syntax-error';
import { digitsAtMost, isAlphanumeric, isControl, isDigit, isHexDigit } from './sip-characters';

/** Characters a SIP/SIPS URI may carry literally: unreserved, reserved, "%" of escapes, "[" "]". */
function isSipUriChar(c: string): boolean {
  return isAlphanumeric(c) || "-_.!~*'()%;/?:@&=+$,[]".includes(c);
}

export interface UriShape {
  /** Lower-case scheme, e.g. "sip", "tel", "nobodyknowsthisscheme". */
  scheme: string;
  /** Whether a "?headers" part is present (SIP/SIPS only). */
  hasHeaders: boolean;
}

/** Checks `uri` (no surrounding brackets) and reports its shape; `where` names it in reasons. */
export function checkUri(uri: string, where: string): UriShape {
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (!schemeMatch) badRequest(`Malformed URI in ${where}`);
  const scheme = schemeMatch[1]!.toLowerCase();
  const rest = uri.slice(schemeMatch[0].length);
  if (rest === '') badRequest(`Empty URI in ${where}`);
  if (scheme === 'sip' || scheme === 'sips') return { scheme, hasHeaders: checkSipUriBody(rest, where) };
  for (const c of rest) {
    if (isControl(c) || c === ' ' || c === '\t' || c === '<' || c === '>' || c === '"' || c.charCodeAt(0) > 0x7f) {
      badRequest(`Invalid character in URI in ${where}`);
    }
  }
  return { scheme, hasHeaders: false };
}

/**
 * [ userinfo "@" ] hostport uri-parameters [ headers ], after "sip:". Returns whether headers
 * are present. userinfo ends at the first "@": neither user nor password may contain it unescaped.
 */
function checkSipUriBody(body: string, where: string): boolean {
  for (const c of body) if (!isSipUriChar(c)) badRequest(`Invalid character in SIP URI in ${where}`);
  checkEscapes(body, where);
  const at = body.indexOf('@');
  if (at === 0) badRequest(`Empty user part in SIP URI in ${where}`);
  const afterUser = at < 0 ? body : body.slice(at + 1);
  const question = afterUser.indexOf('?');
  const beforeHeaders = question < 0 ? afterUser : afterUser.slice(0, question);
  const [hostport = '', ...params] = beforeHeaders.split(';');
  checkHostPort(hostport, where);
  for (const param of params) {
    if (param === '' || param.startsWith('=')) badRequest(`Empty URI parameter in ${where}`);
  }
  if (question >= 0 && afterUser.length === question + 1) badRequest(`Empty URI headers in ${where}`);
  return question >= 0;
}

/** escaped = "%" HEXDIG HEXDIG */
function checkEscapes(s: string, where: string): void {
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
    if (!isHexDigit(s[i + 1] ?? '') || !isHexDigit(s[i + 2] ?? '')) badRequest(`Invalid escape sequence in URI in ${where}`);
  }
}

/** host [ ":" port ]: hostname, IPv4address or "[" IPv6address "]". */
function checkHostPort(hostport: string, where: string): void {
  let host = hostport;
  let port: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) badRequest(`Unterminated IPv6 reference in ${where}`);
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) badRequest(`Malformed host in ${where}`);
      port = after.slice(1);
    }
  } else {
    const colon = hostport.indexOf(':');
    if (colon >= 0) {
      host = hostport.slice(0, colon);
      port = hostport.slice(colon + 1);
    }
  }
  if (!isHost(host)) badRequest(`Malformed host in ${where}`);
  if (port !== undefined && !isPort(port)) badRequest(`Malformed port in ${where}`);
}

/**
 * hostname / IPv4address / IPv6reference. Underscores are tolerated in hostnames: they are not
 * in the grammar but appear in real deployments and cannot confuse a parser.
 */
export function isHost(host: string): boolean {
  if (host.startsWith('[')) return /^\[[0-9A-Fa-f:.]+\]$/.test(host) && host.includes(':');
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  return labels.every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(label));
}

function isPort(port: string): boolean {
  return port.length > 0 && [...port].every(isDigit) && digitsAtMost(port, 65535);
}
