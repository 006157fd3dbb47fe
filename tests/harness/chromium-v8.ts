// Running a script in Debian's Chromium's V8: the engine generation Electron's main process embeds
// (Electron 45: V8 15.4), newer than any Node on the machine (Node 26: V8 14.6). Used to check the
// V8 tuning the app's main process gets (src-main/core/app/v8-tuning.ts) where no Electron binary is.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../renderer/browser';

const CHROMIUM = '/usr/bin/chromium';

/** The V8 version of the Chromium here, as its chrome://version page gives it (e.g. "15.6.75.95"). */
export async function chromiumV8Version(): Promise<string> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto('chrome://version');
    const text = await page.innerText('body');
    const version = /\bV8\s+(\d+\.\d+\.\d+\.\d+)/.exec(text)?.[1];
    if (version === undefined) throw new Error(`chrome://version names no V8 version: ${text.slice(0, 400)}`);
    return version;
  } finally {
    await browser.close();
  }
}

export interface ChromiumV8Run<T> {
  /** What the script returned (JSON). */
  result: T;
  /** Everything Chromium's processes wrote to standard error (V8's own errors among them). */
  stderr: string;
}

/**
 * Runs `body` (a function body that returns a JSON value; V8 natives allowed where `jsFlags` has
 * `--allow-natives-syntax`) in a page of a fresh headless Chromium started with `--js-flags`, and
 * returns its result. `--dump-dom` ends Chromium once the page has loaded; the page's script runs
 * during the load, its result is the page's text.
 */
export function runInChromiumV8<T>(body: string, jsFlags: readonly string[]): ChromiumV8Run<T> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-chromium-v8-'));
  try {
    const page = join(dir, 'page.html');
    const script = `let text; try { text = JSON.stringify({ value: (() => { ${body} })() }); } catch (error) { text = JSON.stringify({ error: String(error) }); } document.body.textContent = text;`;
    writeFileSync(page, `<!doctype html><html><body><script>${script}</script></body></html>`);
    const run = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--js-flags=${jsFlags.join(' ')}`,
        '--dump-dom',
        pathToFileURL(page).href,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    if (run.error) throw run.error;
    const text = /<body>([\s\S]*)<\/body>/.exec(run.stdout)?.[1]?.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    if (text === undefined || !text.startsWith('{')) {
      throw new Error(`Chromium's page did not run its script (exit ${run.status}); stderr ends: ${run.stderr.slice(-600)}`);
    }
    const outcome = JSON.parse(text) as { value?: T; error?: string };
    if (outcome.error !== undefined) throw new Error(`the script threw in Chromium: ${outcome.error}`);
    return { result: outcome.value as T, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
