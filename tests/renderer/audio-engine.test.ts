// The app's audio device path in Debian's Chromium: AudioEngine + AudioWorklet in a page served on
// 127.0.0.1, frames over the WebSocket adapter to a PortAudioDevice in this (node) process.
// Chromium's fake microphone plays a WAV file generated here; what reaches node is analysed with
// the tests' audio oracle. Playout is analysed where it leaves the worklet AND where it leaves the
// <audio> element of the echo-reference loopback (the sound the user would hear).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { PortAudioDevice } from '../../src-main/core/media/audio/port-audio-device';
import { FRAME_PROTOCOL_VERSION } from '../../src-main/common/audio/frame-protocol';
import { join } from 'node:path';
import { detectTone, dbfs, dominantFrequency, goertzelPower, meanSquare, writeWav } from '../harness/audio-analysis';
import { makeTempDir } from '../harness/temp-dir';
import { speechLike } from '../harness/echo-simulation';
import { RealFft } from '../../src-renderer/src/audio/real-fft';
import { captureFor, decodeFloat32, FAKE_MIC_SECONDS, fakeMicrophoneWav, launch, openPage, PORT_RATE, startBench, waitFor, windowLevels, type Bench } from './audio-engine-page';
describe('AudioEngine capture and playout in Chromium (a WebSocket relayed by the page)', () => {
  let bench: Bench;
  let browser: Browser;
  let page: Page;
  let device: PortAudioDevice;
  const problems: string[] = [];
  let contextRate = 0;

  before(async () => {
    const dir = makeTempDir('audio-engine');
    const wav = fakeMicrophoneWav(dir);
    bench = await startBench();
    browser = await launch(wav);
    page = await openPage(browser, bench, problems);
    const connected = bench.nextDevice({ playoutTargetMs: 60 });
    // 44.1 kHz context: the worklet must resample 44100 <-> 16000 (a non-integer ratio) both ways.
    const started = page.evaluate(() =>
      (globalThis as unknown as { audioTest: { start(o: object): Promise<{ contextRate: number }> } }).audioTest.start({
        sampleRate: 16000,
        contextSampleRate: 44100,
        // AudioEngine's relay of any FramePort through the page's main thread (the app's dev:web
        // used it until session 30; its relay worker now hands the engine a MessagePort).
        relay: 'page',
        processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        // Played through the loopback route, so the <audio> element's output is checked too.
        echoReference: 'loopback-peer-connection',
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
    assert.deepEqual(hello, { type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 16000, frameSamples: 320, deviceSampleRate: 44100 });
  });

  test('microphone frames reach node: 440 Hz at the right frequency and level, none lost', async () => {
    await waitFor('capture frames', () => (device.stats().capture.framesReceived > 25 ? true : undefined));
    // 4 s (3.5 s analysed): one hiccup of this shared 2-core machine (the fake capture device or a
    // late reader) spoils up to three 100 ms windows, which must not decide the verdict (over 1.5 s
    // it did, once in CI); a path that glitches again and again still fails the 90 % below.
    const captured = await captureFor(device, 4);
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
    device.setPuller((frame) => {
      for (let i = 0; i < frame.length; i++) {
        frame[i] = Math.round(0.4 * 32767 * Math.sin(phase));
        phase += (2 * Math.PI * 1000) / PORT_RATE;
      }
    });
    type Api = {
      audioTest: { record(names: string[]): void; recorded(name: string): Promise<string>; meter(): { played: number; underrun: number } | undefined };
    };
    await new Promise((r) => setTimeout(r, 1000));
    const meterBefore = await page.evaluate(() => {
      const test = (globalThis as unknown as Api).audioTest;
      test.record(['worklet', 'element']);
      return test.meter();
    });
    const sentBefore = device.stats().playout.samplesSent;
    // 4 s recorded, for the same reason as the capture test above.
    await new Promise((r) => setTimeout(r, 4000));
    const meterAfter = await page.evaluate(() => (globalThis as unknown as Api).audioTest.meter());
    const sentAfter = device.stats().playout.samplesSent;
    const [fromWorklet, fromElement] = (
      await page.evaluate(() => Promise.all([(globalThis as unknown as Api).audioTest.recorded('worklet'), (globalThis as unknown as Api).audioTest.recorded('element')]))
    ).map(decodeFloat32);
    device.setPuller(undefined);
    for (const [name, samples] of [['worklet output', fromWorklet], ['<audio> element', fromElement]] as const) {
      assert.ok(samples.length > contextRate, `${name}: only ${samples.length} samples recorded`);
      const detection = detectTone(samples, contextRate, 1000, { minSnrDb: name === 'worklet output' ? 30 : 20 });
      assert.ok(detection.present && detection.fraction > 0.9, `${name}: 1 kHz not clean: ${JSON.stringify(detection)} ${JSON.stringify(device.stats())} ${JSON.stringify(meterAfter)} windows ${windowLevels(samples, contextRate)}`);
      const { hz } = dominantFrequency(samples, contextRate, { minHz: 100, maxHz: 8000, stepHz: 10 });
      assert.ok(Math.abs(hz - 1000) <= 2, `${name}: dominant frequency ${hz} Hz`);
      const level = dbfs(samples);
      assert.ok(level > -13 && level < -8, `${name}: level ${level.toFixed(1)} dBFS (0.4 amplitude is -11 dBFS)`);
    }
    // Device-clock pacing: what node sent in the 4 s matches what the device played, and the
    // worklet did not starve.
    assert.ok(meterBefore && meterAfter, 'meters from the worklet');
    const played = meterAfter.played - meterBefore.played;
    const sent = sentAfter - sentBefore;
    assert.ok(Math.abs(played - sent) <= 0.1 * PORT_RATE, `played ${played} vs sent ${sent} samples`);
    const underrun = meterAfter.underrun - meterBefore.underrun;
    assert.ok(underrun < 0.05 * played, `underrun ${underrun} of ${played} samples`);
    assert.deepEqual(problems, []);
  });
});

describe('AudioEngine when the microphone goes away mid-call (Chromium)', () => {
  let bench: Bench;
  let browser: Browser;
  let page: Page;
  let device: PortAudioDevice;
  const problems: string[] = [];
  type Api = {
    audioTest: {
      start(o: object): Promise<unknown>;
      loseMicrophone(failOpens: number, chosenGone?: boolean): string;
      chooseMicrophone(): Promise<string>;
      useDefaultMicrophone(): Promise<void>;
      plugIn(): void;
      microphoneEvents: { kind: string; lost: string; label?: string; error?: string }[];
    };
  };
  const events = () => page.evaluate(() => (globalThis as unknown as Api).audioTest.microphoneEvents);

  before(async () => {
    const dir = makeTempDir('audio-engine-mic-lost');
    bench = await startBench();
    browser = await launch(fakeMicrophoneWav(dir));
    page = await openPage(browser, bench, problems);
    const connected = bench.nextDevice();
    const started = page.evaluate(() =>
      (globalThis as unknown as Api).audioTest.start({ sampleRate: 16000, processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } }),
    );
    device = await connected;
    await started;
    await waitFor('capture frames', () => (device.stats().capture.framesReceived > 25 ? true : undefined));
  });

  after(async () => {
    await device?.close();
    await browser?.close();
    await bench?.close();
  });

  /** Whether the far end would hear the fake microphone's 440 Hz in the next 2 s. */
  async function heard(): Promise<{ present: boolean; fraction: number }> {
    const captured = await captureFor(device, 2);
    return detectTone(captured.subarray(PORT_RATE / 2), PORT_RATE, 440, { minSnrDb: 25 });
  }

  test('it is re-opened at once, and the window is told which one is in use', async () => {
    assert.ok((await heard()).present, 'the microphone is heard before');
    const lost = await page.evaluate(() => (globalThis as unknown as Api).audioTest.loseMicrophone(0));
    const [event] = await waitFor('a microphone event', async () => ((await events()).length > 0 ? events() : undefined));
    assert.equal(event?.kind, 'reopened', JSON.stringify(event));
    assert.equal(event?.lost, lost);
    assert.ok(event?.label, 'the microphone now in use is named');
    const after = await heard();
    assert.ok(after.present && after.fraction > 0.8, `the far end hears the microphone again: ${JSON.stringify(after)}`);
  });

  test('a chosen microphone that goes away is replaced by the default one', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as Api).audioTest.microphoneEvents.length = 0;
    });
    const chosen = await page.evaluate(() => (globalThis as unknown as Api).audioTest.chooseMicrophone());
    assert.ok(chosen, 'a microphone chosen by id');
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.loseMicrophone(0, true));
    const [event] = await waitFor('a microphone event', async () => ((await events()).length > 0 ? events() : undefined));
    assert.equal(event?.kind, 'reopened', `the default opened instead: ${JSON.stringify(event)}`);
    const after = await heard();
    assert.ok(after.present && after.fraction > 0.8, `the far end hears the default microphone: ${JSON.stringify(after)}`);
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.useDefaultMicrophone());
  });

  test('with no microphone to open, it says so, and takes the next one plugged in', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as Api).audioTest.microphoneEvents.length = 0;
    });
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.loseMicrophone(1));
    const [unavailable] = await waitFor('a microphone event', async () => ((await events()).length > 0 ? events() : undefined));
    assert.equal(unavailable?.kind, 'unavailable', JSON.stringify(unavailable));
    assert.match(unavailable?.error ?? '', /not found/i);
    assert.ok(!(await heard()).present, 'nothing to hear while there is no microphone');
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.plugIn());
    const all = await waitFor('the microphone back', async () => ((await events()).length > 1 ? events() : undefined));
    assert.equal(all[1]?.kind, 'reopened', JSON.stringify(all));
    const after = await heard();
    assert.ok(after.present && after.fraction > 0.8, `the far end hears the new microphone: ${JSON.stringify(after)}`);
    assert.deepEqual(problems, []);
  });
});

describe('AudioEngine with a real MessagePort moved into the worklet (Electron, and dev:web through its relay worker)', () => {
  let bench: Bench;
  let browser: Browser;
  const problems: string[] = [];

  before(async () => {
    const dir = makeTempDir('audio-port');
    const wav = fakeMicrophoneWav(dir);
    bench = await startBench();
    browser = await launch(wav);
  });

  after(async () => {
    await browser?.close();
    await bench?.close();
  });

  test('capture and playout both work when frames bypass the page main thread (48 kHz context, 16 kHz port, 10 ms frames)', async () => {
    const page = await openPage(browser, bench, problems);
    const connected = bench.nextDevice({ playoutTargetMs: 60 });
    type Api = { audioTest: { start(o: object): Promise<{ contextRate: number }>; record(n: string[]): void; recorded(n: string): Promise<string> } };
    const started = page.evaluate(
      (o) => (globalThis as unknown as Api).audioTest.start(o),
      { sampleRate: PORT_RATE, frameMs: 10, contextSampleRate: 48000, processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } },
    );
    const device = await connected;
    const { contextRate: rate } = await started;
    assert.equal(rate, 48000);
    const hello = await waitFor('hello', () => device.stats().device);
    assert.equal(hello.frameSamples, 160);
    let phase = 0;
    device.setPuller((frame) => {
      for (let i = 0; i < frame.length; i++) {
        frame[i] = Math.round(0.4 * 32767 * Math.sin(phase));
        phase += (2 * Math.PI * 1000) / PORT_RATE;
      }
    });
    await waitFor('capture frames', () => (device.stats().capture.framesReceived > 50 ? true : undefined));
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.record(['worklet']));
    // 4 s: one hiccup of this 2-core machine (a top-up late by more than the 60 ms queued) spoils
    // two or three 100 ms windows, which must not decide the verdict (over 1.5 s it did, once in
    // CI); a path that glitches again and again still fails the 90 % below.
    const captured = (await captureFor(device, 4)).subarray(PORT_RATE / 4);
    const played = decodeFloat32(await page.evaluate(() => (globalThis as unknown as Api).audioTest.recorded('worklet')));
    device.setPuller(undefined);
    const capture = detectTone(captured, PORT_RATE, 440, { minSnrDb: 25 });
    assert.ok(capture.present && capture.fraction > 0.9, `captured 440 Hz: ${JSON.stringify(capture)} ${JSON.stringify(device.stats())}`);
    const playout = detectTone(played, rate, 1000, { minSnrDb: 30 });
    assert.ok(playout.present && playout.fraction > 0.9, `played 1 kHz: ${JSON.stringify(playout)} windows ${windowLevels(played, rate)}`);
    assert.equal(device.stats().capture.framesLost, 0);
    assert.equal(device.stats().protocolErrors, 0);
    await device.close();
    await page.close();
    assert.deepEqual(problems, []);
  });

  test("a page busy for 300 ms (a long layout, a GC) does not interrupt the call's audio; relayed by the page it did", async (t) => {
    type Api = { audioTest: { start(o: object): Promise<unknown> } };
    const gaps: Record<string, { underrunMs: number; captureLost: number }> = {};
    for (const relay of ['worker', 'page']) {
      const page = await openPage(browser, bench, problems);
      const connected = bench.nextDevice({ playoutTargetMs: 40 });
      const started = page.evaluate((o) => (globalThis as unknown as Api).audioTest.start(o), {
        sampleRate: PORT_RATE,
        relay,
        echoReference: 'audio-context',
        processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const device = await connected;
      await started;
      device.setPuller((frame) => frame.fill(3000));
      // Past the playout target's start grace (3 s), where running dry counts.
      await waitFor('steady playout', () => (device.stats().playout.report.played > 4 * PORT_RATE ? true : undefined), 15_000);
      const before = device.stats().playout.report.underrun;
      const capturedBefore = device.stats().capture.framesReceived;
      await page.evaluate('{ const end = performance.now() + 300; while (performance.now() < end); }');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stats = device.stats();
      gaps[relay] = { underrunMs: ((stats.playout.report.underrun - before) * 1000) / PORT_RATE, captureLost: stats.capture.framesLost };
      assert.ok(stats.capture.framesReceived - capturedBefore > 40, `${relay}: capture went on (${stats.capture.framesReceived - capturedBefore} frames in 1.3 s)`);
      device.setPuller(undefined);
      await device.close();
      await page.close();
    }
    t.diagnostic(JSON.stringify(gaps));
    assert.ok(gaps.worker!.underrunMs < 10, `through the relay worker the speaker ran dry for ${gaps.worker!.underrunMs.toFixed(1)} ms`);
    assert.ok(gaps.page!.underrunMs > 100, `the page relay was expected to stall with the page (control): ${gaps.page!.underrunMs.toFixed(1)} ms`);
    assert.deepEqual(problems, []);
  });
});

/**
 * Far-end test signal: 500 equal tones from 1000 to 2996 Hz (4 Hz apart, fixed pseudo-random
 * phases), so it is periodic with 250 ms at any sample rate and leaves 440 Hz free for the near
 * end (`spacingHz` 8: 250 tones, periodic with 125 ms). Periodic on purpose: the fake microphone loops a file whose echo must line up with what
 * we play, whatever the start offset; any offset is then a delay below 250 ms, inside the range
 * an echo canceller searches.
 */
function farEndSignal(rate: number, seconds: number, rmsLevel: number, spacingHz = 4): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  let seed = 12345;
  const tones = 2000 / spacingHz;
  for (let k = 0; k < tones; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const phase = (seed / 2 ** 31) * 2 * Math.PI;
    const w = (2 * Math.PI * (1000 + spacingHz * k)) / rate;
    for (let i = 0; i < out.length; i++) out[i]! += Math.sin(w * i + phase);
  }
  const scale = rmsLevel / Math.sqrt(meanSquare(out));
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

/**
 * One echo measurement in a fresh page: starts the engine with `options`, plays `farEnd` in a loop
 * from node, lets the canceller converge for 5 s, then captures 3 s of what the engine sends.
 */
async function echoRun(
  browser: Browser,
  bench: Bench,
  problems: string[],
  farEnd: Float32Array,
  options: object,
  rate = PORT_RATE,
): Promise<{ applied: unknown; captured: Float32Array; meter: { echoCanceller?: { echoDelayMs?: number; resets: number } } | undefined }> {
  const page = await openPage(browser, bench, problems);
  const connected = bench.nextDevice({ playoutTargetMs: 60, sampleRate: rate });
  const started = page.evaluate(
    (o) => (globalThis as unknown as { audioTest: { start(o: object): Promise<{ applied: unknown }> } }).audioTest.start(o),
    { ...options, sampleRate: rate },
  );
  const device = await connected;
  const { applied } = await started;
  let at = 0;
  device.setPuller((frame) => {
    for (let i = 0; i < frame.length; i++) {
      frame[i] = Math.round(farEnd[at]! * 32767);
      at = (at + 1) % farEnd.length;
    }
  });
  await captureFor(device, 5, rate); // let the canceller converge
  const captured = await captureFor(device, 3, rate);
  device.setPuller(undefined);
  const meter = (await page.evaluate('audioTest.meter()')) as { echoCanceller?: { echoDelayMs?: number; resets: number } } | undefined;
  await page.evaluate(() => (globalThis as unknown as { audioTest: { stop(): Promise<void> } }).audioTest.stop());
  await device.close();
  await page.close();
  return { applied, captured, meter };
}

/** Mean over 100 ms windows of the 440 Hz power and of everything else (robust to phase jumps). */
function echoAndNearEnd(captured: Float32Array): { echo: number; near: number } {
  const w = PORT_RATE / 10;
  let echo = 0;
  let near = 0;
  let windows = 0;
  for (let start = 0; start + w <= captured.length; start += w, windows++) {
    const total = meanSquare(captured, start, w);
    const tone = Math.min(total, goertzelPower(captured, PORT_RATE, 440, start, w));
    near += tone;
    echo += total - tone;
  }
  return { echo: echo / windows, near: near / windows };
}

const ON_LOOPBACK = 'AEC on, far end through the loopback <audio> route';
const ON_AUDIO_CONTEXT = 'AEC on, far end through AudioContext.destination';
const OFF = 'AEC off, loopback route';

interface EchoRun {
  config: string;
  applied: unknown;
  /** Captured power apart from the near-end tone (the echo that got through), dBFS. */
  echoDb: number;
  /** Near-end 440 Hz power, dBFS. */
  nearDb: number;
}

describe('echo cancellation with the far end played through the loopback <audio> route', () => {
  let bench: Bench;
  let browser: Browser;
  const runs: EchoRun[] = [];
  const problems: string[] = [];

  before(async () => {
    const dir = makeTempDir('audio-echo');
    // Simulated acoustic echo: the fake microphone hears the far end (at half its level) plus a
    // near-end talker (440 Hz). FAKE_MIC_SECONDS (20 s) = 80 far-end periods = 8800 near-end
    // cycles, longer than a run listens: Chromium's fake device skips ~2.9 ms each time it wraps
    // the file (measured: the echo's delay jumped by 46 samples every 2 s with a 2 s file), which
    // no room does.
    const rate = 48000;
    const echo = farEndSignal(rate, FAKE_MIC_SECONDS, 0.5 * 0.15);
    for (let i = 0; i < echo.length; i++) echo[i]! += 0.1 * Math.sin((2 * Math.PI * 440 * i) / rate);
    const wav = join(dir, 'echo.wav');
    writeWav(wav, echo, rate);
    bench = await startBench();
    browser = await launch(wav);
    const farEnd = farEndSignal(PORT_RATE, 0.25, 0.15);
    const processing = (echoCancellation: boolean | 'remote-only') => ({ echoCancellation, noiseSuppression: false, autoGainControl: false });
    const configs: [string, object][] = [
      [ON_LOOPBACK, { processing: processing(true), echoReference: 'loopback-peer-connection' }],
      // The same canceller mode as the loopback run gets, so the route is the only difference.
      [ON_AUDIO_CONTEXT, { processing: processing('remote-only'), echoReference: 'audio-context' }],
      [OFF, { processing: processing(false), echoReference: 'loopback-peer-connection' }],
    ];
    for (const [config, options] of configs) {
      const { applied, captured } = await echoRun(browser, bench, problems, farEnd, options);
      const { echo, near } = echoAndNearEnd(captured);
      runs.push({ config, applied, echoDb: 10 * Math.log10(Math.max(echo, 1e-12)), nearDb: 10 * Math.log10(Math.max(near, 1e-12)) });
    }
  });

  after(async () => {
    await browser?.close();
    await bench?.close();
  });

  const run = (config: string): EchoRun => {
    const found = runs.find((r) => r.config === config);
    assert.ok(found, `no run for ${config}`);
    return found;
  };

  test('with the loopback route, Chromium cancels the echo by at least 10 dB and keeps the near end', (t) => {
    t.diagnostic(JSON.stringify(runs));
    const on = run(ON_LOOPBACK);
    const off = run(OFF);
    assert.equal((on.applied as { echoCancellation: unknown }).echoCancellation, 'remote-only');
    assert.equal((off.applied as { echoCancellation: unknown }).echoCancellation, false);
    // Sanity of the simulation: without AEC the echo is there at its simulated level (-22.5 dBFS).
    assert.ok(Math.abs(off.echoDb + 22.5) < 2, `echo without AEC at ${off.echoDb.toFixed(1)} dBFS`);
    const reduction = off.echoDb - on.echoDb;
    assert.ok(reduction >= 10, `echo reduced by only ${reduction.toFixed(1)} dB (${off.echoDb.toFixed(1)} -> ${on.echoDb.toFixed(1)} dBFS)`);
    // Typically 1-2 dB; 3.3 dB was seen once on a loaded 2-core machine. An AEC that ate the near
    // end would cost it 10 dB or more.
    assert.ok(off.nearDb - on.nearDb < 5, `near-end talker lost ${(off.nearDb - on.nearDb).toFixed(1)} dB`);
  });

  test('playing through the AudioContext instead gives the canceller no reference (Chromium bug 687574)', () => {
    const direct = run(ON_AUDIO_CONTEXT);
    const off = run(OFF);
    assert.equal((direct.applied as { echoCancellation: unknown }).echoCancellation, 'remote-only');
    // The same AEC setting without the loopback route: the echo stays (this is why the route exists,
    // and shows the reduction above comes from the reference, not from other processing).
    assert.ok(off.echoDb - direct.echoDb < 3, `AudioContext route reduced echo by ${(off.echoDb - direct.echoDb).toFixed(1)} dB`);
    assert.deepEqual(problems, []);
  });
});

/** `signal` with everything above `hz` removed (one FFT over the whole signal). */
function lowPass(signal: Float32Array, rate: number, hz: number): Float32Array {
  const size = 2 ** Math.ceil(Math.log2(signal.length));
  const fft = new RealFft(size);
  const re = new Float64Array(fft.bins);
  const im = new Float64Array(fft.bins);
  const padded = new Float64Array(size);
  padded.set(signal);
  fft.forward(padded, re, im);
  for (let f = 0; f < fft.bins; f++) {
    if ((f * rate) / size > hz) {
      re[f] = 0;
      im[f] = 0;
    }
  }
  fft.inverse(re, im, padded);
  return Float32Array.from(padded.subarray(0, signal.length));
}

/**
 * Power of the captured audio in the far end's band (1-3 kHz: echo) and below 800 Hz (the
 * near-end talker), mean per 1024-sample Hann window, relative to full scale.
 */
function bandPowers(captured: Float32Array, rate = PORT_RATE): { echo: number; near: number } {
  const size = 1024;
  const fft = new RealFft(size);
  const re = new Float64Array(fft.bins);
  const im = new Float64Array(fft.bins);
  const frame = new Float64Array(size);
  let echo = 0;
  let near = 0;
  let windows = 0;
  // Hann's power gain (3/8) and the one-sided spectrum's scale, so a full-scale sine reads 0.5.
  const scale = 2 / ((3 / 8) * size * size);
  for (let start = 0; start + size <= captured.length; start += size, windows++) {
    for (let i = 0; i < size; i++) frame[i] = captured[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    fft.forward(frame, re, im);
    for (let f = 1; f < fft.bins; f++) {
      const hz = (f * rate) / size;
      const power = (re[f]! ** 2 + im[f]! ** 2) * scale;
      if (hz >= 950 && hz <= 3050) echo += power;
      else if (hz < 800) near += power;
    }
  }
  return { echo: echo / windows, near: near / windows };
}

describe('the built-in echo canceller in the worklet (no loopback route)', () => {
  let bench: Bench;
  let browser: Browser;
  const runs: (EchoRun & { canceller?: { echoDelayMs?: number; resets: number } })[] = [];
  const problems: string[] = [];
  const BUILT_IN = 'built-in canceller, far end through AudioContext.destination';
  const BUILT_IN_48K = 'built-in canceller at a 48 kHz port (split-band: the filter at 16 kHz below 8 kHz)';
  const CHROMIUM = "Chromium's canceller through the loopback route";
  const NONE = 'no canceller, far end through AudioContext.destination';

  before(async () => {
    const dir = makeTempDir('audio-echo-built-in');
    // The fake microphone hears the far end's echo (the periodic 1-3 kHz signal, half its level,
    // repeating every 125 ms: any start offset is a delay under 125 ms, within the built-in
    // canceller's 160 ms) and, all the time, a near-end talker that is NOT
    // periodic, as a voice is not: speech-like noise with nothing above 700 Hz, so echo and
    // talker are told apart by band. (A steady near-end tone in lock-step with the far end's
    // tones is a test artefact the alternately-constrained filter partly learns: see
    // echo-canceller.ts.)
    const rate = 48000;
    const mic = farEndSignal(rate, FAKE_MIC_SECONDS, 0.5 * 0.15, 8);
    const talker = lowPass(speechLike(rate, FAKE_MIC_SECONDS, 7, 0.15), rate, 700);
    for (let i = 0; i < mic.length; i++) mic[i]! += talker[i]!;
    const wav = join(dir, 'echo-and-talker.wav');
    writeWav(wav, mic, rate);
    bench = await startBench();
    browser = await launch(wav);
    const farEnd = farEndSignal(PORT_RATE, 0.125, 0.15, 8);
    const off = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
    const configs: [string, object, number][] = [
      [BUILT_IN, { processing: { ...off, echoCancellation: true }, echoReference: 'built-in-canceller' }, PORT_RATE],
      [BUILT_IN_48K, { processing: { ...off, echoCancellation: true }, echoReference: 'built-in-canceller' }, 48000],
      [CHROMIUM, { processing: { ...off, echoCancellation: true }, echoReference: 'loopback-peer-connection' }, PORT_RATE],
      [NONE, { processing: off, echoReference: 'audio-context' }, PORT_RATE],
    ];
    for (const [config, options, rate] of configs) {
      const signal = rate === PORT_RATE ? farEnd : farEndSignal(rate, 0.125, 0.15, 8);
      const { applied, captured, meter } = await echoRun(browser, bench, problems, signal, options, rate);
      const { echo, near } = bandPowers(captured, rate);
      runs.push({ config, applied, canceller: meter?.echoCanceller, echoDb: 10 * Math.log10(Math.max(echo, 1e-12)), nearDb: 10 * Math.log10(Math.max(near, 1e-12)) });
    }
  });

  after(async () => {
    await browser?.close();
    await bench?.close();
  });

  const run = (config: string) => {
    const found = runs.find((r) => r.config === config);
    assert.ok(found, `no run for ${config}`);
    return found;
  };

  test('cancels the echo by at least 15 dB while the near end talks, keeping the talker, without asking Chromium', (t) => {
    t.diagnostic(JSON.stringify(runs));
    const builtIn = run(BUILT_IN);
    const none = run(NONE);
    // Chromium's canceller is not asked for: the reduction is ours.
    assert.equal((builtIn.applied as { echoCancellation: unknown }).echoCancellation, false);
    assert.ok(builtIn.canceller, 'the worklet reports its canceller in its meter');
    // Sanity of the simulation: without a canceller the echo is there at its level.
    assert.ok(Math.abs(none.echoDb + 22.5) < 2, `echo without a canceller at ${none.echoDb.toFixed(1)} dBFS`);
    for (const ours of [builtIn, run(BUILT_IN_48K)]) {
      const reduction = none.echoDb - ours.echoDb;
      assert.ok(reduction >= 15, `${ours.config}: echo reduced by only ${reduction.toFixed(1)} dB (${none.echoDb.toFixed(1)} -> ${ours.echoDb.toFixed(1)} dBFS)`);
      assert.ok(none.nearDb - ours.nearDb < 3, `${ours.config}: near-end talker lost ${(none.nearDb - ours.nearDb).toFixed(1)} dB`);
    }
    assert.deepEqual(problems, []);
  });
});
