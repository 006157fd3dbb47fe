/**
 * AES in Counter Mode as SRTP defines it (RFC 3711 §4.1.1).
 *
 * Contract: the keystream for a 16-byte IV is AES_k(IV), AES_k(IV + 1), AES_k(IV + 2), … where
 * "+" is addition modulo 2^128 on the big-endian IV. That is exactly what OpenSSL's `aes-128-ctr`
 * does, so node:crypto is used directly; encrypting zeros yields the raw keystream.
 * Encryption and decryption are the same XOR operation.
 */
import { createCipheriv } from 'node:crypto';

const BLOCK = 16;

/** `length` bytes of AES-CM keystream starting at counter block `iv`. */
export function aesCmKeystream(key: Uint8Array, iv: Uint8Array, length: number): Uint8Array {
  return aesCmXor(key, iv, new Uint8Array(length));
}

/** XOR `data` with the AES-CM keystream for (`key`, `iv`); returns a new array. */
export function aesCmXor(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (iv.length !== BLOCK) throw new RangeError(`AES-CM IV must be ${BLOCK} bytes, got ${iv.length}`);
  const algorithm = key.length === 16 ? 'aes-128-ctr' : key.length === 32 ? 'aes-256-ctr' : undefined;
  if (algorithm === undefined) throw new RangeError(`AES-CM key must be 16 or 32 bytes, got ${key.length}`);
  const cipher = createCipheriv(algorithm, key, iv);
  const out = cipher.update(data);
  const rest = cipher.final();
  if (rest.length !== 0) throw new Error('AES-CM: counter mode produced trailing bytes');
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
