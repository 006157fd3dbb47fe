/**
 * One SRTP/SRTCP crypto context keyed by one master key (RFC 3711), for one direction.
 *
 * SDES gives each direction its own master key, so a call uses two contexts: one keyed with OUR
 * key (protectRtp/protectRtcp on what we send) and one keyed with the PEER's key
 * (unprotectRtp/unprotectRtcp on what we receive); srtp-session.ts pairs them.
 *
 * Contract:
 *   - protectRtp(rtp) → header ‖ AES-CM(payload) ‖ [MKI] ‖ tag, where the tag is HMAC-SHA1 over
 *     header ‖ encrypted payload ‖ ROC, truncated to the suite's length. The header (incl. CSRCs
 *     and extension) stays clear; the payload incl. padding is encrypted.
 *   - unprotectRtp(srtp) → the original RTP packet, or throws SrtpError:
 *       'malformed'   too short / header overruns the packet
 *       'too-old'     index behind the 64-packet replay window (or before the stream's start)
 *       'replayed'    index already accepted
 *       'unknown-mki' MKI differs from the configured one
 *       'auth-failed' tag mismatch (compared in constant time)
 *     A rejected packet never changes ROC, s_l or the replay window.
 *   - protectRtcp(rtcp) → first 8 bytes clear ‖ AES-CM(rest) ‖ E=1‖31-bit index ‖ [MKI] ‖ tag.
 *     The SRTCP index starts at 1 and counts up per SSRC, as libsrtp does (its reference packets
 *     carry index 1), wrapping modulo 2^31.
 *   - unprotectRtcp(srtcp) → the compound RTCP packet; honours E=0 (authenticated but clear).
 *     Same errors as unprotectRtp.
 *   - SRTCP tag length of AES_CM_128_HMAC_SHA1_32: deployed stacks disagree. libsrtp's profile
 *     tables, pjsip and RFC 5764 use an 80-bit SRTCP tag; libre (baresip) and others reuse the
 *     32-bit SRTP tag. We send `rtcpTagLength` (default 10 bytes, switchable later with
 *     useRtcpTagLength) and ACCEPT both on receive, reporting what the peer used in
 *     `peerRtcpTagLength` so srtp-session.ts can mirror it. Accepting a 4-byte tag is no weaker
 *     than the suite's own SRTP protection.
 *   - ROC, s_l and replay windows are kept per SSRC (RFC 3711 §3.2.3: one context per SSRC);
 *     receive-side state for an SSRC is created only by a packet that authenticated.
 * Session keys are derived once (key derivation rate 0). Ownership: a context is used from the
 * Node main thread by the one media session that created it; it holds no timers or sockets.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { aesCmXor } from './aes-cm';
import { ReplayWindow } from './replay-window';
import { SrtpError } from './srtp-error';
import { SrtpIndexTracker } from './srtp-index';
import { deriveSessionKeys, type SrtpSessionKeys } from './srtp-key-derivation';
import { SRTP_SUITES, isSrtpSuiteName, type SrtpSuite, type SrtpSuiteName } from './srtp-suite';

export interface SrtpContextOptions {
  readonly suite: SrtpSuiteName;
  /** 16-byte master key. */
  readonly masterKey: Uint8Array;
  /** 14-byte master salt. */
  readonly masterSalt: Uint8Array;
  /** Master Key Identifier carried in every packet, when the key was signalled with one (SDES |MKI:len). */
  readonly mki?: Uint8Array;
  /** SRTCP tag length we send, in bytes; only AES_CM_128_HMAC_SHA1_32 allows 4 (see above). Default 10. */
  readonly rtcpTagLength?: 4 | 10;
}

export interface SrtpContext {
  readonly suite: SrtpSuiteName;
  protectRtp(packet: Uint8Array): Uint8Array;
  unprotectRtp(packet: Uint8Array): Uint8Array;
  protectRtcp(packet: Uint8Array): Uint8Array;
  unprotectRtcp(packet: Uint8Array): Uint8Array;
  /** Current rollover counter of an SSRC's SRTP stream (0 if unknown), for diagnostics. */
  rolloverCounter(ssrc: number): number;
  /** SRTCP tag length (bytes) of the last SRTCP packet that authenticated; undefined before one did. */
  readonly peerRtcpTagLength: number | undefined;
  /** Change the SRTCP tag length we send (AES_CM_128_HMAC_SHA1_32 only: 4 or 10). */
  useRtcpTagLength(length: 4 | 10): void;
}

interface RtpStreamState {
  readonly index: SrtpIndexTracker;
  readonly replay: ReplayWindow;
}

interface RtcpStreamState {
  /** Last SRTCP index sent (sender) — 0 before the first packet. */
  sentIndex: number;
  readonly replay: ReplayWindow;
}

const RTP_FIXED_HEADER = 12;
const RTCP_CLEAR_HEADER = 8;
const SRTCP_INDEX_LENGTH = 4;
const SRTCP_E_BIT = 0x80000000;
const SRTCP_INDEX_MODULUS = 0x80000000;

export function createSrtpContext(options: SrtpContextOptions): SrtpContext {
  if (!isSrtpSuiteName(options.suite)) throw new SrtpError('bad-key', `Unsupported SRTP suite "${String(options.suite)}"`);
  const suite: SrtpSuite = SRTP_SUITES[options.suite];
  if (options.masterKey.length !== suite.keyLength)
    throw new SrtpError('bad-key', `${suite.name} needs a ${suite.keyLength}-byte master key, got ${options.masterKey.length}`);
  if (options.masterSalt.length !== suite.saltLength)
    throw new SrtpError('bad-key', `${suite.name} needs a ${suite.saltLength}-byte master salt, got ${options.masterSalt.length}`);
  const mki = options.mki ? Uint8Array.from(options.mki) : new Uint8Array(0);
  // SRTCP tag lengths we accept, in the order we try them.
  const acceptedRtcpTagLengths: readonly number[] =
    suite.rtpTagLength === suite.rtcpTagLength ? [suite.rtcpTagLength] : [suite.rtcpTagLength, suite.rtpTagLength];
  let sendRtcpTagLength = checkedRtcpTagLength(options.rtcpTagLength ?? suite.rtcpTagLength);
  let peerRtcpTagLength: number | undefined;

  function checkedRtcpTagLength(length: number): number {
    if (!acceptedRtcpTagLengths.includes(length))
      throw new SrtpError('bad-key', `${suite.name} cannot send ${length}-byte SRTCP tags (allowed: ${acceptedRtcpTagLengths.join(', ')})`);
    return length;
  }

  const rtpKeys = deriveSessionKeys(options.masterKey, options.masterSalt, 'rtp', suite);
  const rtcpKeys = deriveSessionKeys(options.masterKey, options.masterSalt, 'rtcp', suite);
  const sendRtp = new Map<number, RtpStreamState>();
  const recvRtp = new Map<number, RtpStreamState>();
  const sendRtcp = new Map<number, RtcpStreamState>();
  const recvRtcp = new Map<number, RtcpStreamState>();

  function protectRtp(packet: Uint8Array): Uint8Array {
    const headerLength = rtpHeaderLength(packet);
    const view = dataView(packet);
    const seq = view.getUint16(2);
    const ssrc = view.getUint32(8);
    const state = streamState(sendRtp, ssrc);
    const estimate = state.index.estimate(seq);
    if (estimate.index < 0)
      throw new SrtpError('too-old', `SRTP protect: sequence ${seq} of SSRC ${ssrc} lies before the stream's first packet`);
    state.index.update(estimate);

    const out = new Uint8Array(packet.length + mki.length + suite.rtpTagLength);
    out.set(packet.subarray(0, headerLength), 0);
    const iv = rtpIv(rtpKeys.salt, ssrc, estimate.index);
    out.set(aesCmXor(rtpKeys.encryptionKey, iv, packet.subarray(headerLength)), headerLength);
    out.set(mki, packet.length);
    const tag = rtpTag(rtpKeys, out.subarray(0, packet.length), estimate.roc, suite.rtpTagLength);
    out.set(tag, packet.length + mki.length);
    return out;
  }

  function unprotectRtp(packet: Uint8Array): Uint8Array {
    const trailer = mki.length + suite.rtpTagLength;
    if (packet.length < RTP_FIXED_HEADER + trailer)
      throw new SrtpError('malformed', `SRTP packet of ${packet.length} bytes is shorter than header plus ${trailer}-byte trailer`);
    const authenticatedLength = packet.length - trailer;
    const headerLength = rtpHeaderLength(packet.subarray(0, authenticatedLength));
    const view = dataView(packet);
    const seq = view.getUint16(2);
    const ssrc = view.getUint32(8);
    const known = recvRtp.get(ssrc);
    const state = known ?? { index: new SrtpIndexTracker(), replay: new ReplayWindow() };
    const estimate = state.index.estimate(seq);
    if (estimate.index < 0)
      throw new SrtpError('too-old', `SRTP packet seq ${seq} of SSRC ${ssrc} is older than the stream's first packet`);
    const verdict = state.replay.check(estimate.index);
    if (verdict !== 'new')
      throw new SrtpError(verdict, `SRTP packet index ${estimate.index} (seq ${seq}) of SSRC ${ssrc} rejected: ${verdict}`);
    checkMki(packet.subarray(authenticatedLength, authenticatedLength + mki.length), 'SRTP');
    const expected = rtpTag(rtpKeys, packet.subarray(0, authenticatedLength), estimate.roc, suite.rtpTagLength);
    if (!timingSafeEqual(expected, packet.subarray(packet.length - suite.rtpTagLength)))
      throw new SrtpError('auth-failed', `SRTP authentication failed for seq ${seq} of SSRC ${ssrc} (wrong key or modified packet)`);

    const out = new Uint8Array(authenticatedLength);
    out.set(packet.subarray(0, headerLength), 0);
    const iv = rtpIv(rtpKeys.salt, ssrc, estimate.index);
    out.set(aesCmXor(rtpKeys.encryptionKey, iv, packet.subarray(headerLength, authenticatedLength)), headerLength);
    if (!known) recvRtp.set(ssrc, state);
    state.index.update(estimate);
    state.replay.accept(estimate.index);
    return out;
  }

  function protectRtcp(packet: Uint8Array): Uint8Array {
    if (packet.length < RTCP_CLEAR_HEADER)
      throw new SrtpError('malformed', `RTCP packet of ${packet.length} bytes is shorter than its 8-byte header`);
    const ssrc = dataView(packet).getUint32(4);
    let state = sendRtcp.get(ssrc);
    if (!state) {
      state = { sentIndex: 0, replay: new ReplayWindow() };
      sendRtcp.set(ssrc, state);
    }
    state.sentIndex = (state.sentIndex + 1) % SRTCP_INDEX_MODULUS;
    const index = state.sentIndex;

    const encryptedEnd = packet.length;
    const out = new Uint8Array(encryptedEnd + SRTCP_INDEX_LENGTH + mki.length + sendRtcpTagLength);
    out.set(packet.subarray(0, RTCP_CLEAR_HEADER), 0);
    const iv = rtcpIv(rtcpKeys.salt, ssrc, index);
    out.set(aesCmXor(rtcpKeys.encryptionKey, iv, packet.subarray(RTCP_CLEAR_HEADER)), RTCP_CLEAR_HEADER);
    dataView(out).setUint32(encryptedEnd, (SRTCP_E_BIT | index) >>> 0);
    const authenticatedEnd = encryptedEnd + SRTCP_INDEX_LENGTH;
    out.set(mki, authenticatedEnd);
    const tag = hmacSha1(rtcpKeys.authenticationKey, [out.subarray(0, authenticatedEnd)], sendRtcpTagLength);
    out.set(tag, authenticatedEnd + mki.length);
    return out;
  }

  function unprotectRtcp(packet: Uint8Array): Uint8Array {
    const shortest = RTCP_CLEAR_HEADER + SRTCP_INDEX_LENGTH + mki.length + Math.min(...acceptedRtcpTagLengths);
    if (packet.length < shortest)
      throw new SrtpError('malformed', `SRTCP packet of ${packet.length} bytes is shorter than the ${shortest}-byte minimum`);
    const ssrc = dataView(packet).getUint32(4);
    // Authenticate before the replay check: with two possible tag lengths the index position is
    // only known once a tag length authenticated.
    let tagLength: number | undefined;
    for (const candidate of acceptedRtcpTagLengths) {
      const end = packet.length - candidate;
      if (end - mki.length - SRTCP_INDEX_LENGTH < RTCP_CLEAR_HEADER) continue;
      const expected = hmacSha1(rtcpKeys.authenticationKey, [packet.subarray(0, end - mki.length)], candidate);
      if (timingSafeEqual(expected, packet.subarray(end))) {
        tagLength = candidate;
        break;
      }
    }
    if (tagLength === undefined)
      throw new SrtpError('auth-failed', `SRTCP authentication failed for SSRC ${ssrc} (wrong key or modified packet)`);
    const authenticatedEnd = packet.length - tagLength - mki.length;
    checkMki(packet.subarray(authenticatedEnd, authenticatedEnd + mki.length), 'SRTCP');
    const encryptedEnd = authenticatedEnd - SRTCP_INDEX_LENGTH;
    const eIndex = dataView(packet).getUint32(encryptedEnd);
    const encrypted = (eIndex & SRTCP_E_BIT) !== 0;
    const index = eIndex & 0x7fffffff;

    const known = recvRtcp.get(ssrc);
    const state = known ?? { sentIndex: 0, replay: new ReplayWindow() };
    const verdict = state.replay.check(index);
    if (verdict !== 'new')
      throw new SrtpError(verdict, `SRTCP packet index ${index} of SSRC ${ssrc} rejected: ${verdict}`);

    const out = new Uint8Array(encryptedEnd);
    out.set(packet.subarray(0, RTCP_CLEAR_HEADER), 0);
    const body = packet.subarray(RTCP_CLEAR_HEADER, encryptedEnd);
    out.set(encrypted ? aesCmXor(rtcpKeys.encryptionKey, rtcpIv(rtcpKeys.salt, ssrc, index), body) : body, RTCP_CLEAR_HEADER);
    if (!known) recvRtcp.set(ssrc, state);
    state.replay.accept(index);
    peerRtcpTagLength = tagLength;
    return out;
  }

  function checkMki(received: Uint8Array, what: string): void {
    if (mki.length > 0 && !timingSafeEqual(received, mki))
      throw new SrtpError('unknown-mki', `${what} packet carries MKI ${hex(received)}, expected ${hex(mki)}`);
  }

  return {
    suite: suite.name,
    protectRtp,
    unprotectRtp,
    protectRtcp,
    unprotectRtcp,
    rolloverCounter: (ssrc) => (recvRtp.get(ssrc) ?? sendRtp.get(ssrc))?.index.rolloverCounter ?? 0,
    get peerRtcpTagLength() {
      return peerRtcpTagLength;
    },
    useRtcpTagLength(length) {
      sendRtcpTagLength = checkedRtcpTagLength(length);
    },
  };
}

function streamState(map: Map<number, RtpStreamState>, ssrc: number): RtpStreamState {
  let state = map.get(ssrc);
  if (!state) {
    state = { index: new SrtpIndexTracker(), replay: new ReplayWindow() };
    map.set(ssrc, state);
  }
  return state;
}

/** Length of the RTP header incl. CSRC list and header extension; throws 'malformed' if it overruns. */
function rtpHeaderLength(packet: Uint8Array): number {
  if (packet.length < RTP_FIXED_HEADER)
    throw new SrtpError('malformed', `RTP packet of ${packet.length} bytes is shorter than the 12-byte header`);
  const first = packet[0]!;
  if (first >> 6 !== 2) throw new SrtpError('malformed', `RTP version ${first >> 6} is not 2`);
  let length = RTP_FIXED_HEADER + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (packet.length < length + 4)
      throw new SrtpError('malformed', `RTP header extension starts beyond the ${packet.length}-byte packet`);
    length += 4 + dataView(packet).getUint16(length + 2) * 4;
  }
  if (length > packet.length)
    throw new SrtpError('malformed', `RTP header of ${length} bytes overruns the ${packet.length}-byte packet`);
  return length;
}

/** IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), RFC 3711 §4.1.1. */
function rtpIv(salt: Uint8Array, ssrc: number, index: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(salt, 0);
  const view = dataView(iv);
  view.setUint32(4, (view.getUint32(4) ^ ssrc) >>> 0);
  // 48-bit index in bytes 8..13: high 16 bits, then low 32 bits.
  view.setUint16(8, view.getUint16(8) ^ Math.floor(index / 0x100000000));
  view.setUint32(10, (view.getUint32(10) ^ index) >>> 0);
  return iv;
}

/** SRTCP uses the same IV form with the 31-bit SRTCP index in place of i. */
function rtcpIv(salt: Uint8Array, ssrc: number, index: number): Uint8Array {
  return rtpIv(salt, ssrc, index);
}

function rtpTag(keys: SrtpSessionKeys, authenticated: Uint8Array, roc: number, length: number): Uint8Array {
  const rocBytes = new Uint8Array(4);
  dataView(rocBytes).setUint32(0, roc >>> 0);
  return hmacSha1(keys.authenticationKey, [authenticated, rocBytes], length);
}

function hmacSha1(key: Uint8Array, parts: readonly Uint8Array[], length: number): Uint8Array {
  const hmac = createHmac('sha1', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest().subarray(0, length);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
