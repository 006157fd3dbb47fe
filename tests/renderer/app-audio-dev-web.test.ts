// Call audio through the app, end to end: dev:web with the real core (startDevWeb), Debian's
// Chromium with a fake microphone playing a 440 Hz WAV generated here, a Kamailio PBX and baresip
// (auto-answer, playing 1000 Hz). The user adds an account and calls in the UI; we check that our
// microphone reached the far end (baresip's recording holds 440 Hz: worklet -> /audio socket ->
// PortAudioDevice -> RTP) and that the page played the far end's 1000 Hz (an AnalyserNode on the
// app's own audio worklet node, plus the level meter the UI shows). Calling a baresip that does
// not answer, the page plays the local ringback while the call rings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startDevWeb, type DevWeb } from '../../src-main/web/dev-web';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { detectTone, readWav, toneWav, writeWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { launchChromium, saveScreenshot } from './browser';

const OUR_TONE = 440;
const FAR_TONE = 1000;
/** Local ringback (ringback-tone.ts): 425 Hz, 1 s on, 4 s off, starting at once. */
const RINGBACK_HZ = 425;
const TALK_MS = 3000;
const UI_TIMEOUT = 15_000;

// Before any page script: remember the app's audio device worklet nodes, so the test can listen to
// what the app plays without the app exposing anything for tests.
const WATCH_AUDIO_NODES = `
(() => {
  const Original = window.AudioWorkletNode;
  window.__appAudioNodes = [];
  window.AudioWorkletNode = class extends Original {
    constructor(context, name, options) {
      super(context, name, options);
      if (name === 'switchboard-audio-device') window.__appAudioNodes.push(this);
    }
  };
})();
`;

// Before any page script: keep the microphone streams the app opens, so a test can make one go
// away as an unplugged device does (Chromium's fake device cannot be unplugged).
const WATCH_MICROPHONES = `
(() => {
  const open = MediaDevices.prototype.getUserMedia;
  window.__microphones = [];
  MediaDevices.prototype.getUserMedia = async function (constraints) {
    const stream = await open.call(this, constraints);
    window.__microphones.push(stream);
    return stream;
  };
  // Every RTCPeerConnection the app makes (the echo-reference route opens a pair per call).
  const Connection = window.RTCPeerConnection;
  window.__peerConnections = 0;
  window.RTCPeerConnection = class extends Connection {
    constructor(...args) {
      super(...args);
      window.__peerConnections++;
    }
  };
  window.__unplugMicrophone = () => {
    const track = window.__microphones.at(-1).getAudioTracks()[0];
    track.stop();
    track.dispatchEvent(new Event('ended'));
    return track.label;
  };
})();
`;

/** The app's worklet meter (audio-device-processor.ts): cumulative counters in 48 kHz port samples. */
interface WorkletMeter {
  dropped: number;
  buffered: number;
  played: number;
}

// In the page: the context of the app's newest worklet node stands for the sound card; suspended
// for a second, it takes nothing, as a device that stalls. Returns the worklet's meters before and
// 1.5 s after it resumed.
const STALL_THE_SOUND_CARD = `
(async () => {
  const node = window.__appAudioNodes.at(-1);
  let last;
  node.port.addEventListener('message', (e) => { if (e.data && e.data.kind === 'meter') last = e.data; });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await sleep(300);
  const before = last;
  await node.context.suspend();
  await sleep(1000);
  await node.context.resume();
  await sleep(1500);
  return { before, after: last };
})()
`;

/**
 * Dominant frequency (Hz) and level (dBFS) of what the app's newest worklet node plays: the
 * loudest moment over `listenMs` (a tone with a cadence is caught in its on part).
 */
async function playedSpectrum(page: Page, listenMs = 1000): Promise<{ peakHz: number; peakDb: number; nodes: number }> {
  // Runs in the page (DOM types are not in this tsconfig, hence the structural types).
  interface Node {
    context: { sampleRate: number; createAnalyser(): Analyser };
    connect(to: unknown): void;
    disconnect(from: unknown): void;
  }
  interface Analyser {
    fftSize: number;
    smoothingTimeConstant: number;
    frequencyBinCount: number;
    getFloatFrequencyData(into: Float32Array): void;
  }
  return page.evaluate(async (listenMs) => {
    const nodes = (globalThis as unknown as { __appAudioNodes: Node[] }).__appAudioNodes;
    const node = nodes[nodes.length - 1];
    if (!node) return { peakHz: 0, peakDb: -Infinity, nodes: 0 };
    const analyser = node.context.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    node.connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    let best = { peakHz: 0, peakDb: -Infinity };
    const end = performance.now() + listenMs;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      analyser.getFloatFrequencyData(bins);
      let peak = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[peak]!) peak = i;
      if (bins[peak]! > best.peakDb) best = { peakHz: (peak * node.context.sampleRate) / analyser.fftSize, peakDb: bins[peak]! };
    }
    node.disconnect(analyser);
    return { ...best, nodes: nodes.length };
  }, listenMs);
}

/**
 * Dials `who` in the window and waits until the call is in `state` and its audio runs: the call's
 * row, its id and its audio panel.
 */
async function dialInWindow(page: Page, who: string, state: 'connected' | 'ringing'): Promise<{ call: Locator; callId: string; audio: Locator }> {
  const dial = page.getByRole('region', { name: 'Dial' });
  await dial.getByLabel('Number or SIP address').fill(who);
  await dial.getByRole('button', { name: 'Call' }).click();
  const call = page.locator(`li.call-row[data-state="${state}"]`);
  await call.waitFor({ timeout: UI_TIMEOUT });
  const callId = (await call.getAttribute('data-call-id')) ?? '';
  const audio = page.locator(`.call-audio[data-call="${callId}"][data-status="running"]`);
  await audio.waitFor({ timeout: UI_TIMEOUT });
  return { call, callId, audio };
}

/** Hangs up in the window and waits until the call's audio is gone (and `peer` saw the call close). */
async function hangUpInWindow(page: Page, { call, callId }: { call: Locator; callId: string }, peer?: TestBaresip): Promise<void> {
  await call.getByRole('button', { name: 'Hang up' }).click();
  await peer?.waitForEvent((e) => e.type === 'CALL_CLOSED', UI_TIMEOUT, { includePast: true });
  await page.locator(`.call-audio[data-call="${callId}"]`).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
}

describe('call audio in the app (dev:web, Chromium, Kamailio, baresip)', () => {
  let dir: string;
  let pbx: TestPbx;
  let bob: TestBaresip;
  /** Never answers: her calls ring until we hang up. */
  let carol: TestBaresip;
  let devWeb: DevWeb;
  let browser: Browser;
  let page: Page;
  /** Errors the page reported (dev:web's own log lines are diagnostics, kept apart). */
  const problems: string[] = [];
  const serverLog: string[] = [];

  before(async () => {
    dir = makeTempDir('app-audio-');
    const mic = join(dir, 'mic-440.wav');
    const tone = new Float32Array(48000 * 4);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * OUR_TONE * i) / 48000);
    writeWav(mic, tone, 48000); // Chromium loops it as the microphone
    const far = toneWav(join(dir, 'far-1000.wav'), { frequencyHz: FAR_TONE, seconds: 30, sampleRate: 8000, amplitude: 0.4 });
    pbx = await startKamailio({ users: ['alice', 'bob', 'carol'] });
    bob = await startBaresip({ pbx, user: 'bob', transport: 'udp', autoAnswer: true, toneWav: far, codecs: ['PCMU', 'PCMA'] });
    carol = await startBaresip({ pbx, user: 'carol', transport: 'udp', toneWav: far, codecs: ['PCMU', 'PCMA'] });
    devWeb = await startDevWeb({ log: (line) => serverLog.push(line) });
    browser = await launchChromium({ captureFile: mic });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.addInitScript(WATCH_AUDIO_NODES);
    await page.addInitScript(WATCH_MICROPHONES);
    await page.goto(devWeb.url);
  });

  after(async () => {
    await browser?.close();
    await devWeb?.stop();
    await bob?.stop();
    await carol?.stop();
    await pbx?.stop();
    if (dir) removeTempDir(dir);
  });

  test('the user calls baresip: each side hears the other, and the audio stops at hang-up', async (t) => {
    const form = page.getByRole('region', { name: 'Add account' });
    await form.getByLabel('Address (AOR)').fill(pbx.aor('alice'));
    await form.getByLabel('Password').fill(pbx.password('alice'));
    await form.getByLabel('Outbound proxy').fill(pbx.proxyUri('udp'));
    await form.getByRole('button', { name: 'Add account' }).click();
    await page.getByRole('status', { name: `Status of ${pbx.aor('alice')}` }).getByText('Registered').waitFor({ timeout: UI_TIMEOUT });

    const placed = await dialInWindow(page, 'bob', 'connected');
    await new Promise((r) => setTimeout(r, TALK_MS));
    const played = await playedSpectrum(page);
    const farLevel = Number(await placed.audio.getByRole('meter', { name: 'Far end level' }).getAttribute('value'));
    await saveScreenshot(page, 'app-audio-dev-web.png');
    await hangUpInWindow(page, placed, bob);

    t.diagnostic(`played: peak ${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB; far-end meter ${farLevel}`);
    assert.equal(played.nodes, 1, 'one audio device for the one call');
    assert.equal(await page.evaluate('__peerConnections'), 2, 'echo cancellation on (the default): the far end plays through the loopback route');
    assert.ok(Math.abs(played.peakHz - FAR_TONE) < 20, `the page plays the far end's ${FAR_TONE} Hz, dominant was ${played.peakHz.toFixed(0)} Hz`);
    assert.ok(played.peakDb > -50, `the far end is audible in the page (peak ${played.peakDb.toFixed(1)} dBFS)`);
    assert.ok(farLevel > 0, 'the UI shows the far end level');

    const { received } = await bob.recordings();
    assert.equal(received.length, 1, 'baresip recorded the call');
    const heard = readWav(received[0]!);
    const detection = detectTone(heard.samples, heard.sampleRate, OUR_TONE, { minFraction: 0.4 });
    t.diagnostic(`baresip heard ${OUR_TONE} Hz in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`);
    assert.ok(detection.present, `baresip hears our microphone's ${OUR_TONE} Hz (in ${(detection.fraction * 100).toFixed(0)} % of windows)`);
    assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
  });
  test('calling someone who does not answer: the page plays the local ringback while the call rings', async (t) => {
    const placed = await dialInWindow(page, 'carol', 'ringing');
    const played = await playedSpectrum(page, 5000); // one cadence: 1 s on, 4 s off
    await hangUpInWindow(page, placed);
    t.diagnostic(`ringing: peak ${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB`);
    assert.ok(Math.abs(played.peakHz - RINGBACK_HZ) < 20, `the page plays the ${RINGBACK_HZ} Hz ringback, dominant was ${played.peakHz.toFixed(0)} Hz`);
    assert.ok(played.peakDb > -50, `audibly (peak ${played.peakDb.toFixed(1)} dBFS)`);
    assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
  });

  test('with echo cancellation off (a headset), the far end plays without the loopback route and its delay', async (t) => {
    const aec = page.getByLabel('Echo cancellation');
    await aec.uncheck();
    try {
      const before = Number(await page.evaluate('__peerConnections'));
      const placed = await dialInWindow(page, 'bob', 'connected');
      await new Promise((r) => setTimeout(r, 1500));
      const played = await playedSpectrum(page);
      await hangUpInWindow(page, placed, bob);
      t.diagnostic(`played: peak ${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB`);
      assert.equal(Number(await page.evaluate('__peerConnections')) - before, 0, 'no loopback route for this call');
      assert.ok(Math.abs(played.peakHz - FAR_TONE) < 20 && played.peakDb > -50, `the far end is heard all the same (${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB)`);
      assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
    } finally {
      await aec.check();
    }
  });

  test('with the built-in echo canceller chosen, the far end plays without the loopback route, both sides hear each other, and the window shows the canceller at work', async (t) => {
    const choice = page.getByRole('combobox', { name: /^Echo canceller/ });
    await choice.selectOption('built-in');
    try {
      const before = Number(await page.evaluate('__peerConnections'));
      const placed = await dialInWindow(page, 'bob', 'connected');
      await new Promise((r) => setTimeout(r, TALK_MS));
      const played = await playedSpectrum(page);
      const status = await placed.audio.getByLabel('Echo canceller').textContent({ timeout: UI_TIMEOUT });
      const applied = await page.evaluate('__microphones.at(-1).getAudioTracks()[0].getSettings().echoCancellation');
      await hangUpInWindow(page, placed, bob);
      t.diagnostic(`played: peak ${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB; the window said: ${status}`);
      assert.equal(Number(await page.evaluate('__peerConnections')) - before, 0, 'no loopback route for this call');
      assert.equal(applied, false, "Chromium's own canceller is not asked for");
      assert.match(status ?? '', /^\s*Built-in echo canceller: (listening for echo|no echo heard)\s*$/, 'no echo in this set-up (the microphone hears only its own tone)');
      assert.ok(Math.abs(played.peakHz - FAR_TONE) < 20 && played.peakDb > -50, `the far end is heard (${played.peakHz.toFixed(0)} Hz at ${played.peakDb.toFixed(1)} dB)`);
      const { received } = await bob.recordings();
      const heard = readWav(received.at(-1)!);
      const detection = detectTone(heard.samples, heard.sampleRate, OUR_TONE, { minFraction: 0.4 });
      t.diagnostic(`baresip heard ${OUR_TONE} Hz in ${(detection.fraction * 100).toFixed(0)} % of windows, SNR ${detection.snrDb.toFixed(1)} dB`);
      assert.ok(detection.present, `baresip hears our microphone through the canceller (in ${(detection.fraction * 100).toFixed(0)} % of windows)`);
      assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
    } finally {
      await choice.selectOption('chromium');
    }
  });

  test('the sound card stops for a second mid-call (an output switch, a Bluetooth hiccup): playout comes back on time, nothing piled up or dropped', async (t) => {
    const placed = await dialInWindow(page, 'bob', 'connected');
    let meters: { before?: WorkletMeter; after?: WorkletMeter };
    try {
      await new Promise((r) => setTimeout(r, 1500));
      meters = (await page.evaluate(STALL_THE_SOUND_CARD)) as typeof meters;
    } finally {
      await hangUpInWindow(page, placed, bob);
    }
    t.diagnostic(`worklet meter before ${JSON.stringify(meters.before)}, after ${JSON.stringify(meters.after)}`);
    assert.ok(meters.before && meters.after, 'the worklet metered its ring');
    const droppedMs = ((meters.after.dropped - meters.before.dropped) * 1000) / 48000;
    const bufferedMs = (meters.after.buffered * 1000) / 48000;
    assert.equal(droppedMs, 0, `no audio piled up past the ring and dropped while the device stood still (${droppedMs.toFixed(0)} ms dropped)`);
    // The queue kept ahead is adaptive: at most 140 ms, on a path that stalls (playout-target.ts).
    assert.ok(bufferedMs < 150, `the ring is back to a short queue after the stall (${bufferedMs.toFixed(0)} ms buffered)`);
    assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
  });

  test('the microphone goes away mid-call: the app opens another, says so, and baresip hears us again', async (t) => {
    const placed = await dialInWindow(page, 'bob', 'connected');
    await new Promise((r) => setTimeout(r, 1000));
    const lost = await page.evaluate('__unplugMicrophone()');
    const notice = await placed.audio.getByRole('status').textContent({ timeout: UI_TIMEOUT });
    await new Promise((r) => setTimeout(r, TALK_MS));
    await hangUpInWindow(page, placed, bob);

    t.diagnostic(`the window said: ${notice}`);
    assert.ok(notice?.includes(`The microphone (${String(lost)}) went away; now using`), `the window says the microphone changed: ${notice}`);
    const { received } = await bob.recordings();
    const heard = readWav(received.at(-1)!);
    // The last 2 s: well after the old microphone went away.
    const tail = heard.samples.subarray(heard.samples.length - 2 * heard.sampleRate);
    const detection = detectTone(tail, heard.sampleRate, OUR_TONE, { minFraction: 0.8 });
    assert.ok(detection.present, `baresip hears our ${OUR_TONE} Hz after the change (in ${(detection.fraction * 100).toFixed(0)} % of windows)`);
    assert.deepEqual(problems, [], `no errors in the page (dev:web said: ${serverLog.join(' | ')})`);
  });
});
