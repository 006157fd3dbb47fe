// PortAudioDevice (main side of the audio frame transport) over a real MessageChannel and over a
// real WebSocket on 127.0.0.1, with this test playing the renderer's part of the protocol.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WebSocket, WebSocketServer } from 'ws';
import { PortAudioDevice } from '../../../src-main/core/media/audio/port-audio-device';
import { WebSocketFramePort } from '../../../src-main/core/media/audio/port-websocket';
import { decodeFrameMessage, encodeFrameMessage, FRAME_PROTOCOL_VERSION, type FrameMessage, type FramePort } from '../../../src-main/common/audio/frame-protocol';

const RATE = 16000;
const FRAME = 320; // 20 ms

function channel(): { main: FramePort; renderer: MessagePort; received: FrameMessage[]; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const received: FrameMessage[] = [];
  port2.on('message', (m: FrameMessage) => received.push(m));
  // A failing assertion skips close(): open ports must not keep the test process alive.
  port1.unref();
  port2.unref();
  return { main: port1 as unknown as FramePort, renderer: port2, received, close: () => (port1.close(), port2.close()) };
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ramp(seq: number, n = FRAME): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => seq * 1000 + i);
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await tick(5);
  assert.ok(predicate(), `timed out waiting for ${what}`);
}

describe('PortAudioDevice capture (AudioSource)', () => {
  test('delivers captured frames in order once the target is buffered; silence before; gaps counted', async () => {
    const c = channel();
    const logs: string[] = [];
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, captureTargetMs: 40, log: (m) => logs.push(m) });
    const out = new Int16Array(FRAME);
    device.read(out);
    assert.ok(out.every((s) => s === 0), 'silence while nothing is buffered');
    c.renderer.postMessage({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: RATE, frameSamples: FRAME, deviceSampleRate: 48000 });
    c.renderer.postMessage({ type: 'capture', seq: 0, sampleRate: RATE, samples: ramp(0) });
    await until(() => device.stats().capture.framesReceived === 1, 'frame 0');
    device.read(out);
    assert.ok(out.every((s) => s === 0), 'still buffering below 40 ms');
    c.renderer.postMessage({ type: 'capture', seq: 1, sampleRate: RATE, samples: ramp(1) });
    await until(() => device.stats().capture.framesReceived === 2, 'frame 1');
    device.read(out);
    assert.deepEqual(Array.from(out), Array.from(ramp(0)), 'frame 0');
    c.renderer.postMessage({ type: 'capture', seq: 3, sampleRate: RATE, samples: ramp(3) }); // seq 2 lost
    await until(() => device.stats().capture.framesReceived === 3, 'frame 3');
    for (const seq of [1, 3]) {
      device.read(out);
      assert.deepEqual(Array.from(out), Array.from(ramp(seq)), `frame ${seq}`);
    }
    const stats = device.stats();
    assert.equal(stats.capture.framesLost, 1);
    assert.equal(stats.device?.deviceSampleRate, 48000);
    assert.equal(stats.capture.underruns, 0);
    device.read(out); // nothing left: underrun, back to buffering
    assert.equal(device.stats().capture.underruns, 1);
    assert.equal(device.stats().capture.state, 'buffering');
    assert.deepEqual(logs, []);
    await device.close();
    c.close();
  });

  test('a read spanning frames of other sizes gets contiguous audio (10 ms frames, 20 ms reads)', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, captureTargetMs: 40 });
    for (let seq = 0; seq < 4; seq++) c.renderer.postMessage({ type: 'capture', seq, sampleRate: RATE, samples: ramp(seq, FRAME / 2) });
    await until(() => device.stats().capture.framesReceived === 4, 'four 10 ms frames');
    const out = new Int16Array(FRAME);
    device.read(out);
    assert.deepEqual(Array.from(out), [...ramp(0, FRAME / 2), ...ramp(1, FRAME / 2)]);
    device.read(out);
    assert.deepEqual(Array.from(out), [...ramp(2, FRAME / 2), ...ramp(3, FRAME / 2)]);
    await device.close();
    c.close();
  });

  test('overflow drops the OLDEST audio so latency stays bounded', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, captureTargetMs: 20, captureMaxMs: 60 });
    const out = new Int16Array(FRAME);
    c.renderer.postMessage({ type: 'capture', seq: 0, sampleRate: RATE, samples: ramp(0) });
    await until(() => device.stats().capture.framesReceived === 1, 'frame 0');
    device.read(out); // flowing now
    for (let seq = 1; seq < 6; seq++) c.renderer.postMessage({ type: 'capture', seq, sampleRate: RATE, samples: ramp(seq) });
    await until(() => device.stats().capture.framesReceived === 6, 'five more frames');
    assert.equal(device.stats().capture.overflowDropped, 2 * FRAME);
    device.read(out);
    assert.deepEqual(Array.from(out), Array.from(ramp(3)), 'frames 1 and 2 were dropped');
    device.read(out);
    assert.deepEqual(Array.from(out), Array.from(ramp(4)));
    await device.close();
    c.close();
  });

  test('a backlog that piled up before anyone read is skipped: reading starts at the target delay', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, captureTargetMs: 40, captureMaxMs: 200 });
    for (let seq = 0; seq < 6; seq++) c.renderer.postMessage({ type: 'capture', seq, sampleRate: RATE, samples: ramp(seq) });
    await until(() => device.stats().capture.framesReceived === 6, 'six frames');
    const out = new Int16Array(FRAME);
    device.read(out);
    assert.deepEqual(Array.from(out), Array.from(ramp(4)), 'the newest 40 ms are kept');
    assert.equal(device.stats().capture.backlogSkipped, 4 * FRAME);
    await device.close();
    c.close();
  });

  test('frames at another rate, unknown messages and a wrong-rate hello are rejected and reported', async () => {
    const c = channel();
    const logs: string[] = [];
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, log: (m) => logs.push(m) });
    c.renderer.postMessage({ type: 'capture', seq: 0, sampleRate: 8000, samples: ramp(0, 160) });
    c.renderer.postMessage({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 48000, frameSamples: 960, deviceSampleRate: 48000 });
    c.renderer.postMessage({ type: 'capture', seq: 1, sampleRate: RATE, samples: [1, 2, 3] });
    c.renderer.postMessage({ type: 'hello', version: 1, sampleRate: RATE, frameSamples: FRAME, deviceSampleRate: 48000 }); // before nextSeq: no longer spoken
    await until(() => device.stats().protocolErrors === 4, 'four rejections');
    assert.equal(device.stats().capture.framesReceived, 0);
    assert.equal(device.stats().device, undefined);
    assert.ok(logs.some((l) => /capture frame at 8000 Hz rejected, expected 16000 Hz/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /speaks 48000 Hz, this call expects 16000 Hz/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /capture.samples must be an Int16Array/.test(l)), logs.join('\n'));
    await device.close();
    c.close();
  });

  test('bad options are rejected with specific errors', () => {
    const c = channel();
    assert.throws(() => new PortAudioDevice(c.main, { sampleRate: 0 }), /sampleRate must be a positive integer, got 0/);
    assert.throws(() => new PortAudioDevice(c.main, { sampleRate: RATE, frameMs: -1 }), /frameMs must be a positive number/);
    assert.throws(() => new PortAudioDevice(c.main, { sampleRate: RATE, captureTargetMs: 100, captureMaxMs: 50 }), /captureMaxMs must be at least/);
    assert.throws(() => new PortAudioDevice(c.main, { sampleRate: RATE, playoutTargetMs: 80, playoutTargetMaxMs: 60 }), /the ceiling \(960\) must be at least the floor \(1280\)/);
    c.close();
  });
});

describe('PortAudioDevice playout (AudioSink)', () => {
  test('push mode: written frames reach the device in order with sequence numbers and the port rate', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE });
    const frame = ramp(7);
    device.write(frame);
    frame.fill(0); // the caller may reuse its buffer: the device must have copied it
    device.write(ramp(8));
    await until(() => c.received.length === 2, 'two playout frames');
    assert.deepEqual(
      c.received.map((m) => (m.type === 'playout' ? [m.seq, m.sampleRate, m.samples[5]] : m.type)),
      [[0, RATE, 7005], [1, RATE, 8005]],
    );
    await device.close();
    c.close();
  });

  test('pull mode: the device clock paces playout, queued audio is kept at the target', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, playoutTargetMs: 60 });
    let pulls = 0;
    device.setPuller((f) => f.fill(++pulls));
    await tick();
    assert.equal(pulls, 0, 'nothing is pulled before the device reports its clock');
    assert.throws(() => device.write(ramp(0)), /playout is pulled by the device clock/);
    c.renderer.postMessage({ type: 'playout-report', played: 0, underrun: 0, dropped: 0, buffered: 0, nextSeq: 0 });
    await until(() => c.received.length === 3, '60 ms prefill');
    // The device played 2.5 frames: 160 samples queued, so 3 frames bring it back to >= 60 ms.
    c.renderer.postMessage({ type: 'playout-report', played: 800, underrun: 0, dropped: 0, buffered: 160, nextSeq: 3 });
    await until(() => c.received.length === 6, 'top-up');
    assert.equal(device.stats().playout.samplesSent, 6 * FRAME);
    // A report that shows nothing newly played, the last three frames still on their way, pulls nothing.
    c.renderer.postMessage({ type: 'playout-report', played: 800, underrun: 0, dropped: 0, buffered: 0, nextSeq: 3 });
    await until(() => device.stats().playout.reports === 3, 'third report');
    await tick();
    assert.equal(c.received.length, 6);
    assert.deepEqual(
      c.received.map((m) => (m.type === 'playout' ? m.samples[0] : -1)),
      [1, 2, 3, 4, 5, 6],
    );
    // Switching back to push mode stops pulls.
    device.setPuller(undefined);
    c.renderer.postMessage({ type: 'playout-report', played: 1920, underrun: 320, dropped: 0, buffered: 0, nextSeq: 6 });
    await until(() => device.stats().playout.reports === 4, 'fourth report');
    await tick();
    assert.equal(pulls, 6);
    await device.close();
    c.close();
  });

  test('a frame lost on the way (sent before the page attached) is not waited for: playout starts and keeps its queue', async () => {
    // dev:web: a ringback frame written before the page's socket was there went nowhere. Counted
    // as queued, it held back the one more frame the worklet needed to start: silence for good.
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE, playoutTargetMs: 40 });
    device.write(ramp(0)); // lost: the device below never receives it
    c.renderer.postMessage({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: RATE, frameSamples: FRAME, deviceSampleRate: 48000 });
    await until(() => device.stats().device !== undefined, 'hello');
    device.setPuller((f) => f.fill(7));
    c.renderer.postMessage({ type: 'playout-report', played: 0, underrun: 0, dropped: 0, buffered: 0, nextSeq: 0 });
    await until(() => c.received.length === 3, 'two pulled frames after the lost one');
    // Mid-call: frames 1 and 2 arrived (nextSeq 3) but only one is buffered (one went missing on
    // the way): the queue is what the device has, so one more frame is pulled.
    c.renderer.postMessage({ type: 'playout-report', played: 0, underrun: 0, dropped: 0, buffered: FRAME, nextSeq: 3 });
    await until(() => c.received.length === 4, 'the missing frame made up');
    await tick();
    assert.equal(c.received.length, 4);
    assert.deepEqual(
      c.received.map((m) => (m.type === 'playout' ? [m.seq, m.samples[0]] : m.type)),
      [[0, 0], [1, 7], [2, 7], [3, 7]],
    );
    await device.close();
    c.close();
  });

  test('the queue kept ahead of the device grows after the device ran dry, and only then', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE });
    device.setPuller((f) => f.fill(1));
    let seq = 0;
    const report = async (played: number, underrun: number, buffered: number): Promise<void> => {
      const reports = device.stats().playout.reports;
      c.renderer.postMessage({ type: 'playout-report', played, underrun, dropped: 0, buffered, nextSeq: c.received.length });
      await until(() => device.stats().playout.reports === reports + 1, `report ${++seq}`);
      await tick(5);
    };
    // Start: 40 ms queued (two frames); the silence before the first frames played is no stall.
    await report(0, 0, 0);
    assert.equal(c.received.length, 2);
    await report(0, 480, 2 * FRAME);
    assert.equal(device.stats().playout.targetMs, 40);
    await report(FRAME, 480, FRAME);
    assert.equal(c.received.length, 3, 'one frame played, one pulled');
    // Dry within the first 3 s of playout (a call's start): no raise.
    await report(2 * FRAME, 640, 0);
    assert.equal(device.stats().playout.targetMs, 40);
    const later = 3 * RATE; // past the start's grace
    await report(later, 640, 2 * FRAME);
    // The device ran dry for 15 ms (a stalled path): 20 ms more is kept queued from then on.
    await report(later + FRAME, 880, 0);
    assert.equal(device.stats().playout.targetMs, 60);
    assert.equal(device.stats().playout.targetRaises, 1);
    assert.equal(c.received.length, 8, '60 ms queued, the device empty: three frames pulled at once');
    // Far beyond: held at the ceiling (140 ms by default, the worklet's ring holds 200).
    await report(later + 2 * FRAME, 880 + 16000, 0);
    assert.equal(device.stats().playout.targetMs, 140);
    await device.close();
    c.close();
  });

  test('close detaches from the port: later messages are ignored, close is idempotent', async () => {
    const c = channel();
    const device = new PortAudioDevice(c.main, { sampleRate: RATE });
    await device.close();
    await device.close();
    assert.equal(c.main.onmessage, null);
    device.write(ramp(0));
    await tick();
    assert.equal(c.received.length, 0);
    c.close();
  });
});

describe('frame protocol binary form and the WebSocket adapter', () => {
  test('every message type survives encode/decode; malformed binary is rejected specifically', () => {
    const messages: FrameMessage[] = [
      { type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 48000, frameSamples: 960, deviceSampleRate: 44100 },
      { type: 'capture', seq: 12345, sampleRate: 8000, samples: Int16Array.from([-32768, -1, 0, 1, 32767]) },
      { type: 'playout', seq: 0, sampleRate: 16000, samples: new Int16Array(0) },
      { type: 'playout-report', played: 123456789, underrun: 3, dropped: 4, buffered: 960, nextSeq: 4000000000 },
    ];
    for (const m of messages) assert.deepEqual(decodeFrameMessage(encodeFrameMessage(m)), m);
    assert.throws(() => decodeFrameMessage(new ArrayBuffer(2)), /2 bytes is too short/);
    assert.throws(() => decodeFrameMessage(new Uint8Array([9, FRAME_PROTOCOL_VERSION, 0, 0]).buffer), /unknown binary message type 9/);
    assert.throws(() => decodeFrameMessage(new Uint8Array([2, 7, 0, 0]).buffer), /version 7 is not supported/);
    assert.throws(() => decodeFrameMessage(new Uint8Array([2, FRAME_PROTOCOL_VERSION, 0, 0, 0, 0, 0, 0, 0x40, 0x1f, 0, 0, 1]).buffer), /odd number of sample bytes/);
    assert.throws(() => decodeFrameMessage(new Uint8Array([4, FRAME_PROTOCOL_VERSION, 0, 0, 0, 0, 0, 0]).buffer), /playout-report message of 8 bytes is too short/);
  });

  test('PortAudioDevice over a real WebSocket on 127.0.0.1: capture in, playout out', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const accepted = once(server, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    client.binaryType = 'arraybuffer';
    const fromMain: FrameMessage[] = [];
    client.on('message', (data: ArrayBuffer) => fromMain.push(decodeFrameMessage(data)));
    await once(client, 'open');
    const [socket] = (await accepted) as [WebSocket];
    const logs: string[] = [];
    const device = new PortAudioDevice(new WebSocketFramePort(socket), { sampleRate: RATE, captureTargetMs: 20, log: (m) => logs.push(m) });
    client.send(encodeFrameMessage({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: RATE, frameSamples: FRAME, deviceSampleRate: 48000 }));
    client.send(encodeFrameMessage({ type: 'capture', seq: 0, sampleRate: RATE, samples: ramp(3) }));
    client.send('not binary');
    await until(() => device.stats().capture.framesReceived === 1 && device.stats().protocolErrors === 1, 'capture frame and text rejection');
    const out = new Int16Array(FRAME);
    device.read(out);
    assert.deepEqual(Array.from(out), Array.from(ramp(3)));
    assert.ok(logs.some((l) => /expected a message object, got string/.test(l)), logs.join('\n'));
    device.write(ramp(4));
    await until(() => fromMain.length === 1, 'playout frame at the client');
    assert.deepEqual(fromMain[0], { type: 'playout', seq: 0, sampleRate: RATE, samples: ramp(4) });
    await device.close();
    client.close();
    server.close();
  });
});
