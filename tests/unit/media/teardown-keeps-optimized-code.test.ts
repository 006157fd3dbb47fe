import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../../harness/temp-dir';
import { ON_NODE_20_V8, handlerCallScript, repoModule, runWithV8Natives } from '../../harness/v8-natives';

const src = (path: string) => repoModule(`src-main/core/media/${path}`);

/**
 * See media-session.ts, "Teardown and V8": closing one call's objects must not throw away the
 * optimized per-packet code the next call runs. In a Node that can ask V8
 * (%GetOptimizationStatus, bit 6 = TurboFan), without concurrent recompilation: each per-packet
 * method is optimized on one object, ANOTHER object of the same class is closed, and the method
 * must still be TurboFan code. (Before: the jitter buffer's close() reassigned `queue`, the RTP
 * socket's and the WAV sink's close() wrote fields their per-packet methods had only seen with
 * one value; V8 had compiled those as constants, and all three were deoptimized, checked.)
 */
describe('closing a call keeps the per-packet code optimized for the next one', ON_NODE_20_V8, () => {
  test('jitter buffer push/pull, RTP socket send, WAV sink write stay TurboFan code when another instance closes', () => {
    const dir = makeTempDir('teardown-opt');
    try {
      const script = `
        const { JitterBuffer } = await import(${src('jitter/jitter-buffer.ts')});
        const { pcmuCodec } = await import(${src('codecs/g711.ts')});
        const { RtpStreamSocket } = await import(${src('rtp/rtp-stream-socket.ts')});
        const { WavFileSink } = await import(${src('audio/wav-file-sink.ts')});
        const optimize = (f, run) => { %PrepareFunctionForOptimization(f); for (let i = 0; i < 30; i++) run(i); %OptimizeFunctionOnNextCall(f); run(30); };
        const result = {};

        const packet = (i) => ({ seq: i, timestamp: i * 160, ssrc: 5, marker: i === 0, payload: new Uint8Array(160), arrivalMs: i * 20 });
        const jb = new JitterBuffer(pcmuCodec, { startupDelayMs: 0 });
        const push = JitterBuffer.prototype.push;
        const pull = JitterBuffer.prototype.pull;
        optimize(push, (i) => jb.push(packet(i)));
        optimize(pull, (i) => jb.pull(160, i * 20 + 40));
        new JitterBuffer(pcmuCodec).close();
        result.jitterBuffer = turbofan(push) && turbofan(pull);

        const [a, b, other] = await Promise.all([0, 1, 2].map(() => RtpStreamSocket.open('127.0.0.1', 64, false)));
        a.setRemote(b.local);
        const send = RtpStreamSocket.prototype.send;
        const datagram = new Uint8Array(172);
        optimize(send, () => a.send(datagram));
        await other.close();
        result.rtpSocket = turbofan(send);
        await a.close();
        await b.close();

        const sink = new WavFileSink(${JSON.stringify(join(dir, 'a.wav'))}, 8000);
        const write = WavFileSink.prototype.write;
        const frame = new Int16Array(160);
        optimize(write, () => sink.write(frame));
        await new WavFileSink(${JSON.stringify(join(dir, 'b.wav'))}, 8000).close();
        result.wavSink = turbofan(write);
        await sink.close();
        process.stdout.write(JSON.stringify(result));
      `;
      assert.deepEqual(runWithV8Natives(script), { jitterBuffer: true, rtpSocket: true, wavSink: true });
    } finally {
      removeTempDir(dir);
    }
  });

  test("a call's audio ports (the recorder's tap) stay TurboFan code while another call runs and its handler closes, without recording", () => {
    // Two causes, both fixed: each call's tap was an object of arrow functions (a new `active`
    // per call: "wrong call target"), and closing wrote the handler's `recorder` field again.
    const script = `${handlerCallScript()}
      const { TappedSink } = await import(${src('audio/tapped-ports.ts')});
      const first = await call('1');
      const write = TappedSink.prototype.write;
      const frame = new Int16Array(160);
      %PrepareFunctionForOptimization(write);
      for (let i = 0; i < 30; i++) first.media.sink.write(frame);
      %OptimizeFunctionOnNextCall(write);
      first.media.sink.write(frame);
      const optimized = turbofan(write);
      const second = await call('2');
      second.a.close();
      second.b.close();
      const afterOtherClosed = turbofan(write);
      first.a.close();
      first.b.close();
      process.stdout.write(JSON.stringify({ optimized, afterOtherClosed }));
      process.exit(0);
    `;
    assert.deepEqual(runWithV8Natives(script), { optimized: true, afterOtherClosed: true });
  });
});

describe("a new call's objects keep the per-packet code optimized", ON_NODE_20_V8, () => {
  test("the playout path stays TurboFan code when the next call's media session is created after a fractional phase move", () => {
    // The media session's counters: their ms sums started as an integer 0, so the first
    // fractional phase move gave the counters a new shape, and creating the next call's counters
    // from the old one threw the playout code away (V8's log of two in-process calls).
    const script = `${handlerCallScript()}
      const { MediaSession } = await import(${src('media-session.ts')});
      const first = await call('1');
      first.media.counters.playoutPhaseAdvanceMs += 0.25; // what alignPlayoutPhase adds when it moves the grid
      const render = MediaSession.prototype.renderPlayout;
      %PrepareFunctionForOptimization(render);
      for (let i = 0; i < 30; i++) first.media.playoutFrame();
      %OptimizeFunctionOnNextCall(render);
      first.media.playoutFrame();
      const optimized = turbofan(render);
      const second = await call('2');
      const afterNextSession = turbofan(render);
      for (const c of [first, second]) { c.a.close(); c.b.close(); }
      process.stdout.write(JSON.stringify({ optimized, afterNextSession }));
      process.exit(0);
    `;
    assert.deepEqual(runWithV8Natives(script), { optimized: true, afterNextSession: true });
  });
});
