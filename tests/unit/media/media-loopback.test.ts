// Two Switchboard media stacks on 127.0.0.1 doing SDP offer/answer through the sip.js
// SessionDescriptionHandler interface, then sending tone WAVs to each other over real RTP.
// The recordings are analysed: the tone must arrive at the right frequency and level.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Session } from 'sip.js';
import { WavFileSink } from '../../../src-main/core/media/audio/wav-file-sink';
import { WavFileSource } from '../../../src-main/core/media/audio/wav-file-source';
import { NullSink } from '../../../src-main/core/media/audio/null-sink';
import { SilenceSource } from '../../../src-main/core/media/audio/silence-source';
import {
  checkRemoteOffer,
  createSessionDescriptionHandlerFactory,
  mediaSummaryOf,
  SwitchboardSessionDescriptionHandler,
  type MediaEnvironment,
} from '../../../src-main/core/media/session-description-handler';
import { SdpNegotiationError } from '../../../src-main/core/media/sdp/offer-answer';
import { parseSdp } from '../../../src-main/core/media/sdp/sdp';
import { dbfs, detectTone, dominantFrequency, goertzelPower, readWav, toneWav } from '../../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../../harness/temp-dir';
import { brokenPcmuRegistry } from '../../harness/broken-codec';

const dir = makeTempDir('media-loopback');
after(() => removeTempDir(dir));

// sip.js hands the factory its Session; the media layer only passes it back to openAudio.
const fakeSession = (name: string) => ({ id: name }) as unknown as Session;

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs; // safety net only
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function handler(env: MediaEnvironment, name: string): SwitchboardSessionDescriptionHandler {
  const sdh = createSessionDescriptionHandlerFactory(env)(fakeSession(name));
  assert.ok(sdh instanceof SwitchboardSessionDescriptionHandler);
  return sdh;
}

describe('media loopback through the SessionDescriptionHandler', () => {
  test('a device-clocked sink (the app\'s sound card) stays one behind the call: it pulls playout, and a recording taps what it pulled', async () => {
    /** Pulls 20 ms at 48 kHz every 20 ms of its own clock; counts pushes, which must not happen. */
    class PullingDevice {
      readonly sampleRate = 48000;
      writes = 0;
      pulled = 0;
      private clock: NodeJS.Timeout | undefined;
      write(): void {
        this.writes++;
      }
      setPuller(pull: ((frame: Int16Array) => void) | undefined): void {
        clearInterval(this.clock);
        if (pull) this.clock = setInterval(() => (pull(new Int16Array(960)), this.pulled++), 20);
      }
      async close(): Promise<void> {
        clearInterval(this.clock);
      }
    }
    const toneA = toneWav(join(dir, 'dev-a-in.wav'), { frequencyHz: 1000, seconds: 3, sampleRate: 8000, amplitude: 0.3 });
    const toneB = toneWav(join(dir, 'dev-b-in.wav'), { frequencyHz: 440, seconds: 3, sampleRate: 8000, amplitude: 0.3 });
    const recording = join(dir, 'dev-a-recording.wav');
    const device = new PullingDevice();
    const a = handler({ localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], openAudio: () => ({ source: new WavFileSource(toneA, 8000), sink: device }) }, 'dev-a');
    const b = handler({ localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], openAudio: () => ({ source: new WavFileSource(toneB, 8000), sink: new NullSink(8000) }) }, 'dev-b');
    try {
      await b.setDescription((await a.getDescription()).body);
      await a.setDescription((await b.getDescription()).body);
      await Promise.all([a.mediaStarted, b.mediaStarted]);
      a.setRecording(recording);
      await until(() => device.pulled >= 75, '1.5 s of device pulls');
      a.setRecording(undefined);
      assert.equal(device.writes, 0, 'the call never pushed to a device that pulls');
    } finally {
      a.close();
      b.close();
    }
    await until(() => existsSync(recording) && readWav(recording).samples.length > 8000, 'the recording to be finalized');
    // Stereo (left sent, right received), read as a mix: both tones stand far above the rest.
    const heard = readWav(recording);
    const power = (hz: number) => goertzelPower(heard.samples, heard.sampleRate, hz);
    const floor = power(2500);
    assert.ok(power(440) > 100 * floor, `the recording holds what the device pulled (the far end's 440 Hz): ${power(440).toExponential(1)} vs ${floor.toExponential(1)} at 2.5 kHz`);
    assert.ok(power(1000) > 100 * floor, `and what we sent (1 kHz): ${power(1000).toExponential(1)} vs ${floor.toExponential(1)} at 2.5 kHz`);
  });

  test('A and B exchange 1 kHz tones for about a second; both recordings hold the tone at the right level', async () => {
    const toneA = toneWav(join(dir, 'a-in.wav'), { frequencyHz: 1000, seconds: 2, sampleRate: 16000, amplitude: 0.5 });
    const toneB = toneWav(join(dir, 'b-in.wav'), { frequencyHz: 1000, seconds: 2, sampleRate: 8000, amplitude: 0.25 });
    const recordA = join(dir, 'a-out.wav');
    const recordB = join(dir, 'b-out.wav');
    const opened: string[] = [];
    const a = handler(
      {
        localAddress: () => '127.0.0.1',
        openAudio: (session) => {
          opened.push(`A:${(session as unknown as { id: string }).id}`);
          return { source: new WavFileSource(toneA, 16000), sink: new WavFileSink(recordA, 8000) };
        },
      },
      'call-a',
    );
    const b = handler(
      {
        localAddress: () => '127.0.0.1',
        codecPreference: ['PCMA', 'PCMU'],
        openAudio: () => ({ source: new WavFileSource(toneB, 8000), sink: new WavFileSink(recordB, 16000) }),
      },
      'call-b',
    );
    try {
      // INVITE with offer (A) -> 200 OK with answer (B) -> ACK: the order sip.js drives it in.
      assert.equal(a.hasDescription('application/sdp'), true);
      assert.equal(a.hasDescription('Application/SDP; charset=utf-8'), true);
      assert.equal(a.hasDescription('text/plain'), false);
      const offer = await a.getDescription();
      assert.equal(offer.contentType, 'application/sdp');
      assert.equal(a.signalingState, 'have-local-offer');
      assert.equal(mediaSummaryOf(a), undefined, 'no media before the answer');
      await b.setDescription(offer.body);
      assert.equal(b.signalingState, 'have-remote-offer');
      const answer = await b.getDescription();
      await a.setDescription(answer.body);
      assert.equal(a.signalingState, 'stable');
      assert.equal(b.signalingState, 'stable');
      assert.deepEqual(opened, ['A:call-a']);

      // B prefers PCMA and A offered it: both send PCMA, with A's payload type numbers.
      const answerSdp = parseSdp(answer.body);
      assert.deepEqual(answerSdp.media[0]!.formats, ['8', '101', '13']);
      const offerSdp = parseSdp(offer.body);
      await Promise.all([a.mediaStarted, b.mediaStarted]);
      await Promise.all([a.mediaSession!.firstPacketReceived, b.mediaSession!.firstPacketReceived]);
      await until(
        () => mediaSummaryOf(a)!.packetsReceived >= 55 && mediaSummaryOf(b)!.packetsReceived >= 55,
        'about 1.1 s of RTP in both directions',
      );
      const summaryA = mediaSummaryOf(a)!;
      const summaryB = mediaSummaryOf(b)!;
      assert.equal(summaryA.codec, 'PCMA');
      assert.equal(summaryB.codec, 'PCMA');
      assert.equal(summaryA.localRtp, `127.0.0.1:${offerSdp.media[0]!.port}`);
      assert.equal(summaryB.localRtp, `127.0.0.1:${answerSdp.media[0]!.port}`);
      assert.equal(summaryA.remoteRtp, summaryB.localRtp);
      assert.equal(summaryB.remoteRtp, summaryA.localRtp);
      assert.ok(summaryA.packetsSent >= 55 && summaryB.packetsSent >= 55);

      // A's re-offer lists the codec in use first (PCMA, though A prefers PCMU), so the call keeps
      // it: its content changed, so its o= version goes up once; B's answer is unchanged.
      const reoffer = await a.getDescription();
      assert.equal(parseSdp(reoffer.body).media[0]!.formats[0], '8');
      assert.equal(BigInt(parseSdp(reoffer.body).origin.sessionVersion), BigInt(offerSdp.origin.sessionVersion) + 1n);
      await b.setDescription(reoffer.body);
      const reanswer = await b.getDescription();
      assert.equal(parseSdp(reanswer.body).origin.sessionVersion, answerSdp.origin.sessionVersion);
      await a.setDescription(reanswer.body);
      // A re-INVITE with an unchanged offer keeps media running and the o= version unchanged.
      const again = await a.getDescription();
      assert.equal(parseSdp(again.body).origin.sessionVersion, parseSdp(reoffer.body).origin.sessionVersion);
      await b.setDescription(again.body);
      await a.setDescription((await b.getDescription()).body);
      const before = mediaSummaryOf(b)!.packetsReceived;
      await until(() => mediaSummaryOf(b)!.packetsReceived >= before + 5, 'media after the re-INVITE');
      assert.deepEqual(opened, ['A:call-a'], 'audio is opened once per call');
    } finally {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    }
    assert.equal(a.signalingState, 'closed');
    await assert.rejects(a.getDescription(), /closed/);

    for (const [path, expectedAmplitude, rate] of [
      [recordB, 0.5, 16000],
      [recordA, 0.25, 8000],
    ] as const) {
      const wav = readWav(path);
      assert.equal(wav.sampleRate, rate);
      const seconds = wav.samples.length / rate;
      assert.ok(seconds >= 1, `${path}: ${seconds.toFixed(2)} s recorded`);
      // Skip the first 100 ms (first packets, resampler start) and the last one.
      const start = Math.round(0.1 * rate);
      const length = wav.samples.length - start - Math.round(0.1 * rate);
      const body = wav.samples.subarray(start, start + length);
      const tone = detectTone(body, rate, 1000, { minSnrDb: 20 });
      assert.ok(tone.fraction >= 0.9, `${path}: tone in ${(tone.fraction * 100).toFixed(0)}% of windows (SNR ${tone.snrDb.toFixed(1)} dB)`);
      const found = dominantFrequency(body, rate);
      assert.ok(Math.abs(found.hz - 1000) <= 3, `${path}: dominant frequency ${found.hz} Hz`);
      const level = dbfs(body);
      const expected = 20 * Math.log10(expectedAmplitude / Math.SQRT2);
      assert.ok(Math.abs(level - expected) < 1, `${path}: level ${level.toFixed(2)} dBFS, expected ${expected.toFixed(2)}`);
    }
  });

  test('INVITE without SDP: offer in our 200 OK, answer in the ACK', async () => {
    const env: MediaEnvironment = { localAddress: () => '127.0.0.1', openAudio: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }) };
    const uas = handler(env, 'uas');
    const uac = handler(env, 'uac');
    try {
      const offer = await uas.getDescription(); // sip.js: generateResponseOfferAnswer -> getOffer
      await uac.setDescription(offer.body);
      const answer = await uac.getDescription(); // sent in the ACK
      await uas.setDescription(answer.body);
      await Promise.all([uas.mediaSession!.firstPacketReceived, uac.mediaSession!.firstPacketReceived]);
      assert.equal(mediaSummaryOf(uas)!.codec, 'opus', 'the default preference puts opus first');
    } finally {
      uas.close();
      uac.close();
      await Promise.all([uas.closed, uac.closed]);
    }
  });

  test('an unusable offer rejects setDescription with 488 and a reason; rollback returns to stable', async () => {
    const env: MediaEnvironment = { localAddress: () => '127.0.0.1', openAudio: () => assert.fail('audio must not open') };
    const g729 = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 18', 'a=rtpmap:18 G729/8000', ''].join('\r\n');
    const sdh = handler(env, 'x');
    try {
      await assert.rejects(sdh.setDescription(g729), (e: unknown) => {
        assert.ok(e instanceof SdpNegotiationError);
        assert.equal(e.statusCode, 488);
        assert.equal(e.reason, 'No common audio codec (offered: G729)');
        return true;
      });
      assert.equal(sdh.signalingState, 'stable');
      await assert.rejects(sdh.setDescription('this is not SDP'), (e: unknown) => e instanceof SdpNegotiationError && /Malformed SDP/.test(e.message));
      assert.equal(checkRemoteOffer(g729, env)?.reason, 'No common audio codec (offered: G729)');
      assert.equal(checkRemoteOffer(g729.replace('18 G729', '0 PCMU').replace('RTP/AVP 18', 'RTP/AVP 0'), env), undefined);

      await sdh.getDescription();
      assert.equal(sdh.signalingState, 'have-local-offer');
      await sdh.rollbackDescription();
      assert.equal(sdh.signalingState, 'stable');
      assert.equal(sdh.sendDtmf('1'), false);
    } finally {
      sdh.close();
      await sdh.closed;
    }
  });

  test('the codec preference is the offer order; the answerer takes its first preference the offer has; audio opens at the codec rate', async () => {
    const rates: number[] = [];
    const env = (codecPreference: string[]): MediaEnvironment => ({
      localAddress: () => '127.0.0.1',
      codecPreference,
      openAudio: (_s, format) => (rates.push(format.sampleRate), { source: new SilenceSource(format.sampleRate), sink: new NullSink(format.sampleRate) }),
    });
    const uac = handler(env(['PCMA', 'opus', 'G722']), 'pref-uac');
    const uas = handler(env(['G722', 'PCMU', 'PCMA']), 'pref-uas');
    try {
      const offer = await uac.getDescription();
      assert.match(offer.body, /^m=audio \d+ RTP\/AVP 8 96 9 101 97 13\r?$/m, 'offer lists PCMA, opus, G722 in that order (then events and comfort noise)');
      assert.match(offer.body, /^a=rtpmap:96 opus\/48000\/2\r?$/m);
      assert.match(offer.body, /^a=fmtp:96 minptime=10;useinbandfec=1\r?$/m);
      assert.match(offer.body, /^a=rtpmap:9 G722\/8000\r?$/m);
      assert.match(offer.body, /^a=ptime:20\r?$/m);
      await uas.setDescription(offer.body);
      const answer = await uas.getDescription();
      assert.match(answer.body, /^m=audio \d+ RTP\/AVP 9 101 13\r?$/m, 'G.722 is the answerer\'s first preference the offer has (comfort noise with it: 8 kHz RTP clock)');
      await uac.setDescription(answer.body);
      assert.equal(mediaSummaryOf(uac)!.codec, 'G722');
      assert.deepEqual(rates, [16000, 16000], 'both sides open their audio at G.722\'s 16 kHz');
    } finally {
      uac.close();
      uas.close();
      await Promise.all([uac.closed, uas.closed]);
    }
  });

  test('a bad codec preference or local address fails with a clear error', async () => {
    assert.throws(
      () => createSessionDescriptionHandlerFactory({ localAddress: () => '127.0.0.1', openAudio: () => assert.fail(), codecPreference: ['G729'] }),
      /Unknown codec "G729"/,
    );
    const sdh = handler({ localAddress: () => '0.0.0.0', openAudio: () => assert.fail() }, 'y');
    await assert.rejects(sdh.getDescription(), /0\.0\.0\.0 is unspecified/);
    sdh.close();
    await sdh.closed;
  });
});

describe("a fault in one call's media work (an exception nothing else catches)", () => {
  /** A microphone captured on its own clock (as the app's sound card): sending runs in its capture callback. */
  class CapturedSilence extends SilenceSource {
    private timer: NodeJS.Timeout | undefined;
    constructor() {
      super(8000);
    }
    setCaptureListener(listener: ((readable: number) => void) | undefined): void {
      clearInterval(this.timer);
      if (listener) this.timer = setInterval(() => listener(160), 20);
    }
    override async close(): Promise<void> {
      clearInterval(this.timer);
    }
  }

  const cases = [
    { name: 'on the media timer (encoding)', source: () => new SilenceSource(8000), registry: () => brokenPcmuRegistry({ encoderFailsAfter: 25 }), fault: 'the encoder failed' },
    { name: "in the sound card's capture callback (encoding)", source: () => new CapturedSilence(), registry: () => brokenPcmuRegistry({ encoderFailsAfter: 25 }), fault: 'the encoder failed' },
    { name: "in the receive path (the far end's first packet)", source: () => new SilenceSource(8000), registry: () => brokenPcmuRegistry({ noDecoder: true }), fault: 'no decoder for you' },
  ];
  for (const c of cases) {
    test(`${c.name}: that call's audio stops and says why; the process and the other side go on`, async () => {
      let changes = 0;
      const a = handler({ localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], codecRegistry: c.registry(), openAudio: () => ({ source: c.source(), sink: new NullSink(8000) }) }, `fault-a-${c.name}`);
      const b = handler({ localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], openAudio: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }) }, `fault-b-${c.name}`);
      a.onChange = () => changes++;
      try {
        await b.setDescription((await a.getDescription()).body);
        await a.setDescription((await b.getDescription()).body);
        const [mediaA, mediaB] = await Promise.all([a.mediaStarted, b.mediaStarted]);
        await until(() => a.mediaFault !== undefined, "the fault to reach the call's handler");
        assert.equal(a.mediaFault, c.fault);
        assert.equal(mediaA.state, 'stopped', "the failed call's media stopped");
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(changes >= 2, 'the owner was told (media started, then the fault)');
        assert.equal(mediaB.state, 'running', 'the other side runs on');
      } finally {
        a.close();
        b.close();
      }
    });
  }
});
