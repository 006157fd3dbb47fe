/**
 * What the Linphone tests share (a helper, not a test file): one Kamailio and temp dir per test
 * file (`useLinphoneBench`), alice (us, headless) and erin (Linphone) in a call (`withCall`), and the
 * checks on what each heard. Used by interop-linphone.test.ts and transfer-linphone.test.ts.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startLinphone, type StartLinphoneOptions, type TestLinphone } from '../harness/linphone';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { describeQuality, toneQuality } from './media-codecs-quality';
import type { CallSnapshot } from '../../src-main/common/contract/contract';

export const AMPLITUDE = 0.4;
/** RMS level of a sine of amplitude 0.4, dBFS. */
const SENT_LEVEL_DBFS = 20 * Math.log10(AMPLITUDE / Math.SQRT2);
const TALK_MS = 3000;
export const OUR_HZ = 440;
export const FAR_HZ = 1000;

/** A test file's PBX (users alice, erin, bob, frank) and temp dir, there between its before and after hooks. */
export interface LinphoneBench {
  readonly pbx: TestPbx;
  readonly dir: string;
}

export function useLinphoneBench(prefix: string): LinphoneBench {
  let pbx: TestPbx | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = makeTempDir(prefix);
    pbx = await startKamailio({ users: ['alice', 'erin', 'bob', 'frank'] });
  });
  after(async () => {
    await pbx?.stop();
    if (dir) removeTempDir(dir);
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useLinphoneBench: no ${what} outside the tests`);
    return value;
  };
  return {
    get pbx() {
      return ready(pbx, 'PBX');
    },
    get dir() {
      return ready(dir, 'temp dir');
    },
  };
}

/** The tone `hz` throughout the middle of the recording, at the level sent, with a quality score a broken path fails. */
export function assertHears(file: string, hz: number, who: string, minMedianSinadDb: number, levelOffsetDb = 0): void {
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
export const LINPHONE_G722_LEVEL_DB = 6.02;

export interface Parties {
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
export async function withCall(
  { pbx, dir }: LinphoneBench,
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
export async function callStateAfter(alice: HeadlessSwitchboard, mark: number, predicate: (c: CallSnapshot) => boolean, timeoutMs = 10000): Promise<CallSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = alice.events.slice(mark).find((e) => e.event === 'call.state' && predicate(e.payload as CallSnapshot));
    if (found) return found.payload as CallSnapshot;
    if (Date.now() > deadline) throw new Error(`no matching call.state within ${timeoutMs} ms; since: ${JSON.stringify(alice.events.slice(mark))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const talk = (): Promise<void> => new Promise((r) => setTimeout(r, TALK_MS));

/**
 * alice hangs up, then each side must have heard the other's tone; `linphoneLevelDb`: how much
 * louder Linphone hears us than we sent (and we hear it that much quieter), see LINPHONE_G722_LEVEL_DB.
 */
export async function hangUpAndHearBoth(p: Parties, minMedianSinadDb: number, linphoneLevelDb = 0): Promise<void> {
  await hangUp(p);
  await p.alice.stop();
  assertHears(p.heard, FAR_HZ, 'Switchboard', minMedianSinadDb, -linphoneLevelDb);
  assertHears(p.erin.recordingFile, OUR_HZ, 'Linphone', minMedianSinadDb, linphoneLevelDb);
}

/** alice hangs up; both ends see the call end (Linphone's BYE handling included). */
export async function hangUp({ alice, erin, call }: Parties): Promise<void> {
  await alice.client.call('call.hangup', { callId: call.callId });
  await alice.waitForCall((c) => c.callId === call.callId && c.state === 'ended', 10000);
  await erin.waitForOutput(/Call \d+ with \S+ ended/, 10000, { includePast: true });
}
