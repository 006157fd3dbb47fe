// electron-builder.yml is valid for the installed electron-builder (its own schema validation)
// and declares what a softphone needs on every platform, and the builds write the licence notices it
// ships (build:electron for main/preload, the renderer's Vite build for its bundle). Packaging
// itself cannot run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

interface BuilderConfig {
  files: string[];
  directories: { output: string; buildResources: string };
  protocols: Array<{ schemes: string[] }>;
  mac: { target: string; hardenedRuntime: boolean; entitlements: string; extendInfo: Record<string, string> };
  win: { target: string };
  linux: { target: string[]; category: string };
  extraResources: Array<{ from: string; to: string }>;
}

const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

test('electron-builder accepts the configuration', async () => {
  await validateConfiguration(config, new DebugLogger(false));
});

test('packages the built app and registers sip:, sips: and tel:', () => {
  assert.ok(config.files.includes('dist/**'));
  assert.deepEqual(config.directories, { output: 'release', buildResources: 'resources' });
  assert.deepEqual(config.protocols.flatMap((p) => p.schemes).sort(), ['sip', 'sips', 'tel']);
  assert.ok(existsSync(join(root, 'resources', 'icon.png')));
});

test('per platform: nsis, dmg with microphone usage text and entitlement, AppImage + deb in Telephony', () => {
  assert.equal(config.win.target, 'nsis');
  assert.equal(config.mac.target, 'dmg');
  assert.equal(config.mac.hardenedRuntime, true);
  assert.match(config.mac.extendInfo.NSMicrophoneUsageDescription ?? '', /microphone/);
  const entitlements = readFileSync(join(root, config.mac.entitlements), 'utf8');
  assert.match(entitlements, /<key>com\.apple\.security\.device\.audio-input<\/key>\s*<true\/>/);
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.linux.category, 'Network;Telephony');
});

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

test('ships the licence notices of main/preload and of the renderer beside the app resources', () => {
  assert.deepEqual(config.extraResources, [
    { from: 'dist/electron/THIRD-PARTY-LICENSES.txt', to: 'THIRD-PARTY-LICENSES.txt' },
    { from: 'dist/renderer/THIRD-PARTY-LICENSES.txt', to: 'THIRD-PARTY-LICENSES-renderer.txt' },
  ]);
});

test('build:electron writes the licence notice of everything it bundled: sip.js, zod, @evan/opus and libopus inside opus.wasm', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'switchboard-licences-'));
  try {
    const build = spawnSync(process.execPath, ['scripts/build-electron.mjs', '--outdir', outdir], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `build:electron failed:\n${build.stderr}`);
    const notices = readFileSync(join(outdir, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    for (const name of ['sip.js', 'zod', '@evan/opus']) {
      const version = packageVersion(name);
      assert.ok(notices.includes(`${name} ${version} (MIT)`), `${name} ${version} listed`);
    }
    assert.match(notices, /libopus \(BSD-3-Clause\)[\s\S]*Redistributions in binary form must reproduce the above copyright/);
    assert.match(notices, /Permission is hereby granted, free of charge/, 'MIT licence texts included, not only names');
    assert.ok(existsSync(join(outdir, 'opus.wasm')));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});

test("build:renderer writes the licence notice of what Vite bundled: Svelte's runtime, with its MIT text", () => {
  // Into a temporary outDir: dist/renderer may be in use by other tests and by dev:web.
  const outDir = mkdtempSync(join(tmpdir(), 'switchboard-renderer-licences-'));
  try {
    const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    const args = [vite, 'build', '--config', 'src-renderer/vite.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
    const build = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `build:renderer failed:\n${build.stderr}`);
    const notices = readFileSync(join(outDir, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    assert.ok(notices.includes(`svelte ${packageVersion('svelte')} (MIT)`), `svelte listed:\n${notices}`);
    const svelteLicence = readFileSync(join(root, 'node_modules', 'svelte', 'LICENSE.md'), 'utf8').trim();
    assert.ok(notices.includes(svelteLicence), "Svelte's LICENSE.md text included, not only its name");
    assert.ok(existsSync(join(outDir, 'index.html')));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
