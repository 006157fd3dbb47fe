// The AudioEngine in Debian's Chromium, as tests and the bench drive it: a page served on
// 127.0.0.1 that runs an AudioEngine over the WebSocket adapter to a PortAudioDevice in this (node)
// process and records what the engine plays, where it leaves the worklet and where it leaves the
// <audio> element of the echo-reference loopback (the sound the user would hear).
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { PortAudioDevice, type PortAudioDeviceOptions } from '../../src-main/core/media/audio/port-audio-device';
import { WebSocketFramePort } from '../../src-main/core/media/audio/port-websocket';
import { dbfs, writeWav } from '../harness/audio-analysis';
import { launchChromium } from './browser';

const audioDir = fileURLToPath(new URL('../../src-renderer/src/audio/', import.meta.url));
export const PORT_RATE = 16000;
/** Length of the fake microphone's 440 Hz file: longer than any capture test listens (see fakeMicrophoneWav). */
export const FAKE_MIC_SECONDS = 20;

/**
 * The fake microphone's file in `dir`: 440 Hz at half scale, 48 kHz. Chromium loops it, with a
 * discontinuity at each wrap (with a 2 s file: one spoiled 100 ms window every 2 s, in every run);
 * FAKE_MIC_SECONDS is longer than any test here listens, so only our path is judged.
 */
export function fakeMicrophoneWav(dir: string): string {
  const wav = join(dir, 'tone-440.wav');
  const tone = new Float32Array(48000 * FAKE_MIC_SECONDS);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 48000);
  writeWav(wav, tone, 48000);
  return wav;
}

// A test-only worklet that records its input, so the page can hand recorded audio to the test.
const RECORDER_WORKLET = `
class TestRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = null;
    this.port.onmessage = (event) => {
      if (event.data === 'start') this.chunks = [];
      else { this.port.postMessage(this.chunks || []); this.chunks = null; }
    };
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && this.chunks) this.chunks.push(channel.slice());
    return true;
  }
}
registerProcessor('test-recorder', TestRecorder);
`;

// Page-side driver: starts an AudioEngine over the WebSocket adapter and records its playout.
const PAGE_DRIVER = `
import { AudioEngine } from './audio-engine';
import { WebSocketFramePort } from './websocket-frame-port';
import { WebSocketRelay } from './websocket-relay';

const recorders = {};
let engine;

export async function addRecorder(context, name, node) {
  const recorder = new AudioWorkletNode(context, 'test-recorder', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
  node.connect(recorder);
  recorders[name] = recorder;
}

window.audioTest = {
  async start(options) {
    const socketUrl = 'ws://' + location.host + '/audio';
    // The app's shapes: a relay worker's MessagePort moved into the worklet (dev:web; Electron
    // moves the main process's port the same way), unless options.relay is 'page': the page's
    // main thread relays a WebSocketFramePort (the dev:web shape before session 30).
    const framePort = options.relay === 'page' ? await WebSocketFramePort.connect(socketUrl) : (await WebSocketRelay.connect('./relay.js', socketUrl)).port;
    engine = new AudioEngine({ workletUrl: './worklet.js', framePort, ...options, onMicrophone: (event) => window.audioTest.microphoneEvents.push(event) });
    await engine.start({});
    const context = engine.audioContext;
    await context.audioWorklet.addModule('./recorder.js');
    await addRecorder(context, 'worklet', engine.playoutNode);
    if (engine.playoutElement) {
      const heard = context.createMediaStreamSource(engine.playoutElement.captureStream());
      await addRecorder(context, 'element', heard);
      // The worklet's output through a MediaStream and back, without the route: what recording
      // the element through captureStream costs by itself (subtracted when measuring the route).
      const direct = context.createMediaStreamDestination();
      engine.playoutNode.connect(direct);
      await addRecorder(context, 'stream', context.createMediaStreamSource(direct.stream));
    }
    return { contextRate: context.sampleRate, applied: engine.appliedProcessing() };
  },
  record(names) {
    for (const name of names) recorders[name].port.postMessage('start');
  },
  /** Stops recording; returns the samples as base64 of a Float32Array (fast to hand to node). */
  async recorded(name) {
    const recorder = recorders[name];
    const chunks = await new Promise((resolve) => {
      recorder.port.onmessage = (event) => resolve(event.data);
      recorder.port.postMessage('stop');
    });
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const all = new Float32Array(total);
    let at = 0;
    for (const chunk of chunks) { all.set(chunk, at); at += chunk.length; }
    const bytes = new Uint8Array(all.buffer);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  },
  meter() {
    return engine.lastMeter;
  },
  microphoneEvents: [],
  /**
   * The microphone goes away as an unplugged device does (Chromium's fake device cannot be
   * unplugged): its track stops delivering and fires 'ended'. The next \`failOpens\` microphone
   * opens fail as with no device present.
   */
  loseMicrophone(failOpens, chosenGone) {
    const devices = navigator.mediaDevices;
    const open = MediaDevices.prototype.getUserMedia;
    let failures = failOpens;
    devices.getUserMedia = async (constraints) => {
      if (failures-- > 0) throw new DOMException('Requested device not found', 'NotFoundError');
      // The chosen device was the one unplugged: asking for it by id fails from now on.
      if (chosenGone && constraints.audio && constraints.audio.deviceId) throw new DOMException('Constraints could not be satisfied', 'OverconstrainedError');
      return open.call(devices, constraints);
    };
    const track = engine.microphoneTrack;
    track.stop();
    track.dispatchEvent(new Event('ended'));
    return track.label;
  },
  /** Chooses the first microphone by its id (as the settings do for a chosen device); returns the id. */
  async chooseMicrophone() {
    const input = (await navigator.mediaDevices.enumerateDevices()).find((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default');
    await engine.setInputDevice(input.deviceId);
    return input.deviceId;
  },
  /** Back to the system's default microphone. */
  async useDefaultMicrophone() {
    await engine.setInputDevice(undefined);
  },
  /** A device appears. */
  plugIn() {
    navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
  },
  async stop() {
    await engine.stop();
  },
};
`;

export interface Bench {
  url: string;
  /** Resolves with the PortAudioDevice of the next page that connects. */
  nextDevice(options?: Partial<PortAudioDeviceOptions>): Promise<PortAudioDevice>;
  close(): Promise<void>;
}

export async function bundle(): Promise<Map<string, string>> {
  const common = {
    bundle: true,
    write: false,
    target: 'chrome120',
    logLevel: 'silent' as const,
    alias: { '@common': join(audioDir, '..', '..', '..', 'src-main', 'common') },
  };
  const page = await build({ ...common, format: 'iife', stdin: { contents: PAGE_DRIVER, resolveDir: audioDir, loader: 'ts', sourcefile: 'page.ts' } });
  const worklet = await build({ ...common, format: 'esm', entryPoints: [join(audioDir, 'audio-device-processor.ts')] });
  const relay = await build({ ...common, format: 'esm', entryPoints: [join(audioDir, 'websocket-relay-worker.ts')] });
  return new Map([
    ['/', '<!doctype html><meta charset="utf-8"><title>audio test</title><script src="./page.js"></script>'],
    ['/page.js', page.outputFiles![0]!.text],
    ['/worklet.js', worklet.outputFiles![0]!.text],
    ['/relay.js', relay.outputFiles![0]!.text],
    ['/recorder.js', RECORDER_WORKLET],
  ]);
}

export async function startBench(): Promise<Bench> {
  const files = await bundle();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const body = files.get(path);
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

export function launch(captureFile: string): Promise<Browser> {
  return launchChromium({ captureFile });
}

/** Reads the capture side like the media session does: a 20 ms frame per 20 ms of wall time. */
export async function captureFor(device: PortAudioDevice, seconds: number, rate = PORT_RATE): Promise<Float32Array> {
  const frame = new Int16Array((rate * 20) / 1000);
  const out = new Float32Array(Math.round(seconds * rate));
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
export function windowLevels(samples: ArrayLike<number>, rate: number): string {
  const w = Math.round(rate / 10);
  const out: string[] = [];
  for (let s = 0; s + w <= samples.length; s += w) out.push(dbfs(samples, s, w).toFixed(0));
  return out.join(' ');
}

export function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function openPage(browser: Browser, bench: Bench, problems: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(bench.url);
  return page;
}

