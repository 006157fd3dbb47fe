// Character classes of the SIP grammar (RFC 3261 section 25.1), over latin1 strings.
// The validator decodes each message as latin1 so that one char is one octet: Content-Length
// counts octets, and UTF-8 text (display names, reason phrases) passes through as octets >= 0x80.

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export function isTokenChar(c: string): boolean {
  return isAlphanumeric(c) || "-.!%*_+`'~".includes(c);
}

/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" /
 *  "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") — the Call-ID alphabet. */
export function isWordChar(c: string): boolean {
  return isTokenChar(c) || '()<>:\\"/[]?{}'.includes(c);
}

export function isAlphanumeric(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

export function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isHexDigit(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/** SP or HTAB: the only whitespace left in a header value once folding is undone. */
export function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t';
}

/** Octets no SIP text may carry raw: C0 controls except HTAB, and DEL (only quoted-pair may). */
export function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

export function isAllTokenChars(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (!isTokenChar(c)) return false;
  return true;
}

export function isAllDigits(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** Whether a run of decimal digits denotes a value <= max (no precision loss on huge inputs). */
export function digitsAtMost(digits: string, max: number): boolean {
  const significant = digits.replace(/^0+(?=\d)/, '');
  if (significant.length > 15) return false;
  return Number(significant) <= max;
}

/** Largest delta-seconds / CSeq number a SIP element must handle (a 32-bit unsigned integer). */
export const MAX_UINT32 = 0xffffffff;
