// RFC 4568 a=crypto parsing/building and suite choice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SdesError,
  buildCryptoLine,
  chooseOfferedCrypto,
  generateSdesKey,
  mkiBytes,
  parseCryptoLine,
} from '../../../src-main/core/media/srtp/sdes';

// RFC 4568 §4 example key (30 bytes).
const RFC_KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

describe('parseCryptoLine', () => {
  test('RFC 4568 §4 example with lifetime and MKI', () => {
    const c = parseCryptoLine(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4`);
    assert.equal(c.tag, 1);
    assert.equal(c.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(c.key.masterKey.length, 16);
    assert.equal(c.key.masterSalt.length, 14);
    const raw = Buffer.from(RFC_KEY, 'base64');
    assert.deepEqual(Buffer.from(c.key.masterKey), raw.subarray(0, 16));
    assert.deepEqual(Buffer.from(c.key.masterSalt), raw.subarray(16));
    assert.equal(c.key.lifetime, 2 ** 20);
    assert.deepEqual(c.key.mki, { value: 1, length: 4 });
    assert.equal(c.unsupportedReason, undefined);
  });

  test('accepts "crypto:" and bare values, decimal lifetime, WSH and "-" prefixed params', () => {
    const c = parseCryptoLine(`crypto:7 AES_CM_128_HMAC_SHA1_32 inline:${RFC_KEY}|1048576 WSH=128 -vendor_thing`);
    assert.equal(c.tag, 7);
    assert.equal(c.key.lifetime, 1048576);
    assert.equal(c.unsupportedReason, undefined);
    assert.equal(parseCryptoLine(`3 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`).tag, 3);
  });

  test('unknown suites parse but are flagged unusable', () => {
    const c = parseCryptoLine('a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:8AbZePWwsKhLGX3GlXA+yHYPQ3cgraer/9DkFJYCOPZZy3o9wC0NIbIFYZfyHw==');
    assert.equal(c.suite, undefined);
    assert.match(c.unsupportedReason ?? '', /AES_256_CM_HMAC_SHA1_80 is not supported/);
  });

  test('transform-changing session parameters are flagged unusable', () => {
    for (const param of ['UNENCRYPTED_SRTP', 'UNENCRYPTED_SRTCP', 'UNAUTHENTICATED_SRTP', 'KDR=24', 'FEC_KEY=x', 'FOO_BAR']) {
      const c = parseCryptoLine(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY} ${param}`);
      assert.ok(c.unsupportedReason, `${param} should be unsupported`);
    }
    assert.equal(parseCryptoLine(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY} KDR=0`).unsupportedReason, undefined);
  });

  const malformed: [string, RegExp][] = [
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80`, /needs "<tag> <crypto-suite> <key-params>"/],
    [`a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`, /tag "x"/],
    [`a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`, /1 to 9 digits/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:${RFC_KEY}`, /key method "uri"/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:not*base64`, /not valid base64/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY.slice(0, 36)}`, /must decode to 30 bytes.*got 27/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^x`, /lifetime "2\^x"/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:0`, /MKI length 0/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|256:1`, /does not fit in 1 byte/],
    [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:4|2^20`, /lifetime .* must come before the MKI/],
  ];
  for (const [line, message] of malformed)
    test(`rejects: ${line}`, () => {
      assert.throws(() => parseCryptoLine(line), (e: unknown) => e instanceof SdesError && message.test(e.message));
    });
});

describe('buildCryptoLine / generateSdesKey', () => {
  test('round-trips through the parser with lifetime and MKI', () => {
    const key = generateSdesKey('AES_CM_128_HMAC_SHA1_80');
    const line = buildCryptoLine({ tag: 4, suite: 'AES_CM_128_HMAC_SHA1_80', ...key, lifetime: 2 ** 31, mki: { value: 5, length: 2 } });
    assert.match(line, /^a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}\|2\^31\|5:2$/);
    const parsed = parseCryptoLine(line);
    assert.deepEqual(parsed.key.masterKey, key.masterKey);
    assert.deepEqual(parsed.key.masterSalt, key.masterSalt);
    assert.equal(parsed.key.lifetime, 2 ** 31);
    assert.deepEqual(mkiBytes(parsed.key.mki!), new Uint8Array([0, 5]));
  });

  test('keys are random', () => {
    const a = generateSdesKey('AES_CM_128_HMAC_SHA1_32');
    const b = generateSdesKey('AES_CM_128_HMAC_SHA1_32');
    assert.notDeepEqual(a.masterKey, b.masterKey);
    assert.notDeepEqual(a.masterSalt, b.masterSalt);
  });

  test('refuses wrong key lengths', () => {
    assert.throws(
      () => buildCryptoLine({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16), masterSalt: new Uint8Array(12) }),
      SdesError,
    );
  });
});

describe('chooseOfferedCrypto', () => {
  const line = (tag: number, suite: string, extra = ''): string => `a=crypto:${tag} ${suite} inline:${RFC_KEY}${extra}`;

  test('prefers SHA1_80 even when offered second', () => {
    const { chosen } = chooseOfferedCrypto([line(1, 'AES_CM_128_HMAC_SHA1_32'), line(2, 'AES_CM_128_HMAC_SHA1_80')]);
    assert.equal(chosen?.tag, 2);
  });

  test('skips unknown suites, malformed lines and unsupported params, and says why', () => {
    const { chosen, skipped } = chooseOfferedCrypto([
      'a=crypto:1 AEAD_AES_256_GCM inline:CRYPTO256SAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==',
      line(2, 'AES_CM_128_HMAC_SHA1_80', ' UNENCRYPTED_SRTP'),
      'a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=',
      line(4, 'AES_CM_128_HMAC_SHA1_32'),
    ]);
    assert.equal(chosen?.tag, 4);
    assert.deepEqual(
      skipped.map((s) => s.reason.replace(/ \(.*$/, '')),
      [
        'crypto suite AEAD_AES_256_GCM is not supported',
        'session parameter UNENCRYPTED_SRTP is not supported',
        'a=crypto AES_CM_128_HMAC_SHA1_80 key must decode to 30 bytes',
      ],
    );
  });

  test('nothing usable → no choice', () => {
    assert.equal(chooseOfferedCrypto(['a=crypto:1 F8_128_HMAC_SHA1_80 inline:' + RFC_KEY]).chosen, undefined);
  });
});
