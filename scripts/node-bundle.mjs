// What the two esbuild bundles of the core for Node share (scripts/build-electron.mjs: main.cjs;
// scripts/build-headless.mjs: headless.cjs): the CommonJS shim for import.meta.url, and what ships
// beside the bundle (opus.wasm and the licence notice of everything inside).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundledPackages, nodeBundleNotice } from './third-party-licenses.mjs';

/** import.meta.url has no meaning in CommonJS: give bundled ESM code the file URL it expects. */
export const importMetaUrlShim = {
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/**
 * Beside a bundle in `outdir`: opus.wasm (libopus-wasm.ts looks for it beside the running script
 * first; node_modules is not shipped and @evan/opus' native .node files are never used) and
 * THIRD-PARTY-LICENSES.txt for the npm packages among `bundledInputs` (esbuild metafile inputs)
 * plus @evan/opus and libopus.
 */
export function shipBesideBundle(outdir, bundledInputs, root) {
  mkdirSync(outdir, { recursive: true });
  const opusWasm = createRequire(import.meta.url).resolve('@evan/opus/wasm/opus.wasm');
  copyFileSync(opusWasm, join(outdir, 'opus.wasm'));
  writeFileSync(join(outdir, 'THIRD-PARTY-LICENSES.txt'), nodeBundleNotice(bundledPackages([opusWasm, ...bundledInputs], root), root));
}
