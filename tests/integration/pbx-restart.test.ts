/**
 * A PBX reboot: every connection and registration on it is lost. The account must notice, say so,
 * retry with backoff (not in a storm), and be registered and reachable again once the PBX is back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless } from '../harness/headless-switchboard';

let pbx: TestPbx;
let dir: string;
before(async () => {
  dir = makeTempDir('sb-restart-');
  pbx = await startKamailio({ users: ['alice', 'bob'] });
});
after(async () => {
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

for (const transport of ['tcp', 'tls'] as const) {
  test(`over ${transport.toUpperCase()}: re-registers with backoff after the PBX restarts, and takes calls again`, async () => {
    const alice = startHeadless([
      '--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--transport', transport,
      '--proxy', pbx.proxyUri(transport), ...(transport === 'tls' ? ['--ca-file', pbx.caFile] : []),
    ]);
    try {
      await alice.waitForAccount('registered', 15000);
      const before = alice.events.length;
      await pbx.restart(4000);
      const retrying = await alice.waitFor('account.state', (a) => a.state === 'retrying', 10000);
      assert.match(retrying.reason ?? '', /Lost connection to the phone system|Cannot connect/);
      assert.ok((retrying.retryInSeconds ?? 0) >= 1, 'says when it will try again');
      const registeredAgain = await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not re-registered: ${JSON.stringify(alice.events.slice(before))}`)), 40000);
        const check = setInterval(() => {
          if (alice.events.slice(before).some((e) => e.event === 'account.state' && (e.payload as { state: string }).state === 'registered')) {
            clearTimeout(timer);
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      await registeredAgain;
      const attempts = alice.events.slice(before).filter((e) => e.event === 'account.state' && (e.payload as { state: string }).state === 'registering').length;
      assert.ok(attempts <= 4, `a handful of attempts while the PBX was down, not a storm: ${attempts}`);
      const bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', toneWav: toneWav(join(dir, `t-${transport}.wav`), { frequencyHz: 500, seconds: 30 }) });
      try {
        await bob.dial(pbx.aor('alice'));
        await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'incoming', 10000);
      } finally {
        await bob.stop();
      }
    } finally {
      await alice.stop();
    }
  });
}
