/**
 * Hold/resume against a real baresip through Kamailio (RFC 3264 s. 8.4 direction attributes):
 * - we hold: our re-INVITE says a=sendonly, baresip answers a=recvonly, its RTP to us stops; resume
 *   says a=sendrecv and RTP flows again;
 * - baresip holds (its 'hold' command): we see hold 'remote'; holding as well makes our offer
 *   a=inactive ('both'); baresip resuming leaves 'local'; our resume gets back to 'none'.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

let pbx: TestPbx;
let dir: string;
let bob: TestBaresip;
let alice: HeadlessSwitchboard;

before(async () => {
  dir = makeTempDir('sb-hold-');
  const tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 700, seconds: 60, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
  alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--audio-in', tone, '--trace']);
  await alice.waitForAccount('registered', 20000);
});

after(async () => {
  await alice?.stop();
  await bob?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SDP bodies in our SIP trace from a given offset: `to` = what we sent, `from` = what we received. */
function sdpDirections(since: number, way: 'to' | 'from'): string[] {
  const trace = alice.stderr().slice(since);
  const messages = trace.split(/^--- SIP /m).filter((m) => m.startsWith(way === 'to' ? 'to ' : 'from '));
  return messages.flatMap((m) => m.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/gm) ?? []).map((l) => l.trim().slice(2));
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('hold and resume with baresip', () => {
  let callId: string;

  before(async () => {
    ({ callId } = await alice.client.call('call.dial', { target: 'bob' }));
    const connected = await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
    assert.equal(connected.hold, 'none');
    await sleep(1000);
  });

  test('we hold: a=sendonly offered, a=recvonly answered, baresip stops sending; resume: a=sendrecv, RTP flows', async () => {
    const mark = alice.stderr().length;
    await alice.client.call('call.hold', { callId });
    assert.equal((await alice.callSnapshot(callId)).hold, 'local');
    assert.deepEqual(sdpDirections(mark, 'to'), ['sendonly']);
    assert.deepEqual(sdpDirections(mark, 'from'), ['recvonly']);
    // sendonly: we may still send (music on hold), the held party sends nothing to us.
    await sleep(300);
    const receivedAtHold = (await alice.callSnapshot(callId)).media!.packetsReceived;
    await sleep(1500);
    assert.ok((await alice.callSnapshot(callId)).media!.packetsReceived <= receivedAtHold + 2, 'baresip stops sending RTP to us while held');

    const resumeMark = alice.stderr().length;
    await alice.client.call('call.resume', { callId });
    assert.equal((await alice.callSnapshot(callId)).hold, 'none');
    assert.deepEqual(sdpDirections(resumeMark, 'to'), ['sendrecv']);
    assert.deepEqual(sdpDirections(resumeMark, 'from'), ['sendrecv']);
    await sleep(1000);
    assert.ok((await alice.callSnapshot(callId)).media!.packetsReceived > receivedAtHold + 20, 'RTP flows again after resume');
  });

  test('baresip holds → remote; we hold too → inactive, both; baresip resumes → local; we resume → none', async () => {
    let mark = alice.stderr().length;
    await bob.command('hold');
    await alice.waitForCall((c) => c.callId === callId && c.hold === 'remote', 8000);
    await eventually(() => sdpDirections(mark, 'to').length > 0, 'our answer in the trace');
    assert.deepEqual(sdpDirections(mark, 'from'), ['sendonly'], 'baresip offered sendonly');
    assert.deepEqual(sdpDirections(mark, 'to'), ['recvonly'], 'we answered recvonly');

    mark = alice.stderr().length;
    await alice.client.call('call.hold', { callId });
    assert.equal((await alice.callSnapshot(callId)).hold, 'both');
    assert.deepEqual(sdpDirections(mark, 'to'), ['inactive'], 'holding a held call offers inactive');

    mark = alice.stderr().length;
    await bob.command('resume');
    await eventually(async () => (await alice.callSnapshot(callId)).hold === 'local', 'hold local after baresip resumes');
    await eventually(() => sdpDirections(mark, 'to').length > 0, 'our answer in the trace');
    assert.deepEqual(sdpDirections(mark, 'to'), ['sendonly'], `we still hold: our answer says sendonly; trace:\n${alice.stderr().slice(mark)}`);

    mark = alice.stderr().length;
    await alice.client.call('call.resume', { callId });
    assert.equal((await alice.callSnapshot(callId)).hold, 'none');
    assert.deepEqual(sdpDirections(mark, 'to'), ['sendrecv']);
  });

  test('hold on a call that is not connected is refused with a clear error', async () => {
    await assert.rejects(alice.client.call('call.hold', { callId: 'call-999' }), /No call call-999/);
  });
});
