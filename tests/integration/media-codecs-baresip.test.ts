/**
 * Every codec Switchboard offers, in a real call with baresip (direct serverless calls on
 * 127.0.0.1; the SIP path through Kamailio is covered by calls-baresip.test.ts): a known tone each
 * way, checked on BOTH recordings for frequency, level and a quality score (per-window SINAD of a
 * sine fit, see media-codecs-quality.ts). Wideband codecs carry tones above 4 kHz (5 and 6 kHz),
 * which a narrowband path cannot carry, and our recording is never below the codec's rate.
 * Also: the codec preference (`--codecs`) decides the answer to an offer with several codecs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { freeUdpTcpPort } from '../harness/ports';
import { describeQuality, stereoToneWav, toneQuality, withDropouts } from './media-codecs-quality';

const TALK_MS = 3000;
const AMPLITUDE = 0.4;
/** RMS level of a sine of amplitude 0.4, dBFS (RMS of a full-scale constant = 0 dBFS). */
const SENT_LEVEL_DBFS = 20 * Math.log10(AMPLITUDE / Math.SQRT2);

interface CodecCase {
  codec: 'PCMU' | 'PCMA' | 'G722' | 'opus';
  sampleRate: number;
  ourHz: number;
  farHz: number;
  /** Minimum median / 10th-percentile SINAD, dB (measured on loopback with margin). */
  minMedianSinadDb: number;
  minP10SinadDb: number;
  /** Minimum SINAD over the whole call (one 20 ms dropout in 25 frames costs G.711 ~25 dB). */
  minOverallSinadDb: number;
}

const cases: CodecCase[] = [
  // Measured on loopback: G.711 ~38-39 dB, G.722 ~18-27 dB at 5-6 kHz (jitter-buffer time-scaling
  // at call start costs it most), Opus ~36-49 dB. Thresholds leave margin for a loaded machine but
  // fail on real damage (a 4 % frame loss on our receive path gives G.711 p10 2 dB, overall 15 dB).
  { codec: 'PCMU', sampleRate: 8000, ourHz: 440, farHz: 1000, minMedianSinadDb: 30, minP10SinadDb: 25, minOverallSinadDb: 28 },
  { codec: 'PCMA', sampleRate: 8000, ourHz: 440, farHz: 1000, minMedianSinadDb: 30, minP10SinadDb: 25, minOverallSinadDb: 28 },
  { codec: 'G722', sampleRate: 16000, ourHz: 6000, farHz: 5000, minMedianSinadDb: 18, minP10SinadDb: 10, minOverallSinadDb: 15 },
  { codec: 'opus', sampleRate: 48000, ourHz: 6000, farHz: 5000, minMedianSinadDb: 25, minP10SinadDb: 18, minOverallSinadDb: 20 },
];

let dir: string;

before(() => {
  dir = makeTempDir('sb-codecs-');
});

after(() => {
  if (dir) removeTempDir(dir);
});

function checkTone(file: string, hz: number, expectRate: number | undefined, c: CodecCase, who: string): void {
  const wav = readWav(file);
  // Our WAV device opens at the codec's rate, or (when ringback opened it before the answer) at
  // the highest rate we offered: never below the codec's rate, so wideband is not band-limited.
  if (expectRate !== undefined) assert.ok(wav.sampleRate >= expectRate, `${who}: recorded at ${wav.sampleRate} Hz, the codec runs at ${expectRate} Hz`);
  const detection = detectTone(wav.samples, wav.sampleRate, hz, { minFraction: 0.6 });
  assert.ok(detection.present, `${who} hears ${hz} Hz: in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`);
  const seconds = wav.samples.length / wav.sampleRate;
  // Skip call set-up and hang-up; judge the middle of the call.
  const quality = toneQuality(wav.samples, wav.sampleRate, hz, 0.8, Math.max(1.2, seconds - 0.5));
  const what = `${who} (${c.codec}, ${hz} Hz): ${describeQuality(quality)}`;
  if (process.env.SWITCHBOARD_TEST_VERBOSE) console.log(what);
  assert.ok(quality.activeFraction > 0.9, `${what}: audio throughout`);
  assert.ok(quality.medianSinadDb >= c.minMedianSinadDb, `${what}: median SINAD below ${c.minMedianSinadDb} dB`);
  assert.ok(quality.p10SinadDb >= c.minP10SinadDb, `${what}: p10 SINAD below ${c.minP10SinadDb} dB`);
  assert.ok(quality.overallSinadDb >= c.minOverallSinadDb, `${what}: overall SINAD below ${c.minOverallSinadDb} dB`);
  assert.ok(Math.abs(quality.toneLevelDbfs - SENT_LEVEL_DBFS) < 3, `${what}: level differs from the sent ${SENT_LEVEL_DBFS.toFixed(1)} dBFS`);
  // The score must be able to fail: the same recording with one 20 ms frame in 10 dropped does.
  const broken = toneQuality(withDropouts(wav.samples, wav.sampleRate, 10), wav.sampleRate, hz, 0.8, Math.max(1.2, seconds - 0.5));
  assert.ok(broken.overallSinadDb < c.minOverallSinadDb, `${who}: a path losing 10 % of its frames must fail the score (${describeQuality(broken)})`);
}

describe('codecs in calls with baresip', () => {
  for (const c of cases) {
    test(`${c.codec}: tones both ways at ${c.sampleRate} Hz, frequency, level and quality checked on both sides`, async () => {
      const ours = toneWav(join(dir, `ours-${c.codec}.wav`), { frequencyHz: c.ourHz, seconds: 20, sampleRate: c.sampleRate, amplitude: AMPLITUDE });
      const farOptions = { frequencyHz: c.farHz, seconds: 20, sampleRate: c.sampleRate, amplitude: AMPLITUDE };
      const far = c.codec === 'opus' ? stereoToneWav(join(dir, 'far-opus.wav'), farOptions) : toneWav(join(dir, `far-${c.codec}.wav`), farOptions);
      const out = join(dir, `heard-${c.codec}.wav`);
      let bob: TestBaresip | undefined;
      let me: HeadlessSwitchboard | undefined;
      try {
        bob = await startBaresip({ localOnly: true, user: 'bob', autoAnswer: true, toneWav: far, codecs: [c.codec] });
        // Default preference (opus, G722, PCMU, PCMA): baresip only has one, so that one is chosen.
        me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--audio-in', ours, '--audio-out', out]);
        await me.waitForAccount('ready', 10000);
        const { callId } = await me.client.call('call.dial', { target: bob.sipUri });
        await me.waitForCall((s) => s.callId === callId && s.state === 'connected', 10000);
        const recording = join(dir, `recorded-${c.codec}.wav`);
        await me.client.call('call.record', { callId, path: recording, on: true });
        await new Promise((r) => setTimeout(r, TALK_MS));
        await me.client.call('call.record', { callId, path: recording, on: false });
        const stats = await me.client.call('call.stats', { callId });
        assert.equal(stats.codec.toLowerCase(), c.codec.toLowerCase());
        assert.equal(stats.sampleRate, c.sampleRate);
        assert.ok(stats.packetsReceived > 100 && stats.packetsSent > 100, `RTP both ways: ${JSON.stringify(stats)}`);
        assert.equal(stats.packetsLost, 0, 'nothing is lost on loopback');
        assert.ok(stats.jitterBuffer && stats.jitterBuffer.state === 'playing', `jitter buffer playing: ${JSON.stringify(stats.jitterBuffer)}`);
        // A valid estimate; its sensitivity to loss is asserted in media-impairment-baresip.test.ts
        // (on a loaded machine, scheduling stalls alone can push the jitter-buffer delay and so the
        // delay impairment up, so no absolute bar here).
        assert.ok(stats.quality.mos >= 1 && stats.quality.mos <= 4.5, `MOS estimate: ${JSON.stringify(stats)}`);
        assert.equal(stats.lossPercent, 0);
        const listed = (await me.client.call('call.list', {})).calls.find((s) => s.callId === callId);
        assert.equal(listed?.media?.mos !== undefined, true, 'the call summary carries the MOS');
        await me.client.call('call.hangup', { callId });
        await me.waitForCall((s) => s.callId === callId && s.state === 'ended', 10000);
        await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10000, { includePast: true });
        await me.stop();
        me = undefined;
        checkTone(out, c.farHz, c.sampleRate, c, 'Switchboard');
        // The recording keeps the call's band (wideband at most): left what we sent, right what we heard.
        const [sent, heard] = [readWav(recording, 0), readWav(recording, 1)];
        assert.equal(sent.sampleRate, Math.min(c.sampleRate, 16000), `${c.codec} recorded at the call's rate (16 kHz at most)`);
        for (const [channel, hz, what] of [[sent, c.ourHz, 'left (sent)'], [heard, c.farHz, 'right (heard)']] as const) {
          const detection = detectTone(channel.samples, channel.sampleRate, hz, { minFraction: 0.6 });
          assert.ok(detection.present, `recording ${what} has ${hz} Hz: in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`);
        }
        const rec = await bob.recordings();
        assert.ok(rec.received.length > 0, 'baresip recorded the call');
        checkTone(rec.received[rec.received.length - 1]!, c.ourHz, undefined, c, 'baresip');
      } finally {
        await me?.stop();
        await bob?.stop();
      }
    });
  }

  test('the codec preference decides the answer: --codecs PCMA,G722 answers PCMA to an offer PCMU, G722, PCMA', async () => {
    const far = toneWav(join(dir, 'far-pref.wav'), { frequencyHz: 1000, seconds: 20, sampleRate: 8000, amplitude: AMPLITUDE });
    const out = join(dir, 'heard-pref.wav');
    const port = await freeUdpTcpPort();
    let bob: TestBaresip | undefined;
    const me = startHeadless([
      '--account', 'sip:me@127.0.0.1', '--no-register', '--listen', `127.0.0.1:${port}`, '--accept-direct', '--auto-answer',
      '--codecs', 'PCMA,G722', '--audio-out', out,
    ]);
    try {
      await me.waitForAccount('ready', 10000);
      bob = await startBaresip({ localOnly: true, user: 'bob', toneWav: far, codecs: ['PCMU', 'G722', 'PCMA'] });
      await bob.dial(`sip:me@127.0.0.1:${port}`);
      const connected = await me.waitForCall((s) => s.direction === 'incoming' && s.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 1500));
      const stats = await me.client.call('call.stats', { callId: connected.callId });
      assert.equal(stats.codec, 'PCMA');
      assert.ok(stats.packetsReceived > 30, `audio arrives: ${stats.packetsReceived} packets`);
      await me.client.call('call.hangup', { callId: connected.callId });
      await me.waitForCall((s) => s.callId === connected.callId && s.state === 'ended', 10000);
    } finally {
      await me.stop();
      await bob?.stop();
    }
    const heard = readWav(out);
    assert.ok(detectTone(heard.samples, heard.sampleRate, 1000).present, 'we heard baresip over PCMA');
  });

  test('an unknown codec in --codecs is refused with a clear error', async () => {
    const me = startHeadless(['--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0', '--codecs', 'opus,G729']);
    try {
      const code = await new Promise<number | null>((resolve) => me.process.once('exit', resolve));
      assert.notEqual(code, 0);
      assert.match(me.stderr(), /Unknown codec "G729"/);
    } finally {
      await me.stop();
    }
  });
});
