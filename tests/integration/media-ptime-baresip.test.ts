/**
 * A far end sending 30 or 40 ms packets (baresip with ptime=30/40; common on PBXs and Cisco gear)
 * while our device clock pulls 20 ms: the jitter buffer keeps every pull served on a clean link
 * without concealing, settles instead of shortening one frame and lengthening the next forever
 * (audible warble), and the headless clock aligns its pulls to the arrivals, so the added delay is
 * the target slack plus what the frame sizes force (10 ms with ptime 30: a 20 ms pull straddles
 * two frames every other time), not up to a pull period more.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';

let dir: string;
before(() => {
  dir = makeTempDir('media-ptime-');
});
after(() => removeTempDir(dir));

/** Long enough for the 50-packet jitter warm-up at 40 ms and the trimming of the start-up delay after it. */
const TALK_MS = 7000;

describe('far-end packet times other than 20 ms, with baresip', () => {
  for (const ptime of [30, 40]) {
    test(`ptime ${ptime}: no concealment, no time-scaling ping-pong, pulls aligned to the arrivals`, async () => {
      const far = toneWav(join(dir, `far-${ptime}.wav`), { frequencyHz: 1000, seconds: 30, sampleRate: 8000, amplitude: 0.3 });
      const ours = toneWav(join(dir, `ours-${ptime}.wav`), { frequencyHz: 440, seconds: 10, sampleRate: 8000, amplitude: 0.3 });
      const heard = join(dir, `heard-${ptime}.wav`);
      let bob: TestBaresip | undefined;
      let me: HeadlessSwitchboard | undefined;
      try {
        bob = await startBaresip({ localOnly: true, user: 'bob', autoAnswer: true, toneWav: far, codecs: ['PCMU'], ptime });
        me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--codecs', 'PCMU', '--ptime', String(ptime), '--audio-in', ours, '--audio-out', heard]);
        await me.waitForAccount('ready', 10000);
        const { callId } = await me.client.call('call.dial', { target: bob.sipUri });
        await me.waitForCall((s) => s.callId === callId && s.state === 'connected', 10000);
        await new Promise((r) => setTimeout(r, TALK_MS));
        // Then 4 s in one-second slices.
        const snapshots = [await me.client.call('call.stats', { callId })];
        for (let i = 0; i < 4; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          snapshots.push(await me.client.call('call.stats', { callId }));
        }
        const first = snapshots[0]!;
        const stats = snapshots.at(-1)!;
        const jb = stats.jitterBuffer!;
        const packetsIn4s = stats.packetsReceived - first.packetsReceived;
        // The far end really sends ptime-sized packets: 4 s of them.
        assert.ok(Math.abs(packetsIn4s - 4000 / ptime) <= 4, `${packetsIn4s} packets in 4 s from a far end at ptime ${ptime}`);
        assert.equal(jb.state, 'playing');
        assert.equal(stats.packetsLost, 0, 'nothing lost on loopback');
        assert.ok(jb.concealed <= 2, `${jb.concealed} frames concealed on a clean link`);
        // Settled: no time-scaling ping-pong. The warble this guards against shortened one frame and
        // lengthened the next all the time (~7 % of the audio, ~560 samples every second); a second
        // in which this machine was busy (a late packet: the buffer lengthens, then trims again) is
        // adaptation, not warble. So at least 3 of the 4 seconds: one pitch period either way at most.
        const scaled = (s: (typeof snapshots)[number]) => s.jitterBuffer!.expandedSamples + s.jitterBuffer!.acceleratedSamples;
        const perSecond = snapshots.slice(1).map((s, i) => scaled(s) - scaled(snapshots[i]!));
        assert.ok(perSecond.filter((n) => n <= 20).length >= 3, `samples inserted or removed by time-scaling in each of 4 s of a steady clean stream: ${perSecond.join(', ')}`);
        const straddleMs = ptime === 30 ? 10 : 0;
        assert.ok(jb.playoutDelayMs !== undefined, 'playout delay measured');
        assert.ok(
          jb.playoutDelayMs - jb.targetDelayMs - straddleMs < 8,
          `playout delay ${jb.playoutDelayMs.toFixed(1)} ms, target slack ${jb.targetDelayMs.toFixed(1)} ms, ${straddleMs} ms forced by the frame sizes`,
        );
        await me.client.call('call.hangup', { callId });
        await me.waitForCall((s) => s.callId === callId && s.state === 'ended', 10000);
        await me.stop();
        me = undefined;
        const wav = readWav(heard);
        const tone = detectTone(wav.samples, wav.sampleRate, 1000, { minFraction: 0.8 });
        assert.ok(tone.present, `we hear baresip's 1 kHz throughout: ${(tone.fraction * 100).toFixed(0)} % of windows, SNR ${tone.snrDb.toFixed(1)} dB`);
      } finally {
        await me?.stop();
        await bob?.stop();
      }
    });
  }
});
