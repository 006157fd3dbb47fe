// The app's audio device path in Debian's Chromium: AudioEngine + AudioWorklet in a page served on
// 127.0.0.1, frames over the WebSocket adapter to a PortAudioDevice in this (node) process.
// Chromium's fake microphone plays a WAV file generated here; what reaches node is analysed with
// the tests' audio oracle. Playout is analysed where it leaves the worklet AND where it leaves the
// <audio> element of the echo-reference loopback (the sound the user would hear).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { PortAudioDevice } from '../../src-main/core/media/audio/port-audio-device';
import { WebSocketFramePort } from '../../src-main/core/media/audio/port-websocket';
import { detectTone, dbfs, dominantFrequency, goertzelPower, meanSquare, writeWav } from '../harness/audio-analysis';
import { makeTempDir } from '../harness/temp-dir';

const audioDir = fileURLToPath(new URL('../../src-renderer/src/audio/', import.meta.url));
const PORT_RATE = 16000;

// A test-only worklet that records its input, so the page can hand recorded audio to the test.
const RECORDER_WORKLET = `
class TestRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = [];
    this.port.onmessage = () => { this.port.postMessage(this.chunks); this.chunks = []; };
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.chunks.push(channel.slice());
    return true;
  }
}
registerProcessor('test-recorder', TestRecorder);
`;

// Page-side driver: starts an AudioEngine over the WebSocket adapter and records its playout.
const PAGE_DRIVER = `
import { AudioEngine } from './audio-engine';
import { WebSocketFramePort } from './websocket-frame-port';

const recorders = {};
let engine;

async function addRecorder(context, name, node) {
  const recorder = new AudioWorkletNode(context, 'test-recorder', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
  node.connect(recorder);
  recorders[name] = recorder;
}

window.audioTest = {
  async start(options) {
    const framePort = await WebSocketFramePort.connect('ws://' + location.host + '/audio');
    engine = new AudioEngine({ workletUrl: './worklet.js', framePort, ...options });
    await engine.start({});
    const context = engine.audioContext;
    await context.audioWorklet.addModule('./recorder.js');
    await addRecorder(context, 'worklet', engine.playoutNode);
    if (engine.playoutElement) {
      const heard = context.createMediaStreamSource(engine.playoutElement.captureStream());
      await addRecorder(context, 'element', heard);
    }
    return { contextRate: context.sampleRate, applied: engine.appliedProcessing() };
  },
  async recorded(name) {
    const recorder = recorders[name];
    const chunks = await new Promise((resolve) => {
      recorder.port.onmessage = (event) => resolve(event.data);
      recorder.port.postMessage('flush');
    });
    const out = [];
    for (const chunk of chunks) for (const v of chunk) out.push(v);
    return out;
  },
  meter() {
    return engine.lastMeter;
  },
  async stop() {
    await engine.stop();
  },
};
`;

interface Bench {
  url: string;
  /** Resolves with the PortAudioDevice of the next page that connects. */
  nextDevice(options?: { playoutTargetMs?: number }): Promise<PortAudioDevice>;
  close(): Promise<void>;
}

async function bundle(): Promise<Map<string, string>> {
  const common = { bundle: true, write: false, target: 'chrome120', logLevel: 'silent' as const };
  const page = await build({ ...common, format: 'iife', stdin: { contents: PAGE_DRIVER, resolveDir: audioDir, loader: 'ts', sourcefile: 'page.ts' } });
  const worklet = await build({ ...common, format: 'esm', entryPoints: [join(audioDir, 'audio-device-processor.ts')] });
  return new Map([
    ['/', '<!doctype html><meta charset="utf-8"><title>audio test</title><script src="./page.js"></script>'],
    ['/page.js', page.outputFiles[0]!.text],
    ['/worklet.js', worklet.outputFiles[0]!.text],
    ['/recorder.js', RECORDER_WORKLET],
  ]);
}

async function startBench(): Promise<Bench> {
  const files = await bundle();
  const server: Server = createServer((request, response) => {
    const body = files.get(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    const type = request.url === '/' ? 'text/html' : 'text/javascript';
    response.writeHead(200, { 'content-type': type }).end(body);
  });
  const wss = new WebSocketServer({ server, path: '/audio' });
  const waiting: ((socket: WebSocket) => void)[] = [];
  wss.on('connection', (socket) => waiting.shift()?.(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    nextDevice: (options = {}) =>
      new Promise((resolve) => waiting.push((socket) => resolve(new PortAudioDevice(new WebSocketFramePort(socket), { sampleRate: PORT_RATE, ...options })))),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close();
      await once(server, 'close');
    },
  };
}

function launch(captureFile: string): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${captureFile}`,
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Loopback peer connections use host candidates only; never announce them over mDNS.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

/** Reads the capture side like the media session does: a 20 ms frame per 20 ms of wall time. */
async function captureFor(device: PortAudioDevice, seconds: number): Promise<Float32Array> {
  const frame = new Int16Array((PORT_RATE * 20) / 1000);
  const out = new Float32Array(Math.round(seconds * PORT_RATE));
  const start = performance.now();
  let written = 0;
  for (let k = 0; written < out.length; k++) {
    const wait = start + k * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    device.read(frame);
    for (let i = 0; i < frame.length && written < out.length; i++) out[written++] = frame[i]! / 32768;
  }
  return out;
}

/** dBFS per 100 ms window, for diagnostics. */
function windowLevels(samples: ArrayLike<number>, rate: number): string {
  const w = Math.round(rate / 10);
  const out: string[] = [];
  for (let s = 0; s + w <= samples.length; s += w) out.push(dbfs(samples, s, w).toFixed(0));
  return out.join(' ');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openPage(browser: Browser, bench: Bench, problems: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(bench.url);
  return page;
}

describe('AudioEngine capture and playout in Chromium (WebSocket adapter)', () => {
  let bench: Bench;
  let browser: Browser;
  let page: Page;
  let device: PortAudioDevice;
  const problems: string[] = [];
  let contextRate = 0;

  before(async () => {
    const dir = makeTempDir('audio-engine');
    // 440 Hz at half scale, 48 kHz (Chromium loops the file as the fake microphone).
    const wav = join(dir, 'tone-440.wav');
    const tone = new Float32Array(48000 * 2);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 48000);
    writeWav(wav, tone, 48000);
    bench = await startBench();
    browser = await launch(wav);
    page = await openPage(browser, bench, problems);
    const connected = bench.nextDevice({ playoutTargetMs: 60 });
    // 44.1 kHz context: the worklet must resample 44100 <-> 16000 (a non-integer ratio) both ways.
    const started = page.evaluate(() =>
      (window as unknown as { audioTest: { start(o: object): Promise<{ contextRate: number }> } }).audioTest.start({
        sampleRate: 16000,
        contextSampleRate: 44100,
        processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      }),
    );
    device = await connected;
    contextRate = (await started).contextRate;
  });

  after(async () => {
    await device?.close();
    await browser?.close();
    await bench?.close();
  });

  test('the page runs its AudioContext at 44.1 kHz and says hello at the port rate', async () => {
    assert.equal(contextRate, 44100);
    const hello = await waitFor('hello', () => device.stats().device);
    assert.deepEqual(hello, { type: 'hello', version: 1, sampleRate: 16000, frameSamples: 320, deviceSampleRate: 44100 });
  });

  test('microphone frames reach node: 440 Hz at the right frequency and level, none lost', async () => {
    await waitFor('capture frames', () => (device.stats().capture.framesReceived > 25 ? true : undefined));
    const captured = await captureFor(device, 2);
    const settled = captured.subarray(PORT_RATE / 2); // skip start-up
    const detection = detectTone(settled, PORT_RATE, 440, { minSnrDb: 25 });
    assert.ok(detection.present && detection.fraction > 0.9, `440 Hz not clean: ${JSON.stringify(detection)} ${JSON.stringify(device.stats())} windows ${windowLevels(settled, PORT_RATE)}`);
    const { hz } = dominantFrequency(settled, PORT_RATE, { minHz: 100, maxHz: 4000, stepHz: 10 });
    assert.ok(Math.abs(hz - 440) <= 2, `dominant frequency ${hz} Hz`);
    const level = dbfs(settled);
    // A 0.5-amplitude sine is -9 dBFS; processing is off, so the level must survive.
    assert.ok(level > -11 && level < -7, `capture level ${level.toFixed(1)} dBFS`);
    const stats = device.stats().capture;
    assert.equal(stats.framesLost, 0, JSON.stringify(stats));
  });

  test('a 1 kHz tone pulled from node by the device clock is played by the worklet and heard from the <audio> element', async () => {
    let phase = 0;
    device.setPlayoutPuller((frame) => {
      for (let i = 0; i < frame.length; i++) {
        frame[i] = Math.round(0.4 * 32767 * Math.sin(phase));
        phase += (2 * Math.PI * 1000) / PORT_RATE;
      }
    });
    const page0 = page as Page;
    type Api = { audioTest: { recorded(name: string): Promise<number[]>; meter(): { played: number; underrun: number } | undefined } };
    await new Promise((r) => setTimeout(r, 1500));
    await page0.evaluate(() => Promise.all([(window as unknown as Api).audioTest.recorded('worklet'), (window as unknown as Api).audioTest.recorded('element')]));
    const meterBefore = await page0.evaluate(() => (window as unknown as Api).audioTest.meter());
    const sentBefore = device.stats().playout.samplesSent;
    await new Promise((r) => setTimeout(r, 2000));
    const [fromWorklet, fromElement] = await page0.evaluate(() =>
      Promise.all([(window as unknown as Api).audioTest.recorded('worklet'), (window as unknown as Api).audioTest.recorded('element')]),
    );
    const meterAfter = await page0.evaluate(() => (window as unknown as Api).audioTest.meter());
    device.setPlayoutPuller(undefined);
    for (const [name, samples] of [['worklet output', fromWorklet], ['<audio> element', fromElement]] as const) {
      assert.ok(samples.length > contextRate, `${name}: only ${samples.length} samples recorded`);
      const detection = detectTone(samples, contextRate, 1000, { minSnrDb: name === 'worklet output' ? 30 : 20 });
      assert.ok(detection.present && detection.fraction > 0.9, `${name}: 1 kHz not clean: ${JSON.stringify(detection)} ${JSON.stringify(device.stats())} ${JSON.stringify(meterAfter)} windows ${windowLevels(samples, contextRate)}`);
      const { hz } = dominantFrequency(samples, contextRate, { minHz: 100, maxHz: 8000, stepHz: 10 });
      assert.ok(Math.abs(hz - 1000) <= 2, `${name}: dominant frequency ${hz} Hz`);
      const level = dbfs(samples);
      assert.ok(level > -13 && level < -8, `${name}: level ${level.toFixed(1)} dBFS (0.4 amplitude is -11 dBFS)`);
    }
    // Device-clock pacing: what node sent in the 2 s matches what the device played, and the
    // worklet did not starve.
    assert.ok(meterBefore && meterAfter, 'meters from the worklet');
    const played = meterAfter.played - meterBefore.played;
    const sent = device.stats().playout.samplesSent - sentBefore;
    assert.ok(Math.abs(played - sent) <= 0.1 * PORT_RATE, `played ${played} vs sent ${sent} samples`);
    const underrun = meterAfter.underrun - meterBefore.underrun;
    assert.ok(underrun < 0.05 * played, `underrun ${underrun} of ${played} samples`);
    assert.deepEqual(problems, []);
  });
});
