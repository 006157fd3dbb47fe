// No orphans: peers started by the harness die with the test process, however it dies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startKamailio } from '../harness/kamailio';

const childProcesses = fileURLToPath(new URL('../harness/child-processes.ts', import.meta.url));

/** Running (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  return !/^State:\s+Z/m.test(status);
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a test-like node process that launches `sleep` through the harness; returns both pids. */
async function parentWithChild(then: 'exit' | 'hang') {
  const script = `
    import { startManagedProcess } from ${JSON.stringify(childProcesses)};
    const p = startManagedProcess('sleeper', 'sleep', ['300']);
    console.log('child ' + p.pid);
    ${then === 'exit' ? 'setTimeout(() => process.exit(3), 100);' : 'setInterval(() => {}, 1000);'}
  `;
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (d) => {
      out += d;
      const m = /child (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited (${code}) before starting the child: ${out}`)));
  });
  return { parent, childPid };
}

test('children are killed when the test process exits normally', async () => {
  const { parent, childPid } = await parentWithChild('exit');
  await new Promise((r) => parent.once('exit', r));
  await until(() => !alive(childPid), 5000, `child ${childPid} to die`);
});

test('children are killed by the watchdog when the test process is SIGKILLed', async () => {
  const { parent, childPid } = await parentWithChild('hang');
  assert.equal(alive(childPid), true);
  parent.kill('SIGKILL');
  await until(() => !alive(childPid), 5000, `child ${childPid} to die`);
});

test('bad user names are refused with a clear error', async () => {
  await assert.rejects(startKamailio({ users: ['bad user'] }), /invalid user name/);
});
