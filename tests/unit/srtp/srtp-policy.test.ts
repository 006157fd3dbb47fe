// Per-account SRTP policy against SDP offers and answers, plus an end-to-end key exchange:
// the keys negotiated by offer/answer must let both sides decrypt each other's media.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildOutgoingOffer,
  decideAnswer,
  decideIncomingOffer,
  type SrtpPolicy,
} from '../../../src-main/core/media/srtp/srtp-policy';
import { createSrtpSession, srtpSessionOptionsFromSdes } from '../../../src-main/core/media/srtp/srtp-session';
import { parseCryptoLine } from '../../../src-main/core/media/srtp/sdes';

const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';
const crypto80 = `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`;
const crypto32 = `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`;
const policies: SrtpPolicy[] = ['off', 'optional', 'mandatory'];

describe('decideIncomingOffer', () => {
  const expected: Record<string, Record<SrtpPolicy, string>> = {
    'RTP/SAVP+crypto': { off: 'reject', optional: 'accept-srtp', mandatory: 'accept-srtp' },
    'RTP/SAVP': { off: 'reject', optional: 'reject', mandatory: 'reject' },
    'RTP/AVP+crypto': { off: 'accept-plain', optional: 'accept-srtp', mandatory: 'accept-srtp' },
    'RTP/AVP': { off: 'accept-plain', optional: 'accept-plain', mandatory: 'reject' },
    'UDP/TLS/RTP/SAVP': { off: 'reject', optional: 'reject', mandatory: 'reject' },
  };
  for (const [offerName, row] of Object.entries(expected))
    for (const policy of policies)
      test(`${offerName} with policy ${policy} → ${row[policy]}`, () => {
        const [profile, withCrypto] = offerName.split('+');
        const decision = decideIncomingOffer(policy, { profile: profile!, cryptoLines: withCrypto ? [crypto32, crypto80] : [] });
        assert.equal(decision.kind, row[policy]);
        if (decision.kind === 'reject') assert.equal(decision.status, 488);
        if (decision.kind !== 'reject') assert.equal(decision.profile, profile, 'answer keeps the offered profile');
      });

  test('reasons say what happened in words', () => {
    const off = decideIncomingOffer('off', { profile: 'RTP/SAVP', cryptoLines: [crypto80] });
    assert.equal(off.kind === 'reject' && off.reason, 'Caller requires encryption (SRTP) but this account has it turned off');
    const mandatory = decideIncomingOffer('mandatory', { profile: 'RTP/AVP', cryptoLines: [] });
    assert.equal(
      mandatory.kind === 'reject' && mandatory.reason,
      'This account requires encryption (SRTP) but the caller offered an unencrypted call',
    );
    const unsupported = decideIncomingOffer('optional', {
      profile: 'RTP/SAVP',
      cryptoLines: ['a=crypto:1 AEAD_AES_128_GCM inline:' + KEY],
    });
    assert.match(unsupported.kind === 'reject' ? unsupported.reason : '', /no crypto suite this phone supports \(crypto suite AEAD_AES_128_GCM is not supported\)/);
  });

  test('accept-srtp answers the chosen tag and suite with a fresh key of ours', () => {
    const decision = decideIncomingOffer('optional', { profile: 'RTP/SAVP', cryptoLines: [crypto32, crypto80] });
    assert.equal(decision.kind, 'accept-srtp');
    if (decision.kind !== 'accept-srtp') return;
    const answered = parseCryptoLine(decision.cryptoLine);
    assert.equal(answered.tag, 1);
    assert.equal(answered.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.notDeepEqual(answered.key.masterKey, decision.keying.remote.key.masterKey);
    assert.deepEqual(decision.keying.remote.key.masterKey, new Uint8Array(Buffer.from(KEY, 'base64').subarray(0, 16)));
  });
});

describe('outgoing offers and answers', () => {
  test('offer shape per policy', () => {
    assert.deepEqual(buildOutgoingOffer('off'), { profile: 'RTP/AVP', cryptoLines: [], offered: [] });
    const optional = buildOutgoingOffer('optional');
    assert.equal(optional.profile, 'RTP/AVP');
    assert.deepEqual(optional.offered.map((c) => `${c.tag} ${c.suite}`), ['1 AES_CM_128_HMAC_SHA1_80', '2 AES_CM_128_HMAC_SHA1_32']);
    assert.equal(buildOutgoingOffer('mandatory').profile, 'RTP/SAVP');
  });

  test('answer without crypto: optional falls back to plain, mandatory fails', () => {
    assert.equal(decideAnswer('optional', buildOutgoingOffer('optional'), { profile: 'RTP/AVP', cryptoLines: [] }).kind, 'plain');
    const failed = decideAnswer('mandatory', buildOutgoingOffer('mandatory'), { profile: 'RTP/SAVP', cryptoLines: [] });
    assert.equal(failed.kind, 'fail');
  });

  test('answer with a tag we never offered, or a different suite under our tag, fails', () => {
    const offer = buildOutgoingOffer('mandatory');
    const wrongTag = decideAnswer('mandatory', offer, { profile: 'RTP/SAVP', cryptoLines: [`a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`] });
    assert.match(wrongTag.kind === 'fail' ? wrongTag.reason : '', /tag 9, which we did not offer/);
    const wrongSuite = decideAnswer('mandatory', offer, { profile: 'RTP/SAVP', cryptoLines: [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`] });
    assert.match(wrongSuite.kind === 'fail' ? wrongSuite.reason : '', /suite AES_CM_128_HMAC_SHA1_32, but we offered AES_CM_128_HMAC_SHA1_80/);
  });

  test('offer → answer → both sides decrypt each other (keys wired the right way round)', () => {
    const offer = buildOutgoingOffer('mandatory');
    const answer = decideIncomingOffer('mandatory', { profile: offer.profile, cryptoLines: offer.cryptoLines });
    assert.equal(answer.kind, 'accept-srtp');
    if (answer.kind !== 'accept-srtp') return;
    const result = decideAnswer('mandatory', offer, { profile: answer.profile, cryptoLines: [answer.cryptoLine] });
    assert.equal(result.kind, 'srtp');
    if (result.kind !== 'srtp') return;

    const caller = createSrtpSession(srtpSessionOptionsFromSdes(result.keying));
    const callee = createSrtpSession(srtpSessionOptionsFromSdes(answer.keying));
    const packet = new Uint8Array([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42, 1, 2, 3, 4]);
    assert.deepEqual(callee.unprotectRtp(caller.protectRtp(packet)), packet);
    const back = Uint8Array.from(packet);
    back[11] = 43;
    assert.deepEqual(caller.unprotectRtp(callee.protectRtp(back)), back);
  });
});
