/**
 * SRTP crypto suites we implement (RFC 4568 §6.2 names, RFC 3711 transforms).
 *
 * Both suites use AES-128 in counter mode (AES-CM) with a 128-bit master key and a 112-bit master
 * salt, and HMAC-SHA1 for authentication. They differ only in the SRTP (RTP) tag length:
 *   AES_CM_128_HMAC_SHA1_80 → 80-bit tag on SRTP and SRTCP
 *   AES_CM_128_HMAC_SHA1_32 → 32-bit tag on SRTP, but still 80-bit on SRTCP (RFC 4568 §6.2.2:
 *                             "the SRTCP authentication tag length is 80 bits" for this suite)
 */
export type SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SrtpSuite {
  readonly name: SrtpSuiteName;
  /** Master (and session) encryption key length in bytes. */
  readonly keyLength: 16;
  /** Master (and session) salt length in bytes. */
  readonly saltLength: 14;
  /** Session authentication key length in bytes (HMAC-SHA1 key, RFC 3711 §8.2: n_a = 160). */
  readonly authKeyLength: 20;
  /** Authentication tag length appended to SRTP packets, in bytes. */
  readonly rtpTagLength: number;
  /** Authentication tag length appended to SRTCP packets, in bytes. */
  readonly rtcpTagLength: number;
}

export const SRTP_SUITES: Readonly<Record<SrtpSuiteName, SrtpSuite>> = {
  AES_CM_128_HMAC_SHA1_80: {
    name: 'AES_CM_128_HMAC_SHA1_80',
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    rtpTagLength: 10,
    rtcpTagLength: 10,
  },
  AES_CM_128_HMAC_SHA1_32: {
    name: 'AES_CM_128_HMAC_SHA1_32',
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    rtpTagLength: 4,
    rtcpTagLength: 10,
  },
};

/** Our preference order when choosing from an offer and when offering: strongest tag first. */
export const SRTP_SUITE_PREFERENCE: readonly SrtpSuiteName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
];

export function isSrtpSuiteName(name: string): name is SrtpSuiteName {
  return Object.prototype.hasOwnProperty.call(SRTP_SUITES, name);
}
