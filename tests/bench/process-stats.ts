/**
 * Resource figures of another process from /proc, identical for Switchboard (a node process) and
 * baresip, so both are measured the same way:
 * - RSS: VmRSS of /proc/PID/status (resident memory incl. shared libraries and, for us, the whole
 *   node runtime), in KiB.
 * - CPU: utime + stime of /proc/PID/stat (all threads of the process), in seconds. Resolution is
 *   one clock tick (1/CLK_TCK s, 10 ms on Linux), so measure over seconds, not milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (!(value > 0)) throw new Error(`getconf CLK_TCK gave ${JSON.stringify(value)}`);
    clockTicks = value;
  }
  return clockTicks;
}

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS line (process gone or a kernel thread?)`);
  return Number(match[1]);
}

/** User + system CPU time the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses: fields after the LAST ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read utime/stime from /proc/${pid}/stat`);
  return (utime + stime) / ticksPerSecond();
}

/**
 * PID of the process whose command line contains every one of `parts` (e.g. the baresip binary
 * and its private config dir). Throws when none or several match: a wrong PID would measure the
 * wrong process.
 */
export function findPid(parts: string[]): number {
  const matches: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue; // exited meanwhile
      throw error;
    }
    if (parts.every((p) => argv.includes(p))) matches.push(Number(entry));
  }
  if (matches.length !== 1) throw new Error(`expected one process with arguments ${JSON.stringify(parts)}, found ${matches.length}`);
  return matches[0]!;
}
