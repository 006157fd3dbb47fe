#!/usr/bin/env node
// Bundles the headless Switchboard (src-main/headless/headless.ts) into one file that plain Node 20
// runs without tsx, TypeScript or node_modules:
//   dist/headless/headless.cjs   (core + sip.js + zod + ws inside), dist/headless/opus.wasm and
//   dist/headless/THIRD-PARTY-LICENSES.txt (scripts/third-party-licenses.mjs)
// This is the headless as it ships for scripting (`node dist/headless/headless.cjs …`) and what
// `npm run bench` measures. `npm run headless` runs the sources through tsx instead, for
// development: tsx keeps a module-loader thread with its own event loop alive that costs about
// 1 % of a core in a call (measured with per-thread run time), which the shipped form does not pay.
// CommonJS for the same reason as build-electron.mjs; what both share is in node-bundle.mjs.
//
//   node scripts/build-headless.mjs [--outdir DIR]   (default dist/headless)
import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importMetaUrlShim, shipBesideBundle } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = resolve(root, values.outdir ?? 'dist/headless');

const { metafile } = await build({
  metafile: true,
  absWorkingDir: root,
  entryPoints: ['src-main/headless/headless.ts'],
  outfile: join(outdir, 'headless.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  ...importMetaUrlShim,
});
shipBesideBundle(outdir, Object.keys(metafile.inputs), root);
// stderr: a script may pipe this command's stdout into something expecting JSON lines.
console.error(`Built headless.cjs in ${outdir}`);
