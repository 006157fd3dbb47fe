import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionOf, directionOf, parseSdp, SdpParseError, serializeSdp } from '../../../src-main/core/media/sdp/sdp';

// As baresip 3.x sends it (with its extra attributes), CRLF line ends.
const baresipOffer = [
  'v=0',
  'o=- 1914361263 2073487418 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:baresip 3.0.0',
  'm=audio 10058 RTP/AVP 9 0 8 101',
  'b=AS:64',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=rtcp:10059',
  'a=rtcp-mux',
  'a=sendrecv',
  'a=label:1',
  '',
].join('\r\n');

describe('SDP parse/serialize', () => {
  test('parses every field a softphone needs', () => {
    const sdp = parseSdp(baresipOffer);
    assert.deepEqual(sdp.origin, { username: '-', sessionId: '1914361263', sessionVersion: '2073487418', netType: 'IN', addrType: 'IP4', address: '127.0.0.1' });
    assert.equal(sdp.sessionName, '-');
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '127.0.0.1' });
    assert.deepEqual(sdp.timings, ['0 0']);
    assert.deepEqual(sdp.otherAttributes, [{ name: 'tool', value: 'baresip 3.0.0' }]);
    const m = sdp.media[0]!;
    assert.equal(m.type, 'audio');
    assert.equal(m.port, 10058);
    assert.equal(m.protocol, 'RTP/AVP');
    assert.deepEqual(m.formats, ['9', '0', '8', '101']);
    assert.deepEqual(m.bandwidths, ['AS:64']);
    assert.deepEqual(m.rtpmaps[3], { payloadType: 101, encodingName: 'telephone-event', clockRate: 8000 });
    assert.deepEqual(m.fmtps, [{ payloadType: 101, parameters: '0-15' }]);
    assert.equal(m.ptime, 20);
    assert.deepEqual(m.rtcp, { port: 10059 });
    assert.equal(m.rtcpMux, true);
    assert.equal(m.direction, 'sendrecv');
    assert.deepEqual(m.otherAttributes, [{ name: 'label', value: '1' }]);
    assert.equal(directionOf(sdp, m), 'sendrecv');
    assert.equal(connectionOf(sdp, m)?.address, '127.0.0.1');
  });

  test('serialize(parse(x)) reproduces a canonical SDP byte for byte', () => {
    assert.equal(serializeSdp(parseSdp(baresipOffer)), baresipOffer);
  });

  test('parse(serialize(model)) round-trips a model with every feature', () => {
    const text = [
      'v=0',
      'o=alice 2890844526 2890844527 IN IP6 ::1',
      's=Call',
      'i=A call',
      'c=IN IP6 ::1',
      'b=CT:128',
      't=0 0',
      'a=sendonly',
      'a=group:BUNDLE 0',
      'm=audio 49170 RTP/AVP 0 97',
      'i=voice',
      'c=IN IP6 ::2',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:97 opus/48000/2',
      'a=fmtp:97 useinbandfec=1; stereo=0',
      'a=ptime:20',
      'a=maxptime:40',
      'a=rtcp:53020 IN IP6 ::3',
      'a=inactive',
      'a=mid:0',
      'm=video 0 RTP/AVP 31',
      '',
    ].join('\r\n');
    const model = parseSdp(text);
    assert.deepEqual(parseSdp(serializeSdp(model)), model);
    assert.equal(serializeSdp(model), text);
    assert.equal(model.direction, 'sendonly');
    assert.equal(directionOf(model, model.media[0]!), 'inactive');
    assert.equal(directionOf(model, model.media[1]!), 'sendonly');
    assert.deepEqual(model.media[0]!.rtpmaps[1], { payloadType: 97, encodingName: 'opus', clockRate: 48000, channels: 2 });
    assert.deepEqual(model.media[0]!.rtcp, { port: 53020, connection: { netType: 'IN', addrType: 'IP6', address: '::3' } });
    assert.equal(model.media[0]!.maxptime, 40);
  });

  test('accepts LF-only line ends', () => {
    const sdp = parseSdp(baresipOffer.replaceAll('\r\n', '\n'));
    assert.equal(sdp.media[0]!.port, 10058);
  });

  test('rejects malformed SDP naming the line', () => {
    const bad = (from: string, to: string) => baresipOffer.replace(from, to);
    const cases: Array<[string, string, RegExp]> = [
      ['empty', '', /Empty SDP/],
      ['no v=', baresipOffer.replace('v=0\r\n', ''), /must start with "v=0"/],
      ['o= short', bad('o=- 1914361263 2073487418 IN IP4 127.0.0.1', 'o=- 1 IN IP4 1.2.3.4'), /line 2 .*o=<username>/],
      ['m= port', bad('m=audio 10058', 'm=audio 70000'), /line 7 .*m=<media>/],
      ['rtpmap', bad('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU'), /a=rtpmap/],
      ['fmtp', bad('a=fmtp:101 0-15', 'a=fmtp:x 0-15'), /a=fmtp/],
      ['ptime', bad('a=ptime:20', 'a=ptime:abc'), /a=ptime/],
      ['rtcp', bad('a=rtcp:10059', 'a=rtcp:port'), /a=rtcp/],
      ['garbage line', bad('s=-', 's=-\r\nhello'), /line 4 .*<type>=<value>/],
      ['no c=', bad('c=IN IP4 127.0.0.1\r\n', ''), /no c= line/],
      ['no t=', bad('t=0 0\r\n', ''), /no t= line/],
    ];
    for (const [name, text, message] of cases) {
      assert.throws(() => parseSdp(text), (e: unknown) => e instanceof SdpParseError && message.test(e.message), name);
    }
  });
});
