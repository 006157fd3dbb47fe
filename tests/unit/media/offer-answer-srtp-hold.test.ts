// Offer/answer with SDES-SRTP policies and hold directions (RFC 3264 s. 6.1/8.4, RFC 4568):
// what ends up in the SDP we send and in the NegotiatedAudio the media session acts on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecRegistry } from '../../../src-main/core/media/codecs/codec-registry';
import { registerBuiltinCodecs } from '../../../src-main/core/media/codecs/builtin-codecs';
import { answerOffer, createOffer, negotiateAnswer, SdpNegotiationError, type LocalMediaOptions } from '../../../src-main/core/media/sdp/offer-answer';
import { parseSdp, serializeSdp } from '../../../src-main/core/media/sdp/sdp';
import { buildOutgoingOffer, type SrtpPolicy } from '../../../src-main/core/media/srtp/srtp-policy';

const registry = new CodecRegistry();
registerBuiltinCodecs(registry);
const pcmu = registry.preferred(['PCMU']);
const local = (over: Partial<LocalMediaOptions> = {}): LocalMediaOptions => ({
  address: '127.0.0.1',
  port: 40000,
  codecs: pcmu,
  origin: { username: '-', sessionId: '42', sessionVersion: '42' },
  ...over,
});
const KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
function peer(profile: string, attributes: string[] = [], c = '127.0.0.2'): string {
  return ['v=0', 'o=peer 1 1 IN IP4 127.0.0.2', 's=-', `c=IN IP4 ${c}`, 't=0 0', `m=audio 5004 ${profile} 0 101`, 'a=rtpmap:101 telephone-event/8000', ...attributes]
    .join('\r\n') + '\r\n';
}
function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SdpNegotiationError, String(error));
    return error.reason;
  }
  return assert.fail('was accepted');
}

describe('SRTP (SDES) in offers', () => {
  for (const [policy, profile, cryptos] of [['off', 'RTP/AVP', 0], ['optional', 'RTP/AVP', 2], ['mandatory', 'RTP/SAVP', 2]] as const) {
    test(`policy ${policy}: ${profile} with ${cryptos} a=crypto lines`, () => {
      const sdp = serializeSdp(createOffer(local({ srtp: { policy, offer: buildOutgoingOffer(policy) } })));
      assert.match(sdp, new RegExp(`^m=audio 40000 ${profile.replace('/', '\\/')} `, 'm'));
      assert.equal((sdp.match(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:[A-Za-z0-9+/=]{40}$/gm) ?? []).length, cryptos);
    });
  }
});

describe('SRTP (SDES) in answers', () => {
  const answer = (policy: SrtpPolicy, text: string) => answerOffer(parseSdp(text), local({ srtp: { policy } }));

  test('optional accepts RTP/AVP + crypto as SRTP: one crypto line with the offered tag, our own key, same profile', () => {
    const { answer: sdp, negotiated } = answer('optional', peer('RTP/AVP', [`a=crypto:7 AES_CM_128_HMAC_SHA1_80 ${KEY}`]));
    const text = serializeSdp(sdp);
    assert.match(text, /^m=audio 40000 RTP\/AVP 0 101$/m);
    const lines = text.match(/^a=crypto:.*$/gm) ?? [];
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:/);
    assert.ok(!lines[0]!.includes(KEY.slice(7)), 'our key is not the peer key');
    assert.equal(negotiated.srtp?.suite, 'AES_CM_128_HMAC_SHA1_80');
  });

  test('mandatory accepts RTP/SAVP and answers RTP/SAVP', () => {
    const { answer: sdp, negotiated } = answer('mandatory', peer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 ${KEY}`]));
    assert.match(serializeSdp(sdp), /^m=audio 40000 RTP\/SAVP 0 101$/m);
    assert.equal(negotiated.srtp?.suite, 'AES_CM_128_HMAC_SHA1_32');
  });

  test('off accepts RTP/AVP + crypto as plain RTP without a crypto line', () => {
    const { answer: sdp, negotiated } = answer('off', peer('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`]));
    assert.doesNotMatch(serializeSdp(sdp), /a=crypto/);
    assert.equal(negotiated.srtp, undefined);
  });

  test('mismatches are 488 with a reason a user understands', () => {
    assert.match(rejection(() => answer('mandatory', peer('RTP/AVP'))), /requires encryption \(SRTP\) but the caller offered an unencrypted call/);
    assert.match(rejection(() => answer('off', peer('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`]))), /Caller requires encryption/);
    assert.match(rejection(() => answer('optional', peer('RTP/SAVP'))), /sent no encryption keys/);
  });

  test('a re-offer with the same peer key is answered with the same local key', () => {
    const first = answer('optional', peer('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`]));
    const again = answerOffer(parseSdp(peer('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`, 'a=sendonly'])), local({ srtp: { policy: 'optional', previous: first.negotiated.srtp! } }));
    assert.deepEqual(again.negotiated.srtp!.local.key.masterKey, first.negotiated.srtp!.local.key.masterKey);
  });
});

describe('SRTP answers to our offers', () => {
  const ourOffer = (policy: SrtpPolicy) => {
    const srtp = { policy, offer: buildOutgoingOffer(policy) };
    return { srtp, sdp: createOffer(local({ srtp })) };
  };
  const theirAnswer = (profile: string, attributes: string[]) =>
    parseSdp(['v=0', 'o=peer 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', `m=audio 5004 ${profile} 0`, ...attributes].join('\r\n') + '\r\n');

  test('optional offer answered with tag 1 → SRTP keyed with our tag-1 key and their key', () => {
    const { srtp, sdp } = ourOffer('optional');
    const negotiated = negotiateAnswer(sdp, theirAnswer('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`]), { address: '127.0.0.1', codecs: pcmu, srtp });
    assert.equal(negotiated.srtp?.local.tag, 1);
    assert.deepEqual(negotiated.srtp?.local.key.masterKey, srtp.offer.offered[0]!.key.masterKey);
  });

  test('optional offer answered plainly → plain RTP; mandatory offer answered plainly → 488 reason', () => {
    const optional = ourOffer('optional');
    assert.equal(negotiateAnswer(optional.sdp, theirAnswer('RTP/AVP', []), { address: '127.0.0.1', codecs: pcmu, srtp: optional.srtp }).srtp, undefined);
    const mandatory = ourOffer('mandatory');
    assert.match(
      rejection(() => negotiateAnswer(mandatory.sdp, theirAnswer('RTP/SAVP', []), { address: '127.0.0.1', codecs: pcmu, srtp: mandatory.srtp })),
      /requires encryption \(SRTP\) but the other side answered without it/,
    );
  });
});

describe('hold directions', () => {
  test('a sendonly offer (we are held) is answered recvonly; peerDirection says sendonly', () => {
    const { answer: sdp, negotiated } = answerOffer(parseSdp(peer('RTP/AVP', ['a=sendonly'])), local());
    assert.match(serializeSdp(sdp), /^a=recvonly$/m);
    assert.equal(negotiated.direction, 'recvonly');
    assert.equal(negotiated.peerDirection, 'sendonly');
  });

  test('holding while held: our inactive wish answers a sendonly offer with inactive', () => {
    const { negotiated } = answerOffer(parseSdp(peer('RTP/AVP', ['a=sendonly'])), local({ direction: 'sendonly' }));
    assert.equal(negotiated.direction, 'inactive');
  });

  test('old-style hold c=0.0.0.0 counts as the peer holding', () => {
    const { negotiated } = answerOffer(parseSdp(peer('RTP/AVP', [], '0.0.0.0')), local());
    assert.equal(negotiated.peerDirection, 'sendonly');
    assert.equal(negotiated.direction, 'recvonly');
  });

  test('our sendonly offer answered recvonly: we send, do not receive; the peer is not holding', () => {
    const sdp = createOffer(local({ direction: 'sendonly' }));
    const answer = parseSdp(['v=0', 'o=peer 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', 'm=audio 5004 RTP/AVP 0', 'a=recvonly'].join('\r\n') + '\r\n');
    const negotiated = negotiateAnswer(sdp, answer, { address: '127.0.0.1', codecs: pcmu });
    assert.equal(negotiated.direction, 'sendonly');
    assert.equal(negotiated.peerDirection, 'recvonly');
  });
});
