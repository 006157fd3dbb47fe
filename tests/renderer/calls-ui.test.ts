// The call controls in a real browser over the real WebSocket carrier, against a scripted core
// (scripted-core.ts) so an incoming call can be made to arrive on demand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { ScriptedCore } from './scripted-core';
import { addAccountThroughForm, openScriptedApp, type ScriptedApp } from './scripted-app';
import { saveScreenshot } from './browser';

const UI_TIMEOUT = 10_000;

describe('renderer call controls (scripted core)', () => {
  let app: ScriptedApp;
  let core: ScriptedCore;
  let page: Page;
  let problems: string[];

  before(async () => {
    app = await openScriptedApp({ width: 1000, height: 720 });
    ({ core, page, problems } = app);
    await addAccountThroughForm(page, '201');
  });

  after(async () => {
    await app?.close();
  });

  test('a bare user@host typed as AOR is sent as a sip: URI with the chosen transport', () => {
    assert.deepEqual(core.calls[0], {
      method: 'account.add',
      params: {
        aor: 'sip:201@pbx.test',
        password: 'right',
        transport: 'udp',
        register: true,
        acceptDirectCalls: false,
        localPort: 0,
        registerExpires: 600,
      },
    });
  });

  test('dialing a number lists the call as ringing; Hang up ends it with the reason', async () => {
    const dial = page.getByRole('region', { name: 'Dial' });
    await dial.getByLabel('Number or SIP address').fill('202');
    await dial.getByRole('button', { name: 'Call' }).click();
    const call = page.getByRole('listitem').filter({ hasText: '202@pbx.test' });
    await call.getByText('Ringing').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Hang up' }).click();
    await call.getByText('Ended: You hung up').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(
      core.calls.filter((c) => c.method.startsWith('call.')).map((c) => c.method),
      ['call.dial', 'call.hangup'],
    );
  });

  test('an incoming call offers Answer and Decline; Answer connects it', async () => {
    const ringing = core.ring('sip:203@pbx.test', 'Carol');
    const call = page.getByRole('listitem').filter({ hasText: 'Carol' });
    await call.getByText('Incoming call').waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await call.getByRole('button', { name: 'Decline' }).count(), 1);
    await saveScreenshot(page, 'renderer-incoming-call.png');
    await call.getByRole('button', { name: 'Answer' }).click();
    await call.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await call.getByRole('button', { name: 'Answer' }).count(), 0);
    assert.deepEqual(core.calls.at(-1), { method: 'call.answer', params: { callId: ringing.callId } });
  });

  test('a connected call shows its quality, holds and resumes, and sends and shows DTMF', async () => {
    const call = page.getByRole('listitem').filter({ hasText: 'Carol' });
    const carol = core.calls.find((c) => c.method === 'call.answer')!.params as { callId: string };
    // call.stats is polled while connected.
    await call.getByLabel('Call quality').getByText('PCMU · quality 4.3/5 (high) · loss 0.4 % · jitter 3 ms · round trip 41 ms').waitFor({ timeout: UI_TIMEOUT });

    await call.getByRole('button', { name: 'Hold' }).click();
    await call.getByRole('status').getByText('On hold').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Resume' }).click();
    await call.getByRole('status').getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(
      core.calls.slice(-2).map((c) => c.method),
      ['call.hold', 'call.resume'],
    );

    await call.getByRole('button', { name: 'Keypad' }).click();
    await call.getByRole('group', { name: 'Keypad' }).getByRole('button', { name: 'Send 5' }).click();
    await call.getByRole('group', { name: 'Keypad' }).getByRole('button', { name: 'Send #' }).click();
    const sent = async (): Promise<string> =>
      core.calls.filter((c) => c.method === 'call.dtmf').map((c) => (c.params as { digits: string }).digits).join('');
    // Clicks return before their requests reach the core; wait (bounded) for both.
    for (let i = 0; i < 100 && (await sent()) !== '5#'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await sent(), '5#');

    core.pressKey(carol.callId, '1');
    core.pressKey(carol.callId, '2');
    await call.getByLabel('Keys received').getByText('Keys received: 12').waitFor({ timeout: UI_TIMEOUT });
    await saveScreenshot(page, 'renderer-connected-call.png');
  });

  test('Mute shows the call muted until Unmute; the call stays connected, not held', async () => {
    const call = page.getByRole('listitem').filter({ hasText: 'Carol' });
    const carol = core.calls.find((c) => c.method === 'call.answer')!.params as { callId: string };
    const mute = call.getByRole('button', { name: 'Mute', exact: true });
    assert.equal(await mute.getAttribute('aria-pressed'), 'false');
    await mute.click();
    await call.getByRole('status').getByText('Muted').waitFor({ timeout: UI_TIMEOUT });
    const unmute = call.getByRole('button', { name: 'Unmute' });
    assert.equal(await unmute.getAttribute('aria-pressed'), 'true');
    assert.equal(await call.getByRole('status').getByText('Connected').count(), 1, 'muted is not on hold');
    await unmute.click();
    await call.getByRole('status').getByText('Muted').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.deepEqual(
      core.calls.filter((c) => c.method === 'call.mute').map((c) => c.params),
      [
        { callId: carol.callId, muted: true },
        { callId: carol.callId, muted: false },
      ],
    );
  });

  test('a call that sounds bad says why, each direction in words, and stops saying so once it is fine', async () => {
    const call = page.getByRole('listitem').filter({ hasText: 'Carol' });
    const carol = core.calls.find((c) => c.method === 'call.answer')!.params as { callId: string };
    core.setStats(carol.callId, {
      lossPercent: 6.2,
      jitterMs: 55,
      roundTripTimeMs: 520,
      remote: { fractionLost: 0.12, cumulativeLost: 60, jitterMs: 12 },
      quality: { rFactor: 48, mos: 2.5, rating: 'poor', approximate: false },
    });
    const why = call.getByRole('list', { name: 'Why the call may sound bad' });
    await why.waitFor({ timeout: UI_TIMEOUT }); // call.stats is polled every 2 s
    assert.deepEqual(await why.getByRole('listitem').allTextContents(), [
      'You are missing 6.2 % of their audio (lost or late on the way to you)',
      'They are missing 12 % of your audio (lost on the way to them)',
      'Long delay: 520 ms there and back, so you may talk over each other',
      'Their audio arrives unevenly (jitter 55 ms), which adds delay',
    ]);
    core.setStats(carol.callId, {});
    await why.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  test("a call whose far end's audio stopped coming says so, until it comes again", async () => {
    const call = page.getByRole('listitem').filter({ hasText: 'Carol' });
    const carol = core.calls.find((c) => c.method === 'call.answer')!.params as { callId: string };
    core.setMediaStalled(carol.callId, true);
    await call.getByRole('status').getByText('No audio from the other side').waitFor({ timeout: UI_TIMEOUT });
    await saveScreenshot(page, 'renderer-call-no-audio.png');
    core.setMediaStalled(carol.callId, false);
    await call.getByRole('status').getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
  });

  test('a call we were transferred to says who transferred us', async () => {
    const erin = core.ring('sip:206@pbx.test', 'Erin');
    const incoming = page.getByRole('listitem').filter({ hasText: 'Erin' });
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await incoming.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    const transferred = core.transfer(erin.callId, 'sip:207@pbx.test');
    const call = page.locator(`[data-call-id="${transferred.callId}"]`);
    await call.getByText('Outgoing · transferred by 206@pbx.test').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('status').getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await incoming.getByText('Ended: The other side hung up').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Hang up' }).click();
  });

  test('Transfer asks for a target; a failed transfer says why and keeps the call, a done one ends it', async () => {
    const frank = core.ring('sip:208@pbx.test', 'Frank');
    const call = page.getByRole('listitem').filter({ hasText: 'Frank' });
    await call.getByRole('button', { name: 'Answer' }).click();
    await call.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    const form = call.getByRole('form', { name: 'Transfer the call with Frank' });
    await form.getByLabel('Transfer to').fill('busy');
    await form.getByRole('button', { name: 'Transfer now' }).click();
    await call.getByRole('alert').getByText('Could not transfer the call: The transfer to sip:busy@pbx.test failed: 486 Busy Here').waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await call.getByRole('status').getByText('Connected').count(), 1, 'the call goes on');
    await form.getByLabel('Transfer to').fill('209');
    await form.getByRole('button', { name: 'Transfer now' }).click();
    await call.getByText('Ended: Transferred to sip:209@pbx.test').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(
      core.calls.filter((c) => c.method === 'call.transfer').map((c) => c.params),
      [{ callId: frank.callId, target: 'busy' }, { callId: frank.callId, target: '209' }],
    );
  });

  test('with two connected calls, Transfer offers the other one: an attended transfer ends both', async () => {
    const gina = core.ring('sip:210@pbx.test', 'Gina');
    const hank = core.ring('sip:211@pbx.test', 'Hank');
    for (const name of ['Gina', 'Hank']) {
      const row = page.getByRole('listitem').filter({ hasText: name });
      await row.getByRole('button', { name: 'Answer' }).click();
      await row.getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    }
    const call = page.getByRole('listitem').filter({ hasText: 'Gina' });
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    await call.getByRole('form', { name: 'Transfer the call with Gina' }).getByRole('button', { name: 'Transfer to Hank' }).click();
    await call.getByText('Ended: Transferred to sip:211@pbx.test').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('listitem').filter({ hasText: 'Hank' }).getByText('Ended: Transferred to sip:210@pbx.test').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(core.calls.filter((c) => c.method === 'call.transferToCall').at(-1)?.params, { callId: gina.callId, toCallId: hank.callId });
  });

  test('Decline rejects an incoming call with reason "decline"', async () => {
    const ringing = core.ring('sip:204@pbx.test', 'Dave');
    const call = page.getByRole('listitem').filter({ hasText: 'Dave' });
    await call.getByRole('button', { name: 'Decline' }).click();
    await call.getByText('Ended: Declined').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(core.calls.at(-1), { method: 'call.reject', params: { callId: ringing.callId, reason: 'decline' } });
    await saveScreenshot(page, 'renderer-calls.png');
  });

  test('a removed account stays gone; a dial without account shows the core\'s reason', async () => {
    await page.getByRole('region', { name: 'Accounts' }).getByRole('button', { name: /Remove/ }).click();
    await page.getByText('No account yet').waitFor({ timeout: UI_TIMEOUT });
    await core.lastRemoval; // the core has now sent the late "unregistered" for the removed account
    const dial = page.getByRole('region', { name: 'Dial' });
    await dial.getByLabel('Number or SIP address').fill('205');
    await dial.getByRole('button', { name: 'Call' }).click();
    await dial.getByRole('alert').getByText('No account to call from: add an account first').waitFor({ timeout: UI_TIMEOUT });
    // The dial answer came after the late event on the same connection, so the page has seen it.
    assert.equal(await page.getByRole('list', { name: 'Accounts' }).count(), 0);
    assert.equal(await page.getByText('No account yet').count(), 1);
    assert.deepEqual(problems, []);
    assert.deepEqual(core.internalErrors, []);
  });

  test('notices from app.info and app.notice are shown until dismissed', async () => {
    const notices = page.getByRole('list', { name: 'Notices' });
    const startup = notices.getByRole('listitem').filter({ hasText: 'settings.json.bad' });
    await startup.waitFor({ timeout: UI_TIMEOUT });
    core.notice('error', 'Microphone unavailable');
    await notices.getByRole('alert').getByText('Microphone unavailable').waitFor({ timeout: UI_TIMEOUT });
    await startup.getByRole('button', { name: 'Dismiss notice' }).click();
    await startup.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.equal(await notices.getByRole('listitem').count(), 1);
  });
});
