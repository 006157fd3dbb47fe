/**
 * Runs INSIDE a network namespace made by udp-loss.test.ts (its own lo, its own nftables):
 * Kamailio, baresip and the headless Switchboard all on that lo, with an nft rule that drops
 * LOSS_PERCENT % of the UDP datagrams to and from the PBX's SIP port (every 5th one for 20 %). Prints one JSON result line.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startKamailio } from '../harness/kamailio';
import { startBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless } from '../harness/headless-switchboard';

const loss = Number(process.env.LOSS_PERCENT ?? '20');
const result: Record<string, unknown> = { loss };
const t0 = Date.now();
const mark = (name: string) => (result[`t_${name}`] = Date.now() - t0);
const dir = makeTempDir('sb-loss-');
const pbx = await startKamailio({ users: ['alice', 'bob'] });
const nft = (script: string) => execFileSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
const dropped = (): number => {
  const json = JSON.parse(execFileSync('nft', ['-j', 'list', 'table', 'inet', 'sipdrop'], { encoding: 'utf8' })) as {
    nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
  };
  return json.nftables.flatMap((i) => i.rule?.expr ?? []).reduce((n, e) => n + (e.counter?.packets ?? 0), 0);
};
try {
  const tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 600, seconds: 120, sampleRate: 8000 });
  mark('pbx');
  const bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', autoAnswer: true, toneWav: tone, readyTimeoutMs: 60000 });
  // From here on, 1 in 5 SIP datagrams to or from the PBX is lost (both directions).
  nft(
    [
      'table inet sipdrop {',
      // input hook: the datagram is lost on the way, silently, as on a real network (a drop in the
      // output hook would instead fail the sender's sendmsg() with EPERM).
      '  chain lossy {',
      '    type filter hook input priority 0; policy accept;',
      // Every (100/loss)-th datagram, not a random share: the same 20 % on every run, so the test
      // cannot pass by luck on a run where no datagram of ours happened to be lost.
      `    udp dport ${pbx.udpPort} numgen inc mod ${Math.round(100 / loss)} 0 counter drop`,
      `    udp sport ${pbx.udpPort} numgen inc mod ${Math.round(100 / loss)} 0 counter drop`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const alice = startHeadless(['--account', pbx.aor('alice'), '--password', pbx.password('alice'), '--proxy', pbx.proxyUri('udp'), '--trace']);
  try {
    const registered = await alice.waitForAccount('registered', 90000);
    result.registered = registered.state;
    mark('registered');
    const { callId } = await alice.client.call('call.dial', { target: 'bob' });
    const connected = await alice.waitForCall((c) => c.callId === callId && (c.state === 'connected' || c.state === 'ended'), 90000);
    result.callState = connected.state;
    mark('connected');
    result.callReason = connected.reason;
    if (connected.state === 'connected') {
      await new Promise((r) => setTimeout(r, 2000));
      await alice.client.call('call.hangup', { callId });
      const ended = await alice.waitForCall((c) => c.callId === callId && c.state === 'ended', 90000);
      result.endReason = ended.reason;
      mark('ended');
      result.bobSawHangup = Boolean(await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 60000, { includePast: true }));
    }
    const trace = alice.stderr();
    // Same Via branch sent more than once = a retransmission by our transport.
    const sent = [...trace.matchAll(/--- SIP to [^\n]+\n([A-Z]+) [^\n]+\n(?:[^\n]+\n)*?Via: [^\n]*branch=([^;\s]+)/g)].map((m) => `${m[1]} ${m[2]}`);
    result.requestsSent = sent.length;
    result.retransmissions = sent.length - new Set(sent).size;
  } catch (error) {
    result.trace = alice.stderr().slice(-12000);
    throw error;
  } finally {
    await alice.stop();
    await bob.stop();
    mark('stopped');
  }
  result.droppedByNft = dropped();
} catch (error) {
  result.error = error instanceof Error ? error.message : String(error);
} finally {
  await pbx.stop();
  removeTempDir(dir);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
