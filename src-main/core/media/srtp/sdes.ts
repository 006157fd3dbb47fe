/**
 * SDP Security Descriptions (SDES, RFC 4568): the `a=crypto` attribute.
 *
 *   a=crypto:<tag> <crypto-suite> inline:<base64(key ‖ salt)>[|<lifetime>][|<MKI>:<MKI length>][;inline:…] [<session-params>]
 *
 * Contract:
 *   - parseCryptoLine accepts "a=crypto:…", "crypto:…" or the bare value and returns the
 *     attribute, or throws SdesError naming what is wrong (tag, key method, base64, key length,
 *     lifetime, MKI). Unknown suite NAMES are not an error (an offer may list suites we lack);
 *     for them the key is kept undecoded-length-checked and `supported` says why not usable.
 *   - Only the first key-param is used (multiple keys per line are an MKI rotation scheme we do not
 *     run); further ones are still syntax-checked.
 *   - Session parameters that change the transform (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP,
 *     UNAUTHENTICATED_SRTP, KDR≠0, FEC_KEY, FEC_ORDER other than FEC_SRTP, unknown ones without the
 *     "-" prefix of RFC 4568 §6.3.7) make the line unusable for us, reported in `unsupportedReason`.
 *     WSH (window size hint) is accepted; we keep the RFC 3711 minimum window of 64.
 *   - Lifetimes are parsed and kept but not enforced: 2^31 packets at 50 packets/s is > 1 year.
 *   - buildCryptoLine produces "a=crypto:…" (no CRLF); generateSdesKey draws key and salt from
 *     crypto.randomBytes.
 */
import { randomBytes } from 'node:crypto';
import { SRTP_SUITES, SRTP_SUITE_PREFERENCE, isSrtpSuiteName, type SrtpSuiteName } from './srtp-suite';

export class SdesError extends Error {
  override readonly name = 'SdesError';
}

export interface SdesMki {
  /** MKI value as an integer. */
  readonly value: number;
  /** MKI length in bytes on the wire (1..128). */
  readonly length: number;
}

export interface SdesKey {
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
  /** Master key lifetime in packets, when given. */
  readonly lifetime?: number;
  readonly mki?: SdesMki;
}

export interface SdesCrypto {
  readonly tag: number;
  /** Suite name as written in SDP. */
  readonly suiteName: string;
  /** The suite when we implement it, else undefined. */
  readonly suite: SrtpSuiteName | undefined;
  /** First key; for unsupported suites masterKey holds the whole decoded key-salt and masterSalt is empty. */
  readonly key: SdesKey;
  readonly sessionParams: readonly string[];
  /** Why we cannot use this line (unknown suite, transform-changing session parameter), or undefined. */
  readonly unsupportedReason: string | undefined;
}

const MAX_TAG = 999_999_999;

export function parseCryptoLine(line: string): SdesCrypto {
  const value = line
    .trim()
    .replace(/^a=/, '')
    .replace(/^crypto:/, '');
  const fields = value.split(/[ \t]+/).filter((f) => f.length > 0);
  if (fields.length < 3)
    throw new SdesError(`a=crypto line "${line}" needs "<tag> <crypto-suite> <key-params>", found ${fields.length} field(s)`);
  const [tagText, suiteName, keyParams, ...sessionParams] = fields as [string, string, string, ...string[]];
  if (!/^[0-9]{1,9}$/.test(tagText) || Number(tagText) > MAX_TAG)
    throw new SdesError(`a=crypto tag "${tagText}" is not a decimal number of 1 to 9 digits`);
  if (!/^[A-Za-z0-9_]+$/.test(suiteName)) throw new SdesError(`a=crypto suite name "${suiteName}" has invalid characters`);
  const suite = isSrtpSuiteName(suiteName) ? suiteName : undefined;

  const keys = keyParams.split(';').map((keyParam) => parseKeyParam(keyParam, suite));
  const key = keys[0]!;

  return {
    tag: Number(tagText),
    suiteName,
    suite,
    key,
    sessionParams,
    unsupportedReason:
      suite === undefined ? `crypto suite ${suiteName} is not supported` : unsupportedSessionParam(sessionParams),
  };
}

function parseKeyParam(keyParam: string, suite: SrtpSuiteName | undefined): SdesKey {
  const colon = keyParam.indexOf(':');
  const method = colon < 0 ? keyParam : keyParam.slice(0, colon);
  if (method !== 'inline') throw new SdesError(`a=crypto key method "${method}" is not "inline" (the only one RFC 4568 defines)`);
  const [keySalt = '', ...extras] = keyParam.slice(colon + 1).split('|');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keySalt) || keySalt.length % 4 === 1)
    throw new SdesError(`a=crypto inline key "${keySalt}" is not valid base64`);
  const decoded = new Uint8Array(Buffer.from(keySalt, 'base64'));

  let lifetime: number | undefined;
  let mki: SdesMki | undefined;
  if (extras.length > 2) throw new SdesError(`a=crypto key has ${extras.length} "|" fields; at most lifetime and MKI are allowed`);
  for (const extra of extras) {
    if (extra.includes(':')) {
      if (mki) throw new SdesError(`a=crypto key has two MKI fields`);
      const match = /^([0-9]{1,20}):([0-9]{1,3})$/.exec(extra);
      if (!match) throw new SdesError(`a=crypto MKI "${extra}" is not "<value>:<length>"`);
      const length = Number(match[2]);
      const mkiValue = Number(match[1]);
      if (length < 1 || length > 128) throw new SdesError(`a=crypto MKI length ${length} is outside 1..128 bytes`);
      if (!Number.isSafeInteger(mkiValue) || (length < 7 && mkiValue >= 2 ** (8 * length)))
        throw new SdesError(`a=crypto MKI value ${match[1]} does not fit in ${length} byte(s)`);
      mki = { value: mkiValue, length };
    } else {
      if (mki) throw new SdesError(`a=crypto lifetime "${extra}" must come before the MKI`);
      if (lifetime !== undefined) throw new SdesError(`a=crypto key has two lifetime fields`);
      const power = /^2\^([0-9]{1,2})$/.exec(extra);
      if (power) lifetime = 2 ** Number(power[1]);
      else if (/^[0-9]{1,16}$/.test(extra)) lifetime = Number(extra);
      else throw new SdesError(`a=crypto lifetime "${extra}" is neither a number nor "2^n"`);
      if (lifetime < 1) throw new SdesError(`a=crypto lifetime must be at least 1 packet`);
    }
  }

  if (suite === undefined) return { masterKey: decoded, masterSalt: new Uint8Array(0), lifetime, mki };
  const { keyLength, saltLength } = SRTP_SUITES[suite];
  if (decoded.length !== keyLength + saltLength)
    throw new SdesError(
      `a=crypto ${suite} key must decode to ${keyLength + saltLength} bytes (key + salt), got ${decoded.length}`,
    );
  return {
    masterKey: decoded.slice(0, keyLength),
    masterSalt: decoded.slice(keyLength),
    ...(lifetime !== undefined ? { lifetime } : {}),
    ...(mki ? { mki } : {}),
  };
}

function unsupportedSessionParam(params: readonly string[]): string | undefined {
  for (const param of params) {
    const [name = '', value] = param.split('=', 2);
    switch (name) {
      case 'UNENCRYPTED_SRTP':
      case 'UNENCRYPTED_SRTCP':
      case 'UNAUTHENTICATED_SRTP':
      case 'FEC_KEY':
        return `session parameter ${name} is not supported`;
      case 'KDR':
        if (value !== '0') return `key derivation rate KDR=${value ?? ''} is not supported (only 0)`;
        break;
      case 'FEC_ORDER':
        if (value !== 'FEC_SRTP') return `session parameter FEC_ORDER=${value ?? ''} is not supported`;
        break;
      case 'WSH':
        break;
      default:
        if (!name.startsWith('-')) return `unknown session parameter ${param}`;
    }
  }
  return undefined;
}

export interface BuildCryptoOptions {
  readonly tag: number;
  readonly suite: SrtpSuiteName;
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
  readonly lifetime?: number;
  readonly mki?: SdesMki;
}

/** "a=crypto:<tag> <suite> inline:<base64>[|2^n|lifetime][|mki:len]" */
export function buildCryptoLine(options: BuildCryptoOptions): string {
  const suite = SRTP_SUITES[options.suite];
  if (!suite) throw new SdesError(`Cannot build a=crypto for unsupported suite "${String(options.suite)}"`);
  if (!Number.isInteger(options.tag) || options.tag < 0 || options.tag > MAX_TAG)
    throw new SdesError(`a=crypto tag ${options.tag} is not an integer in 0..${MAX_TAG}`);
  if (options.masterKey.length !== suite.keyLength || options.masterSalt.length !== suite.saltLength)
    throw new SdesError(
      `${suite.name} needs a ${suite.keyLength}-byte key and ${suite.saltLength}-byte salt, got ${options.masterKey.length} and ${options.masterSalt.length}`,
    );
  let inline = Buffer.concat([options.masterKey, options.masterSalt]).toString('base64');
  if (options.lifetime !== undefined) {
    const exponent = Math.log2(options.lifetime);
    inline += '|' + (Number.isInteger(exponent) ? `2^${exponent}` : String(options.lifetime));
  }
  if (options.mki) inline += `|${options.mki.value}:${options.mki.length}`;
  return `a=crypto:${options.tag} ${suite.name} inline:${inline}`;
}

/** A fresh random master key and salt for `suite`. */
export function generateSdesKey(suite: SrtpSuiteName): { masterKey: Uint8Array; masterSalt: Uint8Array } {
  const { keyLength, saltLength } = SRTP_SUITES[suite];
  return {
    masterKey: new Uint8Array(randomBytes(keyLength)),
    masterSalt: new Uint8Array(randomBytes(saltLength)),
  };
}

/** MKI as the bytes carried in each packet (big-endian, `length` bytes). */
export function mkiBytes(mki: SdesMki): Uint8Array {
  const bytes = new Uint8Array(mki.length);
  let value = BigInt(mki.value);
  for (let i = mki.length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

export interface CryptoChoice {
  /** The offered line we use, or undefined when none is usable. */
  readonly chosen: SdesCrypto | undefined;
  /** Every line we did not use and why (malformed, unsupported suite/parameter). */
  readonly skipped: readonly { readonly line: string; readonly reason: string }[];
}

/**
 * Pick the offered crypto line to answer: the first usable line of our most preferred suite
 * (ties broken by offer order, which is the offerer's preference, RFC 4568 §7.1.1).
 * Malformed lines are skipped, not fatal: an offer may still carry a usable alternative.
 */
export function chooseOfferedCrypto(
  lines: readonly string[],
  preference: readonly SrtpSuiteName[] = SRTP_SUITE_PREFERENCE,
): CryptoChoice {
  const usable: { line: string; crypto: SdesCrypto }[] = [];
  const skipped: { line: string; reason: string }[] = [];
  for (const line of lines) {
    let crypto: SdesCrypto;
    try {
      crypto = parseCryptoLine(line);
    } catch (error) {
      if (!(error instanceof SdesError)) throw error;
      skipped.push({ line, reason: error.message });
      continue;
    }
    if (crypto.unsupportedReason !== undefined || crypto.suite === undefined || !preference.includes(crypto.suite))
      skipped.push({ line, reason: crypto.unsupportedReason ?? `crypto suite ${crypto.suiteName} is not in our preference list` });
    else usable.push({ line, crypto });
  }
  let chosen: { line: string; crypto: SdesCrypto } | undefined;
  for (const suite of preference) {
    chosen = usable.find((u) => u.crypto.suite === suite);
    if (chosen) break;
  }
  for (const entry of usable) if (entry !== chosen) skipped.push({ line: entry.line, reason: 'a more preferred suite was chosen' });
  return { chosen: chosen?.crypto, skipped };
}
