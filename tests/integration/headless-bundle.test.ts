/**
 * The headless as it ships for scripting (`npm run build:headless` → dist/headless/headless.cjs,
 * run by plain node; the benchmark measures this form): copied to a directory with no
 * node_modules anywhere above it, it still makes an Opus call with baresip, so libopus' wasm is
 * found beside the script and every dependency is inside the bundle. Its licence notice names the
 * packages bundled into it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { buildHeadlessBundle } from '../harness/headless-bundle';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { stereoToneWav } from './media-codecs-quality';

let dir: string;
before(() => {
  dir = makeTempDir('headless-bundle-');
});
after(() => removeTempDir(dir));

test('the bundled headless runs without node_modules: an Opus call with baresip, tones heard both ways', async () => {
  assert.ok(!dir.startsWith(process.cwd()), `the bundle must run outside the repository (no node_modules above it): ${dir}`);
  const bundle = buildHeadlessBundle(join(dir, 'app'));
  const notice = readFileSync(join(dir, 'app', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
  for (const bundled of ['sip.js', 'zod', '@evan/opus', 'libopus']) assert.match(notice, new RegExp(`^${bundled.replace('.', '\\.')} .*\\(`, 'm'), `the notice names ${bundled}`);

  const ours = toneWav(join(dir, 'ours.wav'), { frequencyHz: 440, seconds: 10, sampleRate: 48000, amplitude: 0.3 });
  const far = stereoToneWav(join(dir, 'far.wav'), { frequencyHz: 1000, seconds: 20, sampleRate: 48000, amplitude: 0.3 });
  const heard = join(dir, 'heard.wav');
  let bob: TestBaresip | undefined;
  let me: HeadlessSwitchboard | undefined;
  try {
    bob = await startBaresip({ localOnly: true, user: 'bob', autoAnswer: true, toneWav: far, codecs: ['opus'] });
    me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--codecs', 'opus', '--audio-in', ours, '--audio-out', heard], { bundle });
    await me.waitForAccount('ready', 10000);
    const { callId } = await me.client.call('call.dial', { target: bob.sipUri });
    await me.waitForCall((s) => s.callId === callId && s.state === 'connected', 10000);
    await new Promise((r) => setTimeout(r, 3000));
    const stats = await me.client.call('call.stats', { callId });
    assert.equal(stats.codec.toLowerCase(), 'opus');
    await me.client.call('call.hangup', { callId });
    await me.waitForCall((s) => s.callId === callId && s.state === 'ended', 10000);
    await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
    assert.equal(await me.stop(), 0, `the bundle exits cleanly; stderr:\n${me.stderr()}`);
    me = undefined;
    const wav = readWav(heard);
    assert.ok(detectTone(wav.samples, wav.sampleRate, 1000).present, 'we heard baresip over Opus');
    const rec = await bob.recordings();
    assert.ok(rec.received.length > 0, 'baresip recorded the call');
    const theirs = readWav(rec.received.at(-1)!);
    assert.ok(detectTone(theirs.samples, theirs.sampleRate, 440).present, 'baresip heard us over Opus');
  } finally {
    await me?.stop();
    await bob?.stop();
  }
});
