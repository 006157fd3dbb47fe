// buildStatelessErrorResponse: RFC 3261 8.2.6 answers built from (possibly malformed) requests.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatelessErrorResponse } from '../../../src-main/core/sip/wire/message-validator';

const REQUEST = [
  'INVITE sip:alice@example.com SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2',
  'Via: SIP/2.0/UDP',
  '  origin.example.com;branch=z9hG4bK3',
  'f: "Jörg" <sip:joerg@example.com>;tag=77',
  't: <sip:alice@example.com>',
  'i: call-1@example.com',
  'CSeq: 5 INVITE',
  'Contact: <sip:joerg@192.0.2.1>',
  'Max-Forwards: 70',
  'l: 0',
  '',
  '',
].join('\r\n');

const raw = (text: string): Buffer => Buffer.from(text, 'utf8');

function headerLines(response: string): string[] {
  return response.split('\r\n').slice(1, -2);
}

describe('buildStatelessErrorResponse', () => {
  test('copies Vias in order (folding undone), From, To + new tag, Call-ID, CSeq; full header names', () => {
    const response = buildStatelessErrorResponse(raw(REQUEST), 400, 'Bad Request');
    assert.ok(response);
    assert.ok(response.startsWith('SIP/2.0 400 Bad Request\r\n'));
    assert.ok(response.endsWith('\r\nContent-Length: 0\r\n\r\n'));
    const lines = headerLines(response);
    assert.deepEqual(lines.slice(0, 2), [
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2',
      'Via: SIP/2.0/UDP   origin.example.com;branch=z9hG4bK3',
    ]);
    assert.equal(lines[2], 'From: "Jörg" <sip:joerg@example.com>;tag=77');
    assert.match(lines[3]!, /^To: <sip:alice@example\.com>;tag=[0-9a-f]{16}$/);
    assert.deepEqual(lines.slice(4), ['Call-ID: call-1@example.com', 'CSeq: 5 INVITE', 'Content-Length: 0']);
  });

  test('UTF-8 in copied values goes back as the same octets', () => {
    const response = buildStatelessErrorResponse(raw(REQUEST), 400, 'Bad Request')!;
    assert.ok(Buffer.from(response, 'utf8').includes(Buffer.from('"Jörg"', 'utf8')));
  });

  test('an existing To tag is kept, not doubled', () => {
    for (const to of ['<sip:alice@example.com>;tag=abc', 'sip:alice@example.com ; TAG = abc', '"A;tag=no" <sip:alice@example.com;tag=no>;tag=abc']) {
      const response = buildStatelessErrorResponse(raw(REQUEST.replace('t: <sip:alice@example.com>', `t: ${to}`)), 400, 'Bad Request')!;
      assert.equal(headerLines(response)[3], `To: ${to}`);
    }
  });

  test('a tag only inside the URI or display name does not count', () => {
    const response = buildStatelessErrorResponse(raw(REQUEST.replace('t: <sip:alice@example.com>', 't: "x;tag=1" <sip:alice@example.com;tag=2>')), 400, 'Bad Request')!;
    assert.match(headerLines(response)[3]!, /<sip:alice@example\.com;tag=2>;tag=[0-9a-f]{16}$/);
  });

  test('every answer gets a fresh To tag', () => {
    const a = buildStatelessErrorResponse(raw(REQUEST), 400, 'Bad Request');
    const b = buildStatelessErrorResponse(raw(REQUEST), 400, 'Bad Request');
    assert.notEqual(a, b);
  });

  test('broken header lines are skipped, not copied', () => {
    const text = REQUEST.replace('CSeq: 5 INVITE', 'CSeq: 5 INVITE\r\nTo <sip:no-colon@example.com>');
    const response = buildStatelessErrorResponse(raw(text), 400, 'Header field line without a colon')!;
    assert.ok(!response.includes('no-colon'));
  });

  test('the first of repeated From/To/Call-ID/CSeq is copied', () => {
    const text = REQUEST.replace('i: call-1@example.com', 'i: call-1@example.com\r\nCall-ID: call-2@example.com');
    const response = buildStatelessErrorResponse(raw(text), 400, 'Multiple Call-ID header fields')!;
    assert.ok(response.includes('Call-ID: call-1@example.com\r\n'));
    assert.ok(!response.includes('call-2'));
  });

  test('undefined when the request cannot be answered', () => {
    const cases: Record<string, string> = {
      response: REQUEST.replace('INVITE sip:alice@example.com SIP/2.0', 'SIP/2.0 200 OK'),
      ack: REQUEST.replace('INVITE sip:', 'ACK sip:').replace('5 INVITE', '5 ACK'),
      'no Via': REQUEST.replace(/^v: .*\r\nVia: .*\r\n .*\r\n/m, ''),
      'unusable top Via': REQUEST.replace(/^v: .*$/m, 'v: garbage'),
      'no Call-ID': REQUEST.replace('i: call-1@example.com\r\n', ''),
      'no From': REQUEST.replace(/^f: .*\r\n/m, ''),
      'no To': REQUEST.replace('t: <sip:alice@example.com>\r\n', ''),
      'no CSeq': REQUEST.replace('CSeq: 5 INVITE\r\n', ''),
      'empty CSeq': REQUEST.replace('CSeq: 5 INVITE', 'CSeq:'),
      'no CRLF': 'INVITE sip:alice@example.com SIP/2.0',
      'no method': ' sip:alice@example.com SIP/2.0\r\n' + REQUEST.split('\r\n').slice(1).join('\r\n'),
    };
    for (const [name, text] of Object.entries(cases)) {
      assert.notEqual(text, REQUEST, `${name}: fixture edit did not apply`);
      assert.equal(buildStatelessErrorResponse(raw(text), 400, 'Bad Request'), undefined, name);
    }
  });

  test('status and reason are checked: error statuses only, Reason-Phrase characters only', () => {
    for (const status of [200, 299, 700, 400.5, Number.NaN]) {
      assert.throws(() => buildStatelessErrorResponse(raw(REQUEST), status, 'Bad Request'), RangeError, String(status));
    }
    for (const reason of ['', ' ', 'a\r\nInjected: yes', 'Whitespace inside <>', 'quote "x"', '100% wrong']) {
      assert.throws(() => buildStatelessErrorResponse(raw(REQUEST), 400, reason), RangeError, JSON.stringify(reason));
    }
    assert.ok(buildStatelessErrorResponse(raw(REQUEST), 505, 'Version Not Supported'));
  });
});
