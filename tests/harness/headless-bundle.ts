/**
 * The headless Switchboard as it ships for scripting (scripts/build-headless.mjs: one CommonJS
 * file run by plain node, opus.wasm beside it), built fresh from the current sources: the benchmark
 * measures this form, and tests/integration/headless-bundle.test.ts checks it works on its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './headless-switchboard';

/** Builds into `outdir` and returns the path of headless.cjs. */
export function buildHeadlessBundle(outdir: string): string {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-headless.mjs'), '--outdir', outdir], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  const bundle = join(outdir, 'headless.cjs');
  if (!existsSync(bundle)) throw new Error(`scripts/build-headless.mjs did not write ${bundle}`);
  return bundle;
}
