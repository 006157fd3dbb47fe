// Published SRTP/SRTCP vectors: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key
// derivation), libsrtp's srtp_validate() reference packets, and the pylibsrtp-compatible vectors
// with an all-zero key (which pin down the 32-bit-tag SRTCP variant).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCmKeystream } from '../../../src-main/core/media/srtp/aes-cm';
import { SrtpKeyLabel, deriveSessionKey } from '../../../src-main/core/media/srtp/srtp-key-derivation';
import { createSrtpContext } from '../../../src-main/core/media/srtp/srtp-context';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

describe('RFC 3711 B.2 AES-CM keystream', () => {
  const sessionKey = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const keystream = aesCmKeystream(sessionKey, iv, 0xff02 * 16);
  const block = (n: number): string => toHex(keystream.subarray(n * 16, n * 16 + 16));

  test('first counter blocks match', () => {
    assert.equal(block(0x0000), 'E03EAD0935C95E80E166B16DD92B4EB4');
    assert.equal(block(0x0001), 'D23513162B02D0F72A43A2FE4A5F97AB');
    assert.equal(block(0x0002), '41E95B3BB0A2E8DD477901E4FCA894C0');
  });

  test('blocks across the 16-bit counter carry match', () => {
    assert.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
    assert.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
    assert.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
  });
});

describe('RFC 3711 B.3 key derivation', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');

  test('cipher key (label 0)', () => {
    assert.equal(toHex(deriveSessionKey(masterKey, masterSalt, SrtpKeyLabel.rtpEncryption, 16)), 'C61E7A93744F39EE10734AFE3FF7A087');
  });

  test('cipher salt (label 2)', () => {
    assert.equal(toHex(deriveSessionKey(masterKey, masterSalt, SrtpKeyLabel.rtpSalt, 14)), '30CBBC08863D8C85D49DB34A9AE1');
  });

  test('authentication key keystream (label 1), all 94 listed bytes', () => {
    assert.equal(
      toHex(deriveSessionKey(masterKey, masterSalt, SrtpKeyLabel.rtpAuthentication, 94)),
      'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE' +
        'E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25' +
        '6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
    );
  });
});

describe('libsrtp srtp_validate() reference packets', () => {
  const masterKey = hex('e1f97a0d3e018be0d64fa32c06de4139');
  const masterSalt = hex('0ec675ad498afeebb6960b3aabe6');
  const rtp = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
  const srtp80 = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
  const srtp32 = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc');
  const rtcp = hex('81c8000bcafebabe' + 'ab'.repeat(16));
  const srtcp = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');

  test('AES_CM_128_HMAC_SHA1_80 protects RTP byte-exactly and unprotects it back', () => {
    const sender = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.equal(toHex(sender.protectRtp(rtp)), toHex(srtp80));
    const receiver = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.equal(toHex(receiver.unprotectRtp(srtp80)), toHex(rtp));
  });

  test('AES_CM_128_HMAC_SHA1_32 carries the first 4 bytes of the same HMAC', () => {
    const sender = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey, masterSalt });
    assert.equal(toHex(sender.protectRtp(rtp)), toHex(srtp32));
    const receiver = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey, masterSalt });
    assert.equal(toHex(receiver.unprotectRtp(srtp32)), toHex(rtp));
  });

  test('SRTCP with E-bit and index 1 matches byte-exactly, both directions', () => {
    const sender = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.equal(toHex(sender.protectRtcp(rtcp)), toHex(srtcp));
    const receiver = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.equal(toHex(receiver.unprotectRtcp(srtcp)), toHex(rtcp));
  });

  test('AES_CM_128_HMAC_SHA1_32 sends an 80-bit SRTCP tag by default (libsrtp/pjsip/RFC 5764)', () => {
    const sender = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey, masterSalt });
    assert.equal(toHex(sender.protectRtcp(rtcp)), toHex(srtcp));
  });
});

describe('all-zero key vectors (pylibsrtp / libre-style 32-bit SRTCP tag)', () => {
  const masterKey = new Uint8Array(16);
  const masterSalt = new Uint8Array(14);
  const rtp = hex(
    '8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976697361' + '20696e2070617274657320747265 73',
  );
  const srtp = hex(
    '8040f17b8041f8d35501a0b2f82900a99893e1a918a9ba8cc1241874cb648b7bedb594fb7635a15d' +
      '100320ea03d40e1b17747f4549bc572272c55413',
  );
  const rtcp = hex('81c80005deadbeef' + '00'.repeat(20));
  const srtcp = hex('81c80005deadbeefbcddb2a1807f8ee7a890d503ef23d91b0bdeae8a80000001329c05e0a130307f0b1e');

  test('SHA1_80 RTP and RTCP', () => {
    const ctx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.equal(toHex(ctx.protectRtp(rtp)), toHex(srtp));
    assert.equal(toHex(ctx.protectRtcp(rtcp)), toHex(srtcp));
  });

  test('SHA1_32 with 4-byte SRTCP tags when asked, and a default receiver accepts those tags', () => {
    const ctx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey, masterSalt, rtcpTagLength: 4 });
    assert.equal(toHex(ctx.protectRtp(rtp)), toHex(srtp.subarray(0, srtp.length - 6)));
    const shortTagged = srtcp.subarray(0, srtcp.length - 6);
    assert.equal(toHex(ctx.protectRtcp(rtcp)), toHex(shortTagged));

    const receiver = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', masterKey, masterSalt });
    assert.equal(toHex(receiver.unprotectRtcp(shortTagged)), toHex(rtcp));
    assert.equal(receiver.peerRtcpTagLength, 4);
    assert.equal(toHex(receiver.unprotectRtp(srtp.subarray(0, srtp.length - 6))), toHex(rtp));
  });

  test('SHA1_80 does not accept a 4-byte SRTCP tag', () => {
    const receiver = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    assert.throws(() => receiver.unprotectRtcp(srtcp.subarray(0, srtcp.length - 6)), { reason: 'auth-failed' });
  });
});
