// Individual validator rules on small crafted messages: each valid/invalid pair shows the rule
// is exactly where it should be (a neighbouring valid value still passes).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSipMessage, type Verdict } from '../../../src-main/core/sip/wire/message-validator';

const BASE_HEADERS: Array<[string, string]> = [
  ['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds'],
  ['Max-Forwards', '70'],
  ['To', '<sip:alice@example.com>'],
  ['From', '"Bob" <sip:bob@example.com>;tag=1928301774'],
  ['Call-ID', 'a84b4c76e66710@pc33.example.com'],
  ['CSeq', '314159 OPTIONS'],
  ['Content-Length', '0'],
];

/** A valid OPTIONS with headers replaced (same name) or appended; null removes a header. */
function request(
  overrides: Record<string, string | null> = {},
  { startLine = 'OPTIONS sip:alice@example.com SIP/2.0', extra = [] as string[], body = '' } = {},
): Buffer {
  const lines = [startLine];
  for (const [name, value] of BASE_HEADERS) {
    const override = overrides[name];
    if (override === null) continue;
    lines.push(`${name}: ${override ?? value}`);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== null && !BASE_HEADERS.some(([n]) => n === name)) lines.push(`${name}: ${value}`);
  }
  return Buffer.from([...lines, ...extra].join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

function response(startLine: string, overrides: Record<string, string | null> = {}): Buffer {
  return request({ CSeq: '314159 INVITE', To: '<sip:alice@example.com>;tag=a6c85cf', ...overrides }, { startLine });
}

function rejected(verdict: Verdict, status: number, reason: RegExp): void {
  assert.equal(verdict.kind, 'reject', JSON.stringify(verdict));
  assert.ok(verdict.kind === 'reject');
  assert.equal(verdict.status, status);
  assert.match(verdict.reason, reason);
}

const accepted = (verdict: Verdict): void => assert.deepEqual(verdict, { kind: 'accept' });

describe('start line', () => {
  test('a plain OPTIONS is accepted', () => accepted(validateSipMessage(request())));

  test('sips: is accepted; tel: and other schemes are answered 416', () => {
    accepted(validateSipMessage(request({}, { startLine: 'OPTIONS sips:alice@example.com SIP/2.0' })));
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS tel:+15551234 SIP/2.0' })), 416, /^Unsupported URI Scheme$/);
  });

  test('a REFER whose Refer-To sip.js cannot read (tel:) is declined 603; sip:, sips:, http: and the compact form are read', () => {
    const refer = (referTo: string, name = 'Refer-To') =>
      validateSipMessage(request({ CSeq: '314160 REFER', [name]: referTo }, { startLine: 'REFER sip:alice@example.com SIP/2.0' }));
    rejected(refer('<tel:+19005550100>'), 603, /^Transfer target not supported$/);
    rejected(refer('<tel:+19005550100>', 'r'), 603, /^Transfer target not supported$/);
    for (const readable of ['<sip:carol@example.com>', '<sips:carol@example.com>', '"Carol" <sip:carol@example.com;method=INVITE>', '<http://example.com/x>']) accepted(refer(readable));
    accepted(validateSipMessage(request({ 'Refer-To': '<tel:+19005550100>' }))); // only a REFER is judged by it
  });

  test('a syntax error outranks an unsupported scheme', () => {
    rejected(validateSipMessage(request({ 'Max-Forwards': '256' }, { startLine: 'OPTIONS tel:+1 SIP/2.0' })), 400, /Max-Forwards/);
  });

  test('malformed escapes and hosts in the Request-URI are 400', () => {
    accepted(validateSipMessage(request({}, { startLine: 'OPTIONS sip:al%69ce@example.com SIP/2.0' })));
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS sip:al%6ice@example.com SIP/2.0' })), 400, /escape/);
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@exa!mple.com SIP/2.0' })), 400, /Malformed host/);
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@example.com:99999 SIP/2.0' })), 400, /port/);
    accepted(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@[2001:db8::1]:5062;transport=udp SIP/2.0' })));
  });

  test('SIP-Version: 2.0 in any case is accepted, 3.0 is 505, garbage is 400', () => {
    accepted(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@example.com sip/2.0' })));
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@example.com SIP/3.0' })), 505, /Version Not Supported/);
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS sip:alice@example.com HTTP/1.1' })), 400, /SIP-Version/);
  });

  test('a tab between Request-Line elements is 400', () => {
    rejected(validateSipMessage(request({}, { startLine: 'OPTIONS\tsip:alice@example.com SIP/2.0' })), 400, /single SP/);
  });

  test('leading CRLF before the start line is dropped, a bare keep-alive too', () => {
    assert.equal(validateSipMessage(Buffer.concat([Buffer.from('\r\n'), request()])).kind, 'drop');
    assert.deepEqual(validateSipMessage(Buffer.from('\r\n\r\n')), { kind: 'drop', reason: 'Empty message or CRLF keep-alive' });
    assert.deepEqual(validateSipMessage(Buffer.alloc(0)), { kind: 'drop', reason: 'Empty message or CRLF keep-alive' });
    assert.deepEqual(validateSipMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0')), { kind: 'drop', reason: 'No CRLF: not a SIP message' });
  });
});

describe('what is answered and what is dropped', () => {
  test('an ACK is never answered: its defects are dropped', () => {
    const ack = request({ CSeq: '314159 ACK', 'Max-Forwards': '999' }, { startLine: 'ACK sip:alice@example.com SIP/2.0' });
    const verdict = validateSipMessage(ack);
    assert.equal(verdict.kind, 'drop');
    assert.ok(verdict.kind === 'drop');
    assert.match(verdict.reason, /Max-Forwards exceeds 255 \(ACK is never answered\)/);
    assert.equal(validateSipMessage(request({ CSeq: '1 ACK' }, { startLine: 'ACK tel:+1 SIP/2.0' })).kind, 'drop');
  });

  test('a broken request without Via or Call-ID cannot be answered and is dropped', () => {
    for (const missing of ['Via', 'Call-ID', 'From', 'To', 'CSeq']) {
      const verdict = validateSipMessage(request({ [missing]: null, 'Max-Forwards': '256' }));
      assert.equal(verdict.kind, 'drop', missing);
      assert.ok(verdict.kind === 'drop');
      assert.match(verdict.reason, /unanswerable/);
    }
  });

  test('a valid request missing mandatory headers is left to the application (RFC 4475 3.3.1)', () => {
    accepted(validateSipMessage(request({ 'Call-ID': null, From: null })));
  });

  test('malformed responses are dropped, never answered; valid ones accepted', () => {
    accepted(validateSipMessage(response('SIP/2.0 200 OK')));
    accepted(validateSipMessage(response('SIP/2.0 180 ')));
    for (const line of ['SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 20 Short', 'SIP/3.0 200 OK', 'SIP/2.0 200']) {
      assert.equal(validateSipMessage(response(line)).kind, 'drop', line);
    }
    const badHeader = validateSipMessage(response('SIP/2.0 200 OK', { 'Max-Forwards': '256' }));
    assert.deepEqual(badHeader, { kind: 'drop', reason: 'Malformed response: Max-Forwards exceeds 255' });
  });

  test('responses have no CSeq/method match to check', () => {
    accepted(validateSipMessage(response('SIP/2.0 200 OK', { CSeq: '1 BYE' })));
  });
});

describe('header section framing', () => {
  test('a missing empty line after the headers is 400', () => {
    const text = request().toString('latin1').replace(/\r\n\r\n$/, '\r\n');
    rejected(validateSipMessage(Buffer.from(text, 'latin1')), 400, /^Header section not terminated by an empty line$/);
  });

  test('bare LF or CR inside the header section is 400', () => {
    rejected(validateSipMessage(request({ Subject: 'one\ntwo' })), 400, /Bare CR or LF/);
    rejected(validateSipMessage(request({ Subject: 'one\rtwo' })), 400, /Bare CR or LF/);
  });

  test('folded header values are unfolded before checking', () => {
    accepted(validateSipMessage(request({ CSeq: '314159\r\n  OPTIONS', Subject: 'a\r\n\tb' })));
  });

  test('a header line without colon, or a leading continuation line, is 400', () => {
    rejected(validateSipMessage(request({}, { extra: ['NoColonHere'] })), 400, /without a colon/);
    const text = request().toString('latin1').replace('\r\nVia:', '\r\n folded\r\nVia:');
    rejected(validateSipMessage(Buffer.from(text, 'latin1')), 400, /continuation line/);
  });

  test('header names must be tokens', () => {
    rejected(validateSipMessage(request({}, { extra: ['Bad Name: x'] })), 400, /name is not a token/);
  });

  test('raw control octets are 400, but not inside quoted-pairs', () => {
    rejected(validateSipMessage(request({ Subject: 'nul\u0000here' })), 400, /^Control character in Subject header$/);
    accepted(validateSipMessage(request({ To: '"nul \\\u0000 bel \\\u0007" <sip:alice@example.com>' })));
    rejected(validateSipMessage(request({ To: '"nul \u0000" <sip:alice@example.com>' })), 400, /Control character in a quoted string in To/);
  });

  test('Content-Length: body shorter is 400, trailing octets beyond it are ignored', () => {
    rejected(validateSipMessage(request({ 'Content-Length': '5' }, { body: 'abcd' })), 400, /exceeds the message body/);
    accepted(validateSipMessage(request({ 'Content-Length': '5' }, { body: 'abcdefgh' })));
    accepted(validateSipMessage(request({ 'Content-Length': null }, { body: 'no length on UDP' })));
    rejected(validateSipMessage(request({ 'Content-Length': '1e3' })), 400, /Content-Length is not a number/);
    rejected(validateSipMessage(request({ 'Content-Length': '99999999999' })), 400, /Content-Length out of range/);
  });

  test('Content-Length counts octets: a UTF-8 body of 4 characters is 8 octets', () => {
    const body = 'ÄÖÜß';
    const raw = Buffer.concat([request({ 'Content-Length': '8' }), Buffer.from(body, 'utf8')]);
    assert.equal(raw.length - raw.indexOf('\r\n\r\n') - 4, 8);
    accepted(validateSipMessage(raw));
  });

  test('repeated single-valued headers are 400, even with equal values; list headers may repeat', () => {
    rejected(validateSipMessage(request({}, { extra: ['Content-Length: 0'] })), 400, /^Multiple Content-Length values$/);
    rejected(validateSipMessage(request({}, { extra: ['t: <sip:alice@example.com>'] })), 400, /^Multiple To header fields$/);
    rejected(validateSipMessage(request({}, { extra: ['i: other@host'] })), 400, /^Multiple Call-ID header fields$/);
    accepted(validateSipMessage(request({}, { extra: ['Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKa', 'Supported: a', 'Supported: b'] })));
  });
});

describe('header values', () => {
  test('CSeq: up to 2**32-1, method must match, LWS between', () => {
    accepted(validateSipMessage(request({ CSeq: '4294967295 OPTIONS' })));
    rejected(validateSipMessage(request({ CSeq: '4294967296 OPTIONS' })), 400, /^CSeq sequence number exceeds 2\*\*32-1$/);
    rejected(validateSipMessage(request({ CSeq: '1 options' })), 400, /does not match/);
    rejected(validateSipMessage(request({ CSeq: '1OPTIONS' })), 400, /CSeq/);
    rejected(validateSipMessage(request({ CSeq: 'OPTIONS' })), 400, /Missing sequence number in CSeq/);
  });

  test('Max-Forwards: 0-255', () => {
    accepted(validateSipMessage(request({ 'Max-Forwards': '255' })));
    accepted(validateSipMessage(request({ 'Max-Forwards': '0' })));
    rejected(validateSipMessage(request({ 'Max-Forwards': '256' })), 400, /^Max-Forwards exceeds 255$/);
    rejected(validateSipMessage(request({ 'Max-Forwards': '-1' })), 400, /^Max-Forwards is not a number$/);
  });

  test('Via: sent-protocol, sent-by, parameters, lists', () => {
    accepted(validateSipMessage(request({ Via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa;rport, SIP/2.0/TCP b.example.com' })));
    accepted(validateSipMessage(request({ Via: 'SIP/2.0/UDP 192.0.2.1;received=192.0.2.9;rport=5062;ttl=16;maddr=224.2.0.1' })));
    const secondVia = (value: string) => request({}, { extra: [`Via: ${value}`] });
    rejected(validateSipMessage(secondVia('SIP/2.0 192.0.2.1')), 400, /sent-protocol in Via/);
    rejected(validateSipMessage(secondVia('SIP/2.0/UDP')), 400, /Via/);
    // A top Via without transport or sent-by leaves nowhere to send an answer.
    assert.match(JSON.stringify(validateSipMessage(request({ Via: 'SIP/2.0/UDP' }))), /"drop".*unanswerable/);
    rejected(validateSipMessage(request({ Via: 'SIP/2.0/UDP 192.0.2.1;branch=a,' })), 400, /Empty value in Via/);
    rejected(validateSipMessage(request({ Via: 'SIP/2.0/UDP 192.0.2.1:70000' })), 400, /port in Via/);
    rejected(validateSipMessage(request({ Via: 'SIP/2.0/UDP 192.0.2.1;ttl=300' })), 400, /ttl/);
  });

  test('To/From: display names, brackets, parameters, single value', () => {
    accepted(validateSipMessage(request({ To: 'Alice Smith <sip:alice@example.com>' })));
    accepted(validateSipMessage(request({ To: 'sip:alice@example.com;tag=x' })));
    accepted(validateSipMessage(request({ To: '<tel:+15551234>' })));
    rejected(validateSipMessage(request({ To: 'Smith, Alice <sip:alice@example.com>' })), 400, /Display name/);
    rejected(validateSipMessage(request({ To: '<sip:alice@example.com>, <sip:bob@example.com>' })), 400, /More than one value in To/);
    rejected(validateSipMessage(request({ To: '<sip:alice@example.com' })), 400, /Missing closing angle bracket in To/);
    rejected(validateSipMessage(request({ To: '<sip:alice@example.com>;;tag=1' })), 400, /parameter in To/);
    rejected(validateSipMessage(request({ From: '<sip:bob@example.com>;tag=' })), 400, /Parameter value missing/);
    rejected(validateSipMessage(request({ To: 'alice' })), 400, /Malformed URI in To/);
    rejected(validateSipMessage(request({ To: '<sip:al ice@example.com>' })), 400, /To/);
  });

  test('Contact: "*", lists, expires and q ranges, "?" only inside brackets', () => {
    accepted(validateSipMessage(request({ Contact: '*' })));
    accepted(validateSipMessage(request({ Contact: '<sip:a@b>;expires=3600;q=0.7, "B" <sip:c@d?Subject=x>, sip:e@f;q=1' })));
    rejected(validateSipMessage(request({ Contact: '<sip:a@b>;expires=4294967296' })), 400, /Contact expires parameter exceeds/);
    rejected(validateSipMessage(request({ Contact: '<sip:a@b>;q=1.5' })), 400, /q parameter/);
    rejected(validateSipMessage(request({ Contact: 'sip:a@b?Subject=x' })), 400, /\? not enclosed/);
    rejected(validateSipMessage(request({ Contact: '<sip:a@b>,,<sip:c@d>' })), 400, /Empty value in Contact/);
  });

  test('Route/Record-Route require name-addr', () => {
    accepted(validateSipMessage(request({ Route: '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>' })));
    rejected(validateSipMessage(request({ Route: 'sip:p1.example.com;lr' })), 400, /not enclosed in angle brackets in Route/);
  });

  test('Call-ID: word or word@word', () => {
    accepted(validateSipMessage(request({ 'Call-ID': 'abc@[2001:db8::1]' })));
    rejected(validateSipMessage(request({ 'Call-ID': 'abc def' })), 400, /Call-ID/);
    rejected(validateSipMessage(request({ 'Call-ID': 'a@b@c' })), 400, /Call-ID/);
  });

  test('Content-Type, Date, Expires, Warning, Retry-After', () => {
    accepted(validateSipMessage(request({ 'Content-Type': 'multipart/mixed ; boundary="x y"' })));
    rejected(validateSipMessage(request({ 'Content-Type': 'application' })), 400, /media type in Content-Type/);
    accepted(validateSipMessage(request({ Date: 'Sat, 13 Nov 2010 23:29:00 GMT' })));
    accepted(validateSipMessage(request({ Date: 'Mon, 1 Nov 2010 23:29:00 GMT' })));
    rejected(validateSipMessage(request({ Date: 'Mon, 01 Nov 2010 23:29 GMT' })), 400, /^Malformed Date$/);
    rejected(validateSipMessage(request({ Date: 'Sat, 13 Nov 2010 23:29:00 EST' })), 400, /^Date not in GMT$/);
    rejected(validateSipMessage(request({ Expires: '4294967296' })), 400, /Expires value exceeds/);
    accepted(validateSipMessage(response('SIP/2.0 503 Busy', { Warning: '399 host "text, with comma", 370 x "y"', 'Retry-After': '18000;duration=3600' })));
    assert.equal(validateSipMessage(response('SIP/2.0 503 Busy', { Warning: '1812 overture "x"' })).kind, 'drop');
    assert.equal(validateSipMessage(response('SIP/2.0 503 Busy', { 'Retry-After': '949302838503028349304023988' })).kind, 'drop');
  });
});

describe('reasons', () => {
  test('never quote the received bytes, so credentials and CRLF cannot leak into answers or logs', () => {
    const secret = 'Digest username="alice", response="s3cr3t\u0000"';
    const verdict = validateSipMessage(request({ Authorization: secret }));
    rejected(verdict, 400, /^Control character in Authorization header$/);
    assert.ok(verdict.kind === 'reject' && !verdict.reason.includes('s3cr3t'));
  });
});
