/**
 * One conversation at a time, as on a desk phone, against real baresips through Kamailio: when the
 * user answers, dials or resumes a call, the call in conversation is put on hold first (a re-INVITE
 * the far end answers), so nobody overhears the other conversation:
 * - answering a second call holds the first;
 * - resuming the held one holds the other (a swap);
 * - dialing while in a call holds it;
 * - a call we placed that is answered while the user talks to someone else (they answered that
 *   call while ours rang) goes on hold at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import type { CallSnapshot } from '../../src-main/common/contract/contract';

let pbx: TestPbx;
let dir: string;
let bob: TestBaresip;
let carol: TestBaresip;
let dave: TestBaresip;
let alice: HeadlessSwitchboard;

before(async () => {
  dir = makeTempDir('sb-one-conversation-');
  const tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 700, seconds: 120, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
  carol = await startBaresip({ pbx, user: 'carol', toneWav: tone, codecs: ['PCMU'] });
  dave = await startBaresip({ pbx, user: 'dave', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
  alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--audio-in', tone]);
  await alice.waitForAccount('registered', 20000);
});

after(async () => {
  await alice?.stop();
  for (const far of [bob, carol, dave]) await far?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

async function holdOf(callId: string): Promise<CallSnapshot['hold']> {
  return (await alice.callSnapshot(callId)).hold;
}

describe('one conversation at a time', () => {
  let toBob: string;
  let fromCarol: string;

  test('answering a second call puts the call in conversation on hold first', async () => {
    ({ callId: toBob } = await alice.client.call('call.dial', { target: 'bob' }));
    await alice.waitForCall((c) => c.callId === toBob && c.state === 'connected', 15000);
    const ringing = alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 15000);
    await carol.dial(pbx.aor('alice'));
    fromCarol = (await ringing).callId;
    assert.equal(await holdOf(toBob), 'none', 'a call ringing in holds nothing by itself');

    await alice.client.call('call.answer', { callId: fromCarol });
    assert.equal(await holdOf(toBob), 'local', 'bob is on hold by the time the answer returns');
    await alice.waitForCall((c) => c.callId === fromCarol && c.state === 'connected' && c.hold === 'none', 10000);
  });

  test('resuming the held call holds the other one (a swap)', async () => {
    await alice.client.call('call.resume', { callId: toBob });
    assert.equal(await holdOf(fromCarol), 'local');
    assert.equal(await holdOf(toBob), 'none');
  });

  test('dialing while in a call holds it first', async () => {
    const { callId: toDave } = await alice.client.call('call.dial', { target: 'dave' });
    assert.equal(await holdOf(toBob), 'local', 'bob was held before the new call went out');
    assert.equal(await holdOf(fromCarol), 'local', 'carol stays held');
    await alice.waitForCall((c) => c.callId === toDave && c.state === 'connected' && c.hold === 'none', 15000);
    for (const callId of [toDave, toBob, fromCarol]) await alice.client.call('call.hangup', { callId });
  });

  test('our call answered while we talk to someone else (we took their call while ours rang) goes on hold at once', async () => {
    const { callId: toCarol } = await alice.client.call('call.dial', { target: 'carol' });
    await alice.waitForCall((c) => c.callId === toCarol && c.state === 'ringing', 15000);
    const ringing = alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming' && c.remoteUri.includes('dave'), 15000);
    await dave.dial(pbx.aor('alice'));
    const { callId: fromDave } = await ringing;
    await alice.client.call('call.answer', { callId: fromDave });
    await alice.waitForCall((c) => c.callId === fromDave && c.state === 'connected', 10000);

    await carol.answer();
    await alice.waitForCall((c) => c.callId === toCarol && c.state === 'connected' && c.hold === 'local', 10000);
    assert.equal(await holdOf(fromDave), 'none', 'the conversation with dave goes on');
    for (const callId of [toCarol, fromDave]) await alice.client.call('call.hangup', { callId });
  });
});
