// The built-in echo canceller's line in a call's audio card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echoCancellerStatus } from '../../../src-renderer/src/lib/echo-canceller-status';

test('names the echo path once the canceller takes echo off, and says so when there is none', () => {
  assert.equal(echoCancellerStatus({ adapted: false, echoDelayMs: 12, echoReductionDb: 1 }), 'Built-in echo canceller: listening for echo');
  assert.equal(echoCancellerStatus({ adapted: true, echoDelayMs: 24, echoReductionDb: 0.4 }), 'Built-in echo canceller: no echo heard');
  assert.equal(echoCancellerStatus({ adapted: true, echoDelayMs: 41.3, echoReductionDb: 27.6 }), 'Built-in echo canceller: echo path 41 ms, 28 dB less echo');
});
