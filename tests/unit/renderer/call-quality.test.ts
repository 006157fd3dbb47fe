// Why a call may sound bad (call-quality.ts): each direction from its own figures, nothing below
// the noticeable thresholds, concealment told only where loss does not already explain it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallStats } from '../../../src-main/common/contract/contract';
import { NOTICEABLE, qualityProblems } from '../../../src-renderer/src/lib/call-quality';

const GOOD: CallStats = {
  codec: 'PCMU',
  sampleRate: 8000,
  direction: 'sendrecv',
  rtcpMux: false,
  packetsSent: 1000,
  packetsReceived: 1000,
  bytesSent: 160000,
  bytesReceived: 160000,
  packetsLost: 0,
  lossPercent: 0.2,
  jitterMs: 4,
  roundTripTimeMs: 40,
  remote: { fractionLost: 0.01, cumulativeLost: 3, jitterMs: 5 },
  rtcpSent: 5,
  rtcpReceived: 5,
  quality: { rFactor: 92, mos: 4.4, rating: 'best', approximate: false },
};

test('a good call has nothing to say', () => {
  assert.deepEqual(qualityProblems(GOOD), []);
  const { remote: _remote, roundTripTimeMs: _rtt, ...noRtcp } = GOOD;
  assert.deepEqual(qualityProblems(noRtcp), [], 'no RTCP from the peer: nothing about its side');
});

test('just below every threshold is still fine; at it, each is told', () => {
  const below: CallStats = {
    ...GOOD,
    lossPercent: NOTICEABLE.lossPercent - 0.1,
    jitterMs: NOTICEABLE.jitterMs - 1,
    roundTripTimeMs: NOTICEABLE.roundTripMs - 1,
    remote: { fractionLost: NOTICEABLE.lossPercent / 100 - 0.001, cumulativeLost: 30, jitterMs: NOTICEABLE.jitterMs - 1 },
  };
  assert.deepEqual(qualityProblems(below), []);
  const at: CallStats = {
    ...GOOD,
    lossPercent: 3,
    jitterMs: 40,
    roundTripTimeMs: 400,
    remote: { fractionLost: 0.25, cumulativeLost: 90, jitterMs: 41.4 },
  };
  assert.deepEqual(qualityProblems(at), [
    'You are missing 3.0 % of their audio (lost or late on the way to you)',
    'They are missing 25 % of your audio (lost on the way to them)',
    'Long delay: 400 ms there and back, so you may talk over each other',
    'Their audio arrives unevenly (jitter 40 ms), which adds delay',
    'Your audio reaches them unevenly (jitter 41 ms)',
  ]);
});

test('concealment is told when loss does not explain it (late audio), not twice when it does', () => {
  const jitterBuffer = {
    state: 'playing' as const,
    currentDelayMs: 60,
    targetDelayMs: 60,
    received: 1000,
    late: 0,
    lost: 0,
    concealed: 80,
    fecRecovered: 0,
    expandRate: 0.08,
    acceleratedSamples: 0,
    expandedSamples: 0,
    duplicates: 0,
    reordered: 0,
    underruns: 12,
    discarded: 0,
    ssrcChanges: 0,
    decodeErrors: 0,
    comfortNoiseMs: 0,
  };
  assert.deepEqual(qualityProblems({ ...GOOD, jitterBuffer }), ['8.0 % of what you hear is filled in because their audio came too late']);
  assert.deepEqual(qualityProblems({ ...GOOD, lossPercent: 7, jitterBuffer }), ['You are missing 7.0 % of their audio (lost or late on the way to you)']);
});
