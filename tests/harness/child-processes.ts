// Child processes started by the harness (kamailio, baresip, ...): logs kept in memory and in a
// file, killed on stop(), on normal test-process exit, and — through a watchdog that notices our
// death by its stdin closing — even when the test process is SIGKILLed. No orphans.
//
// Ownership: every process runs in its own process group (detached) so stop() kills it together
// with the workers it forked (kamailio forks several).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Everything written to stdout/stderr so far. */
  logs(): string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** Writes to its standard input (a pipe, open until the process exits): programs driven by typed commands, e.g. linphonec. */
  write(text: string): void;
  /** SIGTERM the process group (again at graceMs/2), SIGKILL at graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_LOG_CHARS = 2_000_000;
const live = new Set<number>(); // process group ids still running
let watchdog: ChildProcess | undefined;
let exitHookInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ESRCH: already gone
  }
}

function installExitHooks(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
  });
  // Watchdog: a detached shell that reads "add N"/"del N" (process groups) and "addns X"/"delns X"
  // (network namespaces) lines; when our end of the pipe closes (we died, however), it kills every
  // group and deletes every namespace still registered.
  const script = [
    'groups=" "; spaces=" "',
    'while read -r cmd id; do',
    '  case "$cmd" in',
    '    add) groups="$groups$id ";;',
    '    del) groups=$(printf "%s" "$groups" | sed "s/ $id / /");;',
    '    addns) spaces="$spaces$id ";;',
    '    delns) spaces=$(printf "%s" "$spaces" | sed "s/ $id / /");;',
    '  esac',
    'done',
    'for g in $groups; do kill -KILL "-$g" 2>/dev/null; done', // dash: no "--" support
    'for n in $spaces; do ip netns del "$n" 2>/dev/null; done',
  ].join('\n');
  watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', (error) => console.error('[harness] watchdog failed to start:', error));
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
}

function tellWatchdog(line: string): void {
  if (watchdog?.stdin?.writable) watchdog.stdin.write(line + '\n');
}

/** Have the watchdog delete this network namespace if the test process dies without cleanup. */
export function watchNamespace(name: string, watched: boolean): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`watchNamespace: bad namespace name ${JSON.stringify(name)}`);
  installExitHooks();
  tellWatchdog(`${watched ? 'addns' : 'delns'} ${name}`);
}

export function startManagedProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string } = {},
): ManagedProcess {
  installExitHooks();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  let file: WriteStream | undefined;
  if (options.logFile) {
    file = createWriteStream(options.logFile, { flags: 'a' });
    file.on('error', (error) => console.error(`[harness] cannot write ${options.logFile}:`, error));
  }
  const append = (chunk: Buffer | string): void => {
    const text = chunk.toString();
    log += text;
    if (log.length > MAX_LOG_CHARS) log = log.slice(log.length - MAX_LOG_CHARS);
    file?.write(text);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // A write racing the process's exit fails with EPIPE: that is its exit, which `exited` reports.
  child.stdin?.on('error', (error) => append(`\n[harness] ${name}'s standard input: ${error.message}\n`));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => {
      append(`\n[harness] failed to run ${command}: ${error.message}\n`);
      done = true;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => {
      done = true;
      if (child.pid !== undefined) {
        // workers forked by the process may still hold the group; finish them off
        killGroup(child.pid, 'SIGKILL');
        live.delete(child.pid);
        tellWatchdog(`del ${child.pid}`);
      }
      resolve({ code, signal });
    });
  });
  // 'close' (not 'exit'): stdout/stderr may still deliver data after the process exited
  child.on('close', () => file?.end());
  const pid = child.pid ?? -1;
  if (child.pid !== undefined) {
    live.add(child.pid);
    tellWatchdog(`add ${child.pid}`);
  }
  return {
    name,
    pid,
    logs: () => log,
    exited,
    hasExited: () => done,
    write(text) {
      if (done || !child.stdin?.writable) throw new Error(`${name} (pid ${pid}) has exited: cannot write ${JSON.stringify(text)}`);
      child.stdin.write(text);
    },
    async stop(graceMs = 2000) {
      if (done || pid < 0) return;
      killGroup(pid, 'SIGTERM');
      // a second SIGTERM makes baresip skip its graceful un-REGISTER (slow when the PBX is gone)
      const again = setTimeout(() => killGroup(pid, 'SIGTERM'), graceMs / 2);
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(again);
      clearTimeout(timer);
    },
  };
}

/** Last `lines` lines of a log, for error messages. */
export function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
