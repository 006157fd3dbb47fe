/**
 * SIPp (Debian's sip-tester) as a calling peer: one UAC scenario of ours (tests/fixtures/sipp)
 * run once against the headless Switchboard on loopback.
 */
import { startManagedProcess } from './child-processes';
import { freeUdpPort, LOOPBACK } from './ports';

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
