/**
 * SDP offer/answer (RFC 3264) for one audio stream over RTP (RTP/AVP) or SRTP keyed with SDES
 * (RFC 4568; the per-account policy and its decision tables live in ../srtp/srtp-policy.ts).
 *
 * Offer: one m=audio line with our codecs in preference order, telephone-event (RFC 4733)
 * events 0-16 at the clock rate of each codec that has one and at 8000, comfort noise (RFC 3389, static
 * payload type 13, CN/8000) when a codec runs on an 8 kHz RTP clock (G.711, G.722), a=ptime:20
 * and our direction; with an SRTP policy other than 'off' the profile and a=crypto lines of
 * `srtp.offer`. Comfort noise is only received: we never stop sending for silence (no VAD), but a
 * far end that does then sends its background noise's level instead of going quiet or dead.
 *
 * Answer rules (MUST):
 * - The answer has exactly as many m= lines as the offer, in the same order; streams we do not
 *   take (non-audio, secure profiles, second audio stream, nothing in common) get port 0.
 * - For the audio stream we take, the codec is the first codec in OUR preference that the offer
 *   contains; the answer never lists a format the offer did not contain.
 * - Payload type numbers are mirrored from the offer (incl. dynamic telephone-event numbers).
 * - telephone-event goes with the chosen codec: on its clock if offered, else at 8000, else
 *   whichever is offered (pickTelephoneEvent; the events count on the audio's clock).
 * - CN/8000 is answered when offered and the chosen codec's RTP clock is 8 kHz.
 * - Direction is the RFC 3264 section 6.1 mirror of the offer's, narrowed by our own wish.
 * - The answer keeps the offered transport profile; SRTP acceptance/rejection follows
 *   decideIncomingOffer (srtp-policy.ts). When a re-offer carries the same peer key as before,
 *   our answer keeps our previous key too (no needless re-keying on hold/resume).
 * - If no stream can be taken the offer is rejected with an `SdpNegotiationError` (488) whose
 *   reason says why in words, e.g. "No common audio codec (offered: G729)".
 *
 * The offerer side (`negotiateAnswer`) checks the answer against our offer the same way.
 */
import { isIP } from 'node:net';
import type { AudioCodec } from '../codecs/audio-codec';
import type { TransportAddress } from '../rtp/rtp-stream-socket';
import {
  connectionOf,
  directionOf,
  type SdpConnection,
  type SdpDirection,
  type SdpMedia,
  type SessionDescription,
} from './sdp';
import { staticAudioPayloadTypes, type PayloadFormat } from './static-payload-types';
import { COMFORT_NOISE_CLOCK_RATE } from '../jitter/comfort-noise';
import { buildCryptoLine, parseCryptoLine } from '../srtp/sdes';
import { decideAnswer, decideIncomingOffer, type OutgoingOffer, type SdesKeying, type SrtpPolicy } from '../srtp/srtp-policy';

/**
 * Why an offer or answer cannot be used; carries the SIP response a UAS should send:
 * 488 Not Acceptable Here for SDP we understand but cannot accept, 400 Bad Request for SDP that
 * does not parse (`malformed`).
 */
export class SdpNegotiationError extends Error {
  override name = 'SdpNegotiationError';
  readonly statusCode: 400 | 488;
  readonly reasonPhrase: string;
  constructor(
    readonly reason: string,
    kind: 'unacceptable' | 'malformed' = 'unacceptable',
  ) {
    super(reason);
    this.statusCode = kind === 'malformed' ? 400 : 488;
    this.reasonPhrase = kind === 'malformed' ? 'Bad Request' : 'Not Acceptable Here';
  }
}

export const TELEPHONE_EVENT = 'telephone-event';
const COMFORT_NOISE = 'cn';
const COMFORT_NOISE_PT = 13;
const DEFAULT_TELEPHONE_EVENT_PT = 101;
/** The telephone-event clock every implementation has (many, e.g. Asterisk and baresip, only this one). */
const TELEPHONE_EVENT_COMMON_RATE = 8000;
const TELEPHONE_EVENT_FMTP = '0-16';
const DEFAULT_PTIME = 20;

export interface LocalMediaOptions {
  /** Address put in c= and o=. */
  address: string;
  /** Our RTP port. */
  port: number;
  /** Codecs in preference order. */
  codecs: readonly AudioCodec[];
  /** Offer/accept RFC 4733 telephone-event (default true). */
  telephoneEvent?: boolean;
  /** Offer/accept RFC 3389 comfort noise, CN/8000, to receive (default true). */
  comfortNoise?: boolean;
  /** Packetization we ask for (default 20 ms). */
  ptime?: number;
  /** What we want to do (default sendrecv); hold will use sendonly. */
  direction?: SdpDirection;
  /** Offer rtcp-mux (RFC 5761); in an answer we accept it whenever offered. Default false. */
  rtcpMux?: boolean;
  /**
   * SRTP (SDES). Offers use `offer` (built once per call by buildOutgoingOffer so that re-offers
   * keep our key); answers apply `policy` and reuse `previous` keys when the peer's key is unchanged.
   * Absent: policy 'off'.
   */
  srtp?: { policy: SrtpPolicy; offer?: OutgoingOffer; previous?: SdesKeying };
  origin: { username: string; sessionId: string; sessionVersion: string };
}

export interface NegotiatedCodec {
  codec: AudioCodec;
  payloadType: number;
  /**
   * For the codec we send with: the a=fmtp parameters the PEER's SDP gives this payload type, i.e.
   * what its decoder asks of our encoder (RFC 7587: maxaveragebitrate, useinbandfec, ...); '' when
   * its SDP has no fmtp for it. Set by negotiation; absent where no peer SDP exists (tests, tools),
   * which leaves the encoder at its own defaults.
   */
  peerFmtp?: string;
}

export interface TelephoneEventParams {
  /** PT we send events with (from the peer's SDP). */
  sendPayloadType: number;
  /** PT we receive events with (from our SDP). */
  receivePayloadType: number;
  /** The peer's own PT for events, also taken when it sends with it (see negotiateAnswer). */
  aliasReceivePayloadType?: number;
  /**
   * The clock of the events' timestamps and durations (RFC 4733 s. 2.3.5: durations in timestamp
   * units): the stream's audio clock. That is the format's own rate, except where a peer has
   * telephone-event/8000 only beside a codec on another clock (Opus; see pickTelephoneEvent).
   */
  clockRate: number;
}

/** What both sides agreed on for the audio stream. */
export interface NegotiatedAudio {
  /** Codec and payload type we send with (PT from the peer's SDP). */
  send: NegotiatedCodec;
  /** Codecs we accept, by the payload type numbers of our SDP. */
  receive: NegotiatedCodec[];
  telephoneEvent?: TelephoneEventParams;
  /** RFC 3389 comfort noise (CN/8000) the far end may send in silences, by the payload type of our SDP. */
  comfortNoise?: { receivePayloadType: number };
  /** Milliseconds of audio per packet we send. */
  ptime: number;
  /** Where to send RTP (from the peer's SDP); symmetric RTP may later latch elsewhere. */
  remoteRtp: TransportAddress;
  remoteRtcp?: TransportAddress;
  rtcpMux: boolean;
  /** OUR direction: whether we send and/or receive. */
  direction: SdpDirection;
  /**
   * The direction the PEER's SDP states for itself ('sendonly'/'inactive' = it holds the call);
   * old-style hold with c=0.0.0.0 counts as 'sendonly' (or 'inactive' if it said recvonly/inactive).
   */
  peerDirection?: SdpDirection;
  /** SDES keying when the stream is SRTP; absent for plain RTP. */
  srtp?: SdesKeying;
}

function cryptoLinesOf(media: SdpMedia): string[] {
  return media.otherAttributes.filter((a) => a.name === 'crypto').map((a) => `a=crypto:${a.value ?? ''}`);
}

function cryptoAttribute(line: string): { name: string; value: string } {
  return { name: 'crypto', value: line.replace(/^a=crypto:/, '') };
}

function peerDirectionOf(sdp: SessionDescription, media: SdpMedia, address: string): SdpDirection {
  const stated = directionOf(sdp, media);
  if (!isUnspecified(address)) return stated;
  return stated === 'sendrecv' || stated === 'sendonly' ? 'sendonly' : 'inactive';
}

function sameKey(a: SdesKeying['remote'], b: SdesKeying['remote']): boolean {
  return (
    a.suiteName === b.suiteName &&
    Buffer.compare(Buffer.from(a.key.masterKey), Buffer.from(b.key.masterKey)) === 0 &&
    Buffer.compare(Buffer.from(a.key.masterSalt), Buffer.from(b.key.masterSalt)) === 0
  );
}

function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return isIP(address) === 6 ? 'IP6' : 'IP4';
}

function connectionFor(address: string): SdpConnection {
  return { netType: 'IN', addrType: addrTypeOf(address), address };
}

function formatOf(media: SdpMedia, format: string): (PayloadFormat & { payloadType: number }) | undefined {
  if (!/^\d{1,3}$/.test(format)) return undefined;
  const payloadType = Number(format);
  const rtpmap = media.rtpmaps.find((r) => r.payloadType === payloadType);
  if (rtpmap) return { payloadType, encodingName: rtpmap.encodingName, clockRate: rtpmap.clockRate, channels: rtpmap.channels ?? 1 };
  const known = staticAudioPayloadTypes.get(payloadType);
  return known ? { payloadType, ...known } : undefined;
}

/** The a=fmtp parameters `media` gives payload type `payloadType`, '' if none. */
function fmtpOf(media: SdpMedia, payloadType: number): string {
  return media.fmtps.find((f) => f.payloadType === payloadType)?.parameters ?? '';
}

function sameFormat(codec: AudioCodec, format: PayloadFormat): boolean {
  return (
    codec.info.encodingName.toLowerCase() === format.encodingName.toLowerCase() &&
    codec.info.rtpClockRate === format.clockRate &&
    codec.info.channels === format.channels
  );
}

function describeFormats(media: SdpMedia): string {
  const names = media.formats.map((f) => {
    const format = formatOf(media, f);
    return format ? format.encodingName : `payload type ${f}`;
  });
  return names.filter((n) => n.toLowerCase() !== TELEPHONE_EVENT && n.toLowerCase() !== 'cn').join(', ') || 'none';
}


function isComfortNoise(format: PayloadFormat): boolean {
  return format.encodingName.toLowerCase() === COMFORT_NOISE && format.clockRate === COMFORT_NOISE_CLOCK_RATE && format.channels === 1;
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function remoteAddresses(sdp: SessionDescription, media: SdpMedia): { rtp: TransportAddress; rtcp?: TransportAddress } {
  const connection = connectionOf(sdp, media);
  if (!connection) throw new SdpNegotiationError(`No connection address (c=) for the ${media.type} stream`);
  const address = connection.address.split('/')[0]!;
  if (isIP(address) === 0) {
    throw new SdpNegotiationError(`Connection address "${connection.address}" is not an IP address`);
  }
  const rtp = { address, port: media.port };
  if (media.rtcpMux) return { rtp };
  const rtcpAddress = media.rtcp?.connection?.address.split('/')[0] ?? address;
  const rtcpPort = media.rtcp?.port ?? media.port + 1;
  // No reports where they cannot go, the call goes on without them: RTP on 65535 without a=rtcp
  // (port 65536 does not exist), a=rtcp port 0, or an a=rtcp address that is no IP literal of the
  // RTP address's family (a name would be looked up in DNS for every report, a destination the
  // SDP's sender picks).
  if (rtcpPort < 1 || rtcpPort > 65535 || isIP(rtcpAddress) !== isIP(address)) return { rtp };
  return { rtp, rtcp: { address: rtcpAddress, port: rtcpPort } };
}

function checkFamily(local: string, remote: string): void {
  if (isUnspecified(remote)) return;
  if (isIP(local) !== isIP(remote)) {
    throw new SdpNegotiationError(
      `Peer media address ${remote} is IPv${isIP(remote)} but this phone uses IPv${isIP(local)} (${local})`,
    );
  }
}

/**
 * Our packetization for `codec` towards `media`: its ptime (10-120 ms, else 20), no more than its
 * maxptime, and one the codec can code (AudioCodecInfo.frameDurationsMs: Opus asked for 30 ms
 * sends 20 ms frames; ptime is a wish, RFC 4566 section 6, and an Opus encoder cannot do 30).
 */
function sendPtime(media: SdpMedia, codec: AudioCodec): number {
  let ptime = media.ptime !== undefined && Number.isInteger(media.ptime) && media.ptime >= 10 && media.ptime <= 120 ? media.ptime : DEFAULT_PTIME;
  if (media.maxptime !== undefined && ptime > media.maxptime && media.maxptime >= 10) ptime = Math.floor(media.maxptime / 10) * 10;
  const durations = codec.info.frameDurationsMs;
  if (durations && !durations.includes(ptime)) ptime = durations.filter((d) => d <= ptime).at(-1) ?? durations[0]!;
  return ptime;
}

/** RFC 3264 section 6.1: what the answerer does given what the offerer does and what we want. */
function answerDirection(offered: SdpDirection, wanted: SdpDirection): SdpDirection {
  const peerSends = offered === 'sendrecv' || offered === 'sendonly';
  const peerReceives = offered === 'sendrecv' || offered === 'recvonly';
  const weSend = peerReceives && (wanted === 'sendrecv' || wanted === 'sendonly');
  const weReceive = peerSends && (wanted === 'sendrecv' || wanted === 'recvonly');
  return weSend ? (weReceive ? 'sendrecv' : 'sendonly') : weReceive ? 'recvonly' : 'inactive';
}

function baseDescription(local: LocalMediaOptions): SessionDescription {
  return {
    origin: { ...local.origin, netType: 'IN', addrType: addrTypeOf(local.address), address: local.address },
    sessionName: 'Switchboard',
    infoLines: [],
    connection: connectionFor(local.address),
    bandwidths: [],
    timings: ['0 0'],
    timeLines: [],
    otherAttributes: [],
    media: [],
  };
}

function emptyAudioMedia(port: number, formats: string[]): SdpMedia {
  return { type: 'audio', port, protocol: 'RTP/AVP', formats, bandwidths: [], rtpmaps: [], fmtps: [], rtcpMux: false, otherAttributes: [] };
}

/** Build our offer: all `local.codecs`, telephone-event per clock rate, ptime, direction. */
export function createOffer(local: LocalMediaOptions): SessionDescription {
  if (local.codecs.length === 0) throw new Error('Cannot create an SDP offer without any codec');
  const sdp = baseDescription(local);
  const media = emptyAudioMedia(local.port, []);
  const used = new Set<number>();
  for (const codec of local.codecs) if (codec.info.staticPayloadType !== undefined) used.add(codec.info.staticPayloadType);
  const offerComfortNoise = (local.comfortNoise ?? true) && local.codecs.some((c) => c.info.rtpClockRate === COMFORT_NOISE_CLOCK_RATE);
  let nextDynamic = 96;
  const dynamicPt = (preferred?: number): number => {
    if (preferred !== undefined && !used.has(preferred)) {
      used.add(preferred);
      return preferred;
    }
    while (used.has(nextDynamic)) nextDynamic++;
    if (nextDynamic > 127) throw new Error('Too many codecs for the dynamic payload type range 96-127');
    used.add(nextDynamic);
    return nextDynamic;
  };
  for (const codec of local.codecs) {
    const pt = codec.info.staticPayloadType ?? dynamicPt();
    media.formats.push(String(pt));
    const rtpmap = { payloadType: pt, encodingName: codec.info.encodingName, clockRate: codec.info.rtpClockRate };
    media.rtpmaps.push(codec.info.channels === 1 ? rtpmap : { ...rtpmap, channels: codec.info.channels });
    if (codec.info.fmtp) media.fmtps.push({ payloadType: pt, parameters: codec.info.fmtp });
  }
  if (local.telephoneEvent ?? true) {
    // 8000 too: what every peer knows (RFC 4733 s. 7.1.1's default), taken with Opus where a peer has no other.
    const rates = [...new Set([...local.codecs.map((c) => c.info.rtpClockRate), TELEPHONE_EVENT_COMMON_RATE])];
    for (const rate of rates) {
      const pt = dynamicPt(rate === 8000 ? DEFAULT_TELEPHONE_EVENT_PT : undefined);
      media.formats.push(String(pt));
      media.rtpmaps.push({ payloadType: pt, encodingName: TELEPHONE_EVENT, clockRate: rate });
      media.fmtps.push({ payloadType: pt, parameters: TELEPHONE_EVENT_FMTP });
    }
  }
  if (offerComfortNoise) {
    media.formats.push(String(COMFORT_NOISE_PT));
    media.rtpmaps.push({ payloadType: COMFORT_NOISE_PT, encodingName: 'CN', clockRate: COMFORT_NOISE_CLOCK_RATE });
  }
  media.ptime = local.ptime ?? DEFAULT_PTIME;
  if (local.rtcpMux) media.rtcpMux = true;
  media.direction = local.direction ?? 'sendrecv';
  const srtpOffer = local.srtp && local.srtp.policy !== 'off' ? local.srtp.offer : undefined;
  if (local.srtp && local.srtp.policy !== 'off' && !srtpOffer) throw new Error(`SRTP policy ${local.srtp.policy} needs the outgoing SDES offer`);
  if (srtpOffer) {
    media.protocol = srtpOffer.profile;
    for (const line of srtpOffer.cryptoLines) media.otherAttributes.push(cryptoAttribute(line));
  }
  sdp.media.push(media);
  return sdp;
}

interface AudioChoice {
  index: number;
  srtp?: { cryptoLine: string; keying: SdesKeying };
  chosen: PayloadFormat & { payloadType: number; codec: AudioCodec };
  telephoneEvent?: PayloadFormat & { payloadType: number };
  comfortNoise?: PayloadFormat & { payloadType: number };
}

/**
 * Which of the telephone-event formats in common goes with an audio codec on `codecClockRate`:
 * the one on the codec's clock (RFC 4733 s. 2.1), else 8000, else the first. A format on another
 * clock than the audio's is what Asterisk, baresip and Bria offer with Opus (telephone-event/8000
 * only); its packets are in the same RTP stream as the audio, so their timestamps, and with them
 * their durations, count on the audio's clock: baresip and FreeSWITCH send so, and so do we
 * (TelephoneEventParams.clockRate is the codec's).
 */
function pickTelephoneEvent<T extends { clockRate: number }>(formats: readonly T[], codecClockRate: number): T | undefined {
  return (
    formats.find((f) => f.clockRate === codecClockRate) ??
    formats.find((f) => f.clockRate === TELEPHONE_EVENT_COMMON_RATE) ??
    formats[0]
  );
}

function chooseFromOffer(media: SdpMedia, codecs: readonly AudioCodec[]): Omit<AudioChoice, 'index'> | undefined {
  const offered = media.formats.map((f) => formatOf(media, f)).filter((f) => f !== undefined);
  for (const codec of codecs) {
    const format = offered.find((f) => sameFormat(codec, f));
    if (format) {
      const telephoneEvent = pickTelephoneEvent(
        offered.filter((f) => f.encodingName.toLowerCase() === TELEPHONE_EVENT),
        codec.info.rtpClockRate,
      );
      const comfortNoise = codec.info.rtpClockRate === COMFORT_NOISE_CLOCK_RATE ? offered.find(isComfortNoise) : undefined;
      return {
        chosen: { ...format, codec },
        ...(telephoneEvent ? { telephoneEvent } : {}),
        ...(comfortNoise ? { comfortNoise } : {}),
      };
    }
  }
  return undefined;
}

/**
 * Answer a remote offer. Throws `SdpNegotiationError` when no audio stream can be taken.
 */
export function answerOffer(offer: SessionDescription, local: LocalMediaOptions): { answer: SessionDescription; negotiated: NegotiatedAudio } {
  if (local.codecs.length === 0) throw new SdpNegotiationError('No audio codec is enabled on this phone');
  let choice: AudioChoice | undefined;
  const problems: string[] = [];
  offer.media.forEach((media, index) => {
    if (choice || media.type !== 'audio' || media.port === 0) return;
    const security = decideIncomingOffer(local.srtp?.policy ?? 'off', { profile: media.protocol, cryptoLines: cryptoLinesOf(media) });
    if (security.kind === 'reject') {
      problems.push(security.reason);
      return;
    }
    const found = chooseFromOffer(media, local.codecs);
    if (!found) {
      problems.push(`No common audio codec (offered: ${describeFormats(media)})`);
      return;
    }
    choice = { index, ...found };
    if (security.kind === 'accept-srtp') {
      const previous = local.srtp?.previous;
      let { cryptoLine, keying } = security;
      if (previous && previous.suite === keying.suite && sameKey(previous.remote, keying.remote)) {
        // Same peer key as before: answer with our previous key (RFC 4568 s. 7.1.4 allows either).
        cryptoLine = buildCryptoLine({ tag: keying.remote.tag, suite: keying.suite, masterKey: previous.local.key.masterKey, masterSalt: previous.local.key.masterSalt });
        keying = { ...keying, local: parseCryptoLine(cryptoLine) };
      }
      choice.srtp = { cryptoLine, keying };
    }
  });
  if (!choice) {
    if (problems.length > 0) throw new SdpNegotiationError(problems.join('; '));
    throw new SdpNegotiationError(
      offer.media.some((m) => m.type === 'audio') ? 'The offered audio stream is disabled (port 0)' : 'No audio stream in offer',
    );
  }
  const offeredMedia = offer.media[choice.index]!;
  const remote = remoteAddresses(offer, offeredMedia);
  checkFamily(local.address, remote.rtp.address);
  let direction = answerDirection(directionOf(offer, offeredMedia), local.direction ?? 'sendrecv');
  const answer = baseDescription(local);
  offer.media.forEach((media, index) => {
    if (index !== choice!.index) {
      // Rejected stream: port 0, same media type/proto/formats as offered (RFC 3264 section 6).
      answer.media.push({ ...emptyAudioMedia(0, [...media.formats]), type: media.type, protocol: media.protocol });
      return;
    }
    const secure = choice!.srtp;
    const { chosen, telephoneEvent, comfortNoise } = choice!;
    const m = emptyAudioMedia(local.port, [String(chosen.payloadType)]);
    const rtpmap = { payloadType: chosen.payloadType, encodingName: chosen.codec.info.encodingName, clockRate: chosen.clockRate };
    m.rtpmaps.push(chosen.channels === 1 ? rtpmap : { ...rtpmap, channels: chosen.channels });
    if (chosen.codec.info.fmtp) m.fmtps.push({ payloadType: chosen.payloadType, parameters: chosen.codec.info.fmtp });
    if (telephoneEvent && (local.telephoneEvent ?? true)) {
      m.formats.push(String(telephoneEvent.payloadType));
      m.rtpmaps.push({ payloadType: telephoneEvent.payloadType, encodingName: TELEPHONE_EVENT, clockRate: telephoneEvent.clockRate });
      m.fmtps.push({ payloadType: telephoneEvent.payloadType, parameters: TELEPHONE_EVENT_FMTP });
    }
    if (comfortNoise && (local.comfortNoise ?? true)) {
      m.formats.push(String(comfortNoise.payloadType));
      m.rtpmaps.push({ payloadType: comfortNoise.payloadType, encodingName: 'CN', clockRate: COMFORT_NOISE_CLOCK_RATE });
    }
    m.ptime = local.ptime ?? DEFAULT_PTIME;
    if (media.rtcpMux) m.rtcpMux = true;
    m.direction = direction;
    m.protocol = media.protocol;
    if (secure) m.otherAttributes.push(cryptoAttribute(secure.cryptoLine));
    answer.media.push(m);
  });
  // Old-style hold (RFC 2543 c=0.0.0.0): the peer does not want our audio.
  if (isUnspecified(remote.rtp.address)) direction = direction === 'sendrecv' ? 'recvonly' : direction === 'sendonly' ? 'inactive' : direction;
  const negotiated: NegotiatedAudio = {
    send: { codec: choice.chosen.codec, payloadType: choice.chosen.payloadType, peerFmtp: fmtpOf(offeredMedia, choice.chosen.payloadType) },
    receive: [{ codec: choice.chosen.codec, payloadType: choice.chosen.payloadType }],
    ptime: sendPtime(offeredMedia, choice.chosen.codec),
    remoteRtp: remote.rtp,
    rtcpMux: offeredMedia.rtcpMux,
    direction,
    peerDirection: peerDirectionOf(offer, offeredMedia, remote.rtp.address),
  };
  if (choice.srtp) negotiated.srtp = choice.srtp.keying;
  if (remote.rtcp) negotiated.remoteRtcp = remote.rtcp;
  if (choice.telephoneEvent && (local.telephoneEvent ?? true)) {
    negotiated.telephoneEvent = {
      sendPayloadType: choice.telephoneEvent.payloadType,
      receivePayloadType: choice.telephoneEvent.payloadType,
      clockRate: choice.chosen.codec.info.rtpClockRate,
    };
  }
  if (choice.comfortNoise && (local.comfortNoise ?? true)) negotiated.comfortNoise = { receivePayloadType: choice.comfortNoise.payloadType };
  return { answer, negotiated };
}

/**
 * Offerer side: check the peer's answer against our offer and work out what to send/receive.
 * `codecs` are the codecs we offered. Throws `SdpNegotiationError` when the answer is unusable.
 */
export function negotiateAnswer(
  offer: SessionDescription,
  answer: SessionDescription,
  local: { address: string; codecs: readonly AudioCodec[]; direction?: SdpDirection; srtp?: LocalMediaOptions['srtp'] },
): NegotiatedAudio {
  if (answer.media.length !== offer.media.length) {
    throw new SdpNegotiationError(`Answer has ${answer.media.length} media streams, our offer had ${offer.media.length}`);
  }
  const index = offer.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (index < 0) throw new Error('Our offer has no active audio stream');
  const ours = offer.media[index]!;
  const theirs = answer.media[index]!;
  if (theirs.type !== 'audio') throw new SdpNegotiationError(`Answer stream ${index + 1} is ${theirs.type}, we offered audio`);
  if (theirs.port === 0) throw new SdpNegotiationError('The peer rejected the audio stream (port 0 in answer)');
  const policy = local.srtp?.policy ?? 'off';
  const security = decideAnswer(policy, local.srtp?.offer ?? { profile: 'RTP/AVP', cryptoLines: [], offered: [] }, {
    profile: theirs.protocol,
    cryptoLines: cryptoLinesOf(theirs),
  });
  if (security.kind === 'fail') throw new SdpNegotiationError(security.reason);
  if (theirs.protocol.toUpperCase() !== ours.protocol.toUpperCase()) {
    throw new SdpNegotiationError(`Answer uses ${theirs.protocol}, we offered ${ours.protocol}`);
  }
  const ourFormats = ours.formats.map((f) => formatOf(ours, f)).filter((f) => f !== undefined);
  const receive: NegotiatedCodec[] = [];
  let send: NegotiatedCodec | undefined;
  const telephoneEvents: TelephoneEventParams[] = [];
  let comfortNoise: NegotiatedAudio['comfortNoise'];
  for (const f of theirs.formats) {
    const format = formatOf(theirs, f);
    if (!format) continue;
    const mine = ourFormats.find(
      (o) => o.encodingName.toLowerCase() === format.encodingName.toLowerCase() && o.clockRate === format.clockRate && o.channels === format.channels,
    );
    if (!mine) continue; // not offered: RFC 3264 forbids it; ignore it rather than fail the call
    // The peer sends with the numbers of our offer (RFC 3264 s. 6.1), but some (seen with desk
    // phones and gateways) send with the ones of their own answer: where such a number names
    // nothing else in our offer, it is taken too, rather than dropped into one-way audio.
    const alias = format.payloadType !== mine.payloadType && !ourFormats.some((o) => o.payloadType === format.payloadType) ? format.payloadType : undefined;
    if (format.encodingName.toLowerCase() === TELEPHONE_EVENT) {
      telephoneEvents.push({
        sendPayloadType: format.payloadType,
        receivePayloadType: mine.payloadType,
        ...(alias !== undefined ? { aliasReceivePayloadType: alias } : {}),
        clockRate: format.clockRate, // the format's until the codec is known: made the codec's below
      });
      continue;
    }
    if (isComfortNoise(format)) {
      comfortNoise ??= { receivePayloadType: mine.payloadType };
      continue;
    }
    const codec = local.codecs.find((c) => sameFormat(c, format));
    if (!codec) continue;
    receive.push({ codec, payloadType: mine.payloadType });
    if (alias !== undefined) receive.push({ codec, payloadType: alias });
    // The answerer's order is its preference; send with the first usable one.
    send ??= { codec, payloadType: format.payloadType, peerFmtp: fmtpOf(theirs, format.payloadType) };
  }
  if (!send) throw new SdpNegotiationError(`Answer contains no codec we offered (answered: ${describeFormats(theirs)})`);
  const picked = pickTelephoneEvent(telephoneEvents, send.codec.info.rtpClockRate);
  const telephoneEvent = picked && { ...picked, clockRate: send.codec.info.rtpClockRate };
  const remote = remoteAddresses(answer, theirs);
  checkFamily(local.address, remote.rtp.address);
  // The answer's direction is from the peer's view; ours is its mirror narrowed by our offer.
  let direction = answerDirection(directionOf(answer, theirs), directionOf(offer, ours));
  if (isUnspecified(remote.rtp.address)) direction = direction === 'sendrecv' ? 'recvonly' : direction === 'sendonly' ? 'inactive' : direction;
  const negotiated: NegotiatedAudio = {
    send,
    receive,
    ptime: sendPtime(theirs, send.codec),
    remoteRtp: remote.rtp,
    rtcpMux: theirs.rtcpMux && ours.rtcpMux,
    direction,
    peerDirection: peerDirectionOf(answer, theirs, remote.rtp.address),
  };
  if (security.kind === 'srtp') negotiated.srtp = security.keying;
  if (remote.rtcp) negotiated.remoteRtcp = remote.rtcp;
  if (telephoneEvent) negotiated.telephoneEvent = telephoneEvent;
  // CN/8000 plays only in a stream on an 8 kHz RTP clock (jitter-buffer.ts, "Comfort noise").
  if (comfortNoise && receive.some((r) => r.codec.info.rtpClockRate === COMFORT_NOISE_CLOCK_RATE)) negotiated.comfortNoise = comfortNoise;
  return negotiated;
}
