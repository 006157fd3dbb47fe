import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ringerModeOf } from '../../../src-renderer/src/lib/ringer-mode';

test('the ring sounds for an incoming call alone; call-waiting while another call has the user; off otherwise', () => {
  assert.equal(ringerModeOf([]), 'off');
  assert.equal(ringerModeOf(['connected', 'ending']), 'off');
  assert.equal(ringerModeOf(['incoming']), 'ring');
  assert.equal(ringerModeOf(['incoming', 'incoming', 'ending']), 'ring', 'two calls ringing, or one hanging up meanwhile');
  for (const busy of ['dialing', 'ringing', 'early-media', 'connected'] as const) assert.equal(ringerModeOf(['incoming', busy]), 'call-waiting', busy);
});
