// Proves the harness before anyone builds on it: real Kamailio + real baresips, real audio.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, BaresipRegistrationError, type TestBaresip } from '../harness/baresip';
import { toneWav, readWav, detectTone } from '../harness/audio-analysis';

const CALL_AUDIO_MS = 3000; // how long the call carries audio before hanging up (not asserted)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pbx: TestPbx;
let dir: string;
let tone440: string;
let tone1000: string;
const started: TestBaresip[] = [];

async function phone(options: Parameters<typeof startBaresip>[0]): Promise<TestBaresip> {
  const b = await startBaresip(options);
  started.push(b);
  return b;
}

/** Call from `caller` to `uri`, let audio flow, hang up, and return both sides' recordings. */
async function callAndRecord(caller: TestBaresip, callee: TestBaresip, uri: string) {
  const calleeUp = callee.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000);
  const callerUp = caller.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000);
  await caller.dial(uri);
  await Promise.all([calleeUp, callerUp]);
  await sleep(CALL_AUDIO_MS);
  const calleeClosed = callee.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  const callerClosed = caller.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await caller.hangup();
  await Promise.all([calleeClosed, callerClosed]);
  return { caller: await caller.recordings(), callee: await callee.recordings() };
}

function heard(file: string | undefined, hz: number) {
  assert.ok(file, 'a recording exists');
  const wav = readWav(file);
  return detectTone(wav.samples, wav.sampleRate, hz);
}

describe('harness: baresip through kamailio', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-harness-test-'));
    tone440 = toneWav(join(dir, 'tone440.wav'), { frequencyHz: 440, seconds: 30 });
    tone1000 = toneWav(join(dir, 'tone1000.wav'), { frequencyHz: 1000, seconds: 30 });
    pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave'] });
  });

  after(async () => {
    await Promise.all(started.map((b) => b.stop()));
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a REGISTER without credentials is challenged with MD5 digest, qop=auth', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      const port = socket.address().port;
      const reply = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
      socket.send(
        [
          `REGISTER sip:${pbx.domain} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKharness1;rport`,
          'Max-Forwards: 70',
          `From: <sip:alice@${pbx.domain}>;tag=h1`,
          `To: <sip:alice@${pbx.domain}>`,
          'Call-ID: harness-register-1',
          'CSeq: 1 REGISTER',
          `Contact: <sip:alice@127.0.0.1:${port}>`,
          'Expires: 60',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        pbx.udpPort,
        pbx.host,
      );
      const text = await reply;
      assert.match(text, /^SIP\/2\.0 401 /);
      const challenge = /^WWW-Authenticate:(.*)$/im.exec(text)?.[1] ?? '';
      assert.match(challenge, /Digest/);
      assert.match(challenge, /realm="127\.0\.0\.1"/);
      assert.match(challenge, /qop="auth"/);
      assert.match(challenge, /algorithm=MD5/);
    } finally {
      socket.close();
    }
  });

  test('a wrong password is refused by Kamailio (403)', async () => {
    await assert.rejects(
      startBaresip({ pbx, user: 'dave', password: 'not-daves-password', toneWav: tone440, readyTimeoutMs: 10_000 }),
      (error: unknown) => {
        assert.ok(error instanceof BaresipRegistrationError, String(error));
        assert.match(error.reason, /403/);
        return true;
      },
    );
  });

  test('a TLS caller and a UDP callee hear each other through the PBX, and the other way round', async () => {
    const alice = await phone({ pbx, user: 'alice', transport: 'udp', toneWav: tone440, autoAnswer: true });
    const bob = await phone({ pbx, user: 'bob', transport: 'tls', toneWav: tone1000, autoAnswer: true });
    const rec = await callAndRecord(bob, alice, pbx.aor('alice'));
    // alice (callee) heard bob's 1000 Hz and not her own 440 Hz; bob heard 440 Hz
    const aliceHeard1000 = heard(rec.callee.received[0], 1000);
    assert.equal(aliceHeard1000.present, true, `alice: ${JSON.stringify(aliceHeard1000)}`);
    assert.equal(heard(rec.callee.received[0], 440).present, false);
    const bobHeard440 = heard(rec.caller.received[0], 440);
    assert.equal(bobHeard440.present, true, `bob: ${JSON.stringify(bobHeard440)}`);
    assert.equal(heard(rec.caller.received[0], 1000).present, false);
    // and what each recorded as sent is its own tone
    assert.equal(heard(rec.callee.sent[0], 440).present, true);
    assert.equal(heard(rec.caller.sent[0], 1000).present, true);
    // the PBX stayed on the path (record-routed): its log shows the BYE
    assert.match(pbx.logs(), /REQ BYE .* from tls:/);

    // UDP caller → TLS callee: the PBX must reach bob over the TLS connection he registered from
    const back = await callAndRecord(alice, bob, pbx.aor('bob'));
    assert.equal(heard(back.callee.received[1], 440).present, true, 'bob heard alice on the 2nd call');
    assert.equal(heard(back.caller.received[1], 1000).present, true, 'alice heard bob on the 2nd call');
  });

  test('TCP and UDP phones call each other both ways (PCMA only)', async () => {
    const carol = await phone({ pbx, user: 'carol', transport: 'tcp', toneWav: tone1000, codecs: ['PCMA'], autoAnswer: true });
    const dave = await phone({ pbx, user: 'dave', transport: 'udp', toneWav: tone440, autoAnswer: true, codecs: ['PCMA'] });
    const rec = await callAndRecord(carol, dave, pbx.aor('dave'));
    assert.equal(heard(rec.callee.received[0], 1000).present, true);
    assert.equal(heard(rec.caller.received[0], 440).present, true);
    assert.match(carol.logs(), /Set audio encoder: PCMA/);
    assert.doesNotMatch(carol.logs(), /Set audio encoder: PCMU/);
    const back = await callAndRecord(dave, carol, pbx.aor('carol'));
    assert.equal(heard(back.callee.received[1], 440).present, true, 'carol (TCP callee) heard dave');
    assert.equal(heard(back.caller.received[1], 1000).present, true, 'dave heard carol');
  });

  test('localOnly baresips call each other directly, and each call keeps its own recordings', async () => {
    const left = await phone({ localOnly: true, user: 'left', toneWav: tone440 });
    const right = await phone({ localOnly: true, user: 'right', toneWav: tone1000, autoAnswer: true });
    assert.match(right.sipUri, /^sip:right@127\.0\.0\.1:\d+$/);
    await callAndRecord(left, right, right.sipUri);
    const rec = await callAndRecord(left, right, right.sipUri); // second call, often within the same second
    assert.equal(rec.callee.received.length, 2);
    assert.equal(rec.caller.received.length, 2);
    assert.equal(rec.caller.sent.length, 2);
    for (const file of rec.callee.received) assert.equal(heard(file, 440).present, true, file);
    for (const file of rec.caller.received) assert.equal(heard(file, 1000).present, true, file);
  });

  test('G.722 far ends carry wideband audio (a 5 kHz tone G.711 could not)', async () => {
    const low = toneWav(join(dir, 'g722-440.wav'), { frequencyHz: 440, seconds: 30, sampleRate: 16000 });
    const high = toneWav(join(dir, 'g722-5000.wav'), { frequencyHz: 5000, seconds: 30, sampleRate: 16000 });
    const left = await phone({ localOnly: true, user: 'wideleft', toneWav: low, codecs: ['G722'] });
    const right = await phone({ localOnly: true, user: 'wideright', toneWav: high, codecs: ['G722'], autoAnswer: true });
    const rec = await callAndRecord(left, right, right.sipUri);
    const leftHeard = readWav(rec.caller.received[0]!);
    assert.equal(leftHeard.sampleRate, 16000);
    assert.equal(detectTone(leftHeard.samples, 16000, 5000).present, true);
    assert.equal(heard(rec.callee.received[0], 440).present, true);
  });
});
