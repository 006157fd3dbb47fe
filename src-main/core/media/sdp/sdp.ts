/**
 * SDP (RFC 8866, formerly 4566) model, parser and serializer for what a SIP audio phone needs:
 * v=, o=, s=, c=, b=, t=, m=, and the attributes rtpmap, fmtp, ptime, maxptime,
 * sendrecv/sendonly/recvonly/inactive, rtcp (RFC 3605) and rtcp-mux (RFC 5761).
 *
 * Other lines and attributes are preserved verbatim (in order within their kind) so that a
 * parse/serialize round trip does not lose them. Parsing accepts CRLF or LF line ends and
 * rejects malformed known lines with an `SdpParseError` naming the line; serializing emits CRLF.
 */

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const directions: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

export interface SdpOrigin {
  username: string;
  /** Decimal string: may exceed 2^53. */
  sessionId: string;
  /** Decimal string: may exceed 2^53. */
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  netType: string;
  /** "IP4" or "IP6". */
  addrType: string;
  address: string;
}

export interface SdpRtpMap {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  /** Only present when the a=rtpmap line has an encoding-parameters part. */
  channels?: number;
}

export interface SdpFmtp {
  payloadType: number;
  parameters: string;
}

export interface SdpRtcp {
  port: number;
  connection?: SdpConnection;
}

export interface SdpAttribute {
  name: string;
  value?: string;
}

/** A line we do not interpret, e.g. i=, u=, k=, r=, z=. */
export interface SdpLine {
  type: string;
  value: string;
}

export interface SdpMedia {
  /** "audio", "video", "application", ... */
  type: string;
  port: number;
  portCount?: number;
  /** "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ... */
  protocol: string;
  /** Payload types (for RTP protocols) as written on the m= line. */
  formats: string[];
  information?: string;
  connection?: SdpConnection;
  bandwidths: string[];
  rtpmaps: SdpRtpMap[];
  fmtps: SdpFmtp[];
  ptime?: number;
  maxptime?: number;
  direction?: SdpDirection;
  rtcp?: SdpRtcp;
  rtcpMux: boolean;
  otherAttributes: SdpAttribute[];
}

export interface SessionDescription {
  origin: SdpOrigin;
  sessionName: string;
  /** Lines between s= and c= we do not interpret (i=, u=, e=, p=), in order. */
  infoLines: SdpLine[];
  connection?: SdpConnection;
  bandwidths: string[];
  /** t= lines as "start stop"; at least one. */
  timings: string[];
  /** r=, z=, k= lines, in order. */
  timeLines: SdpLine[];
  direction?: SdpDirection;
  otherAttributes: SdpAttribute[];
  media: SdpMedia[];
}

export class SdpParseError extends Error {
  override name = 'SdpParseError';
}

function fail(lineNumber: number, line: string, why: string): never {
  throw new SdpParseError(`Invalid SDP at line ${lineNumber} ("${line}"): ${why}`);
}

function parseConnection(value: string, lineNumber: number, line: string): SdpConnection {
  const parts = value.split(' ');
  if (parts.length !== 3 || parts.some((p) => p === '')) fail(lineNumber, line, 'expected "c=<nettype> <addrtype> <address>"');
  const [netType, addrType, address] = parts as [string, string, string];
  // Multicast TTL / count suffixes ("/127") are kept as part of the address string.
  return { netType, addrType, address };
}

function parseUint(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

function parseAttributeInto(
  target: { direction?: SdpDirection; otherAttributes: SdpAttribute[] },
  media: SdpMedia | undefined,
  text: string,
  lineNumber: number,
  line: string,
): void {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? undefined : text.slice(colon + 1);
  if (name === '') fail(lineNumber, line, 'empty attribute name');
  if (directions.includes(name) && value === undefined) {
    target.direction = name as SdpDirection;
    return;
  }
  if (media) {
    switch (name) {
      case 'rtpmap': {
        const match = /^(\d{1,3}) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(value ?? '');
        const payloadType = parseUint(match?.[1], 127);
        if (!match || payloadType === undefined) fail(lineNumber, line, 'expected "a=rtpmap:<pt> <name>/<rate>[/<channels>]"');
        const rtpmap: SdpRtpMap = { payloadType, encodingName: match[2]!, clockRate: Number(match[3]) };
        if (match[4] !== undefined) rtpmap.channels = Number(match[4]);
        media.rtpmaps.push(rtpmap);
        return;
      }
      case 'fmtp': {
        const match = /^(\d{1,3}) (.*)$/.exec(value ?? '');
        const payloadType = parseUint(match?.[1], 127);
        if (!match || payloadType === undefined) fail(lineNumber, line, 'expected "a=fmtp:<pt> <parameters>"');
        media.fmtps.push({ payloadType, parameters: match[2]! });
        return;
      }
      case 'ptime':
      case 'maxptime': {
        // RFC 8866 allows fractional ptime ("20.0"); keep it as a number of milliseconds.
        if (value === undefined || !/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) {
          fail(lineNumber, line, `expected "a=${name}:<milliseconds>"`);
        }
        media[name] = Number(value);
        return;
      }
      case 'rtcp': {
        const parts = (value ?? '').split(' ');
        const port = parseUint(parts[0], 65535);
        if (port === undefined || (parts.length !== 1 && parts.length !== 4)) {
          fail(lineNumber, line, 'expected "a=rtcp:<port> [<nettype> <addrtype> <address>]"');
        }
        media.rtcp = parts.length === 4 ? { port, connection: parseConnection(parts.slice(1).join(' '), lineNumber, line) } : { port };
        return;
      }
      case 'rtcp-mux':
        media.rtcpMux = true;
        return;
    }
  }
  const attribute: SdpAttribute = { name };
  if (value !== undefined) attribute.value = value;
  target.otherAttributes.push(attribute);
}

export function parseSdp(text: string): SessionDescription {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new SdpParseError('Empty SDP');
  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  let sawVersion = false;
  const session: Omit<SessionDescription, 'origin' | 'sessionName'> = {
    infoLines: [],
    bandwidths: [],
    timings: [],
    timeLines: [],
    otherAttributes: [],
    media: [],
  };
  let media: SdpMedia | undefined;
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (!/^[a-z]=/.test(line)) fail(lineNumber, line, 'expected "<type>=<value>"');
    const type = line[0]!;
    const value = line.slice(2);
    if (index === 0) {
      if (type !== 'v' || value !== '0') fail(lineNumber, line, 'SDP must start with "v=0"');
      sawVersion = true;
      return;
    }
    switch (type) {
      case 'v':
        fail(lineNumber, line, 'duplicate v= line');
        break;
      case 'o': {
        const parts = value.split(' ');
        if (parts.length !== 6 || parts.some((p) => p === '') || !/^\d+$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) {
          fail(lineNumber, line, 'expected "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>"');
        }
        const [username, sessionId, sessionVersion, netType, addrType, address] = parts as [string, string, string, string, string, string];
        origin = { username, sessionId, sessionVersion, netType, addrType, address };
        break;
      }
      case 's':
        sessionName = value;
        break;
      case 'i':
        if (media) media.information = value;
        else session.infoLines.push({ type, value });
        break;
      case 'u':
      case 'e':
      case 'p':
        if (media) fail(lineNumber, line, `"${type}=" is only allowed at session level`);
        session.infoLines.push({ type, value });
        break;
      case 'c': {
        const connection = parseConnection(value, lineNumber, line);
        if (media) media.connection = connection;
        else session.connection = connection;
        break;
      }
      case 'b':
        (media ? media.bandwidths : session.bandwidths).push(value);
        break;
      case 't':
        if (media) fail(lineNumber, line, '"t=" is only allowed at session level');
        if (!/^\d+ \d+$/.test(value)) fail(lineNumber, line, 'expected "t=<start> <stop>"');
        session.timings.push(value);
        break;
      case 'r':
      case 'z':
      case 'k':
        if (media) {
          if (type !== 'k') fail(lineNumber, line, `"${type}=" is only allowed at session level`);
          media.otherAttributes.push({ name: 'k=', value }); // obsolete; kept for round-trip
        } else session.timeLines.push({ type, value });
        break;
      case 'a':
        parseAttributeInto(media ?? session, media, value, lineNumber, line);
        break;
      case 'm': {
        const match = /^(\S+) (\d+)(?:\/(\d+))? (\S+)((?: \S+)*)$/.exec(value);
        const port = parseUint(match?.[2], 65535);
        if (!match || port === undefined) fail(lineNumber, line, 'expected "m=<media> <port>[/<count>] <proto> <fmt> ..."');
        media = {
          type: match[1]!,
          port,
          protocol: match[4]!,
          formats: match[5]!.trim() === '' ? [] : match[5]!.trim().split(' '),
          bandwidths: [],
          rtpmaps: [],
          fmtps: [],
          rtcpMux: false,
          otherAttributes: [],
        };
        if (match[3] !== undefined) media.portCount = Number(match[3]);
        session.media.push(media);
        break;
      }
      default:
        fail(lineNumber, line, `unknown line type "${type}"`);
    }
  });
  if (!sawVersion) throw new SdpParseError('SDP must start with "v=0"');
  if (!origin) throw new SdpParseError('SDP has no o= line');
  if (sessionName === undefined) throw new SdpParseError('SDP has no s= line');
  if (session.timings.length === 0) throw new SdpParseError('SDP has no t= line');
  for (const m of session.media) {
    if (!m.connection && !session.connection && m.port !== 0) {
      throw new SdpParseError(`SDP m=${m.type} line has no c= line and there is no session-level c= line`);
    }
  }
  return { origin, sessionName, ...session };
}

function formatConnection(c: SdpConnection): string {
  return `${c.netType} ${c.addrType} ${c.address}`;
}

function formatAttribute(a: SdpAttribute): string {
  if (a.name === 'k=') return `k=${a.value ?? ''}`;
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

export function serializeSdp(sdp: SessionDescription): string {
  const o = sdp.origin;
  const out: string[] = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${sdp.sessionName === '' ? '-' : sdp.sessionName}`,
  ];
  for (const line of sdp.infoLines) out.push(`${line.type}=${line.value}`);
  if (sdp.connection) out.push(`c=${formatConnection(sdp.connection)}`);
  for (const b of sdp.bandwidths) out.push(`b=${b}`);
  for (const t of sdp.timings.length > 0 ? sdp.timings : ['0 0']) out.push(`t=${t}`);
  for (const line of sdp.timeLines) out.push(`${line.type}=${line.value}`);
  if (sdp.direction) out.push(`a=${sdp.direction}`);
  for (const a of sdp.otherAttributes) out.push(formatAttribute(a));
  for (const m of sdp.media) {
    const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
    out.push(`m=${[m.type, port, m.protocol, ...m.formats].join(' ')}`);
    if (m.information !== undefined) out.push(`i=${m.information}`);
    if (m.connection) out.push(`c=${formatConnection(m.connection)}`);
    for (const b of m.bandwidths) out.push(`b=${b}`);
    for (const r of m.rtpmaps) {
      out.push(`a=rtpmap:${r.payloadType} ${r.encodingName}/${r.clockRate}${r.channels === undefined ? '' : `/${r.channels}`}`);
    }
    for (const f of m.fmtps) out.push(`a=fmtp:${f.payloadType} ${f.parameters}`);
    if (m.ptime !== undefined) out.push(`a=ptime:${m.ptime}`);
    if (m.maxptime !== undefined) out.push(`a=maxptime:${m.maxptime}`);
    if (m.rtcp) out.push(`a=rtcp:${m.rtcp.port}${m.rtcp.connection ? ` ${formatConnection(m.rtcp.connection)}` : ''}`);
    if (m.rtcpMux) out.push('a=rtcp-mux');
    if (m.direction) out.push(`a=${m.direction}`);
    for (const a of m.otherAttributes) out.push(formatAttribute(a));
  }
  return out.join('\r\n') + '\r\n';
}

/** The connection that applies to a media section (media-level c= overrides session-level). */
export function connectionOf(sdp: SessionDescription, media: SdpMedia): SdpConnection | undefined {
  return media.connection ?? sdp.connection;
}

/** The direction that applies to a media section (media-level overrides session-level; default sendrecv). */
export function directionOf(sdp: SessionDescription, media: SdpMedia): SdpDirection {
  return media.direction ?? sdp.direction ?? 'sendrecv';
}
