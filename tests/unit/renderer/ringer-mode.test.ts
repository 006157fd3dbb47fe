import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallState } from '../../../src-main/common/contract/contract';
import { ringerModeOf } from '../../../src-renderer/src/lib/ringer-mode';

const calls = (...states: CallState[]) => states.map((state) => ({ state }));

test('the ring sounds for an incoming call alone; call-waiting while another call has the user; off otherwise', () => {
  assert.equal(ringerModeOf([]), 'off');
  assert.equal(ringerModeOf(calls('connected', 'ending')), 'off');
  assert.equal(ringerModeOf(calls('incoming')), 'ring');
  assert.equal(ringerModeOf(calls('incoming', 'incoming', 'ending')), 'ring', 'two calls ringing, or one hanging up meanwhile');
  for (const busy of ['dialing', 'ringing', 'early-media', 'connected'] as const) assert.equal(ringerModeOf(calls('incoming', busy)), 'call-waiting', busy);
});

test('a call we hold does not have the user: an incoming call rings out loud', () => {
  assert.equal(ringerModeOf([{ state: 'incoming' }, { state: 'connected', hold: 'local' }]), 'ring');
  assert.equal(ringerModeOf([{ state: 'incoming' }, { state: 'connected', hold: 'both' }]), 'ring');
  assert.equal(ringerModeOf([{ state: 'incoming' }, { state: 'connected', hold: 'remote' }]), 'call-waiting', 'held by the other side: the user is still in that call');
});
