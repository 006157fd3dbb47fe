/**
 * Interoperability with a second real softphone: Linphone 5.1 (linphonec), both registered to the
 * test PBX (Kamailio), calls through it. baresip is the reference peer of the media tests; Linphone
 * is what many office users run, and it speaks differently: its offer carries opus, speex, G.729
 * with an fmtp and no rtpmap, one telephone-event per clock rate, rtcp-xr and rtcp-fb; its Contact
 * is a GRUU; its 180 has no Contact; its SRTP offers its own suites; its hold is a=sendonly; its
 * DTMF is RFC 4733. Each test checks what a user hears (tones both ways: frequency, level, quality
 * score) or sees. Transfers with Linphone: transfer-linphone.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startLinphone, type TestLinphone } from '../harness/linphone';
import { toneWav } from '../harness/audio-analysis';
import { startHeadless } from '../harness/headless-switchboard';
import type { EventPayload } from '../../src-main/common/contract/contract';
import { AMPLITUDE, callStateAfter, FAR_HZ, hangUp, hangUpAndHearBoth, LINPHONE_G722_LEVEL_DB, talk, useLinphoneBench, withCall } from './linphone-calls';

const bench = useLinphoneBench('sb-linphone-');

describe('interop with Linphone', () => {
  test('Linphone calls us with its own offer (opus, speex, G.729, three telephone-events): we answer opus, tones both ways', async () => {
    await withCall(bench, 'opus-in', { linphoneCalls: true, rate: 48000 }, async (p) => {
      await talk();
      const stats = await p.alice.client.call('call.stats', { callId: p.call.callId });
      assert.equal(stats.codec, 'opus');
      assert.ok(stats.packetsReceived > 100 && stats.packetsSent > 100, `RTP both ways: ${JSON.stringify(stats)}`);
      assert.equal(stats.packetsLost, 0);
      assert.ok(stats.rtcpReceived >= 1, `Linphone's RTCP understood: ${JSON.stringify(stats)}`);
      await hangUpAndHearBoth(p, 25);
    });
  });

  test('Linphone with video on offers audio and video: we take the audio and decline the video (port 0), tones both ways', async () => {
    await withCall(bench, 'video-in', { linphoneCalls: true, rate: 8000, ourArgs: ['--codecs', 'PCMU'], linphone: { video: true } }, async (p) => {
      assert.match(p.erin.logs(), /^m=video [1-9]\d* /m, 'Linphone offered video');
      assert.match(p.erin.logs(), /^m=video 0 /m, 'our answer declines the video stream');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  for (const codec of ['PCMU', 'PCMA', 'G722'] as const) {
    const rate = codec === 'G722' ? 16000 : 8000;
    test(`we call Linphone with ${codec}: tones both ways at ${rate} Hz`, async () => {
      await withCall(bench, `${codec}-out`, { linphoneCalls: false, rate, ourArgs: ['--codecs', codec], linphone: { codecs: [codec] } }, async (p) => {
        await talk();
        const stats = await p.alice.client.call('call.stats', { callId: p.call.callId });
        assert.equal(stats.codec, codec);
        assert.equal(stats.sampleRate, rate);
        assert.ok(stats.packetsReceived > 100 && stats.packetsSent > 100, `RTP both ways: ${JSON.stringify(stats)}`);
        assert.equal(stats.packetsLost, 0);
        const g722 = codec === 'G722';
        await hangUpAndHearBoth(p, g722 ? 18 : 30, g722 ? LINPHONE_G722_LEVEL_DB : 0);
      });
    });
  }

  test('we call Linphone and it rings (its 180 has no Contact): the call shows ringing until Linphone answers', async () => {
    const far = toneWav(join(bench.dir, 'far-ring.wav'), { frequencyHz: FAR_HZ, seconds: 30, sampleRate: 8000, amplitude: AMPLITUDE });
    const alice = startHeadless(['--account', bench.pbx.aor('alice'), '--password', bench.pbx.password('alice'), '--proxy', bench.pbx.proxyUri('udp'), '--codecs', 'PCMU']);
    let erin: TestLinphone | undefined;
    try {
      await alice.waitForAccount('registered', 15000);
      erin = await startLinphone({ pbx: bench.pbx, user: 'erin', playWav: far });
      const printed = erin.mark();
      const { callId } = await alice.client.call('call.dial', { target: erin.sipUri });
      await erin.waitForOutput(/Receiving new incoming call from \S+, assigned id (\d+)/, 10000, { since: printed });
      const ringing = await alice.waitForCall((c) => c.callId === callId && c.state !== 'dialing', 5000);
      assert.equal(ringing.state, 'ringing', `the caller sees Linphone ringing: ${JSON.stringify(ringing)}`);
      erin.command('answer');
      await alice.waitForCall((c) => c.callId === callId && c.state === 'connected', 10000);
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await alice.client.call('call.stats', { callId });
      assert.ok(stats.packetsReceived > 30, `Linphone's audio after its answer: ${JSON.stringify(stats)}`);
      await hangUp({ alice, erin, call: ringing, heard: '' });
    } finally {
      await alice.stop();
      await erin?.stop();
    }
  });

  test('SRTP: Linphone offers RTP/SAVP with its suites; our optional policy answers it, encrypted both ways', async () => {
    await withCall(bench, 'srtp-in', { linphoneCalls: true, rate: 8000, ourArgs: ['--srtp', 'optional', '--codecs', 'PCMU'], linphone: { mediaEncryption: 'srtp-mandatory' } }, async (p) => {
      assert.ok(p.call.media?.srtp, `encrypted: ${JSON.stringify(p.call.media)}`);
      assert.match(p.erin.logs(), /Negotiated media encryption is LinphoneMediaEncryptionSRTP/, 'Linphone encrypts too');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  test('SRTP: our mandatory policy calls Linphone (optional SRTP): RTP/SAVP answered, encrypted both ways', async () => {
    await withCall(bench, 'srtp-out', { linphoneCalls: false, rate: 8000, ourArgs: ['--srtp', 'mandatory', '--codecs', 'PCMU'], linphone: { mediaEncryption: 'srtp' } }, async (p) => {
      assert.ok(p.call.media?.srtp, `encrypted: ${JSON.stringify(p.call.media)}`);
      assert.match(p.erin.logs(), /Negotiated media encryption is LinphoneMediaEncryptionSRTP/, 'Linphone encrypts too');
      await talk();
      await hangUpAndHearBoth(p, 30);
    });
  });

  test('hold both ways: Linphone pauses and resumes us, we hold and resume Linphone', async () => {
    await withCall(bench, 'hold', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async (p) => {
      const { alice, erin, call } = p;
      let mark = alice.events.length;
      let printed = erin.mark();
      erin.command('pause');
      await erin.waitForOutput(/Call \d+ with \S+ is now paused/, 10000, { since: printed });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'remote');
      mark = alice.events.length;
      erin.command('resume');
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'none');
      const before = (await alice.client.call('call.stats', { callId: call.callId })).packetsReceived;
      await new Promise((r) => setTimeout(r, 1000));
      const after = (await alice.client.call('call.stats', { callId: call.callId })).packetsReceived;
      assert.ok(after - before > 30, `Linphone's audio flows again after its resume: ${after - before} packets in 1 s`);
      mark = alice.events.length;
      printed = erin.mark();
      await alice.client.call('call.hold', { callId: call.callId });
      await erin.waitForOutput(/Call \d+ has been paused by/, 10000, { since: printed });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'local');
      mark = alice.events.length;
      printed = erin.mark();
      await alice.client.call('call.resume', { callId: call.callId });
      await callStateAfter(alice, mark, (c) => c.callId === call.callId && c.hold === 'none');
      await erin.waitForOutput(/Media streams established with \S+ for call \d+/, 10000, { since: printed });
      await hangUp(p);
    });
  });

  test('DTMF both ways (RFC 4733): Linphone hears our digits, we report Linphone\'s', async () => {
    await withCall(bench, 'dtmf', { linphoneCalls: false, rate: 8000, ourArgs: ['--codecs', 'PCMU'] }, async (p) => {
      const { alice, erin, call } = p;
      const received: EventPayload<'call.dtmf'>[] = [];
      alice.client.on('call.dtmf', (e) => received.push(e));
      await alice.client.call('call.dtmf', { callId: call.callId, digits: '19#*' });
      for (const digit of ['1', '9', '#', '*']) await erin.waitForOutput(new RegExp(`Receiving tone ${digit.replace(/[#*]/, '\\$&')} from`), 5000, { includePast: true });
      erin.command('4');
      erin.command('2');
      const deadline = Date.now() + 5000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(received.map((e) => [e.digit, e.method]), [['4', 'rfc4733'], ['2', 'rfc4733']]);
      await hangUp(p);
    });
  });
});
