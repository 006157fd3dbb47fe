/**
 * Resource figures of another process from /proc, identical for Switchboard (a node process) and
 * baresip, so both are measured the same way:
 * - RSS: VmRSS of /proc/PID/status (resident memory incl. shared libraries and, for us, the whole
 *   node runtime), in KiB.
 * - CPU: the scheduler's run time of every thread (/proc/PID/task/TID/schedstat, first field, ns),
 *   summed. Not utime + stime of /proc/PID/stat: with tick-based accounting (this kernel,
 *   CONFIG_TICK_CPU_ACCOUNTING) those are samples of which task was running at each 4 ms tick,
 *   and a process waking in short bursts 50-150 times a second (both softphones in a call) is
 *   over- or under-counted by how its wake-ups fall against the tick; run time is exact.
 *   A thread that exits inside the window takes its run time with it: neither softphone starts
 *   or ends threads during a call. Falls back to utime + stime where schedstat is missing
 *   (kernel without CONFIG_SCHED_INFO).
 *   mainThreadCpuSeconds counts the main thread alone (TID = PID): for a node process, what runs
 *   its JavaScript; the rest is V8's compiler and GC threads and libuv's pool.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

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

/** Run time of one thread so far in ns (first field of its schedstat); undefined where that file is missing. */
function threadRunNs(pid: number, tid: string): number | undefined {
  const path = `/proc/${pid}/task/${tid}/schedstat`;
  let line: string;
  try {
    line = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const runNs = Number(line.split(' ')[0]);
  if (!Number.isFinite(runNs)) throw new Error(`cannot read the run time from ${path}: ${JSON.stringify(line)}`);
  return runNs;
}

/** CPU time the process's live threads have run so far, in seconds (see header). */
export function cpuSeconds(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    throw new Error(`cannot list the threads of process ${pid}: ${(error as Error).message}`);
  }
  let nanoseconds = 0;
  for (const tid of tids) {
    const runNs = threadRunNs(pid, tid);
    if (runNs === undefined) {
      if (!existsSync(`/proc/${pid}/task/${tid}`)) continue; // the thread exited meanwhile
      return tickSampledCpuSeconds(pid); // no schedstat in this kernel
    }
    nanoseconds += runNs;
  }
  return nanoseconds / 1e9;
}

/** CPU time the process's main thread alone (TID = PID) has run so far, in seconds (see header). */
export function mainThreadCpuSeconds(pid: number): number {
  const runNs = threadRunNs(pid, String(pid));
  if (runNs !== undefined) return runNs / 1e9;
  if (!existsSync(`/proc/${pid}`)) throw new Error(`process ${pid} is gone`);
  throw new Error(`no /proc/${pid}/task/${pid}/schedstat in this kernel: the main thread's run time cannot be told apart`);
}

/**
 * Times the process's live threads went to sleep and were woken so far: their voluntary context
 * switches (/proc/PID/task/TID/status). Each costs a Node process ~0.1-0.2 ms of CPU here, a C
 * program a third of that, which is why the calls' CPU figures come with it.
 */
export function wakeups(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // the thread exited meanwhile
      throw error;
    }
    const match = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status);
    if (!match) throw new Error(`/proc/${pid}/task/${tid}/status has no voluntary_ctxt_switches line`);
    total += Number(match[1]);
  }
  return total;
}

/** utime + stime of /proc/PID/stat, in seconds: tick-sampled (see header). */
function tickSampledCpuSeconds(pid: number): number {
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

/** Busy and total jiffies of all CPUs so far (the aggregate "cpu" line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const fields = line.split(/\s+/).slice(1).map(Number);
  if (!line.startsWith('cpu ') || fields.length < 5 || fields.some((f) => !Number.isFinite(f))) throw new Error(`unexpected first line of /proc/stat: ${JSON.stringify(line)}`);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields as number[];
  const busy = user! + nice! + system! + irq + softirq + steal;
  return { busy, total: busy + idle! + iowait };
}

/**
 * How busy the whole machine is over `ms`, in % of ONE core (so 2 cores fully busy = 200 %),
 * from /proc/stat (tick-sampled: good enough to tell a quiet machine from a loaded one). The
 * benchmark checks this before it starts: another process's load perturbs the jitter and CPU
 * figures of both softphones.
 */
export async function machineBusyPercent(ms: number): Promise<number> {
  const before = machineJiffies();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineJiffies();
  const total = after.total - before.total;
  if (total <= 0) throw new Error('/proc/stat did not advance');
  return ((after.busy - before.busy) / total) * 100 * cpus().length;
}
