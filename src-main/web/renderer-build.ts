/**
 * Makes sure dist/renderer holds a build of the current renderer sources: builds with Vite when the
 * output is missing or older than any file under src-renderer/ or src-main/common/ (the renderer's
 * only inputs). Used by dev:web and by the renderer smoke test. Vite is a dev dependency, so it is
 * loaded only when a build is actually needed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const rendererDistDir = join(repoRoot, 'dist', 'renderer');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when dist/renderer/index.html is missing or older than a renderer input. */
export function rendererBuildIsStale(): boolean {
  let builtAt: number;
  try {
    builtAt = statSync(join(rendererDistDir, 'index.html')).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const inputs = Math.max(newestMtimeMs(join(repoRoot, 'src-renderer')), newestMtimeMs(join(repoRoot, 'src-main', 'common')));
  return inputs > builtAt;
}

/** Build the renderer if stale; returns whether it built. Throws with Vite's error if the build fails. */
export async function ensureRendererBuilt(log: (line: string) => void = () => undefined): Promise<boolean> {
  if (!rendererBuildIsStale()) return false;
  log('Building the renderer (dist/renderer is missing or stale)…');
  const { build } = await import('vite');
  await build({ configFile: join(repoRoot, 'src-renderer', 'vite.config.ts'), logLevel: 'warn' });
  return true;
}
