/**
 * Transfers with a real softphone (Linphone 5.1, linphonec) through the test PBX: being
 * transferred (REFER) and transferring (blind, RFC 5589 section 6); attended transfers (section 7)
 * made by the other side, with us as the one transferred or as its target (INVITE with Replaces,
 * RFC 3891), and made by us, with a second Linphone. baresip answers as a plain transfer target.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { startLinphone, type TestLinphone } from '../harness/linphone';
import { toneWav } from '../harness/audio-analysis';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import type { CallSnapshot } from '../../src-main/common/contract/contract';
import { AMPLITUDE, callStateAfter, FAR_HZ, useLinphoneBench, withCall } from './linphone-calls';

const bench = useLinphoneBench('sb-transfer-');

describe('transfers with Linphone', () => {
  /** bob (baresip, auto-answering, registered) for the length of `body`: a plain transfer target. */
  async function withBob(body: (bob: TestBaresip) => Promise<void>): Promise<void> {
    const tone = toneWav(join(bench.dir, 'bob.wav'), { frequencyHz: 700, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const bob = await startBaresip({ pbx: bench.pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
    try {
      await body(bob);
    } finally {
      await bob.stop();
    }
  }

  test('Linphone transfers us (blind, REFER) to bob: we call bob as a new call shown as transferred, Linphone\'s call ends', async () => {
    await withBob(async (bob) => {
      const bobUri = bob.sipUri;
      await withCall(bench, 'transfer', { linphoneCalls: true, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async ({ alice, erin, call }) => {
        const mark = alice.events.length;
        erin.command(`transfer ${bobUri}`);
        const transferred = await callStateAfter(alice, mark, (c) => c.callId !== call.callId && c.state === 'connected', 15000);
        assert.equal(transferred.direction, 'outgoing');
        assert.equal(transferred.remoteUri, bobUri);
        assert.equal(transferred.transferredFrom, call.callId, `the new call says which call it replaces: ${JSON.stringify(transferred)}`);
        assert.match(transferred.referredBy ?? '', /erin@127\.0\.0\.1/);
        await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.state === 'ended', 15000);
        await new Promise((r) => setTimeout(r, 1000));
        const stats = await alice.client.call('call.stats', { callId: transferred.callId });
        assert.ok(stats.packetsReceived > 30, `bob's audio reaches us: ${JSON.stringify(stats)}`);
        await alice.client.call('call.hangup', { callId: transferred.callId });
        await alice.waitForCall((c) => c.callId === transferred.callId && c.state === 'ended', 10000);
      });
    });
  });

  test('we transfer Linphone (blind): a refused target says why and keeps the call; to bob, the call ends once bob answers', async () => {
    await withBob(async (bob) => {
      await withCall(bench, 'transfer-out', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async ({ alice, call }) => {
        await assert.rejects(
          alice.client.call('call.transfer', { callId: call.callId, target: 'nobody' }),
          /The transfer to sip:nobody@127\.0\.0\.1 failed: 404 Not Found/,
        );
        const still = (await alice.client.call('call.list', {})).calls.find((c) => c.callId === call.callId);
        assert.equal(still?.state, 'connected', 'a failed transfer keeps the call');
        await alice.client.call('call.transfer', { callId: call.callId, target: 'bob' });
        const ended = await alice.waitForCall((c) => c.callId === call.callId && c.state === 'ended', 10000);
        assert.equal(ended.reason, 'Transferred to sip:bob@127.0.0.1');
        const established = await bob.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10000, { includePast: true });
        assert.match(String(established.peeruri), /erin@127\.0\.0\.1/, 'bob is talking to Linphone now');
      });
    });
  });

  /**
   * erin (Linphone) talks to alice (us) and to frank (another Linphone), then joins them: the
   * attended transfer (RFC 5589 section 7) of `referred` to the other one; `check` then gets alice
   * and her call with erin.
   */
  async function attendedTransfer(referred: 'alice' | 'frank', check: (alice: HeadlessSwitchboard, withErin: CallSnapshot) => Promise<void>): Promise<void> {
    const tone = toneWav(join(bench.dir, 'attended.wav'), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const alice = startHeadless(['--account', bench.pbx.aor('alice'), '--password', bench.pbx.password('alice'), '--proxy', bench.pbx.proxyUri('udp'), '--auto-answer', '--codecs', 'PCMU', '--audio-in', tone]);
    let erin: TestLinphone | undefined;
    let frank: TestLinphone | undefined;
    try {
      await alice.waitForAccount('registered', 15000);
      erin = await startLinphone({ pbx: bench.pbx, user: 'erin', playWav: tone, codecs: ['PCMU'] });
      frank = await startLinphone({ pbx: bench.pbx, user: 'frank', playWav: tone, autoAnswer: true, codecs: ['PCMU'] });
      const callFrom = async (to: string): Promise<string> => {
        const printed = erin!.mark();
        erin!.command(`call ${to}`);
        const id = (await erin!.waitForOutput(/assigned id (\d+)/, 10000, { since: printed }))[1]!;
        await erin!.waitForOutput(new RegExp(`Call ${id} with \\S+ connected`), 15000, { since: printed });
        return id;
      };
      const toFrank = await callFrom(bench.pbx.aor('frank'));
      const printed = erin.mark();
      erin.command('pause'); // linphonec places a second call only with the first on hold
      await erin.waitForOutput(new RegExp(`Call ${toFrank} with \\S+ is now paused`), 10000, { since: printed });
      const toAlice = await callFrom(bench.pbx.aor('alice'));
      const withErin = await alice.waitForCall((c) => c.direction === 'incoming' && c.state === 'connected', 10000);
      // Linphone's transfer command: `transfer <call> --to-call <call>` refers the first call's peer to the second's.
      erin.command(referred === 'frank' ? `transfer ${toFrank} --to-call ${toAlice}` : `transfer ${toAlice} --to-call ${toFrank}`);
      await check(alice, withErin);
    } finally {
      await alice.stop();
      await erin?.stop();
      await frank?.stop();
    }
  }

  test('attended transfer, we are its target: frank\'s INVITE with Replaces takes over our call with erin, answered at once', async () => {
    await attendedTransfer('frank', async (alice, withErin) => {
      const mark = alice.events.length;
      const fromFrank = await callStateAfter(alice, mark, (c) => c.callId !== withErin.callId && c.state === 'connected', 15000);
      assert.match(fromFrank.remoteUri, /^sip:frank@127\.0\.0\.1/);
      assert.equal(fromFrank.direction, 'incoming');
      assert.equal(fromFrank.transferredFrom, withErin.callId);
      const replaced = await callStateAfter(alice, mark, (c) => c.callId === withErin.callId && c.state === 'ended', 10000);
      assert.equal(replaced.reason, `Replaced by the transferred call (${fromFrank.callId})`);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId: fromFrank.callId });
      assert.ok(stats.packetsReceived > 30, `frank's audio reaches us: ${JSON.stringify(stats)}`);
    });
  });

  test('attended transfer, we are transferred: our call to frank carries Replaces and takes over erin\'s call with frank', async () => {
    await attendedTransfer('alice', async (alice, withErin) => {
      const mark = alice.events.length;
      const toFrank = await callStateAfter(alice, mark, (c) => c.callId !== withErin.callId && c.state === 'connected', 15000);
      assert.equal(toFrank.direction, 'outgoing');
      assert.match(toFrank.remoteUri, /^sip:frank@127\.0\.0\.1/);
      assert.equal(toFrank.transferredFrom, withErin.callId);
      await callStateAfter(alice, mark, (c) => c.callId === withErin.callId && c.state === 'ended', 10000);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId: toFrank.callId });
      assert.ok(stats.packetsReceived > 30, `frank's audio reaches us: ${JSON.stringify(stats)}`);
    });
  });

  test('we make an attended transfer: erin (held) takes over our call with frank, and both our calls end', async () => {
    const tone = toneWav(join(bench.dir, 'consult.wav'), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const alice = startHeadless(['--account', bench.pbx.aor('alice'), '--password', bench.pbx.password('alice'), '--proxy', bench.pbx.proxyUri('udp'), '--codecs', 'PCMU', '--audio-in', tone]);
    let erin: TestLinphone | undefined;
    let frank: TestLinphone | undefined;
    try {
      await alice.waitForAccount('registered', 15000);
      erin = await startLinphone({ pbx: bench.pbx, user: 'erin', playWav: tone, autoAnswer: true, codecs: ['PCMU'] });
      frank = await startLinphone({ pbx: bench.pbx, user: 'frank', playWav: tone, autoAnswer: true, codecs: ['PCMU'] });
      const dial = async (to: string): Promise<string> => {
        const { callId } = await alice.client.call('call.dial', { target: to });
        await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 15000);
        return callId;
      };
      const withErin = await dial(erin.sipUri);
      await alice.client.call('call.hold', { callId: withErin }); // as a user does while asking frank
      const withFrank = await dial(frank.sipUri);
      const frankPrinted = frank.mark();
      await alice.client.call('call.transferToCall', { callId: withErin, toCallId: withFrank });
      const calls = (await alice.client.call('call.list', {})).calls;
      const [a, b] = [calls.find((c) => c.callId === withErin), calls.find((c) => c.callId === withFrank)];
      assert.equal(a?.state, 'ended');
      assert.equal(a?.reason, `Transferred to ${frank.sipUri}`);
      assert.ok(b?.state === 'ended' || b?.state === 'ending', `our call with frank ends too: ${JSON.stringify(b)}`);
      // frank now talks to erin: its call from erin replaced ours.
      await frank.waitForOutput(/Call \d+ with sip:erin@127\.0\.0\.1\S* connected/, 10000, { since: frankPrinted });
    } finally {
      await alice.stop();
      await erin?.stop();
      await frank?.stop();
    }
  });
});
