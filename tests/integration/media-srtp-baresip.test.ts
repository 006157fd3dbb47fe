/**
 * SRTP with SDES keys against a real baresip (its srtp module) through Kamailio:
 * - optional policy ↔ baresip mediaenc=srtp: the call is encrypted (summary names the suite,
 *   the SDP on the wire carries a=crypto) and tones flow both ways; the call is recorded to a
 *   stereo WAV (L = what we sent, R = what we received) that holds both tones.
 * - mandatory ↔ baresip mediaenc=srtp-mand: RTP/SAVP, tones both ways;
 * - mismatches fail with a reason in call.state: we are mandatory and the far end is plain
 *   (outgoing), and the far end requires SRTP while we have it off (incoming → our 488 + Warning).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

const OUR_TONE = 440;
const FAR_TONE = 1000;

let pbx: TestPbx;
let dir: string;
let ourTone: string;
let farTone: string;

before(async () => {
  dir = makeTempDir('sb-srtp-');
  ourTone = toneWav(join(dir, 'ours-440.wav'), { frequencyHz: OUR_TONE, seconds: 20, sampleRate: 8000, amplitude: 0.4 });
  farTone = toneWav(join(dir, 'far-1000.wav'), { frequencyHz: FAR_TONE, seconds: 20, sampleRate: 8000, amplitude: 0.4 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'erin'] });
});

after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

function headless(user: string, extra: string[]): HeadlessSwitchboard {
  return startHeadless(['--account', pbx.aor(user), '--password', pbx.password(user), '--proxy', pbx.proxyUri('udp'), '--trace', ...extra]);
}

function assertHears(samples: ArrayLike<number>, rate: number, hz: number, who: string) {
  const d = detectTone(samples, rate, hz);
  assert.ok(d.present, `${who} should hear ${hz} Hz: dominant in ${(d.fraction * 100).toFixed(0)} % of windows, SNR ${d.snrDb.toFixed(1)} dB`);
}

/** Our recorder writes a canonical 44-byte header; split its stereo data into channels. */
function readStereo(path: string): { rate: number; left: Float32Array; right: Float32Array } {
  const bytes = readFileSync(path);
  assert.equal(bytes.readUInt16LE(22), 2, 'recording is stereo');
  const rate = bytes.readUInt32LE(24);
  const dataBytes = bytes.readUInt32LE(40);
  assert.equal(dataBytes, bytes.length - 44, 'header finalized with the data size');
  const frames = dataBytes / 4;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = bytes.readInt16LE(44 + 4 * i) / 32768;
    right[i] = bytes.readInt16LE(46 + 4 * i) / 32768;
  }
  return { rate, left, right };
}

/** The SIP trace reaches stderr asynchronously; wait (bounded) for a line. */
async function waitForText(peer: HeadlessSwitchboard, pattern: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(peer.stderr())) {
    if (Date.now() > deadline) assert.fail(`no ${pattern} in the trace within ${timeoutMs} ms; tail:\n${peer.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SRTP optional ↔ baresip mediaenc=srtp', () => {
  let bob: TestBaresip;
  let alice: HeadlessSwitchboard;
  before(async () => {
    bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: farTone, codecs: ['PCMU'], mediaEncryption: 'srtp' });
    alice = headless('alice', ['--srtp', 'optional', '--audio-in', ourTone, '--audio-out', join(dir, 'alice-srtp.wav')]);
    await alice.waitForAccount('registered', 20000);
  });
  after(async () => {
    await alice?.stop();
    await bob?.stop();
  });

  test('the call is encrypted, tones flow both ways, and the stereo recording holds both', async () => {
    const { callId } = await alice.client.call('call.dial', { target: 'bob' });
    const connected = await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
    assert.equal(connected.media?.srtp, 'AES_CM_128_HMAC_SHA1_80', `media summary: ${JSON.stringify(connected.media)}`);
    const recording = join(dir, 'alice-srtp-stereo.wav');
    await alice.client.call('call.record', { callId, path: recording, on: true });
    await new Promise((r) => setTimeout(r, 3000));
    await alice.client.call('call.record', { callId, path: recording, on: false });
    const during = (await alice.client.call('call.list', {})).calls.find((c) => c.callId === callId);
    assert.ok((during?.media?.packetsReceived ?? 0) > 50, `SRTP packets authenticated and decoded: ${JSON.stringify(during?.media)}`);
    await alice.client.call('call.hangup', { callId });
    await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
    await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);

    // Keys really went over the wire in SDP, in both directions.
    assert.match(alice.stderr(), /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m, 'our offer had a=crypto');
    assert.ok((alice.stderr().match(/^a=crypto:/gm) ?? []).length >= 3, 'baresip answered with a=crypto');

    const heard = readWav(join(dir, 'alice-srtp.wav'));
    assertHears(heard.samples, heard.sampleRate, FAR_TONE, 'Switchboard (decrypted)');
    const rec = await bob.recordings();
    const bobHeard = readWav(rec.received[rec.received.length - 1]!);
    assertHears(bobHeard.samples, bobHeard.sampleRate, OUR_TONE, 'baresip (decrypted)');

    const stereo = readStereo(recording);
    assert.equal(stereo.rate, 8000);
    assert.ok(stereo.left.length >= 8000 * 2.5, `about 3 s recorded, got ${(stereo.left.length / 8000).toFixed(2)} s`);
    assertHears(stereo.left, stereo.rate, OUR_TONE, 'recording left (local) channel');
    assertHears(stereo.right, stereo.rate, FAR_TONE, 'recording right (remote) channel');
    assert.ok(!detectTone(stereo.left, stereo.rate, FAR_TONE).present, 'the remote tone is not in the local channel');
  });
});

describe('SRTP mandatory ↔ baresip mediaenc=srtp-mand (RTP/SAVP)', () => {
  test('RTP/SAVP both ways: encrypted media flows and baresip hears our tone', async () => {
    const dave = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: farTone, codecs: ['PCMU'], mediaEncryption: 'srtp-mand' });
    const erin = headless('erin', ['--srtp', 'mandatory', '--audio-in', ourTone, '--audio-out', join(dir, 'erin-savp.wav')]);
    try {
      await erin.waitForAccount('registered', 20000);
      const { callId } = await erin.client.call('call.dial', { target: 'bob' });
      await erin.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
      await new Promise((r) => setTimeout(r, 2500));
      const during = (await erin.client.call('call.list', {})).calls.find((c) => c.callId === callId);
      assert.ok(during?.media?.srtp, `encrypted: ${JSON.stringify(during?.media)}`);
      assert.ok((during?.media?.packetsReceived ?? 0) > 50, `SRTP received: ${JSON.stringify(during?.media)}`);
      assert.match(erin.stderr(), /^m=audio \d+ RTP\/SAVP 0( \d+)*\r?$/m);
      await erin.client.call('call.hangup', { callId });
      await dave.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
      const heard = readWav(join(dir, 'erin-savp.wav'));
      assertHears(heard.samples, heard.sampleRate, FAR_TONE, 'Switchboard (RTP/SAVP)');
      const rec = await dave.recordings();
      const daveHeard = readWav(rec.received[rec.received.length - 1]!);
      assertHears(daveHeard.samples, daveHeard.sampleRate, OUR_TONE, 'baresip (RTP/SAVP)');
    } finally {
      await erin.stop();
      await dave.stop();
    }
  });
});

describe('SRTP policy mismatches fail with a reason', () => {
  let carol: TestBaresip;
  let erin: HeadlessSwitchboard;
  before(async () => {
    carol = await startBaresip({ pbx, user: 'carol', autoAnswer: true, toneWav: farTone, codecs: ['PCMU'] });
    erin = headless('erin', ['--srtp', 'mandatory']);
    await erin.waitForAccount('registered', 20000);
  });
  after(async () => {
    await erin?.stop();
    await carol?.stop();
  });

  test('we require SRTP, the plain far end refuses RTP/SAVP (488) → the call ends, reason names encryption', async () => {
    const { callId } = await erin.client.call('call.dial', { target: 'carol' });
    const ended = await erin.waitForCall((c) => c.callId === callId && c.state === 'ended', 15000);
    assert.match(erin.stderr(), /^m=audio \d+ RTP\/SAVP /m, 'we offered RTP/SAVP');
    assert.equal(ended.sipCode, 488);
    assert.equal(ended.reason, 'The other side refused the call: it probably cannot encrypt media (SRTP), which this account requires');
  });

  test('the far end requires SRTP and we have it off → we answer 488 with a Warning naming why', async () => {
    const dave = await startBaresip({ pbx, user: 'bob', toneWav: farTone, codecs: ['PCMU'], mediaEncryption: 'srtp-mand' });
    const plain = headless('alice', ['--srtp', 'off']);
    try {
      await plain.waitForAccount('registered', 20000);
      await dave.dial(pbx.aor('alice'));
      const incoming = await plain.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 15000);
      await plain.client.call('call.answer', { callId: incoming.callId });
      const ended = await plain.waitForCall((c) => c.callId === incoming.callId && c.state === 'ended', 10000);
      assert.equal(ended.reason, 'Incompatible call: Caller requires encryption (SRTP) but this account has it turned off');
      assert.equal(ended.sipCode, 488);
      await waitForText(plain, /^SIP\/2\.0 488 Not Acceptable Here\r?$/m);
      assert.match(plain.stderr(), /^Warning: 399 switchboard "Caller requires encryption \(SRTP\) but this account has it turned off"\r?$/m);
      await dave.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
    } finally {
      await plain.stop();
      await dave.stop();
    }
  });
});
