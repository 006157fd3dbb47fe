// A cursor over one unfolded header value, with the lexical pieces every structured SIP header
// shares (RFC 3261 25.1): LWS, tokens, quoted strings, generic parameters. Each failure throws a
// SipSyntaxError whose reason names the header, never the offending bytes (see sip-syntax-error).
// One scanner per header value; not shared.

import { badRequest } from './sip-syntax-error';
import { isControl, isTokenChar, isWhitespace } from './sip-characters';

export class HeaderValueScanner {
  pos = 0;

  constructor(
    readonly text: string,
    /** Header name for error reasons, in its canonical spelling ("Via", "Contact"). */
    readonly header: string,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Skips SP/HTAB; returns whether any was skipped. */
  skipWhitespace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && isWhitespace(this.text[this.pos]!)) this.pos++;
    return this.pos > start;
  }

  /** Consumes `c` (after optional whitespace) or fails with "<what> in <header> header". */
  expect(c: string, what: string): void {
    this.skipWhitespace();
    if (this.peek() !== c) this.fail(what);
    this.pos++;
  }

  /** 1*token-char, or fails with "<what> ...". */
  token(what: string): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTokenChar(this.text[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(what);
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string starting at the cursor's DQUOTE; returns it with its quotes. */
  quotedString(): string {
    const start = this.pos;
    if (this.peek() !== '"') this.fail('Expected a quoted string');
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        return this.text.slice(start, this.pos);
      }
      if (c === '\\') {
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): any octet but CR, LF and non-ASCII.
        const escaped = this.text[this.pos + 1];
        if (escaped === undefined) break;
        if (escaped === '\r' || escaped === '\n' || escaped.charCodeAt(0) > 0x7f) this.fail('Invalid quoted-pair');
        this.pos += 2;
        continue;
      }
      if (isControl(c)) this.fail('Control character in a quoted string');
      this.pos++;
    }
    return this.fail('Unterminated quoted string');
  }

  /**
   * generic-param list: *( SEMI token [ EQUAL ( token / host / quoted-string ) ] ), stopping
   * before anything that is not ";" (a "," or the end, checked by the caller).
   * Returns lower-case names → raw values ('' for a valueless parameter).
   */
  parameters(): Map<string, string> {
    const params = new Map<string, string>();
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== ';') return params;
      this.pos++;
      this.skipWhitespace();
      if (!isTokenChar(this.peek())) this.fail('Empty or malformed parameter');
      const name = this.token('Malformed parameter name').toLowerCase();
      this.skipWhitespace();
      let value = '';
      if (this.peek() === '=') {
        this.pos++;
        this.skipWhitespace();
        value = this.peek() === '"' ? this.quotedString() : this.parameterValue();
      }
      params.set(name, value);
    }
  }

  /** token / host (IPv6 references add "[", "]" and ":"). */
  private parameterValue(): string {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (!isTokenChar(c) && c !== '[' && c !== ']' && c !== ':') break;
      this.pos++;
    }
    if (this.pos === start) this.fail('Parameter value missing after =');
    return this.text.slice(start, this.pos);
  }

  /** After a complete value: only whitespace may remain. */
  expectEnd(): void {
    this.skipWhitespace();
    if (!this.atEnd()) this.fail('Unexpected character');
  }

  fail(what: string): never {
    return badRequest(`${what} in ${this.header} header`);
  }
}

/**
 * Rejects raw control octets outside quoted-pairs, for headers the validator does not parse
 * further (extension headers, Subject, Authorization...). Quotes are tracked only so that a
 * quoted-pair may carry a control octet; an unbalanced quote is not an error here.
 */
export function checkNoControlCharacters(value: string, header: string): void {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\') {
      const escaped = value[i + 1];
      if (escaped === '\r' || escaped === '\n') badRequest(`Invalid quoted-pair in ${header} header`);
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (isControl(c)) badRequest(`Control character in ${header} header`);
  }
}
