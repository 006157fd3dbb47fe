// baresip ctrl_tcp framing: our decoder must split, join and reject like the netstring spec says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeNetstring, NetstringDecoder } from '../../harness/netstring';

test('encodes with the byte length, not the character length', () => {
  assert.equal(encodeNetstring('{"a":1}').toString(), '7:{"a":1},');
  assert.equal(encodeNetstring('é').toString(), '2:é,');
});

test('decodes several messages in one chunk and one message split over chunks', () => {
  const d = new NetstringDecoder();
  assert.deepEqual(d.push(Buffer.from('3:abc,2:de,1:')), ['abc', 'de']);
  assert.deepEqual(d.push(Buffer.from('x')), []);
  assert.deepEqual(d.push(Buffer.from(',')), ['x']);
  const whole = encodeNetstring('héllo');
  assert.deepEqual(d.push(whole.subarray(0, 4)), []);
  assert.deepEqual(d.push(whole.subarray(4)), ['héllo']);
});

test('malformed framing is an error, not silently skipped', () => {
  assert.throws(() => new NetstringDecoder().push(Buffer.from('x3:abc,')), /bad length/);
  assert.throws(() => new NetstringDecoder().push(Buffer.from('3:abcd')), /missing trailing comma/);
});
