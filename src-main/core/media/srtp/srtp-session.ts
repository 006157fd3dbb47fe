/**
 * The SRTP layer of one call's media stream: our key protects what we send, the peer's key
 * unprotects what we receive (SDES gives each direction its own master key, RFC 4568 §6.1).
 *
 * Contract (what the media session calls, all synchronous, Node main thread):
 *   protectRtp / protectRtcp     outgoing plain packet → packet to put on the wire
 *   unprotectRtp / unprotectRtcp incoming wire packet → plain packet; throws SrtpError (drop the
 *                                packet and count `error.reason`, never tear the call down for one)
 * The SRTCP tag length we send for AES_CM_128_HMAC_SHA1_32 follows the peer's as soon as one of
 * its SRTCP packets authenticated (see srtp-context.ts for why stacks differ).
 */
import { createSrtpContext, type SrtpContext } from './srtp-context';
import { mkiBytes, type SdesKey } from './sdes';
import type { SrtpSuiteName } from './srtp-suite';

export interface SrtpKeyMaterial {
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
  readonly mki?: Uint8Array;
}

export interface SrtpSessionOptions {
  readonly suite: SrtpSuiteName;
  /** Our key: the one we put in our a=crypto line. */
  readonly local: SrtpKeyMaterial;
  /** The peer's key: the one from its a=crypto line. */
  readonly remote: SrtpKeyMaterial;
}

export interface SrtpSession {
  readonly suite: SrtpSuiteName;
  protectRtp(packet: Uint8Array): Uint8Array;
  protectRtcp(packet: Uint8Array): Uint8Array;
  unprotectRtp(packet: Uint8Array): Uint8Array;
  unprotectRtcp(packet: Uint8Array): Uint8Array;
}

export function createSrtpSession(options: SrtpSessionOptions): SrtpSession {
  const outbound: SrtpContext = createSrtpContext({ suite: options.suite, ...options.local });
  const inbound: SrtpContext = createSrtpContext({ suite: options.suite, ...options.remote });
  return {
    suite: options.suite,
    protectRtp: (packet) => outbound.protectRtp(packet),
    protectRtcp: (packet) => outbound.protectRtcp(packet),
    unprotectRtp: (packet) => inbound.unprotectRtp(packet),
    unprotectRtcp(packet) {
      const plain = inbound.unprotectRtcp(packet);
      const peerLength = inbound.peerRtcpTagLength;
      if (peerLength === 4 || peerLength === 10) outbound.useRtcpTagLength(peerLength);
      return plain;
    },
  };
}

/** Session options from a negotiated SDES keying (see srtp-policy.ts). */
export function srtpSessionOptionsFromSdes(keying: {
  readonly suite: SrtpSuiteName;
  readonly local: { readonly key: SdesKey };
  readonly remote: { readonly key: SdesKey };
}): SrtpSessionOptions {
  const material = (key: SdesKey): SrtpKeyMaterial => ({
    masterKey: key.masterKey,
    masterSalt: key.masterSalt,
    ...(key.mki ? { mki: mkiBytes(key.mki) } : {}),
  });
  return { suite: keying.suite, local: material(keying.local.key), remote: material(keying.remote.key) };
}
