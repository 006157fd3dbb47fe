/**
 * A far end that goes silent mid-call, against a real baresip through Kamailio: baresip's process
 * is frozen (SIGSTOP: no RTP, no SIP, as when its machine or network dies). Our call says
 * `media.stalled` (the app: "No audio from the other side") 5 s into the silence and no longer
 * once baresip's packets come again; frozen for the account's media timeout, the call is hung up
 * with a reason that says why (and the BYE answered once baresip thaws).
 * And a far end whose 183 with SDP brings no early media (SIPp, tests/fixtures/sipp/
 * uas-silent-early-media.xml): no stall is told while ringing, and its RTP after the answer flows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { repoRoot, startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startManagedProcess, tail } from '../harness/child-processes';
import { freeUdpPort, LOOPBACK } from '../harness/ports';
import { SIPP } from '../harness/sipp';

/** The account's media timeout here (the least the contract allows; the default is 60 s). */
const MEDIA_TIMEOUT_SECONDS = 10;

let pbx: TestPbx;
let dir: string;
let bob: TestBaresip;
let alice: HeadlessSwitchboard;

before(async () => {
  dir = makeTempDir('sb-stall-');
  const tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 700, seconds: 120, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
  alice = startHeadless([
    '--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'),
    '--audio-in', tone, '--media-timeout', String(MEDIA_TIMEOUT_SECONDS),
  ]);
  await alice.waitForAccount('registered', 20000);
});

after(async () => {
  bob?.freeze(false);
  await alice?.stop();
  await bob?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the far end goes silent (baresip frozen)', () => {
  let callId: string;

  before(async () => {
    ({ callId } = await alice.client.call('call.dial', { target: 'bob' }));
    const connected = await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
    assert.equal(connected.media?.stalled, false, 'media flowing: not stalled');
    await sleep(1000);
  });

  test('stalled 5 s into the silence, flowing again when its packets come back', async () => {
    bob.freeze(true);
    let stalled;
    try {
      stalled = await alice.waitForCall((c) => c.callId === callId && c.media?.stalled === true, 15000);
    } finally {
      bob.freeze(false);
    }
    assert.equal(stalled.state, 'connected');
    const receivedWhenStalled = stalled.media!.packetsReceived;
    const flowing = await alice.waitForCall((c) => c.callId === callId && c.media?.stalled === false && c.media.packetsReceived > receivedWhenStalled, 10000);
    assert.equal(flowing.state, 'connected', 'the call went on: the silence was shorter than the media timeout');
  });

  test(`silent for the media timeout (${MEDIA_TIMEOUT_SECONDS} s): the call is hung up, saying why`, async () => {
    await sleep(1000);
    bob.freeze(true);
    let ending;
    try {
      ending = await alice.waitForCall((c) => c.callId === callId && (c.state === 'ending' || c.state === 'ended'), 30000);
      // Our BYE is unanswered while baresip is frozen: no more of our audio goes out meanwhile
      // (RFC 3261 15.1.1: media stops once the BYE is sent, not when it is answered; sip.js ends
      // the session as it sends the BYE).
      const sentAt = async () => (await alice.client.call('call.list', {})).calls.find((c) => c.callId === callId)?.media?.packetsSent;
      const first = await sentAt();
      await sleep(1000);
      assert.equal(typeof first, 'number');
      assert.equal(await sentAt(), first, 'no RTP sent while the BYE is unanswered');
    } finally {
      bob.freeze(false); // so it answers our BYE
    }
    const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 40000);
    const reason = `Nothing heard from the other side for ${MEDIA_TIMEOUT_SECONDS} s: the connection was lost, so the call was ended`;
    assert.equal(ending.reason ?? reason, reason);
    assert.equal(ended.reason, reason);
    await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 15000, { includePast: true });
  });
});

describe('a 183 with SDP but no early media (SIPp)', () => {
  test('ringing 7 s without RTP tells no stall; once answered, its RTP flows and the call is not stalled', async () => {
    copyFileSync(join(repoRoot, 'tests/fixtures/sipp/uas-silent-early-media.xml'), join(dir, 'uas.xml'));
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', join(dir, 'early-media-pcmu.wav'), 'synth', '30', 'sine', '1000', 'vol', '0.4']);
    const sipPort = await freeUdpPort();
    const rtpPort = 2 * Math.floor((await freeUdpPort()) / 2);
    const sipp = startManagedProcess('sipp', SIPP, ['-sf', 'uas.xml', '-i', LOOPBACK, '-p', String(sipPort), '-mi', LOOPBACK, '-mp', String(rtpPort), '-m', '1', '-nostdin', '-trace_err'], { cwd: dir });
    const caller = startHeadless(['--account', 'sip:caller@127.0.0.1', '--no-register', '--listen', `${LOOPBACK}:0`]);
    try {
      await sleep(500);
      assert.ok(!sipp.hasExited(), `sipp started: ${tail(sipp.logs())}`);
      await caller.waitForAccount('ready', 10000);
      const { callId } = await caller.client.call('call.dial', { target: `sip:service@${LOOPBACK}:${sipPort}` });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'early-media', 10000);
      await sleep(6000); // past the 5 s a connected call would be stalled after
      const ringing = (await caller.client.call('call.list', {})).calls.find((c) => c.callId === callId)!;
      assert.equal(ringing.state, 'early-media', 'still not answered');
      assert.equal(ringing.media?.packetsReceived, 0, 'no early media came');
      assert.equal(ringing.media?.stalled, undefined, 'no stall told before the answer');
      const flowing = await caller.waitForCall((c) => c.callId === callId && c.state === 'connected' && c.media?.stalled === false && c.media.packetsReceived > 0, 10000);
      assert.equal(flowing.state, 'connected');
      await caller.client.call('call.hangup', { callId });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    } finally {
      await caller.stop();
      await sipp.stop(2000);
    }
  });
});
