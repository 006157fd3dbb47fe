/**
 * SRTP session key derivation (RFC 3711 §4.3) with key derivation rate 0.
 *
 * Contract:
 *   key_id = label (8 bits) || r (48 bits), r = index DIV kdr = 0 because kdr = 0
 *   x      = key_id XOR master_salt   (key_id right-aligned in the 112-bit salt)
 *   output = first `length` bytes of AES-CM(master_key, IV = x · 2^16)
 * kdr = 0 means session keys are derived once per master key and never change with the packet
 * index; SDES (RFC 4568) offers only use the default KDR of 0 in practice, and we refuse offers
 * that ask for another KDR (see sdes.ts) rather than derive keys wrongly.
 */
import { aesCmKeystream } from './aes-cm';

/** Key derivation labels, RFC 3711 §4.3.1 and §4.3.2. */
export const SrtpKeyLabel = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;
export type SrtpKeyLabel = (typeof SrtpKeyLabel)[keyof typeof SrtpKeyLabel];

export function deriveSessionKey(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: SrtpKeyLabel,
  length: number,
): Uint8Array {
  if (masterSalt.length !== 14) throw new RangeError(`SRTP master salt must be 14 bytes, got ${masterSalt.length}`);
  const iv = new Uint8Array(16);
  iv.set(masterSalt, 0);
  // key_id occupies the low 56 bits of the 112-bit value: its label byte lands on salt byte 7.
  // The 48-bit r is zero (kdr = 0), so bytes 8..13 stay the salt's own.
  iv[7] ^= label;
  return aesCmKeystream(masterKey, iv, length);
}

export interface SrtpSessionKeys {
  readonly encryptionKey: Uint8Array;
  readonly authenticationKey: Uint8Array;
  readonly salt: Uint8Array;
}

/** The three session keys for SRTP (RTP) or SRTCP. */
export function deriveSessionKeys(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  kind: 'rtp' | 'rtcp',
  lengths: { keyLength: number; authKeyLength: number; saltLength: number },
): SrtpSessionKeys {
  const rtp = kind === 'rtp';
  return {
    encryptionKey: deriveSessionKey(
      masterKey,
      masterSalt,
      rtp ? SrtpKeyLabel.rtpEncryption : SrtpKeyLabel.rtcpEncryption,
      lengths.keyLength,
    ),
    authenticationKey: deriveSessionKey(
      masterKey,
      masterSalt,
      rtp ? SrtpKeyLabel.rtpAuthentication : SrtpKeyLabel.rtcpAuthentication,
      lengths.authKeyLength,
    ),
    salt: deriveSessionKey(masterKey, masterSalt, rtp ? SrtpKeyLabel.rtpSalt : SrtpKeyLabel.rtcpSalt, lengths.saltLength),
  };
}
