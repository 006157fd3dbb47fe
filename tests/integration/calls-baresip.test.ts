/**
 * The headline behaviour of the SIP core, against real peers: the headless Switchboard registers
 * to a Kamailio PBX over UDP, TCP and TLS, calls baresip and is called by it, and audio flows both
 * ways (checked by frequency analysis of what each side recorded).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

const OUR_TONE = 440;
const BARESIP_TONE = 1000;
const TALK_MS = 3000;

let pbx: TestPbx;
let dir: string;
let ourTone: string;
let farTone: string;

before(async () => {
  dir = makeTempDir('sb-calls-');
  ourTone = toneWav(join(dir, 'ours-440.wav'), { frequencyHz: OUR_TONE, seconds: 10, sampleRate: 8000, amplitude: 0.4 });
  farTone = toneWav(join(dir, 'far-1000.wav'), { frequencyHz: BARESIP_TONE, seconds: 10, sampleRate: 8000, amplitude: 0.4 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol'] });
});

after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

function headlessArgs(transport: 'udp' | 'tcp' | 'tls', user: string, extra: string[] = []): string[] {
  const args = ['--account', pbx.aor(user), '--password', pbx.password(user), '--transport', transport, '--proxy', pbx.proxyUri(transport)];
  if (transport === 'tls') args.push('--ca-file', pbx.caFile);
  return [...args, ...extra];
}

function assertHears(file: string, hz: number, who: string) {
  assert.ok(existsSync(file), `${who}: recording ${file} exists`);
  const wav = readWav(file);
  const detection = detectTone(wav.samples, wav.sampleRate, hz);
  assert.ok(
    detection.present,
    `${who} should hear ${hz} Hz: tone dominates in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`,
  );
}

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  describe(`over ${transport.toUpperCase()}`, () => {
    let bob: TestBaresip;
    let alice: HeadlessSwitchboard;
    const outFile = () => join(dir, `alice-${transport}.wav`);

    before(async () => {
      bob = await startBaresip({ pbx, user: 'bob', transport, autoAnswer: true, toneWav: farTone, codecs: ['PCMU', 'PCMA'] });
      alice = startHeadless(headlessArgs(transport, 'alice', ['--audio-in', ourTone, '--audio-out', outFile()]));
    });

    after(async () => {
      await alice?.stop();
      await bob?.stop();
    });

    test('registers to the PBX', async () => {
      const registered = await alice.waitForAccount('registered', 20000);
      assert.equal(registered.transport, transport);
      assert.match(registered.contact ?? '', new RegExp(`@127\\.0\\.0\\.1:\\d+;transport=${transport}$`), 'contact carries a real address');
    });

    test('calls baresip; audio flows both ways; hangs up', async () => {
      const { callId } = await alice.client.call('call.dial', { target: 'bob' });
      const connected = await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
      assert.equal(connected.direction, 'outgoing');
      await new Promise((r) => setTimeout(r, TALK_MS));
      const during = (await alice.client.call('call.list', {})).calls.find((c) => c.callId === callId);
      assert.ok(during?.media && during.media.packetsReceived > 50, `RTP received during the call: ${JSON.stringify(during?.media)}`);
      await alice.client.call('call.hangup', { callId });
      const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
      assert.equal(ended.reason, 'You hung up');
      await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
      assertHears(outFile(), BARESIP_TONE, 'Switchboard');
      const rec = await bob.recordings();
      assert.ok(rec.received.length > 0, 'baresip recorded the call');
      assertHears(rec.received[rec.received.length - 1]!, OUR_TONE, 'baresip');
    });

    test('receives a call from baresip and answers it; remote hang-up is reported', async () => {
      const before = alice.events.length;
      await bob.dial(pbx.aor('alice'));
      const incoming = await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 15000);
      assert.ok(alice.events.length > before);
      assert.match(incoming.remoteUri, /bob/);
      await alice.client.call('call.answer', { callId: incoming.callId });
      await alice.waitForCall((c) => c.callId === incoming.callId && c.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 1500));
      await bob.hangup();
      const ended = await alice.waitForCall((c) => c.callId === incoming.callId && c.state === 'ended', 10000);
      assert.equal(ended.reason, 'The other side hung up');
    });
  });
}

describe('password sources', () => {
  /** The headless's command line as every local user can read it. */
  const commandLine = (phone: HeadlessSwitchboard) => readFileSync(`/proc/${phone.process.pid}/cmdline`, 'utf8').split('\0').join(' ');

  test('--password-file: registers with the file\'s password (its line break dropped), which is not on the command line', async () => {
    const file = join(dir, 'alice.password');
    writeFileSync(file, `${pbx.password('alice')}\n`, { mode: 0o600 });
    const alice = startHeadless(['--account', pbx.aor('alice'), '--password-file', file, '--proxy', pbx.proxyUri('udp')]);
    try {
      await alice.waitForAccount('registered', 15000);
      assert.ok(!commandLine(alice).includes(pbx.password('alice')), commandLine(alice));
    } finally {
      await alice.stop();
    }
  });

  test('SWITCHBOARD_PASSWORD: registers with the password from the environment, not on the command line', async () => {
    const alice = startHeadless(['--account', pbx.aor('alice'), '--proxy', pbx.proxyUri('udp')], { env: { SWITCHBOARD_PASSWORD: pbx.password('alice') } });
    try {
      await alice.waitForAccount('registered', 15000);
      assert.ok(!commandLine(alice).includes(pbx.password('alice')), commandLine(alice));
    } finally {
      await alice.stop();
    }
  });
});

describe('wrong password', () => {
  test('is reported as such, once, without a retry storm', async () => {
    const carol = startHeadless(['--account', pbx.aor('carol'), '--password', 'definitely-wrong', '--proxy', pbx.proxyUri('udp'), '--trace']);
    try {
      const failed = await carol.waitForAccount('failed', 15000);
      assert.equal(failed.reason, 'Wrong username or password');
      assert.ok(failed.sipCode === 401 || failed.sipCode === 403, `sipCode ${failed.sipCode}`);
      // Stay a while: a client that retries would send more REGISTERs and leave "failed".
      await new Promise((r) => setTimeout(r, 5000));
      const registers = (carol.stderr().match(/^REGISTER sip:/gm) ?? []).length;
      assert.ok(registers <= 2, `at most the first attempt and one with credentials, saw ${registers} REGISTERs`);
      assert.equal(carol.events.filter((e) => e.event === 'account.state' && (e.payload as { state: string }).state === 'registering').length, 1);
    } finally {
      await carol.stop();
    }
  });
});
