/**
 * Calls between the headless Switchboard and baresip whose RTP (both directions) goes through the
 * impairing relay (loss, delay + jitter, reordering; seeded), inserted by an SDP-rewriting SIP
 * relay so neither phone is configured for it (see media-impairment-sdp-relay.ts).
 *
 * What a user would notice, asserted:
 * - the audio continues: the far end's tone is present in most windows of what we recorded, and
 *   baresip still hears ours;
 * - call.stats reports the impairment: packets lost / concealed in line with what the relay
 *   actually dropped, jitter measured, MOS lower than a clean call's;
 * - over a 60 s call with jitter and reordering, the jitter-buffer delay stays bounded (no drift
 *   or creeping latency) and the recording lasts as long as the call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import type { ImpairmentOptions } from '../harness/network';
import type { CallStats } from '../../src-main/common/contract/contract';
import { startSdpRewritingRelay, type SdpRewritingRelay } from './media-impairment-sdp-relay';
import { stereoToneWav } from './media-codecs-quality';

const OUR_HZ = 440;
const FAR_HZ = 1000;

let dir: string;

before(() => {
  dir = makeTempDir('sb-impair-');
});

after(() => {
  if (dir) removeTempDir(dir);
});

interface ImpairedCall {
  me: HeadlessSwitchboard;
  bob: TestBaresip;
  relay: SdpRewritingRelay;
  callId: string;
  out: string;
  stop(): Promise<void>;
}

async function impairedCall(name: string, codec: 'PCMU' | 'opus', impairment: ImpairmentOptions): Promise<ImpairedCall> {
  const rate = codec === 'opus' ? 48000 : 8000;
  const ours = toneWav(join(dir, `${name}-ours.wav`), { frequencyHz: OUR_HZ, seconds: 90, sampleRate: 8000, amplitude: 0.4 });
  const farOptions = { frequencyHz: FAR_HZ, seconds: 90, sampleRate: rate, amplitude: 0.4 };
  const far = codec === 'opus' ? stereoToneWav(join(dir, `${name}-far.wav`), farOptions) : toneWav(join(dir, `${name}-far.wav`), farOptions);
  const out = join(dir, `${name}-heard.wav`);
  // Opus: baresip sends in-band FEC, as desk phones tuned for lossy links do; we decode it.
  const bob = await startBaresip({ localOnly: true, user: 'bob', autoAnswer: true, toneWav: far, codecs: [codec], opusFec: codec === 'opus' });
  const relay = await startSdpRewritingRelay({ sipTarget: { host: '127.0.0.1', port: bob.sipPort }, impairment });
  const me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--audio-in', ours, '--audio-out', out]);
  const stop = async () => {
    await me.stop();
    await bob.stop();
    await relay.stop();
  };
  try {
    await me.waitForAccount('ready', 10000);
    const { callId } = await me.client.call('call.dial', { target: `sip:bob@127.0.0.1:${relay.port}` });
    await me.waitForCall((s) => s.callId === callId && s.state === 'connected', 10000);
    assert.ok(relay.rtp(), 'the SDP offer went through the relay');
    return { me, bob, relay, callId, out, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function hangUpAndCollect(call: ImpairedCall): Promise<{ ours: ReturnType<typeof readWav>; theirs: ReturnType<typeof readWav> }> {
  await call.me.client.call('call.hangup', { callId: call.callId });
  await call.me.waitForCall((s) => s.callId === call.callId && s.state === 'ended', 10000);
  await call.bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
  await call.me.stop(); // finalizes our WAV
  const rec = await call.bob.recordings();
  assert.ok(rec.received.length > 0, 'baresip recorded the call');
  return { ours: readWav(call.out), theirs: readWav(rec.received[rec.received.length - 1]!) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describeStats(s: CallStats): string {
  const jb = s.jitterBuffer;
  return `lost ${s.packetsLost} (${s.lossPercent.toFixed(1)} %), jitter ${s.jitterMs.toFixed(1)} ms, rtt ${s.roundTripTimeMs?.toFixed(1)} ms, JB delay ${jb?.currentDelayMs.toFixed(0)} at arrival, ${jb?.playoutDelayMs?.toFixed(0)} at pull, target ${jb?.targetDelayMs.toFixed(0)} ms, JB lost ${jb?.lost} late ${jb?.late} concealed ${jb?.concealed} FEC ${jb?.fecRecovered} expand ${((jb?.expandRate ?? 0) * 100).toFixed(1)} % reordered ${jb?.reordered}, MOS ${s.quality.mos.toFixed(2)}, remote ${JSON.stringify(s.remote)}`;
}

describe('media through an impairing relay (baresip far end)', () => {
  for (const { lossPercent, codec, seed } of [
    { lossPercent: 5, codec: 'PCMU' as const, seed: 11 },
    { lossPercent: 15, codec: 'opus' as const, seed: 23 },
  ]) {
    test(`${lossPercent} % loss both ways (${codec}): audio continues, call.stats counts the loss and concealment`, async () => {
      const call = await impairedCall(`loss${lossPercent}`, codec, { lossPercent, seed });
      try {
        await sleep(8000);
        const stats = await call.me.client.call('call.stats', { callId: call.callId });
        const relayStats = call.relay.rtp()!.stats();
        // toTarget = baresip -> us (the relay's target is our RTP port).
        const dropped = relayStats.toTarget.dropped;
        const sent = relayStats.toTarget.forwarded + dropped;
        const what = `${describeStats(stats)}; relay dropped ${dropped} of ${sent} toward us`;
        if (process.env.SWITCHBOARD_TEST_VERBOSE) console.log(what);
        assert.equal(stats.codec.toLowerCase(), codec.toLowerCase());
        const actualPercent = (dropped / sent) * 100;
        assert.ok(Math.abs(actualPercent - lossPercent) < lossPercent * 0.5 + 1, `the relay dropped about ${lossPercent} %: ${what}`);
        // Packets still in flight when the stats were read make a small difference.
        assert.ok(Math.abs(stats.packetsLost - dropped) <= 3, `packetsLost matches what the relay dropped: ${what}`);
        const jb = stats.jitterBuffer!;
        assert.ok(jb.lost >= dropped * 0.7 && jb.lost <= dropped + 5, `jitter buffer lost frames ≈ dropped packets: ${what}`);
        assert.ok(jb.concealed + jb.fecRecovered >= jb.lost, `every lost frame was rebuilt or concealed: ${what}`);
        if (codec === 'opus') {
          // Isolated losses (most of them at 15 %) come back from the next packet's FEC.
          assert.ok(jb.fecRecovered >= jb.lost * 0.5, `lost Opus frames rebuilt from in-band FEC: ${what}`);
        } else {
          assert.equal(jb.fecRecovered, 0, `G.711 carries no redundancy: ${what}`);
        }
        // With FEC most losses are rebuilt, not concealed: only the upper bound holds for Opus.
        const expandFloor = codec === 'opus' ? 0 : (lossPercent / 100) * 0.5;
        assert.ok(jb.expandRate > expandFloor && jb.expandRate < (lossPercent / 100) * 2 + 0.05, `expand rate reflects ${lossPercent} % loss: ${what}`);
        assert.ok(stats.quality.mos < 4.2, `MOS is below a clean call's: ${what}`);
        if (stats.remote) assert.ok(stats.remote.cumulativeLost > 0, `baresip's RTCP reports our loss: ${what}`);
        const { ours, theirs } = await hangUpAndCollect(call);
        const heard = detectTone(ours.samples, ours.sampleRate, FAR_HZ, { minFraction: 0.8 });
        assert.ok(heard.present, `we hear ${FAR_HZ} Hz in ${(heard.fraction * 100).toFixed(0)} % of windows (need 80 %)`);
        // baresip 1.0's own receive path leaves lost frames silent, so 100 ms windows with a gap fail
        // its side's tone test more often than ours: only ask that our audio reaches it throughout.
        const farHeard = detectTone(theirs.samples, theirs.sampleRate, OUR_HZ, { minFraction: lossPercent > 10 ? 0.25 : 0.6 });
        assert.ok(farHeard.present, `baresip hears ${OUR_HZ} Hz in ${(farHeard.fraction * 100).toFixed(0)} % of windows`);
      } finally {
        await call.stop();
      }
    });
  }

  test('60 s with 30 ± 20 ms jitter, 5 % reordering and 2 % loss: audio continues, delay stays bounded, no drift', async () => {
    const call = await impairedCall('drift', 'PCMU', { delayMs: 10, jitterMs: 40, reorderPercent: 5, lossPercent: 2, seed: 5 });
    const started = Date.now();
    const samples: CallStats[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        await sleep(10000);
        samples.push(await call.me.client.call('call.stats', { callId: call.callId }));
      }
      const callSeconds = (Date.now() - started) / 1000;
      const what = samples.map((s, i) => `t=${(i + 1) * 10}s: ${describeStats(s)}`).join('\n');
      if (process.env.SWITCHBOARD_TEST_VERBOSE) console.log(what);
      const last = samples[samples.length - 1]!;
      assert.ok(last.jitterMs > 3, `interarrival jitter is measured:\n${what}`);
      assert.ok(last.jitterBuffer!.reordered > 0, `reordering is seen:\n${what}`);
      for (const s of samples) {
        // Never beyond the buffer's 400 ms ceiling, even when a scheduling stall on a loaded machine
        // briefly raises the target (seen in CI: one sample at ~370 ms, back to ~70 ms 10 s later).
        assert.ok(s.jitterBuffer!.playoutDelayMs! < 450 && s.jitterBuffer!.targetDelayMs <= 400, `delay bounded:\n${what}`);
      }
      const delays = samples.map((s) => s.jitterBuffer!.playoutDelayMs!).sort((x, y) => x - y);
      assert.ok(delays[Math.floor(delays.length / 2)]! < 150, `typical delay fits ~50 ms of jitter, not more:\n${what}`);
      assert.ok(last.jitterBuffer!.targetDelayMs >= 20, `target delay covers the jitter:\n${what}`);
      // No creeping latency: the delay at the end is not much above the delay after 20 s.
      const at20 = samples[1]!.jitterBuffer!.playoutDelayMs!;
      assert.ok(last.jitterBuffer!.playoutDelayMs! - at20 < 60, `no drift of the playout delay:\n${what}`);
      assert.ok(last.jitterBuffer!.expandRate < 0.1, `concealment + stretching stays under 10 %:\n${what}`);
      assert.ok(last.roundTripTimeMs !== undefined && last.roundTripTimeMs < 500, `RTT measured from baresip's RTCP:\n${what}`);
      const { ours } = await hangUpAndCollect(call);
      const recordedSeconds = ours.samples.length / ours.sampleRate;
      assert.ok(Math.abs(recordedSeconds - callSeconds) < 2, `recording lasts as long as the call: ${recordedSeconds.toFixed(2)} s vs ${callSeconds.toFixed(2)} s`);
      const heard = detectTone(ours.samples, ours.sampleRate, FAR_HZ, { minFraction: 0.9 });
      assert.ok(heard.present, `we hear ${FAR_HZ} Hz in ${(heard.fraction * 100).toFixed(0)} % of windows (need 90 %)`);
    } finally {
      await call.stop();
    }
  });
});
