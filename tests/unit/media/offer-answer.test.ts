import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecRegistry } from '../../../src-main/core/media/codecs/codec-registry';
import { registerBuiltinCodecs } from '../../../src-main/core/media/codecs/builtin-codecs';
import { answerOffer, createOffer, negotiateAnswer, SdpNegotiationError, type LocalMediaOptions } from '../../../src-main/core/media/sdp/offer-answer';
import { parseSdp, serializeSdp } from '../../../src-main/core/media/sdp/sdp';

const registry = new CodecRegistry();
registerBuiltinCodecs(registry);
const local = (over: Partial<LocalMediaOptions> = {}): LocalMediaOptions => ({
  address: '127.0.0.1',
  port: 40000,
  codecs: registry.preferred(),
  origin: { username: '-', sessionId: '42', sessionVersion: '42' },
  ...over,
});

function offer(mLine: string, attributes: string[] = [], extra = ''): string {
  return ['v=0', 'o=peer 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', mLine, ...attributes, extra].filter(Boolean).join('\r\n') + '\r\n';
}

describe('createOffer', () => {
  test('offers PCMU, PCMA, telephone-event/8000 on pt 101 with events 0-16, CN/8000 on 13 and ptime 20', () => {
    const text = serializeSdp(createOffer(local({ codecs: registry.preferred(['PCMU', 'PCMA']) })));
    assert.equal(
      text,
      [
        'v=0',
        'o=- 42 42 IN IP4 127.0.0.1',
        's=Switchboard',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'm=audio 40000 RTP/AVP 0 8 101 13',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=rtpmap:13 CN/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
  });

  test('follows the codec preference order', () => {
    const sdp = createOffer(local({ codecs: registry.preferred(['PCMA', 'PCMU']) }));
    assert.deepEqual(sdp.media[0]!.formats, ['8', '0', '101', '13']);
  });

  test('comfort noise (CN/8000) only with a codec on an 8 kHz RTP clock, and not when switched off', () => {
    const opusOnly = createOffer(local({ codecs: registry.preferred(['opus']) }));
    assert.ok(!opusOnly.media[0]!.formats.includes('13'), 'Opus has DTX of its own, and a 48 kHz clock');
    const g722 = createOffer(local({ codecs: registry.preferred(['G722']) }));
    assert.ok(g722.media[0]!.rtpmaps.some((r) => r.payloadType === 13 && r.encodingName === 'CN' && r.clockRate === 8000), 'G.722 (8000 in SDP)');
    const off = createOffer(local({ codecs: registry.preferred(['PCMU']), comfortNoise: false }));
    assert.deepEqual(off.media[0]!.formats, ['0', '101']);
  });
});

describe('comfort noise (RFC 3389) in offer/answer', () => {
  test('answered when offered with an 8 kHz-clock codec chosen; the payload type mirrored', () => {
    const { answer, negotiated } = answerOffer(
      parseSdp(offer('m=audio 5004 RTP/AVP 0 13 101', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:101 telephone-event/8000'])),
      local(),
    );
    assert.deepEqual(answer.media[0]!.formats, ['0', '101', '13']);
    assert.deepEqual(negotiated.comfortNoise, { receivePayloadType: 13 });
  });

  test('a dynamic CN/8000 number is mirrored; CN/16000 or CN/48000 is not answered', () => {
    const dynamic = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 9 118', ['a=rtpmap:9 G722/8000', 'a=rtpmap:118 CN/8000'])), local());
    assert.deepEqual(dynamic.answer.media[0]!.formats, ['9', '118']);
    assert.deepEqual(dynamic.negotiated.comfortNoise, { receivePayloadType: 118 });
    const wide = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 0 105', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:105 CN/16000'])), local());
    assert.deepEqual(wide.answer.media[0]!.formats, ['0']);
    assert.equal(wide.negotiated.comfortNoise, undefined);
  });

  test('not answered with Opus chosen (its clock is 48 kHz), nor when switched off', () => {
    const opus = answerOffer(
      parseSdp(offer('m=audio 5004 RTP/AVP 111 0 13', ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000'])),
      local({ codecs: registry.preferred(['opus', 'PCMU']) }),
    );
    assert.equal(opus.negotiated.send.codec.info.encodingName, 'opus');
    assert.ok(!opus.answer.media[0]!.formats.includes('13'));
    assert.equal(opus.negotiated.comfortNoise, undefined);
    const off = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 0 13', ['a=rtpmap:0 PCMU/8000'])), local({ comfortNoise: false }));
    assert.deepEqual(off.answer.media[0]!.formats, ['0']);
    assert.equal(off.negotiated.comfortNoise, undefined);
  });

  test('offerer side: CN in the answer is received on our payload type; not unless we offered it', () => {
    const ours = createOffer(local({ codecs: registry.preferred(['PCMU']) }));
    const answered = parseSdp(offer('m=audio 5004 RTP/AVP 0 13', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000']));
    assert.deepEqual(negotiateAnswer(ours, answered, { address: '127.0.0.1', codecs: registry.preferred(['PCMU']) }).comfortNoise, { receivePayloadType: 13 });
    const without = createOffer(local({ codecs: registry.preferred(['PCMU']), comfortNoise: false }));
    assert.equal(negotiateAnswer(without, answered, { address: '127.0.0.1', codecs: registry.preferred(['PCMU']) }).comfortNoise, undefined);
  });
});

describe('answerOffer (RFC 3264)', () => {
  test('PCMA-only offer is answered with PCMA', () => {
    const { answer, negotiated } = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 8', ['a=rtpmap:8 PCMA/8000'])), local());
    assert.deepEqual(answer.media[0]!.formats, ['8']);
    assert.equal(negotiated.send.codec.info.encodingName, 'PCMA');
    assert.equal(negotiated.send.payloadType, 8);
    assert.deepEqual(negotiated.remoteRtp, { address: '127.0.0.2', port: 5004 });
    assert.equal(negotiated.telephoneEvent, undefined);
  });

  test('static payload types without a=rtpmap are understood', () => {
    const { negotiated } = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 18 8')), local());
    assert.equal(negotiated.send.codec.info.encodingName, 'PCMA');
  });

  test('G729-only offer is rejected with 488 and a reason naming what was offered', () => {
    const offered = parseSdp(offer('m=audio 5004 RTP/AVP 18 101', ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000']));
    assert.throws(
      () => answerOffer(offered, local()),
      (e: unknown) =>
        e instanceof SdpNegotiationError &&
        e.statusCode === 488 &&
        e.reasonPhrase === 'Not Acceptable Here' &&
        e.reason === 'No common audio codec (offered: G729)',
    );
  });

  test('picks the first codec in OUR preference, not the offer order', () => {
    const offered = parseSdp(offer('m=audio 5004 RTP/AVP 8 0', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000']));
    assert.equal(answerOffer(offered, local()).negotiated.send.codec.info.encodingName, 'PCMU');
    assert.equal(answerOffer(offered, local({ codecs: registry.preferred(['PCMA', 'PCMU']) })).negotiated.send.codec.info.encodingName, 'PCMA');
  });

  test('the answer never contains a format that was not offered', () => {
    const offers = [
      offer('m=audio 5004 RTP/AVP 0', ['a=rtpmap:0 PCMU/8000']),
      offer('m=audio 5004 RTP/AVP 8 3 96', ['a=rtpmap:96 telephone-event/16000']),
      offer('m=audio 5004 RTP/AVP 9 0 8 101', ['a=rtpmap:101 telephone-event/8000']),
    ];
    for (const text of offers) {
      const offered = parseSdp(text);
      const { answer } = answerOffer(offered, local());
      const offeredFormats = new Set(offered.media[0]!.formats);
      for (const f of answer.media[0]!.formats) assert.ok(offeredFormats.has(f), `${f} was not offered in:\n${text}`);
      for (const r of answer.media[0]!.rtpmaps) assert.ok(offeredFormats.has(String(r.payloadType)));
    }
  });

  test('mirrors the offer payload type numbers, including a dynamic telephone-event pt', () => {
    const offered = parseSdp(offer('m=audio 5004 RTP/AVP 0 97', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:97 telephone-event/8000', 'a=fmtp:97 0-15']));
    const { answer, negotiated } = answerOffer(offered, local());
    assert.deepEqual(answer.media[0]!.formats, ['0', '97']);
    assert.deepEqual(answer.media[0]!.rtpmaps[1], { payloadType: 97, encodingName: 'telephone-event', clockRate: 8000 });
    assert.deepEqual(negotiated.telephoneEvent, { sendPayloadType: 97, receivePayloadType: 97, clockRate: 8000 });
  });

  test('mirrors a dynamic payload type for a codec with a static one', () => {
    const offered = parseSdp(offer('m=audio 5004 RTP/AVP 110', ['a=rtpmap:110 pcma/8000']));
    const { answer, negotiated } = answerOffer(offered, local());
    assert.deepEqual(answer.media[0]!.formats, ['110']);
    assert.equal(negotiated.send.payloadType, 110);
    assert.deepEqual(negotiated.receive.map((r) => r.payloadType), [110]);
  });

  test('keeps the m= line count: other streams are rejected with port 0', () => {
    const text = offer('m=video 6000 RTP/AVP 31', [], 'm=audio 5004 RTP/AVP 0\r\nm=audio 5006 RTP/AVP 8');
    const { answer } = answerOffer(parseSdp(text), local());
    assert.deepEqual(answer.media.map((m) => [m.type, m.port]), [['video', 0], ['audio', 40000], ['audio', 0]]);
    assert.deepEqual(answer.media[0]!.formats, ['31']);
  });

  test('answers direction per RFC 3264 6.1 and handles old-style hold', () => {
    const dir = (attr: string, conn = '127.0.0.2') => {
      const text = offer('m=audio 5004 RTP/AVP 0', [attr]).replace('c=IN IP4 127.0.0.2', `c=IN IP4 ${conn}`);
      const { answer, negotiated } = answerOffer(parseSdp(text), local());
      return [answer.media[0]!.direction, negotiated.direction];
    };
    assert.deepEqual(dir('a=sendrecv'), ['sendrecv', 'sendrecv']);
    assert.deepEqual(dir('a=sendonly'), ['recvonly', 'recvonly']);
    assert.deepEqual(dir('a=recvonly'), ['sendonly', 'sendonly']);
    assert.deepEqual(dir('a=inactive'), ['inactive', 'inactive']);
    assert.deepEqual(dir('a=sendrecv', '0.0.0.0'), ['sendrecv', 'recvonly']);
  });

  test('Opus offered with telephone-event/8000 only (Asterisk, baresip, Bria): the events are answered, counted on the audio clock', () => {
    const offered = parseSdp(
      offer('m=audio 5004 RTP/AVP 107 101', ['a=rtpmap:107 opus/48000/2', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']),
    );
    const { answer, negotiated } = answerOffer(offered, local({ codecs: registry.preferred(['opus', 'PCMU']) }));
    assert.deepEqual(answer.media[0]!.formats, ['107', '101']);
    assert.deepEqual(answer.media[0]!.rtpmaps[1], { payloadType: 101, encodingName: 'telephone-event', clockRate: 8000 });
    // In the audio's RTP stream: timestamps (and durations, in timestamp units) on its 48 kHz clock.
    assert.deepEqual(negotiated.telephoneEvent, { sendPayloadType: 101, receivePayloadType: 101, clockRate: 48000 });
  });

  test("telephone-event on the chosen codec's clock is preferred to 8000, and 8000 to any other clock", () => {
    const both = parseSdp(
      offer('m=audio 5004 RTP/AVP 107 101 110', ['a=rtpmap:107 opus/48000/2', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:110 telephone-event/48000']),
    );
    assert.equal(answerOffer(both, local({ codecs: registry.preferred(['opus']) })).negotiated.telephoneEvent?.sendPayloadType, 110);
    const odd = parseSdp(offer('m=audio 5004 RTP/AVP 0 96 101', ['a=rtpmap:96 telephone-event/16000', 'a=rtpmap:101 telephone-event/8000']));
    assert.equal(answerOffer(odd, local()).negotiated.telephoneEvent?.sendPayloadType, 101);
  });

  test('uses the offered ptime for sending', () => {
    const { negotiated } = answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 0', ['a=ptime:30'])), local());
    assert.equal(negotiated.ptime, 30);
  });

  test("a peer that sends with its answer's numbers (opus 107, events 100) is heard; numbers naming something else of our offer are not taken", () => {
    const ours = createOffer(local({ codecs: registry.preferred(['opus', 'PCMU']) })); // opus 96, PCMU 0, events 97 (48 kHz) and 101
    const answer = (mLine: string, attributes: string[]) => parseSdp(offer(mLine, attributes));
    const remapped = negotiateAnswer(ours, answer('m=audio 5004 RTP/AVP 107 100', ['a=rtpmap:107 opus/48000/2', 'a=rtpmap:100 telephone-event/48000']), local({ codecs: registry.preferred(['opus', 'PCMU']) }));
    assert.deepEqual(remapped.receive.map((r) => [r.codec.info.encodingName, r.payloadType]), [['opus', 96], ['opus', 107]]);
    assert.equal(remapped.send.payloadType, 107);
    assert.deepEqual(remapped.telephoneEvent, { sendPayloadType: 100, receivePayloadType: 97, aliasReceivePayloadType: 100, clockRate: 48000 });
    // 0 is PCMU in our offer: opus answered as 0 (a broken peer) must not make PCMU packets decode as opus.
    const clash = negotiateAnswer(ours, answer('m=audio 5004 RTP/AVP 0 101', ['a=rtpmap:0 opus/48000/2', 'a=rtpmap:101 telephone-event/48000']), local({ codecs: registry.preferred(['opus', 'PCMU']) }));
    assert.deepEqual(clash.receive.map((r) => [r.codec.info.encodingName, r.payloadType]), [['opus', 96]]);
    assert.equal(clash.telephoneEvent?.aliasReceivePayloadType, undefined);
  });

  test('Opus: a ptime it cannot code becomes the longest frame it can that is not longer (30 -> 20, 100 -> 60)', () => {
    const opusPtime = (ptime: string) =>
      answerOffer(parseSdp(offer('m=audio 5004 RTP/AVP 96', ['a=rtpmap:96 opus/48000/2', `a=ptime:${ptime}`])), local()).negotiated.ptime;
    assert.equal(opusPtime('30'), 20);
    assert.equal(opusPtime('40'), 40);
    assert.equal(opusPtime('100'), 60);
    assert.equal(opusPtime('10'), 10);
    // Not a ptime we take at all (below 10 ms): the default.
    assert.equal(opusPtime('5'), 20);
    const answered = negotiateAnswer(
      createOffer(local({ codecs: registry.preferred(['opus']) })),
      parseSdp(offer('m=audio 5004 RTP/AVP 96', ['a=rtpmap:96 opus/48000/2', 'a=ptime:30'])),
      local({ codecs: registry.preferred(['opus']) }),
    );
    assert.equal(answered.ptime, 20, 'the same when the far end answers our offer');
  });

  test('RTCP goes to a=rtcp (RFC 3605) or the RTP port + 1; nowhere when that is no usable destination, the call goes on', () => {
    const rtcpOf = (mLine: string, attributes: string[] = []) => answerOffer(parseSdp(offer(mLine, ['a=rtpmap:0 PCMU/8000', ...attributes])), local()).negotiated.remoteRtcp;
    assert.deepEqual(rtcpOf('m=audio 5004 RTP/AVP 0'), { address: '127.0.0.2', port: 5005 });
    assert.deepEqual(rtcpOf('m=audio 5004 RTP/AVP 0', ['a=rtcp:6000 IN IP4 127.0.0.9']), { address: '127.0.0.9', port: 6000 });
    // RTP on 65535: RTCP's port + 1 would be 65536, which does not exist.
    assert.equal(rtcpOf('m=audio 65535 RTP/AVP 0'), undefined);
    assert.equal(rtcpOf('m=audio 5004 RTP/AVP 0', ['a=rtcp:0']), undefined);
    // A name (or a number that is no address) would be looked up in DNS for every report: a
    // destination of the SDP sender's choosing, which the c= line is never allowed to be.
    assert.equal(rtcpOf('m=audio 5004 RTP/AVP 0', ['a=rtcp:6000 IN IP4 reports.example.com']), undefined);
    assert.equal(rtcpOf('m=audio 5004 RTP/AVP 0', ['a=rtcp:6000 IN IP4 12']), undefined);
    assert.equal(rtcpOf('m=audio 5004 RTP/AVP 0', ['a=rtcp:6000 IN IP6 ::1']), undefined);
  });

  test('rejects secure or unknown transports, disabled and missing audio with clear reasons', () => {
    const reason = (text: string) => {
      try {
        answerOffer(parseSdp(text), local());
      } catch (e) {
        assert.ok(e instanceof SdpNegotiationError);
        assert.equal(e.statusCode, 488);
        return e.reason;
      }
      assert.fail('offer was accepted');
    };
    assert.match(reason(offer('m=audio 5004 RTP/SAVP 0')), /requires encryption \(SRTP\) but this account has it turned off/);
    assert.match(reason(offer('m=audio 5004 UDP/TLS/RTP/SAVPF 111')), /UDP\/TLS\/RTP\/SAVPF, which this phone does not support/);
    assert.match(reason(offer('m=audio 0 RTP/AVP 0')), /disabled/);
    assert.match(reason(offer('m=video 5004 RTP/AVP 31')), /No audio stream/);
    assert.match(reason(offer('m=audio 5004 RTP/AVP 0').replaceAll('IN IP4 127.0.0.2', 'IN IP6 ::1')), /IPv6 but this phone uses IPv4/);
  });
});

describe('negotiateAnswer (offerer side)', () => {
  const ourOffer = createOffer(local());

  test('sends with the answer codec and pt, receives on our pts', () => {
    const answer = parseSdp(offer('m=audio 5004 RTP/AVP 8 101', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv']));
    const n = negotiateAnswer(ourOffer, answer, { address: '127.0.0.1', codecs: registry.preferred() });
    assert.equal(n.send.codec.info.encodingName, 'PCMA');
    assert.equal(n.send.payloadType, 8);
    assert.deepEqual(n.receive.map((r) => r.payloadType), [8]);
    assert.deepEqual(n.telephoneEvent, { sendPayloadType: 101, receivePayloadType: 101, clockRate: 8000 });
    assert.deepEqual(n.remoteRtp, { address: '127.0.0.2', port: 5004 });
    assert.deepEqual(n.remoteRtcp, { address: '127.0.0.2', port: 5005 });
    assert.equal(n.direction, 'sendrecv');
  });

  test('an Opus answer with telephone-event/8000 only keeps RFC 4733 (on the audio clock); an offer of Opus alone lists 8000 too', () => {
    const codecs = registry.preferred(['opus']);
    const ours = createOffer(local({ codecs }));
    assert.deepEqual(
      ours.media[0]!.rtpmaps.filter((r) => r.encodingName === 'telephone-event').map((r) => [r.payloadType, r.clockRate]),
      [[97, 48000], [101, 8000]],
    );
    const answered = parseSdp(offer('m=audio 5004 RTP/AVP 96 101', ['a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/8000']));
    assert.deepEqual(negotiateAnswer(ours, answered, local({ codecs })).telephoneEvent, { sendPayloadType: 101, receivePayloadType: 101, clockRate: 48000 });
  });

  test('rejects an answer without any codec we offered, or with the stream refused', () => {
    assert.throws(
      () => negotiateAnswer(ourOffer, parseSdp(offer('m=audio 5004 RTP/AVP 18')), { address: '127.0.0.1', codecs: registry.preferred() }),
      (e: unknown) => e instanceof SdpNegotiationError && e.reason === 'Answer contains no codec we offered (answered: G729)',
    );
    assert.throws(
      () => negotiateAnswer(ourOffer, parseSdp(offer('m=audio 0 RTP/AVP 0')), { address: '127.0.0.1', codecs: registry.preferred() }),
      /rejected the audio stream/,
    );
  });

  test('a recvonly answer (peer put us on hold the other way) means we only send', () => {
    const answer = parseSdp(offer('m=audio 5004 RTP/AVP 0', ['a=recvonly']));
    assert.equal(negotiateAnswer(ourOffer, answer, { address: '127.0.0.1', codecs: registry.preferred() }).direction, 'sendonly');
  });
});

describe("the far end's fmtp for the codec we send with (what its decoder asks of our encoder)", () => {
  const opusOffer = offer('m=audio 5004 RTP/AVP 111 0', ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 maxaveragebitrate=20000;useinbandfec=1', 'a=fmtp:0 ignored=1']);

  test('answering: the offer\'s fmtp of the chosen payload type, not another one', () => {
    const { negotiated } = answerOffer(parseSdp(opusOffer), local({ codecs: registry.preferred(['opus', 'PCMU']) }));
    assert.equal(negotiated.send.codec.info.encodingName, 'opus');
    assert.equal(negotiated.send.peerFmtp, 'maxaveragebitrate=20000;useinbandfec=1');
  });

  test("offering: the answer's fmtp; '' when the peer's SDP has none for it (RFC 7587 defaults then apply)", () => {
    const ourOffer = createOffer(local({ codecs: registry.preferred(['opus', 'PCMU']) }));
    const withFmtp = negotiateAnswer(ourOffer, parseSdp(opusOffer.replace(' 111 0', ' 111')), { address: '127.0.0.1', codecs: registry.preferred(['opus', 'PCMU']) });
    assert.equal(withFmtp.send.peerFmtp, 'maxaveragebitrate=20000;useinbandfec=1');
    const without = negotiateAnswer(ourOffer, parseSdp(offer('m=audio 5004 RTP/AVP 111', ['a=rtpmap:111 opus/48000/2'])), { address: '127.0.0.1', codecs: registry.preferred(['opus']) });
    assert.equal(without.send.peerFmtp, '');
  });
});
