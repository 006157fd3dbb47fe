import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../../src-main/core/sip/transport/stream-framer';

function collect() {
  const messages: string[] = [];
  const errors: Error[] = [];
  let pings = 0;
  const framer = new StreamFramer({
    onMessage: (m) => messages.push(m.toString('utf8')),
    onPing: () => (pings += 1),
    onError: (e) => errors.push(e),
  });
  return { framer, messages, errors, pings: () => pings };
}

function sipMessage(body: string, method = 'MESSAGE'): string {
  return (
    `${method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n` +
    `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`
  );
}

describe('StreamFramer (RFC 3261 18.3 Content-Length framing)', () => {
  test('counts Content-Length in bytes, not characters (multi-byte UTF-8 body)', () => {
    const c = collect();
    const body = 'Grüße 🎉 ok';
    const one = sipMessage(body);
    const two = sipMessage('second', 'OPTIONS');
    c.framer.push(Buffer.from(one + two, 'utf8'));
    assert.deepEqual(c.messages, [one, two]);
  });

  test('reassembles a message split at every byte boundary', () => {
    const c = collect();
    const msg = sipMessage('héllo wörld');
    for (const byte of Buffer.from(msg, 'utf8')) c.framer.push(Buffer.from([byte]));
    assert.deepEqual(c.messages, [msg]);
  });

  test('coalesced and partial segments across messages', () => {
    const c = collect();
    const a = sipMessage('aaa');
    const b = sipMessage('bbbb');
    const all = Buffer.from(a + b, 'utf8');
    c.framer.push(all.subarray(0, a.length + 10));
    assert.deepEqual(c.messages, [a]);
    c.framer.push(all.subarray(a.length + 10));
    assert.deepEqual(c.messages, [a, b]);
  });

  test('CRLFCRLF between messages is a ping; a single CRLF (pong) is ignored', () => {
    const c = collect();
    const a = sipMessage('x');
    c.framer.push(Buffer.from('\r\n\r\n'));
    assert.equal(c.pings(), 1);
    c.framer.push(Buffer.from('\r\n' + a));
    assert.equal(c.pings(), 1);
    assert.deepEqual(c.messages, [a]);
    // A ping split across segments still counts once.
    c.framer.push(Buffer.from('\r\n\r'));
    c.framer.push(Buffer.from('\n'));
    assert.equal(c.pings(), 2);
  });

  test('a malformed Content-Length is a framing error, reported once', () => {
    const c = collect();
    c.framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: abc\r\n\r\n'));
    c.framer.push(Buffer.from(sipMessage('later')));
    assert.equal(c.errors.length, 1);
    assert.match(c.errors[0]!.message, /invalid Content-Length "abc"/);
    assert.deepEqual(c.messages, []);
  });

  test('compact form "l:" is honoured', () => {
    const c = collect();
    const msg = 'MESSAGE sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcREST';
    c.framer.push(Buffer.from(msg));
    assert.deepEqual(c.messages, ['MESSAGE sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabc']);
  });
});
