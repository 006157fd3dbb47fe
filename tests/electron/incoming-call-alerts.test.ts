// Incoming-call alerts' decisions (incoming-call-alerts.ts) against a recording surface: when a
// notification is shown and closed, when the window flashes, what clicking does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallSnapshot, CallState } from '../../src-main/common/contract/contract';
import { IncomingCallAlerts, type AlertSurface } from '../../src-main/electron/incoming-call-alerts';

function surface(focused: boolean) {
  const log: string[] = [];
  const clicks: Array<() => void> = [];
  const fake: AlertSurface & { focused: boolean } = {
    focused,
    windowFocused: () => fake.focused,
    flash: (on) => void log.push(`flash ${on}`),
    notify: (title, body, onClick) => {
      log.push(`notify ${title}: ${body}`);
      clicks.push(onClick);
      return { close: () => void log.push(`close ${body}`) };
    },
    showWindow: () => void log.push('show window'),
  };
  return { fake, log, clicks };
}

function call(callId: string, state: CallState, remote: { uri: string; name?: string }): CallSnapshot {
  return { callId, accountId: 'acc-1', direction: 'incoming', remoteUri: remote.uri, remoteName: remote.name, state, muted: false };
}

const CAROL = { uri: 'sip:carol@pbx.test;transport=udp', name: 'Carol' };
const DAVE = { uri: 'sip:204@pbx.test' };

describe('incoming-call alerts', () => {
  test('window not in front: a notification says who calls and the window flashes, until the call is answered', () => {
    const { fake, log, clicks } = surface(false);
    const alerts = new IncomingCallAlerts(fake);
    alerts.onCall(call('call-1', 'incoming', CAROL));
    alerts.onCall(call('call-1', 'incoming', CAROL)); // the same call again: nothing more
    assert.deepEqual(log, ['notify Incoming call: Carol · carol@pbx.test', 'flash true']);
    clicks[0]!();
    assert.equal(log.at(-1), 'show window', 'clicking the notification brings the window up');
    alerts.onCall(call('call-1', 'connected', CAROL));
    assert.deepEqual(log.slice(3), ['close Carol · carol@pbx.test', 'flash false']);
  });

  test('two calls: each its own notification; the flashing goes on until neither is incoming', () => {
    const { fake, log } = surface(false);
    const alerts = new IncomingCallAlerts(fake);
    alerts.onCall(call('call-1', 'incoming', CAROL));
    alerts.onCall(call('call-2', 'incoming', DAVE));
    alerts.onCall(call('call-1', 'ended', CAROL));
    assert.deepEqual(log, ['notify Incoming call: Carol · carol@pbx.test', 'flash true', 'notify Incoming call: 204@pbx.test', 'close Carol · carol@pbx.test']);
    alerts.onCall(call('call-2', 'ended', DAVE));
    assert.deepEqual(log.slice(4), ['close 204@pbx.test', 'flash false']);
  });

  test('window focused: no notification and no flashing (the window shows the call)', () => {
    const { fake, log } = surface(true);
    const alerts = new IncomingCallAlerts(fake);
    alerts.onCall(call('call-1', 'incoming', CAROL));
    alerts.onCall(call('call-1', 'ended', CAROL));
    assert.deepEqual(log, []);
  });

  test('calls that never rang here (our own, or already going) raise nothing', () => {
    const { fake, log } = surface(false);
    const alerts = new IncomingCallAlerts(fake);
    alerts.onCall({ ...call('call-3', 'dialing', DAVE), direction: 'outgoing' });
    alerts.onCall(call('call-4', 'connected', CAROL));
    alerts.onCall(call('call-4', 'ended', CAROL));
    assert.deepEqual(log, []);
  });
});
