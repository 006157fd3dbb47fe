// Debian's Chromium driven by playwright-core for renderer tests: headless, fake media devices,
// no background traffic (the machine may reach only 127.0.0.0/8).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const artifactsDir = fileURLToPath(new URL('../../.test-artifacts', import.meta.url));

/**
 * Debian's Chromium with fake media devices. `captureFile`: a WAV the fake microphone loops.
 * Nothing may leave 127.0.0.0/8: Chromium's own background lookups (update, accounts, optimization
 * guide) fail inside the browser instead of reaching a DNS server; loopback needs no lookups.
 */
export function launchChromium(options: { captureFile?: string } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(options.captureFile ? [`--use-file-for-fake-audio-capture=${options.captureFile}`] : []),
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}

/** Collects what the page reports as going wrong: console errors, CSP violations, uncaught errors. */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}
