// The worklet's playout ring: FIFO order across the wrap, overflow drops the oldest, short reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatRing } from '../../../src-renderer/src/audio/float-ring';

const seq = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

test('samples come out in order across the wrap-around', () => {
  const ring = new FloatRing(5);
  assert.equal(ring.write(seq(0, 3)), 0);
  const out = new Float32Array(5);
  assert.equal(ring.read(out, 0, 2), 2);
  assert.equal(ring.write(seq(3, 4)), 0); // wraps
  assert.equal(ring.length, 5);
  assert.equal(ring.read(out, 0, 5), 5);
  assert.deepEqual(Array.from(out), [2, 3, 4, 5, 6]);
});

test('overflow drops the oldest samples and says how many', () => {
  const ring = new FloatRing(4);
  ring.write(seq(0, 3));
  assert.equal(ring.write(seq(3, 3)), 2);
  const out = new Float32Array(4);
  ring.read(out, 0, 4);
  assert.deepEqual(Array.from(out), [2, 3, 4, 5]);
  assert.equal(ring.write(seq(10, 6)), 2, 'a write larger than the ring keeps its newest part');
  ring.read(out, 0, 4);
  assert.deepEqual(Array.from(out), [12, 13, 14, 15]);
});

test('a read of more than is buffered returns what there is, at the given offset', () => {
  const ring = new FloatRing(8);
  ring.write(seq(1, 2));
  const out = new Float32Array(4).fill(-1);
  assert.equal(ring.read(out, 1, 3), 2);
  assert.deepEqual(Array.from(out), [-1, 1, 2, -1]);
  assert.equal(ring.length, 0);
  assert.throws(() => new FloatRing(0), /capacity must be a positive integer, got 0/);
});
