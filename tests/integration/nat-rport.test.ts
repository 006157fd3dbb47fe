/**
 * Behind a NAT the PBX sees us at another address than the one we put in Via/Contact. The transport
 * learns it from `received`/`rport` and the account registers that public Contact (as pjsip and
 * Linphone do), so calls from the PBX come back through the NAT binding. The NAT here is a UDP relay
 * that, like a port-restricted NAT, sends everything upstream from one socket of its own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { startImpairingRelay } from '../harness/network';
import { freeUdpPort } from '../harness/ports';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless } from '../harness/headless-switchboard';

let pbx: TestPbx;
let dir: string;
before(async () => {
  dir = makeTempDir('sb-nat-');
  pbx = await startKamailio({ users: ['alice', 'bob'] });
});
after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

test('registers the public address learned from received/rport and is reachable through the NAT', async () => {
  const nat = await startImpairingRelay({ target: { host: '127.0.0.1', port: pbx.udpPort } });
  const localPort = await freeUdpPort();
  const alice = startHeadless([
    '--account', pbx.aor('alice'), '--password', pbx.password('alice'),
    '--proxy', `sip:127.0.0.1:${nat.port};transport=udp`, '--listen', `127.0.0.1:${localPort}`, '--trace',
  ]);
  const bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', toneWav: toneWav(join(dir, 'tone.wav'), { frequencyHz: 500, seconds: 30 }) });
  try {
    const registered = await alice.waitFor('account.state', (a) => a.state === 'registered' && !(a.contact ?? '').includes(`:${localPort};`), 15000);
    const publicPort = Number(/:(\d+);transport=udp$/.exec(registered.contact ?? '')?.[1]);
    assert.ok(publicPort > 0 && publicPort !== localPort && publicPort !== nat.port, `contact uses the NAT's public port: ${registered.contact}`);
    assert.match(alice.stderr(), new RegExp(`Contact: <sip:[^@]+@127\\.0\\.0\\.1:${publicPort};transport=udp>`), 'a REGISTER carried the public contact');
    const before = nat.stats().toClient.forwarded;
    await bob.dial(pbx.aor('alice'));
    const incoming = await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 10000);
    assert.ok(nat.stats().toClient.forwarded > before, 'the INVITE came in through the NAT binding');
    await alice.client.call('call.reject', { callId: incoming.callId, reason: 'decline' });
    const ended = await alice.waitForCall((c) => c.callId === incoming.callId && c.state === 'ended', 10000);
    assert.equal(ended.reason, 'Declined');
  } finally {
    await alice.stop();
    await bob.stop();
    await nat.stop();
  }
});
