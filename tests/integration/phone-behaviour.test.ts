/**
 * What an office user notices beyond "a call works": failures said in words, cancel, several
 * accounts at once, unregistering on quit, no ghost calls from SIP scanners, and a local account
 * that calls another phone directly with no PBX at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

let pbx: TestPbx;
let dir: string;
let tone: string;

before(async () => {
  dir = makeTempDir('sb-phone-');
  tone = toneWav(join(dir, 'tone-700.wav'), { frequencyHz: 700, seconds: 10, sampleRate: 8000, amplitude: 0.4 });
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave'] });
});

after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

function registeredArgs(user: string, extra: string[] = []): string[] {
  return ['--account', pbx.aor(user), '--password', pbx.password(user), '--proxy', pbx.proxyUri('udp'), ...extra];
}

/** Port of a UA from its registered/ready contact, e.g. sip:x@127.0.0.1:40312;transport=udp. */
function contactPort(contact: string | undefined): number {
  const m = /:(\d+);transport=/.exec(contact ?? '');
  assert.ok(m, `contact with a port: ${contact}`);
  return Number(m[1]);
}

/** Send one datagram from `fromAddress` and collect whatever comes back for `ms`. */
async function probe(message: string, to: number, fromAddress: string, ms: number): Promise<string[]> {
  const socket = createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((resolve) => socket.bind(0, fromAddress, resolve));
  const { port } = socket.address();
  socket.send(message.replaceAll('{PORT}', String(port)).replaceAll('{FROM}', fromAddress), to, '127.0.0.1');
  await new Promise((r) => setTimeout(r, ms));
  socket.close();
  return replies;
}

/** A correctly addressed INVITE that does not come through the PBX (as a scanner's would). */
const scannerInvite = (target: number) =>
  [
    `INVITE sip:alice@127.0.0.1:${target} SIP/2.0`,
    'Via: SIP/2.0/UDP {FROM}:{PORT};branch=z9hG4bK-scan1;rport',
    'Max-Forwards: 70',
    'From: "sipvicious" <sip:100@1.1.1.1>;tag=scan',
    `To: <sip:alice@127.0.0.1:${target}>`,
    'Call-ID: scanner-call-1',
    'CSeq: 1 INVITE',
    'Contact: <sip:100@{FROM}:{PORT}>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

describe('call failures are reported in words', () => {
  let alice: HeadlessSwitchboard;
  let bob: TestBaresip;
  before(async () => {
    bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', autoAnswer: false, toneWav: tone });
    alice = startHeadless(registeredArgs('alice'));
    await alice.waitForAccount('registered', 15000);
  });
  after(async () => {
    await alice?.stop();
    await bob?.stop();
  });

  test('an unknown number', async () => {
    const { callId } = await alice.client.call('call.dial', { target: 'nobody' });
    const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    assert.equal(ended.sipCode, 404);
    assert.equal(ended.reason, 'Number not found');
  });

  test('ringing, then cancelled by us', async () => {
    const { callId } = await alice.client.call('call.dial', { target: 'bob' });
    await alice.waitForCall((c) => c.callId === callId && c.state === 'ringing', 10000);
    await alice.client.call('call.hangup', { callId });
    const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    assert.equal(ended.reason, 'Call cancelled');
    await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
  });

  test('the far end rejects the call', async () => {
    const { callId } = await alice.client.call('call.dial', { target: 'bob' });
    await alice.waitForCall((c) => c.callId === callId && c.state === 'ringing', 10000);
    await bob.hangup();
    const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
    assert.ok(ended.sipCode !== undefined && ended.sipCode >= 400, `a final failure code: ${ended.sipCode}`);
    assert.ok(['Busy', 'Call declined', 'Not available right now'].includes(ended.reason ?? ''), `reason in words: ${ended.reason} (${ended.sipCode})`);
  });

  test('a bad dial string is refused with a sentence, not a SIP error', async () => {
    await assert.rejects(alice.client.call('call.dial', { target: 'bob smith<>' }), /is not a number or SIP address/);
    await assert.rejects(alice.client.call('call.dial', { target: '' }), /target must not be empty/);
  });
});

describe('several accounts at once', () => {
  test('a second account registers beside the first and takes its own calls', async () => {
    const bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', autoAnswer: false, toneWav: tone });
    const alice = startHeadless(registeredArgs('alice'));
    try {
      await alice.waitForAccount('registered', 15000);
      const { accountId } = await alice.client.call('account.add', {
        aor: pbx.aor('carol'),
        password: pbx.password('carol'),
        outboundProxy: pbx.proxyUri('tcp'),
        transport: 'tcp',
      });
      await alice.waitFor('account.state', (a) => a.accountId === accountId && a.state === 'registered', 15000);
      const { accounts } = await alice.client.call('account.list', {});
      assert.deepEqual(accounts.map((a) => [a.aor, a.state]).sort(), [
        [pbx.aor('alice'), 'registered'],
        [pbx.aor('carol'), 'registered'],
      ]);
      await bob.dial(pbx.aor('carol'));
      const incoming = await alice.waitForCall((c) => c.state === 'incoming', 10000);
      assert.equal(incoming.accountId, accountId, 'the call arrives on the account it was for');
      await alice.client.call('call.reject', { callId: incoming.callId, reason: 'busy' });
      const ended = await alice.waitForCall((c) => c.callId === incoming.callId && c.state === 'ended', 10000);
      assert.equal(ended.reason, 'Rejected as busy');
    } finally {
      await alice.stop();
      await bob.stop();
    }
  });
});

describe('quitting unregisters', () => {
  test('after the headless process exits, callers are told the user is gone at once', async () => {
    const bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', autoAnswer: false, toneWav: tone });
    const dave = startHeadless(registeredArgs('dave'));
    try {
      await dave.waitForAccount('registered', 15000);
      assert.equal(await dave.stop(), 0, 'clean exit');
      assert.match(dave.stderr(), /unregistering/);
      await bob.dial(pbx.aor('dave'));
      const closed = await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 8000, { includePast: true });
      assert.match(String(closed.param ?? ''), /404|480|Not Found|Unavailable/i, `bob's call failed because dave is gone: ${closed.param}`);
    } finally {
      await dave.stop();
      await bob.stop();
    }
  });
});

describe('defence against SIP scanners', () => {
  test('by default a direct INVITE from outside the PBX flow gets no answer and no ringing', async () => {
    const alice = startHeadless(registeredArgs('alice'));
    try {
      const registered = await alice.waitForAccount('registered', 15000);
      const replies = await probe(scannerInvite(contactPort(registered.contact)), contactPort(registered.contact), '127.0.0.66', 1500);
      assert.deepEqual(replies, [], 'the scanner learns nothing');
      assert.equal(alice.events.filter((e) => e.event === 'call.state').length, 0, 'no ghost call');
    } finally {
      await alice.stop();
    }
  });

  test('with "accept direct calls" the same INVITE rings', async () => {
    const alice = startHeadless(registeredArgs('alice', ['--accept-direct']));
    try {
      const registered = await alice.waitForAccount('registered', 15000);
      const replies = await probe(scannerInvite(contactPort(registered.contact)), contactPort(registered.contact), '127.0.0.66', 1500);
      assert.ok(replies.some((r) => /^SIP\/2\.0 (100|180)/.test(r)), `answered: ${replies.map((r) => r.split('\r\n')[0]).join(', ')}`);
      await alice.waitForCall((c) => c.state === 'incoming', 3000);
    } finally {
      await alice.stop();
    }
  });
});

describe('local serverless account', () => {
  test('calls another phone directly by sip:user@host:port with audio both ways, and takes its call', async () => {
    const farTone = toneWav(join(dir, 'far-1200.wav'), { frequencyHz: 1200, seconds: 10, sampleRate: 8000, amplitude: 0.4 });
    const bob = await startBaresip({ localOnly: true, autoAnswer: true, toneWav: farTone });
    const out = join(dir, 'local-out.wav');
    const me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--audio-in', tone, '--audio-out', out]);
    try {
      const ready = await me.waitForAccount('ready', 10000);
      await assert.rejects(me.client.call('call.dial', { target: '201' }), /Direct calls need a full address/);
      const { callId } = await me.client.call('call.dial', { target: bob.sipUri });
      await me.waitForCall((c) => c.callId === callId && c.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 2500));
      await me.client.call('call.hangup', { callId });
      await me.waitForCall((c) => c.callId === callId && c.state === 'ended', 10000);
      await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 5000, { includePast: true });
      await new Promise((r) => setTimeout(r, 300));
      const ours = readWav(out);
      assert.ok(detectTone(ours.samples, ours.sampleRate, 1200).present, 'we heard the other phone');
      const rec = await bob.recordings();
      const theirs = readWav(rec.received[rec.received.length - 1]!);
      assert.ok(detectTone(theirs.samples, theirs.sampleRate, 700).present, 'the other phone heard us');

      await bob.dial(`sip:me@127.0.0.1:${contactPort(ready.contact)}`);
      const incoming = await me.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 10000);
      await me.client.call('call.answer', { callId: incoming.callId });
      await me.waitForCall((c) => c.callId === incoming.callId && c.state === 'connected', 10000);
      await me.client.call('call.hangup', { callId: incoming.callId });
    } finally {
      await me.stop();
      await bob.stop();
    }
  });
});
