import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NullSink } from '../../../src-main/core/media/audio/null-sink';
import { SilenceSource } from '../../../src-main/core/media/audio/silence-source';
import { TappedSink, TappedSource, type FrameTap } from '../../../src-main/core/media/audio/tapped-ports';
import { handlerCallScript, runWithV8Natives } from '../../harness/v8-natives';

/** A tap that records what it was handed, switched on and off by the test. */
function recordingTap(): FrameTap & { on: boolean; local: FrameTap['local']; seen: string[] } {
  const tap = {
    on: false,
    seen: [] as string[],
    active: () => tap.on,
    local: (frame: Int16Array, rate: number) => void tap.seen.push(`local ${frame.length}@${rate}`),
    remote: (frame: Int16Array, rate: number) => void tap.seen.push(`remote ${frame.length}@${rate}`),
  };
  return tap;
}

describe('tapped audio ports (what the media session reads and writes; the recorder taps them)', () => {
  test('frames pass through, and reach the tap only while it is active', () => {
    const tap = recordingTap();
    const sink = new NullSink(8000);
    const source = new TappedSource(new SilenceSource(8000), tap);
    const tapped = new TappedSink(sink, tap);
    source.read(new Int16Array(160));
    tapped.write(new Int16Array(160));
    assert.deepEqual(tap.seen, []);
    tap.on = true;
    source.read(new Int16Array(160));
    tapped.write(new Int16Array(320));
    assert.deepEqual(tap.seen, ['local 160@8000', 'remote 320@8000']);
    assert.equal(sink.samplesWritten, 480, 'the sink got every frame, tapped or not');
    assert.equal(tapped.sampleRate, 8000);
    sink.followSampleRate(16000);
    assert.equal(tapped.sampleRate, 16000, 'the rate is the device\'s, read at every access');
  });

  test('a device clock is kept: setPuller / setCaptureListener exist exactly when the device has them, and the tap gets what the device pulls', () => {
    const tap = recordingTap();
    tap.on = true;
    assert.equal(new TappedSink(new NullSink(8000), tap).setPuller, undefined);
    assert.equal(new TappedSource(new SilenceSource(8000), tap).setCaptureListener, undefined);
    let devicePull: ((frame: Int16Array) => void) | undefined;
    const device = { sampleRate: 48000, write: () => assert.fail('a pulling device is never written to'), setPuller: (pull: typeof devicePull) => void (devicePull = pull), close: async () => undefined };
    const tapped = new TappedSink(device, tap);
    tapped.setPuller!((frame) => frame.fill(7));
    const frame = new Int16Array(960);
    devicePull!(frame);
    assert.equal(frame[0], 7, 'the media session filled the device\'s frame');
    assert.deepEqual(tap.seen, ['remote 960@48000']);
    tapped.setPuller!(undefined);
    assert.equal(devicePull, undefined, 'stopping the pulls reaches the device');
  });

  test("every call's ports have V8's fast properties and one shape, so the per-frame code stays optimized from call to call", () => {
    // Two calls through the SessionDescriptionHandler, in a Node that can ask V8 about its
    // objects (%HasFastProperties, %HaveSameMap). Ports built as object literals with a getter
    // were dictionary-mode objects: every per-frame access a hash lookup (V8's generic LoadIC).
    const script = `${handlerCallScript()}
      const ports = [];
      for (let n = 0; n < 2; n++) {
        const { a, b, media } = await call('call' + n);
        ports.push({ source: media.source, sink: media.sink });
        a.close();
        b.close();
      }
      const fast = (o) => %HasFastProperties(o);
      const same = (x, y) => %HaveSameMap(x, y);
      process.stdout.write(JSON.stringify({
        fast: ports.every((p) => fast(p.source) && fast(p.sink)),
        sameShape: same(ports[0].source, ports[1].source) && same(ports[0].sink, ports[1].sink),
      }));
      process.exit(0);
    `;
    assert.deepEqual(runWithV8Natives(script), { fast: true, sameShape: true });
  });
});
