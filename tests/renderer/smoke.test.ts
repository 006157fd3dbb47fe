// The renderer end to end in a real browser: dev:web with the real core, a real Kamailio, Debian's
// Chromium. A user adds accounts through the form and sees what the PBX said, in words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startDevWeb, type DevWeb } from '../../src-main/web/dev-web';
import { createInProcessChannelPair } from '../../src-main/web/in-process-channel';
import { ContractClient } from '../../src-main/common/contract/contract-client';
import { createSwitchboardCore, type SwitchboardCore } from '../../src-main/core/app/switchboard-core';
import { artifactsDir, launchChromium, saveScreenshot, watchPageProblems } from './browser';

const UI_TIMEOUT = 15_000;

describe('renderer smoke (dev:web + real core + Kamailio + Chromium)', () => {
  let pbx: TestPbx;
  let devWeb: DevWeb;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const coreLog: string[] = [];
  /** The far end for a real call: a second real core, registered as carol, answering at once. */
  let carolCore: SwitchboardCore;
  const carolLog: string[] = [];

  before(async () => {
    pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave', 'erin'] });
    carolCore = createSwitchboardCore({ autoAnswer: true, log: (line) => carolLog.push(line) });
    const pair = createInProcessChannelPair();
    carolCore.server.attach(pair.a);
    const carol = new ContractClient(pair.b);
    const registered = new Promise<void>((resolve, reject) =>
      carol.on('account.state', (a) => {
        if (a.state === 'registered') resolve();
        if (a.state === 'failed') reject(new Error(`carol could not register: ${a.reason}`));
      }),
    );
    await carol.call('account.add', { aor: pbx.aor('carol'), password: pbx.password('carol'), outboundProxy: pbx.proxyUri('udp') });
    await registered;
    devWeb = await startDevWeb({ log: (line) => coreLog.push(line) });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
    problems = watchPageProblems(page);
    await page.goto(devWeb.url);
  });

  after(async () => {
    // Diagnostics for a failed run: what the core logged and what the page looked like.
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(join(artifactsDir, 'renderer-smoke-core.log'), coreLog.join('\n'));
    writeFileSync(join(artifactsDir, 'renderer-smoke-carol.log'), carolLog.join('\n'));
    if (page) await saveScreenshot(page, 'renderer-smoke-final.png');
    await browser?.close();
    await devWeb?.stop();
    await carolCore?.stop();
    await pbx?.stop();
  });

  /** Fill and submit the form; the PBX's address goes into the Registrar or Outbound proxy field. */
  async function addAccount(user: string, password: string, serverField: 'Registrar' | 'Outbound proxy'): Promise<void> {
    const form = page.getByRole('region', { name: 'Add account' });
    await form.getByLabel('Address (AOR)').fill(pbx.aor(user));
    await form.getByLabel('Password').fill(password);
    await form.getByLabel('Transport').selectOption('udp');
    await form.getByLabel(serverField).fill(pbx.proxyUri('udp'));
    await form.getByRole('button', { name: 'Add account' }).click();
  }

  function accountStatus(user: string) {
    return page.getByRole('status', { name: `Status of ${pbx.aor(user)}` });
  }

  test('the page connects to the core over the WebSocket carrier', async () => {
    await page.getByText(/Connected · Switchboard \d+\.\d+\.\d+ · WebSocket/).waitFor({ timeout: UI_TIMEOUT });
    await page.getByText('No account yet').waitFor({ timeout: UI_TIMEOUT });
  });

  test('an account added through the form shows Registered', async () => {
    await addAccount('alice', pbx.password('alice'), 'Registrar');
    await accountStatus('alice').getByText('Registered', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    // The form is ready for the next account and no error is shown.
    assert.equal(await page.getByRole('region', { name: 'Add account' }).getByLabel('Address (AOR)').inputValue(), '');
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  test('a wrong password shows the clear error, not a bare status code', async () => {
    await addAccount('bob', `${pbx.password('bob')}-wrong`, 'Outbound proxy');
    await accountStatus('bob').getByText('Wrong username or password').waitFor({ timeout: UI_TIMEOUT });
    // The first account is unaffected.
    await accountStatus('alice').getByText('Registered', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
  });

  test("a TLS account whose PBX certificate comes from a CA this computer does not trust: refused, saying so, until that CA's file is picked", async () => {
    const form = page.getByRole('region', { name: 'Add account' });
    const addOverTls = async (user: string, caFile?: string) => {
      await form.getByLabel('Address (AOR)').fill(pbx.aor(user));
      await form.getByLabel('Password').fill(pbx.password(user));
      await form.getByLabel('Transport').selectOption('tls');
      await form.getByLabel('Registrar').fill(pbx.proxyUri('tls'));
      if (caFile) await form.getByLabel('Trusted CA certificate').setInputFiles(caFile);
      await form.getByRole('button', { name: 'Add account' }).click();
    };
    await addOverTls('dave');
    await accountStatus('dave').getByText('Failed', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await accountStatus('dave').getByText(/TLS certificate for 127\.0\.0\.1 is not trusted/).waitFor({ timeout: UI_TIMEOUT });
    await addOverTls('erin', pbx.caFile);
    await accountStatus('erin').getByText('Registered', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await form.getByLabel('Transport').selectOption('udp');
  });

  test('a call to a user who is not registered ends with the reason in words', async () => {
    const target = `sip:dave@${pbx.host}:${pbx.udpPort}`;
    const dial = page.getByRole('region', { name: 'Dial' });
    await dial.getByLabel('From').selectOption({ label: pbx.aor('alice') });
    await dial.getByLabel('Number or SIP address').fill(target);
    await dial.getByRole('button', { name: 'Call' }).click();
    const call = page.getByRole('region', { name: 'Calls' }).getByRole('listitem').filter({ hasText: 'dave' });
    await call.getByText('Ended: Number not found').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByRole('region', { name: 'Calls' }).getByText('No calls.').waitFor({ timeout: UI_TIMEOUT });
  });

  test('a real call: connects, shows quality, holds, resumes and hangs up', async () => {
    const dial = page.getByRole('region', { name: 'Dial' });
    await dial.getByLabel('From').selectOption({ label: pbx.aor('alice') });
    await dial.getByLabel('Number or SIP address').fill(`sip:carol@${pbx.host}:${pbx.udpPort}`);
    await dial.getByRole('button', { name: 'Call' }).click();
    const call = page.getByRole('region', { name: 'Calls' }).getByRole('listitem').filter({ hasText: 'carol' });
    await call.getByRole('status').getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await call.getByLabel('Call quality').getByText(/quality \d\.\d\/5/).waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Hold' }).click();
    await call.getByRole('status').getByText('On hold').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Resume' }).click();
    await call.getByRole('status').getByText('Connected').waitFor({ timeout: UI_TIMEOUT });
    await saveScreenshot(page, 'renderer-smoke-call.png');
    await call.getByRole('button', { name: 'Hang up' }).click();
    await call.getByText('Ended: You hung up').waitFor({ timeout: UI_TIMEOUT });
    await call.getByRole('button', { name: 'Dismiss' }).click();
  });

  test('an invalid address is refused with the reason from the contract', async () => {
    const form = page.getByRole('region', { name: 'Add account' });
    await form.getByLabel('Address (AOR)').fill('sip:has space@x');
    await form.getByRole('button', { name: 'Add account' }).click();
    await form.getByRole('alert').getByText(/Address \(AOR\): must be a SIP URI/).waitFor({ timeout: UI_TIMEOUT });
  });

  test('the page looks right and raised no CSP violation or script error', async () => {
    const path = await saveScreenshot(page, 'renderer-smoke.png');
    assert.deepEqual(problems, [], `page problems (screenshot: ${path})`);
  });
});
