// The renderer in Chromium, served by dev:web, against a scripted core (scripted-core.ts): the
// setup that UI tests of the window share.
import type { Browser, Page } from 'playwright-core';
import { startDevWeb, type DevWeb } from '../../src-main/web/dev-web';
import { launchChromium, watchPageProblems } from './browser';
import { createScriptedCore, type ScriptedCore } from './scripted-core';

const UI_TIMEOUT = 10_000;

export interface ScriptedApp {
  core: ScriptedCore;
  devWeb: DevWeb;
  browser: Browser;
  page: Page;
  /** Console errors and failed requests of the page; a test asserts there are none. */
  problems: string[];
  close(): Promise<void>;
}

export async function openScriptedApp(viewport: { width: number; height: number }): Promise<ScriptedApp> {
  const core = createScriptedCore();
  const devWeb = await startDevWeb({ core, log: () => undefined });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  const problems = watchPageProblems(page);
  await page.goto(devWeb.url);
  return {
    core,
    devWeb,
    browser,
    page,
    problems,
    close: async () => {
      await browser.close();
      await devWeb.stop();
    },
  };
}

/** Adds `user@pbx.test` through the Add account form (the scripted core registers password "right") and waits for Registered. */
export async function addAccountThroughForm(page: Page, user: string): Promise<void> {
  const form = page.getByRole('region', { name: 'Add account' });
  await form.getByLabel('Address (AOR)').fill(`${user}@pbx.test`);
  await form.getByLabel('Password').fill('right');
  await form.getByRole('button', { name: 'Add account' }).click();
  await page.getByRole('status', { name: `Status of sip:${user}@pbx.test` }).getByText('Registered').waitFor({ timeout: UI_TIMEOUT });
}
