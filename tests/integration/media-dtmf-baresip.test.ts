/**
 * DTMF both ways with a real baresip through Kamailio:
 * - call.dtmf sends RFC 4733 telephone-events when negotiated (dtmfMode auto): baresip reports
 *   each key (CALL_DTMF_START) in order;
 * - with dtmfMode info the same digits go as SIP INFO application/dtmf-relay, and baresip
 *   reports them too (and no telephone-event RTP was needed);
 * - baresip's 'sndcode' key presses (RFC 4733) arrive as call.dtmf events {digit, method rfc4733}.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type BaresipEvent, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import type { EventPayload } from '../../src-main/common/contract/contract';

let pbx: TestPbx;
let dir: string;
let tone: string;
let bob: TestBaresip;

before(async () => {
  dir = makeTempDir('sb-dtmf-');
  tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 500, seconds: 60, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
});

after(async () => {
  await bob?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Digits baresip reported since event index `from` (CALL_DTMF_START carries the key in `param`). */
function baresipDigits(from: number): string {
  return bob
    .events()
    .slice(from)
    .filter((e: BaresipEvent) => e.type === 'CALL_DTMF_START')
    .map((e) => String(e.param ?? ''))
    .join('');
}

async function connectedCall(phone: HeadlessSwitchboard): Promise<string> {
  await phone.waitForAccount('registered', 20000);
  const { callId } = await phone.client.call('call.dial', { target: 'bob' });
  await phone.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
  await bob.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10000, { includePast: true });
  await sleep(500);
  return callId;
}

async function waitForDigits(from: number, expected: string): Promise<void> {
  const deadline = Date.now() + 8000;
  while (baresipDigits(from).length < expected.length && Date.now() < deadline) await sleep(100);
  assert.equal(baresipDigits(from), expected, `baresip events: ${JSON.stringify(bob.events().slice(from).map((e) => [e.type, e.param]))}`);
}

describe('DTMF with baresip', () => {
  test('RFC 4733 both ways (dtmfMode auto, telephone-event negotiated)', async () => {
    const alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--audio-in', tone, '--trace']);
    const received: EventPayload<'call.dtmf'>[] = [];
    alice.client.on('call.dtmf', (e) => received.push(e));
    try {
      const callId = await connectedCall(alice);
      assert.match(alice.stderr(), /^a=rtpmap:101 telephone-event\/8000\r?$/m);
      const from = bob.events().length;
      await alice.client.call('call.dtmf', { callId, digits: '1234#*' });
      await waitForDigits(from, '1234#*');
      assert.doesNotMatch(alice.stderr(), /^INFO sip:/m, 'no SIP INFO was used');

      await bob.command('sndcode', '7');
      await bob.command('sndcode', '#');
      const deadline = Date.now() + 8000;
      while (received.length < 2 && Date.now() < deadline) await sleep(100);
      assert.deepEqual(received.map((e) => [e.callId, e.digit, e.method]), [[callId, '7', 'rfc4733'], [callId, '#', 'rfc4733']]);
      assert.ok(received.every((e) => (e.durationMs ?? 0) > 0), `durations: ${JSON.stringify(received)}`);
      // Its digits took the stream's sequence numbers and its audio's time: neither is loss (the
      // window would say audio was missing) nor concealment. Loopback: nothing else is lost.
      await sleep(500);
      const stats = await alice.client.call('call.stats', { callId });
      assert.equal(stats.packetsLost, 0, `no packet counted lost: ${JSON.stringify(stats)}`);
      assert.equal(stats.jitterBuffer?.lost, 0, `no frame counted lost: ${JSON.stringify(stats.jitterBuffer)}`);
      assert.equal(stats.jitterBuffer?.concealed, 0, `no frame concealed: ${JSON.stringify(stats.jitterBuffer)}`);

      await assert.rejects(alice.client.call('call.dtmf', { callId, digits: '12x' }), /digits may only contain 0-9, \*, # and A-D/);
      await alice.client.call('call.hangup', { callId });
    } finally {
      await alice.stop();
      await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true }).catch(() => undefined);
    }
  });

  test('SIP INFO dtmf-relay when the account says info', async () => {
    const carol = startHeadless(['--account', pbx.aor('carol'), '--password', pbx.password('carol'), '--proxy', pbx.proxyUri('udp'), '--dtmf-mode', 'info', '--trace']);
    try {
      const callId = await connectedCall(carol);
      const from = bob.events().length;
      await carol.client.call('call.dtmf', { callId, digits: '59' });
      await waitForDigits(from, '59');
      assert.equal((carol.stderr().match(/^INFO sip:/gm) ?? []).length, 2, 'one INFO per digit');
      assert.match(carol.stderr(), /^Content-Type: application\/dtmf-relay\r?$/m);
      assert.match(carol.stderr(), /^Signal=5\r?$/m);
      await carol.client.call('call.hangup', { callId });
    } finally {
      await carol.stop();
    }
  });
});
