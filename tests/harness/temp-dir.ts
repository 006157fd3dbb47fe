// Per-instance temp dirs. Removed on stop and at process exit, unless
// SWITCHBOARD_KEEP_HARNESS_DIRS=1 (for debugging: logs, configs and recordings stay in /tmp).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pending = new Set<string>();
let hooked = false;

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${prefix}-`));
  pending.add(dir);
  if (!hooked) {
    hooked = true;
    // runs after child-processes' exit hook (registered earlier or later — both are synchronous
    // and removing a dir under a dying process is harmless on Linux)
    process.on('exit', () => {
      for (const d of pending) removeTempDir(d);
    });
  }
  return dir;
}

export function removeTempDir(dir: string): void {
  pending.delete(dir);
  if (process.env.SWITCHBOARD_KEEP_HARNESS_DIRS === '1') return;
  rmSync(dir, { recursive: true, force: true });
}
