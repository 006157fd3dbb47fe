// Incoming calls are heard, in a real browser against a scripted core (scripted-core.ts): the
// ring plays on the ringing device the user chose, answering / declining / the caller giving up
// stops it, a call arriving during another call gives call-waiting beeps on the call speaker
// instead, and the device choices are kept across a reload (a corrupt saved copy is reported and
// kept aside) and across a device's unplugging. What sounds is measured from the page's alert
// elements (captureStream), not assumed from their state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { ScriptedCore } from './scripted-core';
import { addAccountThroughForm, openScriptedApp, type ScriptedApp } from './scripted-app';

const UI_TIMEOUT = 10_000;
const RING_HZ = [400, 450];
const CALL_WAITING_HZ = 440;

interface Heard {
  playing: boolean;
  sinkId: string;
  /** Loudest 40 ms of what the element played over the listening time, dBFS. */
  peakDbfs: number;
  /** Power at each asked frequency in that loudest moment, dB relative to the whole window. */
  tonesDb: number[];
}

// Page-side code below runs in Chromium; DOM types are not in this tsconfig, hence these
// structural types (cast from globalThis inside each evaluated function, which is sent as text).
interface PageAlertElement {
  paused: boolean;
  sinkId: string;
  captureStream(): unknown;
}
interface PageGlobals {
  document: { querySelector(selector: string): unknown };
  navigator: {
    mediaDevices: {
      enumerateDevices(): Promise<{ kind: string; label: string; deviceId: string }[]>;
      getUserMedia(constraints: { audio: boolean }): Promise<{ getTracks(): { stop(): void }[] }>;
    };
  };
  AudioContext: new () => {
    sampleRate: number;
    createAnalyser(): { fftSize: number; connect(to: unknown): void; getFloatTimeDomainData(into: Float32Array): void };
    createMediaStreamSource(stream: unknown): { connect(to: unknown): void };
    close(): Promise<void>;
  };
}

/**
 * Listens to the page's `audio[data-alert=name]` for `ms` (its own output, captureStream) and
 * says how loud it got and how much of that loudest moment was at `hz`.
 */
async function hear(page: Page, name: 'ring' | 'call-waiting', hz: number[], ms: number): Promise<Heard> {
  return page.evaluate(
    async ({ name, hz, ms }) => {
      const { document, AudioContext } = globalThis as unknown as PageGlobals;
      const element = document.querySelector(`audio[data-alert="${name}"]`) as PageAlertElement | null;
      if (!element) throw new Error(`no audio[data-alert="${name}"] in the page`);
      const playing = !element.paused;
      if (!playing) return { playing, sinkId: element.sinkId, peakDbfs: -Infinity, tonesDb: hz.map(() => -Infinity) };
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaStreamSource(element.captureStream()).connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      let loudest = new Float32Array(0);
      let peak = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        analyser.getFloatTimeDomainData(buffer);
        let sum = 0;
        for (const s of buffer) sum += s * s;
        const rms = Math.sqrt(sum / buffer.length);
        if (rms > peak) [peak, loudest] = [rms, buffer.slice()];
      }
      const rate = context.sampleRate;
      await context.close();
      const total = loudest.reduce((a, s) => a + s * s, 0) / Math.max(1, loudest.length);
      const tonesDb = hz.map((f) => {
        let re = 0;
        let im = 0;
        for (let i = 0; i < loudest.length; i++) {
          re += loudest[i]! * Math.cos((2 * Math.PI * f * i) / rate);
          im -= loudest[i]! * Math.sin((2 * Math.PI * f * i) / rate);
        }
        const power = (2 * (re * re + im * im)) / (loudest.length * loudest.length);
        return 10 * Math.log10(Math.max(power, 1e-20) / Math.max(total, 1e-20));
      });
      return { playing, sinkId: element.sinkId, peakDbfs: 20 * Math.log10(Math.max(peak, 1e-10)), tonesDb };
    },
    { name, hz, ms },
  );
}

async function silent(page: Page, name: 'ring' | 'call-waiting'): Promise<void> {
  await page.waitForFunction(
    (n) => ((globalThis as unknown as PageGlobals).document.querySelector(`audio[data-alert="${n}"]`) as PageAlertElement | null)?.paused === true,
    name,
    { timeout: UI_TIMEOUT },
  );
}

/** Device ids of the fake outputs, by label, as the page sees them. */
async function outputIds(page: Page): Promise<Record<string, string>> {
  return page.evaluate(async () => {
    const devices = await (globalThis as unknown as PageGlobals).navigator.mediaDevices.enumerateDevices();
    return Object.fromEntries(devices.filter((d) => d.kind === 'audiooutput').map((d) => [d.label, d.deviceId]));
  });
}

describe('incoming calls are heard (scripted core)', () => {
  let app: ScriptedApp;
  let core: ScriptedCore;
  let page: Page;

  before(async () => {
    app = await openScriptedApp({ width: 1000, height: 900 });
    ({ core, page } = app);
    // Device ids and labels are the page's once it may use the microphone (as after a first call).
    await page.evaluate(async () => {
      const stream = await (globalThis as unknown as PageGlobals).navigator.mediaDevices.getUserMedia({ audio: true });
      for (const track of stream.getTracks()) track.stop();
    });
    await page.reload();
    await addAccountThroughForm(page, '301');
  });

  after(async () => {
    await app?.close();
  });

  test('an incoming call rings on the chosen ringing device; answering stops it', async () => {
    const ids = await outputIds(page);
    const ringDevice = ids['Fake Audio Output 2'];
    assert.ok(ringDevice, `Chromium's fake outputs: ${JSON.stringify(ids)}`);
    await page.getByLabel('Ringing device').selectOption({ label: 'Fake Audio Output 2' });

    const call = core.ring('sip:302@pbx.test', 'Ringo');
    const row = page.getByRole('listitem').filter({ hasText: 'Ringo' });
    await row.getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    const ring = await hear(page, 'ring', RING_HZ, 1500);
    assert.ok(ring.playing, 'the ring plays');
    assert.equal(ring.sinkId, ringDevice, 'on the ringing device');
    assert.ok(ring.peakDbfs > -20, `loud enough to be heard: ${ring.peakDbfs.toFixed(1)} dBFS`);
    for (const [i, db] of ring.tonesDb.entries()) assert.ok(db > -10, `the ring's ${RING_HZ[i]} Hz is much of what plays: ${db.toFixed(1)} dB`);
    assert.equal((await hear(page, 'call-waiting', [CALL_WAITING_HZ], 0)).playing, false, 'no call-waiting beeps with no other call');

    await row.getByRole('button', { name: 'Answer' }).click();
    await row.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await silent(page, 'ring');
    assert.deepEqual(core.calls.at(-1), { method: 'call.answer', params: { callId: call.callId } });
  });

  test('a call arriving during a call gives call-waiting beeps on the call speaker, not the ring; declining it stops them', async () => {
    await page.getByLabel('Speaker').selectOption({ label: 'Fake Audio Output 1' });
    const speaker = (await outputIds(page))['Fake Audio Output 1'];
    core.ring('sip:303@pbx.test', 'Waiting Wendy');
    const row = page.getByRole('listitem').filter({ hasText: 'Waiting Wendy' });
    await row.getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    const beeps = await hear(page, 'call-waiting', [CALL_WAITING_HZ], 1000);
    assert.ok(beeps.playing, 'call-waiting beeps play');
    assert.equal(beeps.sinkId, speaker, "on the call's speaker");
    assert.ok(beeps.peakDbfs > -30 && beeps.peakDbfs < -10, `soft: ${beeps.peakDbfs.toFixed(1)} dBFS`);
    assert.ok(beeps.tonesDb[0]! > -3, `a ${CALL_WAITING_HZ} Hz beep: ${beeps.tonesDb[0]!.toFixed(1)} dB`);
    assert.equal((await hear(page, 'ring', RING_HZ, 0)).playing, false, 'the ring does not cut across the call');

    await row.getByRole('button', { name: 'Decline' }).click();
    await silent(page, 'call-waiting');
    // The first call goes on; hang it up for the next test.
    await page.getByRole('listitem').filter({ hasText: 'Ringo' }).getByRole('button', { name: 'Hang up' }).click();
  });

  test('the caller giving up stops the ring', async () => {
    const call = core.ring('sip:304@pbx.test', 'Quitter');
    await page.getByRole('listitem').filter({ hasText: 'Quitter' }).getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    assert.ok((await hear(page, 'ring', RING_HZ, 200)).playing);
    core.hangUpFarEnd(call.callId, 'The caller hung up');
    await silent(page, 'ring');
  });

  test('device choices are kept across a reload; an unreadable saved copy is reported and kept aside', async () => {
    await page.reload();
    const ids = await outputIds(page);
    await page.waitForFunction(
      (id) => ((globalThis as unknown as PageGlobals).document.querySelector('select[name="ring"]') as { value: string } | null)?.value === id,
      ids['Fake Audio Output 2'],
      { timeout: UI_TIMEOUT },
    );
    assert.equal(await page.getByLabel('Speaker').inputValue(), ids['Fake Audio Output 1']);

    // Strings: the page's globals, which this project's Node typings do not declare.
    await page.evaluate(`localStorage.setItem('switchboard.audio-settings', '{"version":1,"ringDeviceId":42')`);
    await page.reload();
    await page.getByRole('alert').getByText(/Saved audio settings were unreadable \(.+\); defaults are in use, and the unreadable copy is kept as switchboard\.audio-settings\.bad\./).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await page.evaluate(`localStorage.getItem('switchboard.audio-settings.bad')`), '{"version":1,"ringDeviceId":42');
    assert.equal(await page.getByLabel('Ringing device').inputValue(), '', 'defaults in use');
  });
  test('a chosen device that is unplugged is replaced by the default, and used again once it is back', async () => {
    // Chromium's fake devices cannot be unplugged: the page's device list hides one on request.
    await page.addInitScript(`(() => {
      const devices = navigator.mediaDevices;
      const enumerate = devices.enumerateDevices.bind(devices);
      let unplugged = '';
      devices.enumerateDevices = async () => (await enumerate()).filter((d) => d.deviceId !== unplugged);
      window.__unplug = (id) => { unplugged = id; devices.dispatchEvent(new Event('devicechange')); };
    })();`);
    await page.reload();
    const headset = (await outputIds(page))['Fake Audio Output 2']!;
    const ringSelect = page.getByLabel('Ringing device');
    await ringSelect.selectOption({ label: 'Fake Audio Output 2' });
    const inUse = (id: string) =>
      page.waitForFunction((want) => ((globalThis as unknown as PageGlobals).document.querySelector('select[name="ring"]') as { value: string } | null)?.value === want, id, {
        timeout: UI_TIMEOUT,
      });
    await page.evaluate(`__unplug(${JSON.stringify(headset)})`);
    await inUse('');
    await page.evaluate(`__unplug('')`);
    await inUse(headset);
    core.ring('sip:305@pbx.test', 'Back Again');
    await page.getByRole('listitem').filter({ hasText: 'Back Again' }).getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    assert.equal((await hear(page, 'ring', RING_HZ, 200)).sinkId, headset, 'the ring is on the device that came back');
  });
});

describe('a ring the browser refuses to play (scripted core)', () => {
  let app: ScriptedApp;

  before(async () => {
    app = await openScriptedApp({ width: 1000, height: 900 });
    // As a browser's autoplay policy does before the user has interacted with the page (the test
    // Chromium allows autoplay, so its refusal is played here).
    await app.page.addInitScript(`HTMLMediaElement.prototype.play = function () {
      return Promise.reject(new DOMException("play() failed because the user didn't interact with the document first.", 'NotAllowedError'));
    };`);
    await app.page.reload();
    await addAccountThroughForm(app.page, '401');
  });

  after(async () => {
    await app?.close();
  });

  test('the window says the ringtone could not play and why; the call can still be answered', async () => {
    const { core, page } = app;
    core.ring('sip:402@pbx.test', 'Silent Sam');
    const row = page.getByRole('listitem').filter({ hasText: 'Silent Sam' });
    await row.getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('alert').getByText("The ringtone could not play: play() failed because the user didn't interact with the document first.").waitFor({ timeout: UI_TIMEOUT });
    await row.getByRole('button', { name: 'Answer' }).click();
    await row.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('alert').getByText(/The ringtone could not play/).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });
});
