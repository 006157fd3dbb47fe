// The packaged shape of the app in a real Electron: builds renderer + main + preload, launches
// Electron on the repo (package.json "main" → dist/electron/main.cjs) and checks that the window
// loads our page, the preload bridge answers app.info over IPC, and the page has no Node.
// Runs only when ELECTRON_OVERRIDE_DIST_PATH points at an unpacked Electron: the npm package's
// binary downloads lazily on first launch, which this environment cannot do.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication } from 'playwright-core';
import { ensureRendererBuilt } from '../../src-main/web/renderer-build';
import { saveScreenshot } from '../renderer/browser';
import { V8Tiering, v8TieringOf } from '../../src-main/core/app/v8-tuning';

const root = fileURLToPath(new URL('../..', import.meta.url));
const overrideDist = process.env.ELECTRON_OVERRIDE_DIST_PATH;

/** A private X server when there is no DISPLAY (what xvfb-run does, without the wrapper process). */
async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  if (!existsSync('/usr/bin/Xvfb')) throw new Error('No DISPLAY and no /usr/bin/Xvfb: install xvfb to run the Electron smoke test');
  const xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    let errors = '';
    xvfb.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    xvfb.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${errors}`)));
  });
  return { display, process: xvfb };
}

describe('Electron app', () => {
  let app: ElectronApplication | undefined;
  let xvfb: ChildProcess | undefined;
  let userDataRoot: string | undefined;

  after(async () => {
    await app?.close();
    xvfb?.kill('SIGTERM');
    if (userDataRoot) rmSync(userDataRoot, { recursive: true, force: true });
  });

  test('window loads and the preload bridge answers app.info', async (t) => {
    if (!overrideDist) {
      t.skip('SKIPPED: ELECTRON_OVERRIDE_DIST_PATH is not set, so there is no Electron binary to launch (npm electron downloads it lazily, not possible here)');
      return;
    }
    // The electron package resolves ELECTRON_OVERRIDE_DIST_PATH to the binary inside it.
    const electronBinary = createRequire(import.meta.url)('electron') as string;
    assert.ok(existsSync(electronBinary), `no Electron binary at ${electronBinary}`);

    await ensureRendererBuilt();
    const build = spawnSync(process.execPath, ['scripts/build-electron.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `build:electron failed:\n${build.stderr}`);

    let display = process.env.DISPLAY;
    if (!display) {
      const x = await startXvfb();
      xvfb = x.process;
      display = x.display;
    }
    userDataRoot = mkdtempSync(join(tmpdir(), 'switchboard-electron-'));
    app = await _electron.launch({
      executablePath: electronBinary,
      // Chromium refuses to start as root with its sandbox; CI containers often run as root.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), root],
      env: { ...process.env, DISPLAY: display, XDG_CONFIG_HOME: userDataRoot, ELECTRON_ENABLE_LOGGING: '1' },
      timeout: 30_000,
    });
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    assert.equal(await page.title(), 'Switchboard');
    assert.match(page.url(), /^app:\/\/switchboard\/index\.html$/, 'the renderer is served from the privileged app:// scheme (AudioWorklets do not load from file://)');

    // The page reaches the core only through the bridge, and the bridge is all it gets.
    const surface = (await page.evaluate(
      `({ require: typeof require, process: typeof process, bridge: Object.keys(window.switchboard ?? {}).sort() })`,
    )) as { require: string; process: string; bridge: string[] };
    assert.deepEqual(surface, { require: 'undefined', process: 'undefined', bridge: ['onMessage', 'send'] });

    const answer = (await page.evaluate(`new Promise((resolve, reject) => {
      window.switchboard.onMessage((m) => { if (m && m.id === 'smoke-1') resolve(m); });
      window.switchboard.send({ jsonrpc: '2.0', id: 'smoke-1', method: 'app.info', params: {} });
      setTimeout(() => reject(new Error('no answer to app.info within 10 s')), 10000);
    })`)) as { result?: { name: string; version: string } };
    assert.equal(answer.result?.name, 'Switchboard');

    // The main process's V8 is one the call tuning knows (src-main/core/app/v8-tuning.ts; on an
    // unknown V8 it sets only the flags every V8 has, and the first calls run untuned).
    const v8Version = await app.evaluate(() => process.versions.v8);
    assert.notEqual(v8TieringOf(v8Version), V8Tiering.Unchecked, `Electron's V8 ${v8Version} is not one the call tuning was checked on: add its flag list to tests/fixtures/v8-flags and extend V8Tiering`);

    // The Svelte app itself picked the IPC carrier and is connected.
    await page.getByText(/Connected · Switchboard .* · Electron IPC/).waitFor({ timeout: 10_000 });
    await saveScreenshot(page, 'electron-window.png');
  });
});
