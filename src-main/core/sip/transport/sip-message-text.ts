// Minimal, allocation-light view of a SIP message's start line and headers, for the few things the
// transport layer must read or rewrite (top Via, Contact, CSeq, Route, To tag, credentials in traces).
// Full parsing stays in sip.js; strict validation stays in ../wire/message-validator.
// Rewrites touch only the header section, so the body and its Content-Length stay valid.

/** Compact header forms (RFC 3261 7.3.3) the transport needs. */
const COMPACT: Record<string, string> = { v: 'via', m: 'contact', l: 'content-length', t: 'to', i: 'call-id' };

export interface SipHead {
  startLine: string;
  /** Unfolded header lines "Name: value", in order. */
  headers: string[];
  /** Everything after the blank line, untouched. */
  body: string;
}

export function splitHead(text: string): SipHead {
  let end = text.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (end < 0) {
    end = text.indexOf('\n\n');
    sepLen = 2;
  }
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + sepLen);
  const lines = head.split(/\r?\n/);
  const headers: string[] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += ' ' + line.trim();
    else if (line !== '') headers.push(line);
  }
  return { startLine: lines[0] ?? '', headers, body };
}

export function joinHead(head: SipHead): string {
  return [head.startLine, ...head.headers].join('\r\n') + '\r\n\r\n' + head.body;
}

export function headerName(line: string): string {
  const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
  return COMPACT[name] ?? name;
}

export function headerValue(line: string): string {
  return line.slice(line.indexOf(':') + 1).trim();
}

export function findHeader(head: SipHead, name: string): string | undefined {
  const line = head.headers.find((h) => headerName(h) === name);
  return line === undefined ? undefined : headerValue(line);
}

export function isResponseText(text: string): boolean {
  return text.startsWith('SIP/2.0 ');
}

export function statusCode(head: SipHead): number {
  return Number(head.startLine.split(' ')[1]);
}

export function requestMethod(head: SipHead): string {
  return head.startLine.split(' ')[0] ?? '';
}

export function requestUri(head: SipHead): string {
  return head.startLine.split(' ')[1] ?? '';
}

export function cseqMethod(head: SipHead): string {
  return (findHeader(head, 'cseq') ?? '').split(/\s+/)[1]?.toUpperCase() ?? '';
}

export function hasToTag(head: SipHead): boolean {
  return /;\s*tag=/i.test(findHeader(head, 'to') ?? '');
}

/** URI of the first Route header value, if any. */
export function topRouteUri(head: SipHead): string | undefined {
  const value = findHeader(head, 'route');
  if (value === undefined) return undefined;
  const m = value.match(/<([^>]+)>/);
  return m ? m[1] : value.split(',')[0]!.trim();
}

/** Parsed top Via value: "SIP/2.0/UDP host:port;branch=..;rport". */
export interface ViaValue {
  protocol: string;
  host: string;
  port?: number;
  /** Parameters in order; value undefined for flag parameters like bare `rport`. */
  params: Array<[string, string | undefined]>;
}

export function viaParam(via: ViaValue, name: string): string | undefined {
  return via.params.find(([k]) => k.toLowerCase() === name)?.[1];
}

export function hasViaParam(via: ViaValue, name: string): boolean {
  return via.params.some(([k]) => k.toLowerCase() === name);
}

export function parseVia(value: string): ViaValue | undefined {
  const m = value.match(/^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s:;]+)(?:\s*:\s*(\d+))?\s*(.*)$/i);
  if (!m) return undefined;
  const params: Array<[string, string | undefined]> = [];
  for (const part of m[4]!.split(';').slice(1)) {
    const [k, ...v] = part.split('=');
    params.push([k!.trim(), v.length > 0 ? v.join('=').trim() : undefined]);
  }
  const via: ViaValue = { protocol: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), params };
  if (m[3] !== undefined) via.port = Number(m[3]);
  return via;
}

export function formatVia(via: ViaValue): string {
  const host = via.host.includes(':') ? `[${via.host}]` : via.host;
  const params = via.params.map(([k, v]) => (v === undefined ? `;${k}` : `;${k}=${v}`)).join('');
  return `SIP/2.0/${via.protocol} ${host}${via.port !== undefined ? ':' + via.port : ''}${params}`;
}

/** Index of the first Via header line and the top value within it (a line may hold "a, b"). */
function topViaLocation(head: SipHead): { index: number; value: string; rest: string } | undefined {
  const index = head.headers.findIndex((h) => headerName(h) === 'via');
  if (index < 0) return undefined;
  const all = headerValue(head.headers[index]!);
  const comma = all.indexOf(',');
  return comma < 0 ? { index, value: all, rest: '' } : { index, value: all.slice(0, comma).trim(), rest: all.slice(comma) };
}

export function topVia(head: SipHead): ViaValue | undefined {
  const loc = topViaLocation(head);
  return loc ? parseVia(loc.value) : undefined;
}

/** Replaces the top Via value in place. */
export function setTopVia(head: SipHead, via: ViaValue): void {
  const loc = topViaLocation(head);
  if (!loc) throw new Error('Message has no Via header to rewrite');
  head.headers[loc.index] = `Via: ${formatVia(via)}${loc.rest}`;
}

export function topViaBranch(head: SipHead): string | undefined {
  const via = topVia(head);
  return via ? viaParam(via, 'branch') : undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites every Contact URI that points at `placeholderHost` to `host:port` and sets its
 * transport parameter to `transport`. Contacts pointing elsewhere are left alone.
 */
export function rewriteContacts(head: SipHead, placeholderHost: string, host: string, port: number, transport: string): boolean {
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const uriPattern = new RegExp(`(sips?:(?:[^@<>\\s]*@)?)${escapeRegExp(placeholderHost)}(?::\\d+)?([^>,\\s]*)`, 'gi');
  let changed = false;
  head.headers = head.headers.map((line) => {
    if (headerName(line) !== 'contact') return line;
    const name = line.slice(0, line.indexOf(':'));
    const value = headerValue(line).replace(uriPattern, (_all, prefix: string, params: string) => {
      changed = true;
      const withoutTransport = params.replace(/;transport=[^;>?]*/gi, '');
      const q = withoutTransport.indexOf('?');
      const uriParams = q < 0 ? withoutTransport : withoutTransport.slice(0, q);
      const uriHeaders = q < 0 ? '' : withoutTransport.slice(q);
      return `${prefix}${hostPort}${uriParams};transport=${transport}${uriHeaders}`;
    });
    return `${name}: ${value}`;
  });
  return changed;
}

/** Copy of a message for logs with credentials removed (Authorization / Proxy-Authorization values). */
export function redactCredentials(text: string): string {
  return text.replace(/^((?:Proxy-)?Authorization[ \t]*:)[^\r\n]*/gim, '$1 <redacted>');
}
