#!/usr/bin/env node
// Bundles the Electron main process and the preload with esbuild:
//   src-main/electron/main.electron.ts    → dist/electron/main.cjs     (core + sip.js + ws + zod inside)
//   src-main/electron/preload.electron.ts → dist/electron/preload.cjs  (sandboxed: may require only 'electron')
// Only `electron` stays external, so the packaged app needs no node_modules at runtime.
// Beside them: opus.wasm (libopus) and THIRD-PARTY-LICENSES.txt, the licence of every npm package
// esbuild put into main.cjs/preload.cjs (read from its metafile; scripts/third-party-licenses.mjs)
// and libopus' COPYING. The renderer's Vite build writes its own dist/renderer/THIRD-PARTY-LICENSES.txt.
// CommonJS because Electron's sandboxed preload cannot be ESM, and package.json "type":"module"
// therefore needs the .cjs extension.
//
//   node scripts/build-electron.mjs [--only main|preload] [--outdir DIR]   (default outdir dist/electron)
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importMetaUrlShim, shipBesideBundle } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const electronNode = 'node22'; // Electron 45 ships Node 22

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: electronNode,
  external: ['electron'],
  sourcemap: 'linked',
  logLevel: 'warning',
  ...importMetaUrlShim,
};

const { values } = parseArgs({ options: { only: { type: 'string' }, outdir: { type: 'string' } } });
if (values.only !== undefined && values.only !== 'main' && values.only !== 'preload') {
  console.error(`--only must be "main" or "preload", got "${values.only}"`);
  process.exit(2);
}
const outdir = resolve(root, values.outdir ?? 'dist/electron');

const builds = {
  main: () => build({ ...common, metafile: true, entryPoints: ['src-main/electron/main.electron.ts'], outfile: resolve(outdir, 'main.cjs') }),
  preload: () =>
    build({
      ...common,
      entryPoints: ['src-main/electron/preload.electron.ts'],
      outfile: resolve(outdir, 'preload.cjs'),
      // The sandboxed preload has no node:url and needs no import.meta.
      define: {},
      banner: {},
      sourcemap: false,
      metafile: true,
    }),
};
const which = values.only ? [values.only] : ['main', 'preload'];
const results = await Promise.all(which.map((name) => builds[name]()));
if (which.includes('main')) {
  // node_modules is not packaged: opus.wasm and the licences of main.cjs and preload.cjs go beside them.
  shipBesideBundle(outdir, results.flatMap(({ metafile }) => Object.keys(metafile.inputs)), root);
}
console.log(`Built ${which.map((name) => `${name}.cjs`).join(' and ')} in ${outdir}`);
