import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ON_NODE_20_V8, repoModule, runWithV8Natives, runWithV8NativesOutput } from '../../harness/v8-natives';

const src = (path: string) => repoModule(`src-main/core/media/${path}`);

/**
 * See media-session.ts, "Per-call object literals and V8", and double-fields.ts. In a Node that
 * can ask V8 (%GetOptimizationStatus, without concurrent recompilation): the per-frame code is
 * optimized in a first call and must still be TurboFan code once a second call has negotiated and
 * received its first packet, as in the headless, whose V8 trace showed the send clock, the
 * receive step and the playout dropped at every process's second call (checked: each of the three
 * is deoptimized here when it reads through the negotiation's literals or a `{ codec, buffer }`
 * entry, and the parser and the RTCP statistics at their first 32-bit value of 2^31 or more).
 */
describe("a process's second call keeps the first call's optimized per-frame code", ON_NODE_20_V8, () => {
  test('the next call’s negotiation and first packet drop none of the optimized send, receive and playout code', () => {
    // As in the headless: this process negotiates only as the caller (the far end is a plain UDP
    // socket answering with a fixed SDP and sending PCMU every 20 ms), one call after the other,
    // with the V8 tuning every entry sets (v8-tuning.ts). A test whose process also ran the
    // answering side made those literals twice in its first call and never showed the problem.
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { createSessionDescriptionHandlerFactory } = await import(${src('session-description-handler.ts')});
      const { SilenceSource } = await import(${src('audio/silence-source.ts')});
      const { NullSink } = await import(${src('audio/null-sink.ts')});
      const { MediaSession } = await import(${src('media-session.ts')});
      const { serializeRtpFrame } = await import(${src('rtp/rtp-packet.ts')});
      const { createSocket } = await import('node:dgram');
      const { setTimeout: sleep } = await import('node:timers/promises');
      const callEnv = { localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], openAudio: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }) };
      const peer = createSocket('udp4');
      await new Promise((resolve) => peer.bind(0, '127.0.0.1', resolve));
      const answer = 'v=0\\r\\no=peer 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\n' +
        'm=audio ' + peer.address().port + ' RTP/AVP 0 101\\r\\na=rtpmap:0 PCMU/8000\\r\\na=rtpmap:101 telephone-event/8000\\r\\n' +
        'a=fmtp:101 0-16\\r\\na=ptime:20\\r\\na=sendrecv\\r\\n';
      const call = async (ssrc) => {
        const a = createSessionDescriptionHandlerFactory(callEnv)({ id: String(ssrc) });
        const port = Number(/m=audio (\\d+)/.exec((await a.getDescription()).body)[1]);
        await a.setDescription(answer);
        const media = await a.mediaStarted;
        let seq = 0;
        const payload = new Uint8Array(160).fill(0xff);
        const timer = setInterval(() => { peer.send(serializeRtpFrame(seq === 0, 0, seq, 1000 + seq * 160, ssrc, payload), port, '127.0.0.1'); seq++; }, 20);
        return { media, end: () => { clearInterval(timer); a.close(); } };
      };
      const P = MediaSession.prototype;
      const hot = [P.sendDue, P.receiveRtp, P.renderPlayout];
      const first = await call(0x1234);
      for (const f of hot) %PrepareFunctionForOptimization(f);
      // 3 s, as the headless tiers up seconds into a call: a field first written again after the
      // optimization (the playout phase's first alignment, ~1 s in) would drop it for its own reason.
      await sleep(3000);
      // The RTCP reports (every ~5 s) write statistics fields the per-packet code reads, the first
      // ones a second time (V8 then drops code that took them for constants, media-session.ts,
      // "Teardown and V8"): two now, so that what follows can only be the second call's doing.
      first.media.rtcp.sendReport(false);
      first.media.rtcp.sendReport(false);
      // Optimized, again if a first-time path of this loaded machine's call dropped it meanwhile.
      for (let round = 0; round < 5 && !hot.every(turbofan); round++) {
        for (const f of hot) if (!turbofan(f)) %OptimizeFunctionOnNextCall(f);
        await sleep(200);
      }
      const optimized = turbofan(P.sendDue) && turbofan(P.renderPlayout); // the receive step too, unless this machine's load keeps dropping it
      first.end();
      await sleep(100);
      console.log('@@second-call');
      const second = await call(0x5678);
      await sleep(300);
      console.log('@@done', JSON.stringify({ optimized }));
      second.end();
      peer.close();
      process.exit(0);
    `;
    // V8 writes its trace to the same standard output: what it dropped during the second call's
    // set-up and first packets because something it relied on changed ("code dependencies").
    const out = runWithV8NativesOutput(script, ['--trace-deopt-verbose']);
    const during = out.slice(out.indexOf('@@second-call'), out.indexOf('@@done'));
    assert.match(out, /@@done {"optimized":true}/, 'the send clock and the playout were TurboFan code in the first call');
    const dropped = [...during.matchAll(/marking dependent code .*?<SharedFunctionInfo ([^>]*)>.*?reason: code dependencies/g)].map((m) => m[1]);
    const media = new Set(['sendDue', 'sendFrame', 'get sending', 'receiveRtp', 'renderPlayout', 'followLaterArrivals', 'playoutDue', 'clockTick', 'tickIfServed', 'tickEarlyIfServed', 'armTimer', 'onRtpReceived', 'receiveDatagram', 'parseRtpPacket', 'push', 'pull']);
    assert.deepEqual(dropped.filter((name) => media.has(name)), []);
  });

  test('the RTP parser and the RTCP statistics stay TurboFan code at the first SSRC and timestamp of 2^31 or more', () => {
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { parseRtpPacket, serializeRtpFrame } = await import(${src('rtp/rtp-packet.ts')});
      const { RtcpSession } = await import(${src('rtp/rtcp-session.ts')});
      const bytes = (i, ssrc, ts) => serializeRtpFrame(false, 0, i, ts + i * 160, ssrc, new Uint8Array(160));
      const small = Array.from({ length: 40 }, (_, i) => bytes(i, 0x1234, 1000));
      const large = bytes(41, 0x9abcdef0, 0xf0000000);
      %PrepareFunctionForOptimization(parseRtpPacket);
      for (const b of small) parseRtpPacket(b);
      %OptimizeFunctionOnNextCall(parseRtpPacket);
      parseRtpPacket(small[0]);
      const parserOptimized = turbofan(parseRtpPacket);
      const parsedLarge = parseRtpPacket(large);
      const parser = turbofan(parseRtpPacket);

      const rtp = { ssrc: 1, clock: { now: () => 0 }, onRtcp: () => {} };
      const rtcp = new RtcpSession({ rtp, mux: true, log: () => {} });
      const onRtpReceived = RtcpSession.prototype.onRtpReceived;
      %PrepareFunctionForOptimization(onRtpReceived);
      for (let i = 0; i < 40; i++) rtcp.onRtpReceived(0x1234, i, 1000 + i * 160, i * 20, 8000);
      %OptimizeFunctionOnNextCall(onRtpReceived);
      rtcp.onRtpReceived(0x1234, 40, 1000 + 40 * 160, 800, 8000);
      const statisticsOptimized = turbofan(onRtpReceived);
      rtcp.onRtpReceived(parsedLarge.ssrc, 0, parsedLarge.timestamp, 820, 8000);
      const statistics = turbofan(onRtpReceived);
      process.stdout.write(JSON.stringify({ parserOptimized, parser, ssrc: parsedLarge.ssrc, timestamp: parsedLarge.timestamp, statisticsOptimized, statistics }));
    `;
    assert.deepEqual(runWithV8Natives(script), {
      parserOptimized: true,
      parser: true,
      ssrc: 0x9abcdef0,
      timestamp: 0xf0000000 + 41 * 160,
      statisticsOptimized: true,
      statistics: true,
    });
  });
});
