// scripts/third-party-licenses.mjs, shared by build:electron (esbuild metafile paths) and the
// renderer's Vite build (Rollup/Rolldown module ids): which npm package a bundled module belongs to,
// and the rule that a bundled package without a LICENSE file fails the build. The real builds'
// notices are checked in packaging-config.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface BundledPackage {
  name: string;
  dir: string;
}
interface ThirdPartyLicenses {
  bundledPackage(moduleId: string): BundledPackage | undefined;
  bundledPackages(moduleIds: string[], baseDir: string): BundledPackage[];
  packageLicenceSection(pkg: BundledPackage): string;
}
// Plain ESM without type declarations: imported through a computed URL and typed here.
const licences = (await import(new URL('../../scripts/third-party-licenses.mjs', import.meta.url).href)) as ThirdPartyLicenses;

test('names the package of a bundled module: plain, scoped, esbuild-relative and absolute paths', () => {
  assert.deepEqual(licences.bundledPackage('node_modules/sip.js/lib/api/user-agent.js'), { name: 'sip.js', dir: 'node_modules/sip.js' });
  assert.deepEqual(licences.bundledPackage('/work/app/node_modules/@evan/opus/wasm/opus.wasm'), {
    name: '@evan/opus',
    dir: '/work/app/node_modules/@evan/opus',
  });
  assert.deepEqual(licences.bundledPackage('/app/node_modules/svelte/src/internal/client/index.js?v=1'), { name: 'svelte', dir: '/app/node_modules/svelte' });
});

test('nested and pnpm installs name the innermost package', () => {
  assert.deepEqual(licences.bundledPackage('node_modules/a/node_modules/b/x.js'), { name: 'b', dir: 'node_modules/a/node_modules/b' });
  assert.deepEqual(licences.bundledPackage('node_modules/a/node_modules/@s/b/lib/x.js'), { name: '@s/b', dir: 'node_modules/a/node_modules/@s/b' });
  assert.equal(licences.bundledPackage('/r/node_modules/.pnpm/svelte@5.1.0/node_modules/svelte/src/index.js')?.name, 'svelte');
});

test('Windows paths with backslashes', () => {
  assert.deepEqual(licences.bundledPackage('C:\\app\\node_modules\\@evan\\opus\\wasm\\opus.wasm'), {
    name: '@evan/opus',
    dir: 'C:\\app\\node_modules\\@evan\\opus',
  });
  assert.equal(licences.bundledPackage('C:\\app\\node_modules\\a\\node_modules\\b\\x.js')?.name, 'b');
});

test('our own sources, virtual ids and non-package folders are no package', () => {
  for (const id of [
    '/work/app/src-renderer/src/App.svelte',
    'src-main/core/app/core.ts',
    '\0vite/preload-helper.js',
    '\0/app/node_modules/svelte/src/index.js?commonjs-proxy',
    '/app/node_modules/.vite/deps/svelte.js',
    '/app/node_modules/@scope/file.js',
    '/app/my_node_modules/x/index.js',
    '/app/node_modules/lonely-file.js',
  ]) {
    assert.equal(licences.bundledPackage(id), undefined, JSON.stringify(id));
  }
});

test('bundledPackages: one entry per package folder, resolved and sorted by name', () => {
  const packages = licences.bundledPackages(
    ['node_modules/zod/v4/a.js', '\0virtual', '/r/node_modules/svelte/src/a.js', 'node_modules/zod/v4/b.js', '/r/node_modules/x/node_modules/zod/c.js', 'src/a.ts'],
    '/r',
  );
  assert.deepEqual(packages, [
    { name: 'svelte', dir: '/r/node_modules/svelte' },
    { name: 'zod', dir: '/r/node_modules/x/node_modules/zod' },
    { name: 'zod', dir: '/r/node_modules/zod' },
  ]);
});

test('a bundled package without a LICENSE file fails, naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-nolicence-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'unlicensed', version: '1.0.0', license: 'MIT' }));
    assert.throws(() => licences.packageLicenceSection({ name: 'unlicensed', dir }), /unlicensed is bundled into the app but has no LICENSE file/);
    writeFileSync(join(dir, 'LICENSE.md'), 'The licence.\n');
    assert.equal(licences.packageLicenceSection({ name: 'unlicensed', dir }), 'unlicensed 1.0.0 (MIT)\n\nThe licence.\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
