// Hostile SDP from the far end, offers and answers: realistic bodies (Asterisk, FreePBX with SRTP,
// an Opus softphone, a hold, a video call) with lines deleted, duplicated, swapped or cut, fields
// replaced by extremes and garbage, attributes added. Each must come out as a usable negotiation
// that keeps RFC 3264's rules, or as the SdpNegotiationError the UAS turns into 400 / 488 with a
// reason; any other exception would tear down the call's signalling instead of answering it.
// Seeded, so a failure names the SDP that caused it. Pure offer/answer: no sockets (a fuzzed c=
// line must never become a destination).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { CodecRegistry } from '../../../src-main/core/media/codecs/codec-registry';
import { registerBuiltinCodecs } from '../../../src-main/core/media/codecs/builtin-codecs';
import { answerOffer, createOffer, negotiateAnswer, SdpNegotiationError, type LocalMediaOptions } from '../../../src-main/core/media/sdp/offer-answer';
import { parseSdp, serializeSdp } from '../../../src-main/core/media/sdp/sdp';
import { parseRemoteSdp } from '../../../src-main/core/media/session-description-handler';
import { buildOutgoingOffer, type SrtpPolicy } from '../../../src-main/core/media/srtp/srtp-policy';
import { seededDraws, type SeededDraws } from '../../harness/seeded-random';

const registry = new CodecRegistry();
registerBuiltinCodecs(registry);
const KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

const local = (policy: SrtpPolicy): LocalMediaOptions => ({
  address: '127.0.0.1',
  port: 40000,
  codecs: registry.preferred(),
  rtcpMux: true,
  origin: { username: '-', sessionId: '42', sessionVersion: '42' },
  srtp: { policy, offer: buildOutgoingOffer(policy) },
});

const body = (...lines: string[]) => lines.join('\r\n') + '\r\n';

/** What PBXs and phones send (shapes from Asterisk, FreePBX, Linphone and baresip; CN as a VAD phone offers it). */
const SEEDS = [
  body('v=0', 'o=root 1 1 IN IP4 127.0.0.2', 's=Asterisk', 'c=IN IP4 127.0.0.2', 't=0 0', 'm=audio 10000 RTP/AVP 0 8 9 101 13', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=maxptime:150', 'a=sendrecv'),
  body('v=0', 'o=- 2 2 IN IP4 127.0.0.2', 's=-', 't=0 0', 'm=audio 10002 RTP/SAVP 8 101', 'c=IN IP4 127.0.0.2', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_32 ${KEY}|2^20|1:4`, 'a=rtcp:10003 IN IP4 127.0.0.2', 'a=sendrecv'),
  body('v=0', 'o=bob 3 3 IN IP4 127.0.0.3', 's=Talk', 'c=IN IP4 127.0.0.3', 't=0 0', 'm=audio 7078 RTP/AVP 96 0 101', 'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 useinbandfec=1;maxaveragebitrate=20000;stereo=0;maxplaybackrate=16000', 'a=rtpmap:101 telephone-event/48000', 'a=rtcp-mux', 'a=rtcp:7078', 'a=ptime:40'),
  body('v=0', 'o=- 4 5 IN IP4 0.0.0.0', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 10004 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendonly'),
  body('v=0', 'o=- 6 6 IN IP4 127.0.0.4', 's=-', 'c=IN IP4 127.0.0.4', 't=0 0', 'a=recvonly', 'm=video 9000 RTP/AVP 97', 'a=rtpmap:97 H264/90000', 'm=audio 9002 RTP/AVP 9 0', 'b=AS:64', 'a=rtpmap:9 G722/8000', 'a=inactive'),
];

const HOSTILE_TOKENS = ['', '0', '-1', '1.5', '65535', '65536', '4294967296', '1e400', '99999999999999999999', 'NaN', 'x', '::1', '0.0.0.0', '255.255.255.255', 'IP6', 'IP4', 'IN', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', '*', '/', ':', ';', '=', '\t', 'a'.repeat(5000), '\u00e9\u4e2d', '\u0000'];
const HOSTILE_LINES = [
  'a=rtpmap:0', 'a=rtpmap:96 opus', 'a=rtpmap:96 opus/0/0', 'a=rtpmap:200 PCMU/8000', 'a=rtpmap:9 G722/16000', 'a=rtpmap:101 telephone-event/0', 'a=rtpmap:0 PCMA/8000', 'a=rtpmap:13 CN/16000', 'a=rtpmap:13 CN/8000/2', 'a=rtpmap:96 CN/8000',
  'a=fmtp:101 0-99999', 'a=fmtp:96 ;;;=;', 'a=fmtp:96 maxplaybackrate=-5;useinbandfec=2', 'a=fmtp:', 'a=ptime:0', 'a=ptime:-20', 'a=ptime:100000', 'a=ptime:abc', 'a=maxptime:1',
  'a=rtcp:', 'a=rtcp:70000', 'a=rtcp:5 IN IP6 ::1', 'a=rtcp:5 IN IP4', 'a=rtcp-mux', 'a=crypto:', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:', 'a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:AAAA|2^999|1:99',
  `a=crypto:1 F8_128_HMAC_SHA1_80 ${KEY}`, 'a=sendonly', 'a=inactive', 'a=recvonly', 'c=IN IP6 ::1', 'c=IN IP4 127.0.0.9/127', 'c=IN IP4 pbx.test', 'c=', 'm=audio 0 RTP/AVP 0', 'm=audio 5000 RTP/AVP', 'm=audio 5000/2 RTP/AVP 0', 'm=image 5000 udptl t38', 'b=AS:-1', 'v=1', 'x=unknown', 'a=',
];

/** One mutation of `sdp`, by one of several strategies. */
function mutate(sdp: string, random: SeededDraws): string {
  const lines = sdp.split('\r\n').slice(0, -1);
  for (let edits = 1 + random.int(3); edits > 0; edits--) {
    const at = random.int(lines.length);
    switch (random.int(7)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[at]!);
        break;
      case 2: {
        const other = random.int(lines.length);
        [lines[at], lines[other]] = [lines[other]!, lines[at]!];
        break;
      }
      case 3: {
        // A field of the line (split at spaces, colons, slashes and '=') replaced.
        const parts = (lines[at] ?? '').split(/([ :/=])/);
        parts[2 * random.int(Math.ceil(parts.length / 2))] = random.pick(HOSTILE_TOKENS);
        lines[at] = parts.join('');
        break;
      }
      case 4:
        lines.splice(at, 0, random.pick(HOSTILE_LINES));
        break;
      case 5:
        lines[at] = (lines[at] ?? '').slice(0, random.int((lines[at] ?? '').length + 1));
        break;
      default:
        lines.splice(at, 0, String.fromCharCode(...Array.from({ length: random.int(20) }, () => random.int(0x80))));
    }
  }
  const ending = random.next() < 0.9 ? '\r\n' : random.pick(['\n', '\r', '']);
  return lines.join(ending) + ending;
}

/** Runs `negotiate`; an SdpNegotiationError (400/488 with a reason) is a valid outcome, anything else a bug. */
function outcome<T>(negotiate: () => T, sdp: string): T | SdpNegotiationError {
  try {
    return negotiate();
  } catch (error) {
    if (error instanceof SdpNegotiationError) {
      assert.ok(error.reason.length > 0 && (error.statusCode === 400 || error.statusCode === 488), `a rejection without a reason or status: ${JSON.stringify(sdp)}`);
      return error;
    }
    assert.fail(`${(error as Error).stack}\n--- for SDP ---\n${JSON.stringify(sdp)}`);
  }
}

const validPort = (port: number) => Number.isInteger(port) && port > 0 && port <= 65535;

// FUZZ_SEEDS=N runs N times as many mutations (other seeds).
const ROUNDS = Number(process.env.FUZZ_SEEDS ?? 1);

describe('hostile SDP: every offer or answer is negotiated by the rules or refused with 400/488 and a reason', () => {
  const counts = { offersAnswered: 0, offersRefused: 0, answersUsed: 0, answersRefused: 0 };

  test('3000 mutated offers per SRTP policy: answered within the offer, or refused', () => {
    const random = seededDraws(7);
    for (const policy of ['off', 'optional', 'mandatory'] as const) {
      for (let i = 0; i < 3000 * ROUNDS; i++) {
        const sdp = mutate(random.pick(SEEDS), random);
        const result = outcome(() => {
          const offer = parseRemoteSdp(sdp);
          return { offer, ...answerOffer(offer, local(policy)) };
        }, sdp);
        if (result instanceof SdpNegotiationError) {
          counts.offersRefused++;
          continue;
        }
        counts.offersAnswered++;
        const { offer, answer, negotiated } = result;
        const where = `\n--- for SDP ---\n${JSON.stringify(sdp)}`;
        // RFC 3264 6: as many m= lines as offered, each answered with a subset of its formats.
        assert.equal(answer.media.length, offer.media.length, where);
        answer.media.forEach((m, index) => {
          for (const format of m.formats) assert.ok(offer.media[index]!.formats.includes(format), `answer format ${format} was not offered${where}`);
        });
        assert.doesNotThrow(() => parseSdp(serializeSdp(answer)), `our answer does not parse${where}`);
        assert.ok(validPort(negotiated.remoteRtp.port) && isIP(negotiated.remoteRtp.address) !== 0, `destination ${JSON.stringify(negotiated.remoteRtp)}${where}`);
        if (negotiated.remoteRtcp) assert.ok(validPort(negotiated.remoteRtcp.port) && isIP(negotiated.remoteRtcp.address) !== 0, `RTCP destination ${JSON.stringify(negotiated.remoteRtcp)}${where}`);
        assert.ok(Number.isFinite(negotiated.ptime) && negotiated.ptime >= 10 && negotiated.ptime <= 120, `ptime ${negotiated.ptime}${where}`);
        if (policy === 'mandatory') assert.ok(negotiated.srtp, `mandatory SRTP answered without it${where}`);
      }
    }
    assert.ok(counts.offersAnswered > 1000 && counts.offersRefused > 1000, JSON.stringify(counts));
  });

  test('3000 mutated answers to our offer per SRTP policy: used within our offer, or refused', () => {
    const random = seededDraws(11);
    for (const policy of ['off', 'optional', 'mandatory'] as const) {
      const options = local(policy);
      const ourOffer = createOffer(options);
      // Answers are offers answered by a peer: start from our seeds' shapes, one audio stream.
      const answers = SEEDS.filter((sdp) => (sdp.match(/^m=/gm) ?? []).length === 1);
      for (let i = 0; i < 3000 * ROUNDS; i++) {
        const sdp = mutate(random.pick(answers), random);
        const result = outcome(() => negotiateAnswer(ourOffer, parseRemoteSdp(sdp), { address: options.address, codecs: options.codecs, srtp: options.srtp! }), sdp);
        if (result instanceof SdpNegotiationError) {
          counts.answersRefused++;
          continue;
        }
        counts.answersUsed++;
        const where = `\n--- for SDP ---\n${JSON.stringify(sdp)}`;
        assert.ok(ourOffer.media[0]!.formats.includes(String(result.send.payloadType)), `we would send payload type ${result.send.payloadType}, which we did not offer${where}`);
        assert.ok(validPort(result.remoteRtp.port) && isIP(result.remoteRtp.address) !== 0, `destination ${JSON.stringify(result.remoteRtp)}${where}`);
        if (result.remoteRtcp) assert.ok(validPort(result.remoteRtcp.port) && isIP(result.remoteRtcp.address) !== 0, `RTCP destination ${JSON.stringify(result.remoteRtcp)}${where}`);
        assert.ok(Number.isFinite(result.ptime) && result.ptime >= 10 && result.ptime <= 120, `ptime ${result.ptime}${where}`);
        if (policy === 'mandatory') assert.ok(result.srtp, `mandatory SRTP used without it${where}`);
      }
    }
    assert.ok(counts.answersUsed > 500 && counts.answersRefused > 500, JSON.stringify(counts));
  });
});
