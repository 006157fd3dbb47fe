#!/usr/bin/env node
// Bundles the headless Switchboard (src-main/headless/headless.ts) into one file that plain Node 20
// runs without tsx, TypeScript or node_modules:
//   dist/headless/headless.cjs   (core + sip.js + zod + ws inside), dist/headless/opus.wasm and
//   dist/headless/THIRD-PARTY-LICENSES.txt (scripts/third-party-licenses.mjs)
// This is the headless as it ships for scripting (`node dist/headless/headless.cjs …`) and what
// `npm run bench` measures. `npm run headless` runs the sources through tsx instead, for
// development: tsx keeps a module-loader thread with its own event loop alive that costs about
// 1 % of a core in a call (measured with per-thread run time), which the shipped form does not pay.
// CommonJS for the same reason as build-electron.mjs: package.json is "type":"module", and bundled
// ESM code gets the file URL it expects through `import.meta.url` → __importMetaUrl.
//
//   node scripts/build-headless.mjs [--outdir DIR]   (default dist/headless)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledPackages, nodeBundleNotice } from './third-party-licenses.mjs';

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
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// libopus-wasm.ts looks for opus.wasm beside the running script first.
mkdirSync(outdir, { recursive: true });
const opusWasm = createRequire(import.meta.url).resolve('@evan/opus/wasm/opus.wasm');
copyFileSync(opusWasm, join(outdir, 'opus.wasm'));
writeFileSync(join(outdir, 'THIRD-PARTY-LICENSES.txt'), nodeBundleNotice(bundledPackages([opusWasm, ...Object.keys(metafile.inputs)], root), root));
// stderr: a script may pipe this command's stdout into something expecting JSON lines.
console.error(`Built headless.cjs in ${outdir}`);
