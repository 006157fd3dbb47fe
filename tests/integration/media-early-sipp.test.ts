/**
 * Early media and local ringback against SIPp (baresip 1.0 cannot send 183 with SDP), using our
 * own UAS scenario tests/fixtures/sipp/uas-early-media.xml: 180 without SDP for 2 s, then 183
 * with SDP and a 1 kHz PCMU stream for 3 s, then 200 OK.
 * The caller (headless, serverless account dialling SIPp directly) must:
 * - report ringing, then early-media, then connected;
 * - receive RTP while in early-media (before the answer);
 * - play local 425 Hz ringback into its sink while ringing, and stop it when the far end's early
 *   audio comes (RFC 3960; media-early-ringback-sipp.test.ts covers early media without audio):
 *   the recording has ringback first, then the far end's 1 kHz, and never ringback after it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { detectTone, readWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { repoRoot, startHeadless } from '../harness/headless-switchboard';
import { startManagedProcess, tail, type ManagedProcess } from '../harness/child-processes';
import { freeUdpPort, LOOPBACK } from '../harness/ports';
import { SIPP } from '../harness/sipp';

const FAR_HZ = 1000;
const RINGBACK_HZ = 425;

let dir: string;
let sipp: ManagedProcess;
let sipPort: number;

before(async () => {
  assert.ok(existsSync(SIPP), 'sipp is installed');
  dir = makeTempDir('sb-early-');
  copyFileSync(join(repoRoot, 'tests/fixtures/sipp/uas-early-media.xml'), join(dir, 'uas.xml'));
  // SIPp's RTPSTREAM sends a u-law WAV's data as PCMU payload.
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', join(dir, 'early-media-pcmu.wav'), 'synth', '30', 'sine', String(FAR_HZ), 'vol', '0.4']);
  sipPort = await freeUdpPort();
  const rtpPort = 2 * Math.floor((await freeUdpPort()) / 2);
  sipp = startManagedProcess('sipp', SIPP, ['-sf', 'uas.xml', '-i', LOOPBACK, '-p', String(sipPort), '-mi', LOOPBACK, '-mp', String(rtpPort), '-m', '1', '-nostdin', '-trace_err'], { cwd: dir });
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!sipp.hasExited(), `sipp started: ${tail(sipp.logs())}`);
});

after(async () => {
  await sipp?.stop(2000);
  if (dir) removeTempDir(dir);
});

/** Fractions of 100 ms windows where each tone dominates, and the window indexes. */
function toneWindows(samples: Float32Array, rate: number, hz: number): number[] {
  const windowLength = rate / 10;
  const hits: number[] = [];
  for (let w = 0; w * windowLength + windowLength <= samples.length; w++) {
    const slice = samples.subarray(w * windowLength, (w + 1) * windowLength);
    if (detectTone(slice, rate, hz, { minFraction: 1 }).present) hits.push(w);
  }
  return hits;
}

describe('early media (183 with SDP) and local ringback', () => {
  test('ringing → early-media with RTP before the answer → connected; ringback only before early media', async () => {
    const out = join(dir, 'caller.wav');
    const caller = startHeadless(['--account', 'sip:caller@127.0.0.1', '--no-register', '--listen', `${LOOPBACK}:0`, '--audio-out', out, '--trace']);
    try {
      await caller.waitForAccount('ready', 10000);
      const { callId } = await caller.client.call('call.dial', { target: `sip:service@${LOOPBACK}:${sipPort}` });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'ringing', 10000);
      const early = await caller.waitForCall((c) => c.callId === callId && c.state === 'early-media', 10000);
      assert.ok(early.media, 'media summary present in early-media');
      // Give the stream a moment; SIPp answers 3 s after the 183.
      await new Promise((r) => setTimeout(r, 1000));
      const during = (await caller.client.call('call.list', {})).calls.find((c) => c.callId === callId)!;
      assert.equal(during.state, 'early-media', 'still not answered');
      assert.ok((during.media?.packetsReceived ?? 0) > 20, `RTP received before the answer: ${JSON.stringify(during.media)}`);
      await caller.waitForCall((c) => c.callId === callId && c.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 500));
      await caller.client.call('call.hangup', { callId });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    } finally {
      await caller.stop();
    }
    await sipp.exited;
    const wav = readWav(out);
    const ringback = toneWindows(wav.samples, wav.sampleRate, RINGBACK_HZ);
    const far = toneWindows(wav.samples, wav.sampleRate, FAR_HZ);
    assert.ok(ringback.length >= 5, `ringback heard while ringing (${ringback.length} windows of 100 ms)`);
    assert.ok(far.length >= 20, `far-end early media heard (${far.length} windows)`);
    assert.ok(Math.max(...ringback) < Math.min(...far), `ringback (windows ${ringback[0]}..${ringback.at(-1)}) stops before early media (from ${far[0]})`);
  });
});
