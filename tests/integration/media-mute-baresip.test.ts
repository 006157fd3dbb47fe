/**
 * Mute (call.mute) against a real baresip through Kamailio, heard in baresip's own recording:
 * - muted mid-call: baresip hears our tone, then silence for as long as we were muted, then the
 *   tone again; RTP kept flowing (a far end's RTP timeout would otherwise end the call), nothing
 *   was signalled (no re-INVITE: the call is not on hold), and our own recording has silence on
 *   our side only (baresip's tone goes on in the other channel);
 * - muted while the call rings (a baresip that answers when told): it starts muted, the far end
 *   hears nothing of ours until we unmute.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { dbfs, detectTone, readWav, toneWav, type PcmAudio } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

const OUR_TONE = 600;
const THEIR_TONE = 700;
const WINDOW_MS = 100;

let pbx: TestPbx;
let dir: string;
let bob: TestBaresip;
/** Answers only when told: a call muted while it rings is surely muted before the answer. */
let carol: TestBaresip;
let alice: HeadlessSwitchboard;

before(async () => {
  dir = makeTempDir('sb-mute-');
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol'] });
  const theirs = toneWav(join(dir, 'their-tone.wav'), { frequencyHz: THEIR_TONE, seconds: 120, sampleRate: 8000, amplitude: 0.3 });
  const ours = toneWav(join(dir, 'our-tone.wav'), { frequencyHz: OUR_TONE, seconds: 60, sampleRate: 8000, amplitude: 0.3 });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: theirs, codecs: ['PCMU'] });
  carol = await startBaresip({ pbx, user: 'carol', toneWav: theirs, codecs: ['PCMU'] });
  alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--audio-in', ours, '--trace']);
  await alice.waitForAccount('registered', 20000);
});

after(async () => {
  await alice?.stop();
  await bob?.stop();
  await carol?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Window = 'tone' | 'silence' | 'other';

/** Each 100 ms window of `audio`: 'tone' (`hz` dominates), 'silence' (below -60 dBFS) or 'other'. */
function windowsOf(audio: PcmAudio, hz: number): Window[] {
  const length = Math.round((audio.sampleRate * WINDOW_MS) / 1000);
  const out: Window[] = [];
  for (let start = 0; start + length <= audio.samples.length; start += length) {
    const window = audio.samples.subarray(start, start + length);
    if (dbfs(window) < -60) out.push('silence');
    else out.push(detectTone(window, audio.sampleRate, hz, { minFraction: 1 }).present ? 'tone' : 'other');
  }
  return out;
}

/** Runs of equal windows, e.g. [['tone', 15], ['silence', 20], ['tone', 14]]. */
function runsOf(windows: Window[]): [Window, number][] {
  const runs: [Window, number][] = [];
  for (const w of windows) {
    const last = runs.at(-1);
    if (last && last[0] === w) last[1]++;
    else runs.push([w, 1]);
  }
  return runs;
}

/** The runs from the first to the last window of the tone (what is before and after is call set-up and tear-down). */
function runsBetweenTones(audio: PcmAudio, hz: number): [Window, number][] {
  const windows = windowsOf(audio, hz);
  const first = windows.indexOf('tone');
  const last = windows.lastIndexOf('tone');
  assert.ok(first >= 0, `the ${hz} Hz tone is heard at all: ${JSON.stringify(runsOf(windows))}`);
  return runsOf(windows.slice(first, last + 1));
}

function silences(runs: [Window, number][], longerThan: number): number[] {
  return runs.filter(([w, n]) => w === 'silence' && n > longerThan).map(([, n]) => n);
}

/**
 * Hangs up and returns what `far` heard of this call (its recording, complete once the call
 * closed); `recordedBefore`: how many recordings it had before this call.
 */
async function hangUpAndHear(far: TestBaresip, callId: string, recordedBefore: number): Promise<PcmAudio> {
  await alice.client.call('call.hangup', { callId });
  await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
  await far.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
  const { received } = await far.recordings();
  assert.equal(received.length, recordedBefore + 1, 'baresip recorded this call');
  return readWav(received.at(-1)!);
}

describe('mute with baresip', () => {
  test('muted mid-call: baresip hears silence for as long, RTP flows, no re-INVITE; our recording is silent on our side only', async () => {
    const recordedBefore = (await bob.recordings()).received.length;
    const { callId } = await alice.client.call('call.dial', { target: 'bob' });
    await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
    const recording = join(dir, 'alice-muted.wav');
    await alice.client.call('call.record', { callId, path: recording, on: true });
    await sleep(1500);

    const traceMark = alice.stderr().length;
    await alice.client.call('call.mute', { callId, muted: true });
    const muted = await alice.callSnapshot(callId);
    assert.equal(muted.muted, true);
    const sentAtMute = muted.media!.packetsSent;
    await sleep(2000);
    const stillMuted = await alice.callSnapshot(callId);
    assert.ok(stillMuted.media!.packetsSent >= sentAtMute + 80, `RTP keeps flowing while muted: ${sentAtMute} → ${stillMuted.media!.packetsSent} packets`);
    assert.equal(stillMuted.hold, 'none', 'muted is not on hold');
    await alice.client.call('call.mute', { callId, muted: false });
    assert.equal((await alice.callSnapshot(callId)).muted, false);
    assert.doesNotMatch(alice.stderr().slice(traceMark), /^INVITE /m, 'mute and unmute sent no re-INVITE');
    await sleep(1500);
    await alice.client.call('call.record', { callId, path: recording, on: false });

    const heardByBob = runsBetweenTones(await hangUpAndHear(bob, callId, recordedBefore), OUR_TONE);
    const gaps = silences(heardByBob, 2);
    assert.equal(gaps.length, 1, `one silence in what baresip heard, the mute: ${JSON.stringify(heardByBob)}`);
    assert.ok(gaps[0]! >= 17 && gaps[0]! <= 24, `as long as the mute, ~2 s: ${gaps[0]! * WINDOW_MS} ms; ${JSON.stringify(heardByBob)}`);
    assert.ok(heardByBob.filter(([w]) => w === 'tone').reduce((sum, [, n]) => sum + n, 0) >= 25, `our tone before and after it: ${JSON.stringify(heardByBob)}`);

    // Our recording: left = what we sent (the mute is in it), right = what we received (no gap).
    const sent = runsBetweenTones(readWav(recording, 0), OUR_TONE);
    const sentGaps = silences(sent, 2);
    assert.equal(sentGaps.length, 1, `one silence on our side of the recording: ${JSON.stringify(sent)}`);
    assert.ok(sentGaps[0]! >= 17 && sentGaps[0]! <= 24, `as long as the mute: ${sentGaps[0]! * WINDOW_MS} ms`);
    const received = runsBetweenTones(readWav(recording, 1), THEIR_TONE);
    assert.deepEqual(silences(received, 2), [], `baresip's side of the recording goes on through the mute: ${JSON.stringify(received)}`);
  });

  test('muted while the call rings: it starts muted, the far end hears nothing of ours until we unmute', async () => {
    const recordedBefore = (await carol.recordings()).received.length;
    const { callId } = await alice.client.call('call.dial', { target: 'carol' });
    await alice.waitForCall((c) => c.callId === callId && c.state === 'ringing', 15000);
    await alice.client.call('call.mute', { callId, muted: true });
    await carol.answer();
    const connected = await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
    assert.equal(connected.muted, true, 'still muted once connected');
    await sleep(2000);
    assert.ok((await alice.callSnapshot(callId)).media!.packetsSent >= 80, 'RTP flows from the start, muted or not');
    await alice.client.call('call.mute', { callId, muted: false });
    await sleep(1500);

    const heard = windowsOf(await hangUpAndHear(carol, callId, recordedBefore), OUR_TONE);
    const first = heard.indexOf('tone');
    assert.ok(first >= 17, `no tone of ours for the first ~2 s (muted): first at ${first * WINDOW_MS} ms; ${JSON.stringify(runsOf(heard))}`);
    assert.ok(heard.filter((w) => w === 'tone').length >= 10, `our tone once unmuted: ${JSON.stringify(runsOf(heard))}`);
  });

  test('mute is refused on an ended call and an unknown one, with the reason', async () => {
    const ended = (await alice.client.call('call.list', {})).calls.find((c) => c.state === 'ended');
    assert.ok(ended, 'an ended call from the tests above');
    await assert.rejects(alice.client.call('call.mute', { callId: ended.callId, muted: true }), /The call has ended/);
    await assert.rejects(alice.client.call('call.mute', { callId: 'call-999', muted: true }), /No call call-999/);
  });
});
