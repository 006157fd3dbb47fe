/**
 * Interoperability with a second real softphone: Linphone 5.1 (linphonec), both registered to the
 * test PBX (Kamailio), calls through it. baresip is the reference peer of the media tests; Linphone
 * is what many office users run, and it speaks differently: its offer carries opus, speex, G.729
 * with an fmtp and no rtpmap, one telephone-event per clock rate, rtcp-xr and rtcp-fb; its Contact
 * is a GRUU; its SRTP offers its own suites; its hold is a=sendonly; its DTMF is RFC 4733.
 * Each test checks what a user hears (tones both ways: frequency, level, quality score) or sees.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { startLinphone, type StartLinphoneOptions, type TestLinphone } from '../harness/linphone';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { describeQuality, toneQuality } from './media-codecs-quality';
import type { CallSnapshot, EventPayload } from '../../src-main/common/contract/contract';

const AMPLITUDE = 0.4;
/** RMS level of a sine of amplitude 0.4, dBFS. */
const SENT_LEVEL_DBFS = 20 * Math.log10(AMPLITUDE / Math.SQRT2);
const TALK_MS = 3000;
const OUR_HZ = 440;
const FAR_HZ = 1000;

let pbx: TestPbx;
let dir: string;

before(async () => {
  dir = makeTempDir('sb-linphone-');
  pbx = await startKamailio({ users: ['alice', 'erin', 'bob', 'frank'] });
});

after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

/** The tone `hz` throughout the middle of the recording, at the level sent, with a quality score a broken path fails. */
function assertHears(file: string, hz: number, who: string, minMedianSinadDb: number, levelOffsetDb = 0): void {
  const wav = readWav(file);
  const detection = detectTone(wav.samples, wav.sampleRate, hz, { minFraction: 0.6 });
  assert.ok(detection.present, `${who} hears ${hz} Hz: in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`);
  const seconds = wav.samples.length / wav.sampleRate;
  const quality = toneQuality(wav.samples, wav.sampleRate, hz, 0.8, Math.max(1.2, seconds - 0.5));
  const what = `${who} (${hz} Hz at ${wav.sampleRate} Hz): ${describeQuality(quality)}`;
  if (process.env.SWITCHBOARD_TEST_VERBOSE) console.log(what);
  assert.ok(quality.activeFraction > 0.9, `${what}: audio throughout`);
  assert.ok(quality.medianSinadDb >= minMedianSinadDb, `${what}: median SINAD below ${minMedianSinadDb} dB`);
  const expected = SENT_LEVEL_DBFS + levelOffsetDb;
  assert.ok(Math.abs(quality.toneLevelDbfs - expected) < 3, `${what}: level differs from the expected ${expected.toFixed(1)} dBFS`);
}

/**
 * G.722's PCM level is a known ambiguity between implementations: the standard's codec works on 14-bit
 * samples, spandsp (baresip, Asterisk, FreeSWITCH; and our codec, bit-exact with it) feeds it 16-bit
 * samples unscaled, Linphone scales them by one bit (PJSIP by two: its PJMEDIA_G722_DEFAULT_PCM_SHIFT).
 * So between Linphone and us each side hears the other 6 dB off, in opposite directions; measured
 * here so that a change on either side shows.
 */
const LINPHONE_G722_LEVEL_DB = 6.02;

interface Parties {
  alice: HeadlessSwitchboard;
  erin: TestLinphone;
  call: CallSnapshot;
  /** What alice records of the call. */
  heard: string;
}

/**
 * alice (us, headless, registered) and erin (Linphone, registered, playing FAR_HZ) in a connected
 * call: erin calls when `linphoneCalls`, else alice does. Both stopped after `body`.
 */
async function withCall(
  name: string,
  options: { linphoneCalls: boolean; rate: number; ourArgs?: string[]; linphone?: Partial<StartLinphoneOptions> },
  body: (p: Parties) => Promise<void>,
): Promise<void> {
  const ours = toneWav(join(dir, `ours-${name}.wav`), { frequencyHz: OUR_HZ, seconds: 30, sampleRate: options.rate, amplitude: AMPLITUDE });
  const far = toneWav(join(dir, `far-${name}.wav`), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: options.rate, amplitude: AMPLITUDE });
  const heard = join(dir, `alice-heard-${name}.wav`);
  const alice = startHeadless([
    '--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'),
    '--audio-in', ours, '--audio-out', heard, ...(options.linphoneCalls ? ['--auto-answer'] : []), ...(options.ourArgs ?? []),
  ]);
  let erin: TestLinphone | undefined;
  try {
    await alice.waitForAccount('registered', 15000);
    erin = await startLinphone({ pbx, user: 'erin', playWav: far, autoAnswer: !options.linphoneCalls, ...options.linphone });
    let call: CallSnapshot;
    if (options.linphoneCalls) {
      erin.command(`call ${pbx.aor('alice')}`);
      call = await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'connected', 15000);
    } else {
      const { callId } = await alice.client.call('call.dial', { target: erin.sipUri });
      call = await alice.waitForCall((c) => c.callId === callId && (c.state === 'connected' || c.state === 'ended'), 15000);
      assert.equal(call.state, 'connected', `Linphone answered: ${JSON.stringify(call)}`);
    }
    await erin.waitForOutput(/Media streams established with \S+ for call \d+/, 10000, { includePast: true });
    // Tests talk on loopback only; Linphone's SDP address is its guess (see harness/linphone.ts).
    assert.match(call.media?.remoteRtp ?? '', /^127\./, `Linphone's media on loopback: ${JSON.stringify(call.media)}`);
    await body({ alice, erin, call, heard });
  } finally {
    await alice.stop();
    await erin?.stop();
  }
}

/** The first call.state of alice's after her `mark`-th event that matches. */
async function callStateAfter(alice: HeadlessSwitchboard, mark: number, predicate: (c: CallSnapshot) => boolean, timeoutMs = 10000): Promise<CallSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = alice.events.slice(mark).find((e) => e.event === 'call.state' && predicate(e.payload as CallSnapshot));
    if (found) return found.payload as CallSnapshot;
    if (Date.now() > deadline) throw new Error(`no matching call.state within ${timeoutMs} ms; since: ${JSON.stringify(alice.events.slice(mark))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const talk = (): Promise<void> => new Promise((r) => setTimeout(r, TALK_MS));

/**
 * alice hangs up, then each side must have heard the other's tone; `linphoneLevelDb`: how much
 * louder Linphone hears us than we sent (and we hear it that much quieter), see LINPHONE_G722_LEVEL_DB.
 */
async function hangUpAndHearBoth(p: Parties, minMedianSinadDb: number, linphoneLevelDb = 0): Promise<void> {
  await hangUp(p);
  await p.alice.stop();
  assertHears(p.heard, FAR_HZ, 'Switchboard', minMedianSinadDb, -linphoneLevelDb);
  assertHears(p.erin.recordingFile, OUR_HZ, 'Linphone', minMedianSinadDb, linphoneLevelDb);
}

/** alice hangs up; both ends see the call end (Linphone's BYE handling included). */
async function hangUp({ alice, erin, call }: Parties): Promise<void> {
  await alice.client.call('call.hangup', { callId: call.callId });
  await alice.waitForCall((c) => c.callId === call.callId && c.state === 'ended', 10000);
  await erin.waitForOutput(/Call \d+ with \S+ ended/, 10000, { includePast: true });
}

describe('interop with Linphone', () => {
  test('Linphone calls us with its own offer (opus, speex, G.729, three telephone-events): we answer opus, tones both ways', async () => {
    await withCall('opus-in', { linphoneCalls: true, rate: 48000 }, async (p) => {
      await talk();
      const stats = await p.alice.client.call('call.stats', { callId: p.call.callId });
      assert.equal(stats.codec, 'opus');
      assert.ok(stats.packetsReceived > 100 && stats.packetsSent > 100, `RTP both ways: ${JSON.stringify(stats)}`);
      assert.equal(stats.packetsLost, 0);
      assert.ok(stats.rtcpReceived >= 1, `Linphone's RTCP understood: ${JSON.stringify(stats)}`);
      await hangUpAndHearBoth(p, 25);
    });
  });

  test('Linphone with video on offers audio and video: we take the audio and decline the video (port 0), tones both ways', async () => {
    await withCall('video-in', { linphoneCalls: true, rate: 8000, ourArgs: ['--codecs', 'PCMU'], linphone: { video: true } }, async (p) => {
      assert.match(p.erin.logs(), /^m=video [1-9]\d* /m, 'Linphone offered video');
      assert.match(p.erin.logs(), /^m=video 0 /m, 'our answer declines the video stream');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  for (const codec of ['PCMU', 'PCMA', 'G722'] as const) {
    const rate = codec === 'G722' ? 16000 : 8000;
    test(`we call Linphone with ${codec}: tones both ways at ${rate} Hz`, async () => {
      await withCall(`${codec}-out`, { linphoneCalls: false, rate, ourArgs: ['--codecs', codec], linphone: { codecs: [codec] } }, async (p) => {
        await talk();
        const stats = await p.alice.client.call('call.stats', { callId: p.call.callId });
        assert.equal(stats.codec, codec);
        assert.equal(stats.sampleRate, rate);
        assert.ok(stats.packetsReceived > 100 && stats.packetsSent > 100, `RTP both ways: ${JSON.stringify(stats)}`);
        assert.equal(stats.packetsLost, 0);
        const g722 = codec === 'G722';
        await hangUpAndHearBoth(p, g722 ? 18 : 30, g722 ? LINPHONE_G722_LEVEL_DB : 0);
      });
    });
  }

  test('we call Linphone and it rings (its 180 has no Contact): the call shows ringing until Linphone answers', async () => {
    const far = toneWav(join(dir, 'far-ring.wav'), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--codecs', 'PCMU']);
    let erin: TestLinphone | undefined;
    try {
      await alice.waitForAccount('registered', 15000);
      erin = await startLinphone({ pbx, user: 'erin', playWav: far });
      const printed = erin.mark();
      const { callId } = await alice.client.call('call.dial', { target: erin.sipUri });
      await erin.waitForOutput(/Receiving new incoming call from \S+, assigned id (\d+)/, 10000, { since: printed });
      const ringing = await alice.waitForCall((c) => c.callId === callId && c.state !== 'dialing', 5000);
      assert.equal(ringing.state, 'ringing', `the caller sees Linphone ringing: ${JSON.stringify(ringing)}`);
      erin.command('answer');
      await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId });
      assert.ok(stats.packetsReceived > 30, `Linphone's audio after its answer: ${JSON.stringify(stats)}`);
      await hangUp({ alice, erin, call: ringing, heard: '' });
    } finally {
      await alice.stop();
      await erin?.stop();
    }
  });

  test('SRTP: Linphone offers RTP/SAVP with its suites; our optional policy answers it, encrypted both ways', async () => {
    await withCall('srtp-in', { linphoneCalls: true, rate: 8000, ourArgs: ['--srtp', 'optional', '--codecs', 'PCMU'], linphone: { mediaEncryption: 'srtp-mandatory' } }, async (p) => {
      assert.ok(p.call.media?.srtp, `encrypted: ${JSON.stringify(p.call.media)}`);
      assert.match(p.erin.logs(), /Negotiated media encryption is LinphoneMediaEncryptionSRTP/, 'Linphone encrypts too');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  test('SRTP: our mandatory policy calls Linphone (optional SRTP): RTP/SAVP answered, encrypted both ways', async () => {
    await withCall('srtp-out', { linphoneCalls: false, rate: 8000, ourArgs: ['--srtp', 'mandatory', '--codecs', 'PCMU'], linphone: { mediaEncryption: 'srtp' } }, async (p) => {
      assert.ok(p.call.media?.srtp, `encrypted: ${JSON.stringify(p.call.media)}`);
      assert.match(p.erin.logs(), /Negotiated media encryption is LinphoneMediaEncryptionSRTP/, 'Linphone encrypts too');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  test('hold both ways: Linphone pauses and resumes us, we hold and resume Linphone', async () => {
    await withCall('hold', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async (p) => {
      const { alice, erin, call } = p;
      let mark = alice.events.length;
      let printed = erin.mark();
      erin.command('pause');
      await erin.waitForOutput(/Call \d+ with \S+ is now paused/, 10000, { since: printed });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'remote');
      mark = alice.events.length;
      erin.command('resume');
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'none');
      const before = (await alice.client.call('call.stats', { callId: call.callId })).packetsReceived;
      await new Promise((r) => setTimeout(r, 1000));
      const after = (await alice.client.call('call.stats', { callId: call.callId })).packetsReceived;
      assert.ok(after - before > 30, `Linphone's audio flows again after its resume: ${after - before} packets in 1 s`);
      mark = alice.events.length;
      printed = erin.mark();
      await alice.client.call('call.hold', { callId: call.callId });
      await erin.waitForOutput(/Call \d+ has been paused by/, 10000, { since: printed });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'local');
      mark = alice.events.length;
      printed = erin.mark();
      await alice.client.call('call.resume', { callId: call.callId });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'none');
      await erin.waitForOutput(/Media streams established with \S+ for call \d+/, 10000, { since: printed });
      await hangUp(p);
    });
  });

  test('Linphone transfers us (blind, REFER) to bob: we call bob as a new call shown as transferred, Linphone\'s call ends', async () => {
    const bobTone = toneWav(join(dir, 'bob.wav'), { frequencyHz: 700, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    let bob: TestBaresip | undefined;
    try {
      bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: bobTone, codecs: ['PCMU'] });
      const bobUri = bob.sipUri;
      await withCall('transfer', { linphoneCalls: true, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async ({ alice, erin, call }) => {
        const mark = alice.events.length;
        erin.command(`transfer ${bobUri}`);
        const transferred = await callStateAfter(alice, mark, (c) => c.callId !== call.callId && c.state === 'connected', 15000);
        assert.equal(transferred.direction, 'outgoing');
        assert.equal(transferred.remoteUri, bobUri);
        assert.equal(transferred.transferredFrom, call.callId, `the new call says which call it replaces: ${JSON.stringify(transferred)}`);
        assert.match(transferred.referredBy ?? '', /erin@127\.0\.0\.1/);
        await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.state === 'ended', 15000);
        await new Promise((r) => setTimeout(r, 1000));
        const stats = await alice.client.call('call.stats', { callId: transferred.callId });
        assert.ok(stats.packetsReceived > 30, `bob's audio reaches us: ${JSON.stringify(stats)}`);
        await alice.client.call('call.hangup', { callId: transferred.callId });
        await alice.waitForCall((c) => c.callId === transferred.callId && c.state === 'ended', 10000);
      });
    } finally {
      await bob?.stop();
    }
  });

  test('we transfer Linphone (blind): a refused target says why and keeps the call; to bob, the call ends once bob answers', async () => {
    const bobTone = toneWav(join(dir, 'bob-2.wav'), { frequencyHz: 700, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    let bob: TestBaresip | undefined;
    try {
      bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: bobTone, codecs: ['PCMU'] });
      const bobHere = bob;
      await withCall('transfer-out', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async ({ alice, call }) => {
        await assert.rejects(
          alice.client.call('call.transfer', { callId: call.callId, target: 'nobody' }),
          /The transfer to sip:nobody@127\.0\.0\.1 failed: 404 Not Found/,
        );
        const still = (await alice.client.call('call.list', {})).calls.find((c) => c.callId === call.callId);
        assert.equal(still?.state, 'connected', 'a failed transfer keeps the call');
        await alice.client.call('call.transfer', { callId: call.callId, target: 'bob' });
        const ended = await alice.waitForCall((c) => c.callId === call.callId && c.state === 'ended', 10000);
        assert.equal(ended.reason, 'Transferred to sip:bob@127.0.0.1');
        const established = await bobHere.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10000, { includePast: true });
        assert.match(String(established.peeruri), /erin@127\.0\.0\.1/, 'bob is talking to Linphone now');
      });
    } finally {
      await bob?.stop();
    }
  });

  /**
   * erin (Linphone) talks to alice (us) and to frank (another Linphone), then joins them: the
   * attended transfer (RFC 5589 section 7) of `referred` to the other one. Returns alice's call with erin.
   */
  async function attendedTransfer(referred: 'alice' | 'frank', check: (alice: HeadlessSwitchboard, withErin: CallSnapshot) => Promise<void>): Promise<void> {
    const tone = toneWav(join(dir, 'attended.wav'), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--auto-answer', '--codecs', 'PCMU', '--audio-in', tone]);
    let erin: TestLinphone | undefined;
    let frank: TestLinphone | undefined;
    try {
      await alice.waitForAccount('registered', 15000);
      erin = await startLinphone({ pbx, user: 'erin', playWav: tone, codecs: ['PCMU'] });
      frank = await startLinphone({ pbx, user: 'frank', playWav: tone, autoAnswer: true, codecs: ['PCMU'] });
      const callFrom = async (to: string): Promise<string> => {
        const printed = erin!.mark();
        erin!.command(`call ${to}`);
        const id = (await erin!.waitForOutput(/assigned id (\d+)/, 10000, { since: printed }))[1]!;
        await erin!.waitForOutput(new RegExp(`Call ${id} with \\S+ connected`), 15000, { since: printed });
        return id;
      };
      const toFrank = await callFrom(pbx.aor('frank'));
      const printed = erin.mark();
      erin.command('pause'); // linphonec places a second call only with the first on hold
      await erin.waitForOutput(new RegExp(`Call ${toFrank} with \\S+ is now paused`), 10000, { since: printed });
      const toAlice = await callFrom(pbx.aor('alice'));
      const withErin = await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'connected', 10000);
      // Linphone's transfer command: `transfer <call> --to-call <call>` refers the first call's peer to the second's.
      erin.command(referred === 'frank' ? `transfer ${toFrank} --to-call ${toAlice}` : `transfer ${toAlice} --to-call ${toFrank}`);
      await check(alice, withErin);
    } finally {
      await alice.stop();
      await erin?.stop();
      await frank?.stop();
    }
  }

  test('attended transfer, we are its target: frank\'s INVITE with Replaces takes over our call with erin, answered at once', async () => {
    await attendedTransfer('frank', async (alice, withErin) => {
      const mark = alice.events.length;
      const fromFrank = await callStateAfter(alice, mark, (c) => c.callId !== withErin.callId && c.state === 'connected', 15000);
      assert.match(fromFrank.remoteUri, /^sip:frank@127\.0\.0\.1/);
      assert.equal(fromFrank.direction, 'incoming');
      assert.equal(fromFrank.transferredFrom, withErin.callId);
      const replaced = await callStateAfter(alice, mark, (c) => c.callId === withErin.callId && c.state === 'ended', 10000);
      assert.equal(replaced.reason, `Replaced by the transferred call (${fromFrank.callId})`);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId: fromFrank.callId });
      assert.ok(stats.packetsReceived > 30, `frank's audio reaches us: ${JSON.stringify(stats)}`);
    });
  });

  test('attended transfer, we are transferred: our call to frank carries Replaces and takes over erin\'s call with frank', async () => {
    await attendedTransfer('alice', async (alice, withErin) => {
      const mark = alice.events.length;
      const toFrank = await callStateAfter(alice, mark, (c) => c.callId !== withErin.callId && c.state === 'connected', 15000);
      assert.equal(toFrank.direction, 'outgoing');
      assert.match(toFrank.remoteUri, /^sip:frank@127\.0\.0\.1/);
      assert.equal(toFrank.transferredFrom, withErin.callId);
      await callStateAfter(alice, mark, (c) => c.callId === withErin.callId && c.state === 'ended', 10000);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId: toFrank.callId });
      assert.ok(stats.packetsReceived > 30, `frank's audio reaches us: ${JSON.stringify(stats)}`);
    });
  });

  test('DTMF both ways (RFC 4733): Linphone hears our digits, we report Linphone\'s', async () => {
    await withCall('dtmf', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async (p) => {
      const { alice, erin, call } = p;
      const received: EventPayload<'call.dtmf'>[] = [];
      alice.client.on('call.dtmf', (e) => received.push(e));
      await alice.client.call('call.dtmf', { callId: call.callId, digits: '19#*' });
      for (const digit of ['1', '9', '#', '*']) await erin.waitForOutput(new RegExp(`Receiving tone ${digit.replace(/[#*]/, '\\$&')} from`), 5000, { includePast: true });
      erin.command('4');
      erin.command('2');
      const deadline = Date.now() + 5000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(received.map((e) => [e.digit, e.method]), [['4', 'rfc4733'], ['2', 'rfc4733']]);
      await hangUp(p);
    });
  });
});
