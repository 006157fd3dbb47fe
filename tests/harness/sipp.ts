/**
 * SIPp (Debian's sip-tester) as a calling peer: one UAC scenario of ours (tests/fixtures/sipp)
 * run once against the headless Switchboard on loopback.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startManagedProcess } from './child-processes';
import { repoRoot, startHeadless, type HeadlessSwitchboard } from './headless-switchboard';
import { freeUdpPort, LOOPBACK } from './ports';
import { makeTempDir, removeTempDir } from './temp-dir';

export const SIPP = '/usr/bin/sipp';

/**
 * Runs `scenario` (a file in `cwd`) for one call to `${LOOPBACK}:${targetPort}`, from a free UDP
 * port of its own, with `extraArgs` (e.g. `-set name value`); stopped if still running after
 * 30 s. Resolves with its exit code (0: every expected message came) and its output.
 */
export async function runSippUac(cwd: string, scenario: string, targetPort: number, extraArgs: string[] = []): Promise<{ code: number | null; logs: string }> {
  const sippPort = await freeUdpPort();
  const proc = startManagedProcess('sipp', SIPP, ['-sf', scenario, '-i', LOOPBACK, '-p', String(sippPort), '-m', '1', '-nostdin', '-trace_err', ...extraArgs, `${LOOPBACK}:${targetPort}`], { cwd });
  const timer = setTimeout(() => void proc.stop(1000), 30000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, logs: proc.logs() };
}

/** The headless Switchboard as SIPp's callee, with the scenarios it is called by (startSippCallee). */
export interface SippCallee {
  /** The temp dir holding the scenarios, for any other files a test needs. */
  readonly dir: string;
  readonly callee: HeadlessSwitchboard;
  /** One call by `scenario` (one of those copied) to the callee: runSippUac. */
  runUac(scenario: string, extraArgs?: string[]): Promise<{ code: number | null; logs: string }>;
  /** Stops the callee and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * Starts the headless Switchboard as an auto-answering callee (serverless account, a free
 * loopback port) in a new temp dir (`tempPrefix`) holding `scenarios` from tests/fixtures/sipp;
 * `headlessArgs(dir)` adds to its command line (and may write files into the dir first, e.g. the
 * WAV it plays). Resolves once the account is ready; on failure nothing is left running.
 */
export async function startSippCallee(tempPrefix: string, scenarios: string[], headlessArgs: (dir: string) => string[] = () => []): Promise<SippCallee> {
  assert.ok(existsSync(SIPP), 'sipp is installed');
  const dir = makeTempDir(tempPrefix);
  let callee: HeadlessSwitchboard | undefined;
  const close = async () => {
    await callee?.stop();
    removeTempDir(dir);
  };
  try {
    for (const scenario of scenarios) copyFileSync(join(repoRoot, 'tests/fixtures/sipp', scenario), join(dir, scenario));
    const port = await freeUdpPort();
    callee = startHeadless(['--account', 'sip:callee@127.0.0.1', '--no-register', '--listen', `${LOOPBACK}:${port}`, '--auto-answer', ...headlessArgs(dir)]);
    await callee.waitForAccount('ready', 10000);
    return { dir, callee, runUac: (scenario, extraArgs) => runSippUac(dir, scenario, port, extraArgs), close };
  } catch (error) {
    await close();
    throw error;
  }
}
