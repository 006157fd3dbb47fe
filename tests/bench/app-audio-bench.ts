/**
 * The app's playout path beyond the jitter buffer, measured in Debian's Chromium (the dev:web
 * shape: the renderer's AudioEngine with a relay worker's MessagePort moved into its worklet; in
 * Electron the main process's MessagePort is moved in the same way): what a frame pulled from the jitter buffer goes through before the user hears
 * it, except the sound card's own output buffer, which is not ours and not observable here.
 * - queued ahead of the device: the PortAudioDevice keeps its playout target of audio in flight and
 *   in the worklet's ring (adaptive from 40 ms, as the app runs it); sampled as sent - played every 50 ms;
 * - the echo-reference route: the worklet's output goes through a loopback RTCPeerConnection pair
 *   into an <audio> element (echo-reference-route.ts: Chromium's AEC needs it); measured by
 *   recording both ends in the page (same AudioContext, same clock) while node plays a click
 *   every 500 ms, and pairing each click's onsets; the element is recorded through captureStream
 *   and a MediaStreamSource, whose own delay is measured on a direct MediaStream path and
 *   subtracted.
 */
import { PORT_SAMPLE_RATE } from '../../src-main/core/media/audio/renderer-audio-provider';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { decodeFloat32, fakeMicrophoneWav, launch, openPage, startBench, waitFor } from '../renderer/audio-engine-page';
import { distribution, type Distribution } from './stats';

export interface AppPlayoutFigures {
  /** Audio queued between the jitter buffer's pull and the worklet's output, ms. */
  queuedAheadMs: Distribution | undefined;
  /** The loopback route's delay (worklet output → <audio> element), ms, less the measuring path's. */
  routeMs: Distribution | undefined;
  /** What recording through a MediaStream costs by itself (worklet → MediaStream → recorder), ms. */
  measuringPathMs: Distribution | undefined;
  clicksSent: number;
  /** Audio the worklet had to make up (its ring ran dry) while measuring, and all it played, ms. */
  underrunMs: number;
  playedMs: number;
  /** The PortAudioDevice's playout target at the end (adaptive, playout-target.ts), ms, and how often it was raised. */
  targetMs: number;
  targetRaises: number;
}

const CLICK_EVERY_S = 0.5;
const CLICK_S = 0.01;
const CLICK_HZ = 2000;

/** Start times (s) of the clicks in `samples`: rising past `threshold` after 200 ms below it. */
export function clickOnsets(samples: Float32Array, rate: number, threshold = 0.05): number[] {
  const onsets: number[] = [];
  const quiet = Math.round(0.2 * rate);
  let lastLoud = -quiet;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) < threshold) continue;
    if (i - lastLoud >= quiet) onsets.push(i / rate);
    lastLoud = i;
  }
  return onsets;
}

/** For each onset in `from`, the delay to the first onset in `to` within `maxS` after it. */
export function pairedDelays(from: readonly number[], to: readonly number[], maxS: number): number[] {
  const delays: number[] = [];
  for (const t of from) {
    const match = to.find((u) => u >= t && u - t <= maxS);
    if (match !== undefined) delays.push(match - t);
  }
  return delays;
}

export async function benchAppPlayout(seconds: number, playoutTargetMs?: number): Promise<AppPlayoutFigures> {
  const dir = makeTempDir('sb-app-playout-');
  const bench = await startBench();
  const browser = await launch(fakeMicrophoneWav(dir));
  try {
    const problems: string[] = [];
    const page = await openPage(browser, bench, problems);
    type Api = { audioTest: { start(o: object): Promise<{ contextRate: number }>; record(names: string[]): void; recorded(name: string): Promise<string> } };
    const connected = bench.nextDevice({ sampleRate: PORT_SAMPLE_RATE, ...(playoutTargetMs !== undefined ? { playoutTargetMs } : {}) });
    // The app's dev:web shape: frames through a relay worker, moved into the worklet as a MessagePort.
    const started = page.evaluate((rate) => (globalThis as unknown as Api).audioTest.start({ sampleRate: rate }), PORT_SAMPLE_RATE);
    const device = await connected;
    const { contextRate } = await started;
    // A click: CLICK_S of CLICK_HZ at half scale every CLICK_EVERY_S, counted in pulled samples.
    let n = 0;
    let clicksSent = 0;
    const period = Math.round(CLICK_EVERY_S * PORT_SAMPLE_RATE);
    const length = Math.round(CLICK_S * PORT_SAMPLE_RATE);
    device.setPuller((frame) => {
      for (let i = 0; i < frame.length; i++, n++) {
        const at = n % period;
        if (at === 0) clicksSent++;
        frame[i] = at < length ? Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * CLICK_HZ * at) / PORT_SAMPLE_RATE)) : 0;
      }
    });
    await waitFor('playout reports', () => (device.stats().playout.reports > 20 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500)); // the loopback route settles
    await page.evaluate(() => (globalThis as unknown as Api).audioTest.record(['worklet', 'element', 'stream']));
    const queued: number[] = [];
    const sentAtStart = clicksSent;
    const before = device.stats().playout.report;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      const { samplesSent, report } = device.stats().playout;
      queued.push(((samplesSent - report.played) * 1000) / PORT_SAMPLE_RATE);
    }
    // Read before the recordings are fetched: encoding megabytes of them stalls the page's main
    // thread, which relays the frames in this shape, and the worklet then runs dry (earlier
    // figures counted that: 6-10 % "underrun" that was the measurement's own).
    const { report: after, targetMs, targetRaises } = device.stats().playout;
    const [worklet, element, stream] = await Promise.all(
      ['worklet', 'element', 'stream'].map(async (name) => decodeFloat32(await page.evaluate((n) => (globalThis as unknown as Api).audioTest.recorded(n), name))),
    );
    device.setPuller(undefined);
    await device.close();
    if (problems.length > 0) throw new Error(`the page reported: ${problems.join('; ')}`);
    const onsets = clickOnsets(worklet!, contextRate);
    const viaElement = pairedDelays(onsets, clickOnsets(element!, contextRate), 0.3).map((s) => s * 1000);
    const viaStream = pairedDelays(onsets, clickOnsets(stream!, contextRate), 0.3).map((s) => s * 1000);
    const streamMs = distribution(viaStream)?.median ?? 0;
    return {
      queuedAheadMs: distribution(queued),
      routeMs: distribution(viaElement.map((ms) => ms - streamMs)),
      measuringPathMs: distribution(viaStream),
      clicksSent: clicksSent - sentAtStart,
      underrunMs: ((after.underrun - before.underrun) * 1000) / PORT_SAMPLE_RATE,
      playedMs: ((after.played - before.played) * 1000) / PORT_SAMPLE_RATE,
      targetMs,
      targetRaises,
    };
  } finally {
    await browser.close();
    await bench.close();
    removeTempDir(dir);
  }
}
