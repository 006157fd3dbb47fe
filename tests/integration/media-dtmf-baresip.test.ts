/**
 * DTMF both ways with a real baresip through Kamailio:
 * - call.dtmf sends RFC 4733 telephone-events when negotiated (dtmfMode auto): baresip reports
 *   each key (CALL_DTMF_START) in order;
 * - with dtmfMode info the same digits go as SIP INFO application/dtmf-relay, and baresip
 *   reports them too (and no telephone-event RTP was needed);
 * - baresip's 'sndcode' key presses (RFC 4733) arrive as call.dtmf events {digit, method rfc4733}.
 * - with Opus, where baresip (like Asterisk and Bria) has telephone-event/8000 only, RFC 4733 is
 *   still used both ways, in calls we place and calls we answer (an IVR behind a PBX ignores SIP
 *   INFO); the events count on the stream's 48 kHz audio clock, as baresip's do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type BaresipEvent, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { stereoToneWav } from './media-codecs-quality';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import type { EventPayload } from '../../src-main/common/contract/contract';

let pbx: TestPbx;
let dir: string;
let tone: string;
let bob: TestBaresip;
/** baresip with Opus only: its telephone-event is /8000 whatever the codec. */
let dave: TestBaresip;

before(async () => {
  dir = makeTempDir('sb-dtmf-');
  tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 500, seconds: 60, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave', 'erin'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
  const opusTone = stereoToneWav(join(dir, 'tone-48k.wav'), { frequencyHz: 500, seconds: 60, sampleRate: 48000, amplitude: 0.3 });
  dave = await startBaresip({ pbx, user: 'dave', autoAnswer: true, toneWav: opusTone, codecs: ['opus'] });
});

after(async () => {
  await dave?.stop();
  await bob?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Digits baresip reported since event index `from` (CALL_DTMF_START carries the key in `param`). */
function baresipDigits(from: number, peer = bob): string {
  return peer
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

async function waitForDigits(from: number, expected: string, peer = bob): Promise<void> {
  const deadline = Date.now() + 8000;
  while (baresipDigits(from, peer).length < expected.length && Date.now() < deadline) await sleep(100);
  assert.equal(baresipDigits(from, peer), expected, `baresip events: ${JSON.stringify(peer.events().slice(from).map((e) => [e.type, e.param]))}`);
}

/** baresip presses `keys`; returns our call.dtmf events once all came (or 8 s passed). */
async function pressAndReceive(peer: TestBaresip, keys: string[], received: EventPayload<'call.dtmf'>[]): Promise<EventPayload<'call.dtmf'>[]> {
  const from = received.length;
  for (const key of keys) await peer.command('sndcode', key);
  const deadline = Date.now() + 8000;
  while (received.length < from + keys.length && Date.now() < deadline) await sleep(100);
  return received.slice(from);
}

/** The call's receive statistics show nothing lost or concealed (loopback: nothing else is lost). */
async function assertNoLossCounted(phone: HeadlessSwitchboard, callId: string): Promise<void> {
  await sleep(500);
  const stats = await phone.client.call('call.stats', { callId });
  assert.equal(stats.packetsLost, 0, `no packet counted lost: ${JSON.stringify(stats)}`);
  assert.equal(stats.jitterBuffer?.lost, 0, `no frame counted lost: ${JSON.stringify(stats.jitterBuffer)}`);
  assert.equal(stats.jitterBuffer?.concealed, 0, `no frame concealed: ${JSON.stringify(stats.jitterBuffer)}`);
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

      const pressed = await pressAndReceive(bob, ['7', '#'], received);
      assert.deepEqual(pressed.map((e) => [e.callId, e.digit, e.method]), [[callId, '7', 'rfc4733'], [callId, '#', 'rfc4733']]);
      assert.ok(pressed.every((e) => (e.durationMs ?? 0) > 0), `durations: ${JSON.stringify(pressed)}`);
      // Its digits took the stream's sequence numbers and its audio's time: neither is loss (the
      // window would say audio was missing) nor concealment.
      await assertNoLossCounted(alice, callId);

      await assert.rejects(alice.client.call('call.dtmf', { callId, digits: '12x' }), /digits may only contain 0-9, \*, # and A-D/);
      await alice.client.call('call.hangup', { callId });
    } finally {
      await alice.stop();
      await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true }).catch(() => undefined);
    }
  });

  test('Opus with telephone-event/8000 only: RFC 4733 both ways, on calls we place and calls we answer', async () => {
    const erin = startHeadless(['--account', pbx.aor('erin'), '--password', pbx.password('erin'), '--proxy', pbx.proxyUri('udp'), '--audio-in', tone, '--trace']);
    const received: EventPayload<'call.dtmf'>[] = [];
    erin.client.on('call.dtmf', (e) => received.push(e));
    const durations: Record<string, number[]> = {};
    try {
      await erin.waitForAccount('registered', 20000);
      // We place the call: our offer lists telephone-event/8000 beside Opus's /48000, baresip answers /8000.
      const { callId } = await erin.client.call('call.dial', { target: 'dave' });
      await erin.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
      await dave.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10000, { includePast: true });
      await sleep(500);
      let from = dave.events().length;
      await erin.client.call('call.dtmf', { callId, digits: '159#' });
      await waitForDigits(from, '159#', dave);
      const placed = await pressAndReceive(dave, ['3', '*'], received);
      assert.deepEqual(placed.map((e) => [e.callId, e.digit, e.method]), [[callId, '3', 'rfc4733'], [callId, '*', 'rfc4733']]);
      durations.placed = placed.map((e) => e.durationMs ?? 0);
      await assertNoLossCounted(erin, callId);
      await erin.client.call('call.hangup', { callId });
      await dave.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });

      // baresip places the call: its offer has opus/48000/2 and telephone-event/8000 only.
      from = dave.events().length;
      await dave.dial(pbx.aor('erin'));
      const incoming = await erin.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 15000);
      await erin.client.call('call.answer', { callId: incoming.callId });
      await erin.waitForCall((c) => c.callId === incoming.callId && c.state === 'connected', 10000);
      await dave.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10000);
      await sleep(500);
      from = dave.events().length;
      await erin.client.call('call.dtmf', { callId: incoming.callId, digits: '28' });
      await waitForDigits(from, '28', dave);
      const answered = await pressAndReceive(dave, ['0'], received);
      assert.deepEqual(answered.map((e) => [e.callId, e.digit, e.method]), [[incoming.callId, '0', 'rfc4733']]);
      durations.answered = answered.map((e) => e.durationMs ?? 0);
      await assertNoLossCounted(erin, incoming.callId);
      await erin.client.call('call.hangup', { callId: incoming.callId });

      const trace = erin.stderr();
      assert.match(trace, /^a=rtpmap:\d+ opus\/48000\/2\r?$/m);
      assert.match(trace, /^a=rtpmap:\d+ telephone-event\/8000\r?$/m);
      assert.doesNotMatch(trace, /^INFO sip:/m, 'no SIP INFO was used');
      // baresip counts its durations on the audio clock (timestamp units): read at 8 kHz, they would be six times as long.
      for (const ms of [...durations.placed!, ...durations.answered!]) assert.ok(ms >= 40 && ms <= 1000, `durations (ms): ${JSON.stringify(durations)}`);
    } finally {
      await erin.stop();
      await dave.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true }).catch(() => undefined);
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
