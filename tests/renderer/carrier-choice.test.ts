// How the page finds the core in a browser: same-origin /rpc by default, or the carrier named by
// ?rpc=ws://127.0.0.1:PORT/rpc (allowed by dev:web's CSP), and a clear message for a bad URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { listenWebSocketCarrier, type ListeningWebSocketCarrier } from '../../src-main/carriers/websocket-carrier';
import { startDevWeb, type DevWeb } from '../../src-main/web/dev-web';
import { createScriptedCore } from './scripted-core';
import { launchChromium, watchPageProblems } from './browser';

const UI_TIMEOUT = 10_000;

describe('renderer carrier choice', () => {
  const pageCore = createScriptedCore();
  const otherCore = createScriptedCore();
  let devWeb: DevWeb;
  let other: ListeningWebSocketCarrier;
  let browser: Browser;

  before(async () => {
    devWeb = await startDevWeb({ core: pageCore, log: () => undefined });
    other = await listenWebSocketCarrier({ server: otherCore.server, allowedOrigins: [devWeb.url.replace(/\/$/, '')] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await other?.close();
    await devWeb?.stop();
  });

  async function open(query: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems = watchPageProblems(page);
    await page.goto(devWeb.url + query);
    return { page, problems };
  }

  test('?rpc= connects the page to that carrier instead of its own origin', async () => {
    const { page, problems } = await open(`?rpc=${encodeURIComponent(other.url)}`);
    const form = page.getByRole('region', { name: 'Add account' });
    await form.getByLabel('Address (AOR)').fill('sip:301@pbx.test');
    await form.getByLabel('Password').fill('right');
    await form.getByRole('button', { name: 'Add account' }).click();
    await page.getByRole('status', { name: 'Status of sip:301@pbx.test' }).getByText('Registered').waitFor({ timeout: UI_TIMEOUT });
    assert.equal(otherCore.calls.filter((c) => c.method === 'account.add').length, 1);
    assert.equal(pageCore.calls.filter((c) => c.method === 'account.add').length, 0);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a ?rpc= that is not a WebSocket URL is refused in words', async () => {
    const { page } = await open('?rpc=https://evil.example/rpc');
    await page.getByRole('alert').getByText('The rpc parameter must be a ws:// or wss:// URL, got "https://evil.example/rpc"').waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });

  test('an unreachable core shows Disconnected with the reason', async () => {
    const { page } = await open(`?rpc=${encodeURIComponent('ws://127.0.0.1:1/rpc')}`);
    await page.getByRole('alert').getByText(/Could not connect to the Switchboard core at ws:\/\/127\.0\.0\.1:1\/rpc/).waitFor({ timeout: UI_TIMEOUT });
    await page.getByText('Disconnected', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });

  // Last: closes the `other` carrier.
  test('losing the core while connected is shown, with how to recover', async () => {
    const { page } = await open(`?rpc=${encodeURIComponent(other.url)}`);
    await page.getByText(/^Connected/).waitFor({ timeout: UI_TIMEOUT });
    await other.close();
    await page
      .getByRole('alert')
      .getByText('The connection to the Switchboard core was closed. Reload the window to reconnect.')
      .waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });
});
