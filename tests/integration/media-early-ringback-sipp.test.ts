/**
 * Local ringback while the far end alerts during early media (RFC 3960 s. 3: ring only after a 180,
 * ring while no audio comes, never over the far end's audio), against SIPp UAS scenarios:
 * - tests/fixtures/sipp/uas-progress-then-ringing.xml: 183 with SDP and no audio, 1.5 s later a
 *   180 (still no audio), 0.5 s later the answer, the far end's 1 kHz only 1.5 s after it. The
 *   caller must hear nothing for the 183 alone, ringback once the 180 comes, and no ringback after
 *   the answer (the ringback's 1 s on-phase is cut by it).
 * - tests/fixtures/sipp/uas-ringing-with-sdp.xml: 180 WITH SDP and no audio for 0.6 s, then the far
 *   end's own 1 kHz (its announcement), then the answer. The caller must hear ringback first, then
 *   the far end's audio and no ringback over it.
 * Before, a call with early media SDP was silent until the far end's audio came: a PBX that sends
 * a 183 or 180 with SDP and no audio left the caller in silence while the phone rang.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { detectTone, readWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { repoRoot, startHeadless } from '../harness/headless-switchboard';
import { startManagedProcess, tail } from '../harness/child-processes';
import { freeUdpPort, LOOPBACK } from '../harness/ports';
import { SIPP } from '../harness/sipp';

const FAR_HZ = 1000;
const RINGBACK_HZ = 425;
/** Analysis windows: 100 ms. */
const WINDOWS_PER_S = 10;

let dir: string;

before(() => {
  assert.ok(existsSync(SIPP), 'sipp is installed');
  dir = makeTempDir('sb-early-ringback-');
  // SIPp's RTPSTREAM sends a u-law WAV's data as PCMU payload.
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', join(dir, 'early-media-pcmu.wav'), 'synth', '30', 'sine', String(FAR_HZ), 'vol', '0.4']);
});

after(() => {
  if (dir) removeTempDir(dir);
});

/** Indexes of the 100 ms windows where `hz` dominates. */
function toneWindows(samples: Float32Array, rate: number, hz: number): number[] {
  const windowLength = rate / WINDOWS_PER_S;
  const hits: number[] = [];
  for (let w = 0; w * windowLength + windowLength <= samples.length; w++) {
    const slice = samples.subarray(w * windowLength, (w + 1) * windowLength);
    if (detectTone(slice, rate, hz, { minFraction: 1 }).present) hits.push(w);
  }
  return hits;
}

/**
 * Call a SIPp UAS running `scenario`, stay until `hangUpAfterConnectedMs` after the answer, hang
 * up, and return the windows of the caller's recording (which starts when its audio opens) where
 * the ringback and the far end's tone dominate, with the states the call went through.
 */
async function callScenario(scenario: string, hangUpAfterConnectedMs: number): Promise<{ ringback: number[]; far: number[]; states: string[] }> {
  const name = scenario.replace(/\.xml$/, '');
  copyFileSync(join(repoRoot, 'tests/fixtures/sipp', scenario), join(dir, scenario));
  const sipPort = await freeUdpPort();
  const rtpPort = 2 * Math.floor((await freeUdpPort()) / 2);
  const sipp = startManagedProcess(`sipp ${name}`, SIPP, ['-sf', scenario, '-i', LOOPBACK, '-p', String(sipPort), '-mi', LOOPBACK, '-mp', String(rtpPort), '-m', '1', '-nostdin', '-trace_err'], { cwd: dir });
  const out = join(dir, `${name}.wav`);
  const states: string[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!sipp.hasExited(), `sipp started: ${tail(sipp.logs())}`);
    const caller = startHeadless(['--account', 'sip:caller@127.0.0.1', '--no-register', '--listen', `${LOOPBACK}:0`, '--audio-out', out]);
    try {
      await caller.waitForAccount('ready', 10000);
      const { callId } = await caller.client.call('call.dial', { target: `sip:service@${LOOPBACK}:${sipPort}` });
      caller.client.on('call.state', (c) => {
        if (c.callId === callId && states.at(-1) !== c.state) states.push(c.state);
      });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
      await new Promise((r) => setTimeout(r, hangUpAfterConnectedMs));
      await caller.client.call('call.hangup', { callId });
      await caller.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    } finally {
      await caller.stop();
    }
    await sipp.exited;
  } finally {
    await sipp.stop(2000);
  }
  const wav = readWav(out);
  return { ringback: toneWindows(wav.samples, wav.sampleRate, RINGBACK_HZ), far: toneWindows(wav.samples, wav.sampleRate, FAR_HZ), states };
}

describe('local ringback during early media (RFC 3960)', () => {
  test('a 183 with SDP and no audio: silence; a 180 then: ringback; the answer ends it though no audio came yet', async () => {
    const { ringback, far, states } = await callScenario('uas-progress-then-ringing.xml', 3500);
    assert.deepEqual(states.slice(0, 3), ['dialing', 'early-media', 'connected'], `states: ${states.join(' → ')}`);
    // The recording starts with the 183's media; the 180 comes 1.5 s later, the answer 0.5 s after it.
    assert.ok(ringback.length >= 3, `ringback heard once the 180 came (${ringback.length} windows of 100 ms)`);
    assert.ok(ringback[0]! >= 1.2 * WINDOWS_PER_S, `no ringback for the 183 alone: first ringback window ${ringback[0]}, the 180 came at ~${1.5 * WINDOWS_PER_S}`);
    // Its 1 s on-phase (10 windows) is cut by the answer 0.5 s in.
    assert.ok(ringback.length <= 7, `ringback stops at the answer (${ringback.length} windows: ${ringback.join(',')})`);
    assert.ok(far.length >= 10, `the far end's audio heard after the answer (${far.length} windows)`);
    assert.ok(ringback.at(-1)! < far[0]! - WINDOWS_PER_S, `silence between the answer and the far end's first audio (ringback until ${ringback.at(-1)}, far end from ${far[0]})`);
  });

  test('a 180 with SDP and no audio: ringback, until the far end\'s own audio comes', async () => {
    const { ringback, far, states } = await callScenario('uas-ringing-with-sdp.xml', 1000);
    assert.deepEqual(states.slice(0, 3), ['dialing', 'early-media', 'connected'], `states: ${states.join(' → ')}`);
    // The far end's audio comes 0.6 s into the ringback's 1 s on-phase.
    assert.ok(ringback.length >= 3, `ringback heard while the far end alerted without audio (${ringback.length} windows)`);
    assert.ok(ringback.length <= 8, `ringback stops when the far end's audio comes (${ringback.length} windows: ${ringback.join(',')})`);
    assert.ok(far.length >= 20, `the far end's early audio heard (${far.length} windows)`);
    assert.ok(ringback.at(-1)! < far[0]!, `never ringback over the far end's audio (ringback until ${ringback.at(-1)}, far end from ${far[0]})`);
  });
});
