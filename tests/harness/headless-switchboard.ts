/**
 * Runs the headless Switchboard as a child process and talks to it over its stdio contract,
 * exactly as a script would. (Owned by the lead; other harness files are the harness helper's.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createStdioChannel } from '../../src-main/carriers/stdio-carrier';
import { ContractClient } from '../../src-main/common/contract/contract-client';
import type { AccountSnapshot, CallSnapshot, EventName, EventPayload } from '../../src-main/common/contract/contract';

export const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface HeadlessSwitchboard {
  client: ContractClient;
  process: ChildProcess;
  /** Every event received so far, in order. */
  events: { event: EventName; payload: unknown }[];
  /** Resolve with the first event (past or future) matching the predicate. */
  waitFor<E extends EventName>(event: E, predicate: (p: EventPayload<E>) => boolean, timeoutMs?: number): Promise<EventPayload<E>>;
  waitForAccount(state: AccountSnapshot['state'], timeoutMs?: number): Promise<AccountSnapshot>;
  waitForCall(predicate: (c: CallSnapshot) => boolean, timeoutMs?: number): Promise<CallSnapshot>;
  /** The call as `call.list` has it now; rejects if it is not listed. */
  callSnapshot(callId: string): Promise<CallSnapshot>;
  stderr(): string;
  /** Close stdin (graceful: hang up, unregister) and wait for exit; kill if it hangs. */
  stop(): Promise<number | null>;
}

export interface HeadlessOptions {
  /** Run through `npm run --silent headless --` exactly as README says (slower); default: node + tsx. */
  viaNpm?: boolean;
  /** Run this bundle (scripts/build-headless.mjs output) with plain node instead of the sources. */
  bundle?: string;
  /** Environment variables on top of this process's (e.g. SWITCHBOARD_PASSWORD). */
  env?: Record<string, string>;
  /** Extra Node/V8 flags for the child (with SWITCHBOARD_HEADLESS_NODE_ARGS's). Not with viaNpm. */
  nodeArgs?: string[];
  /**
   * Diagnostics: V8's own output (traces, %DebugPrint) goes to this file, the contract to another
   * pipe (v8-output-preload.mjs); default SWITCHBOARD_HEADLESS_V8_OUT. What V8 prints before the
   * preload runs goes to `${file}.early`. Not with viaNpm.
   */
  v8OutputFile?: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Extra Node flags for the headless child, e.g. SWITCHBOARD_HEADLESS_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" (Node refuses --cpu-prof in NODE_OPTIONS). For profiling only.
 */
function profilingArgs(): string[] {
  return (process.env.SWITCHBOARD_HEADLESS_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

export function startHeadless(args: string[], options: HeadlessOptions = {}): HeadlessSwitchboard {
  const v8OutputFile = options.viaNpm ? undefined : (options.v8OutputFile ?? process.env.SWITCHBOARD_HEADLESS_V8_OUT);
  const env = { ...process.env, ...options.env, ...(v8OutputFile ? { SWITCHBOARD_HEADLESS_V8_OUT: v8OutputFile } : {}) };
  const nodeArgs = [...profilingArgs(), ...(options.nodeArgs ?? []), ...(v8OutputFile ? ['--import', join(repoRoot, 'tests/harness/v8-output-preload.mjs')] : [])];
  const child = options.viaNpm
    ? spawn('npm', ['run', '--silent', 'headless', '--', ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, [...nodeArgs, ...(options.bundle ? [options.bundle] : ['--import', 'tsx', join(repoRoot, 'src-main/headless/headless.ts')]), ...args], {
        cwd: repoRoot,
        env,
        stdio: v8OutputFile ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      });
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    if (process.env.SWITCHBOARD_TEST_VERBOSE) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (live.delete(child), resolve(code))));
  let contractOut = child.stdout!;
  if (v8OutputFile) {
    contractOut = child.stdio[3] as Readable;
    // Read, or V8 blocks on a full pipe; kept for the reader.
    child.stdout!.on('data', (chunk: Buffer) => appendFileSync(`${v8OutputFile}.early`, chunk));
  }
  const channel = createStdioChannel(contractOut, child.stdin!);
  const client = new ContractClient(channel);
  const events: { event: EventName; payload: unknown }[] = [];
  const waiters = new Set<() => void>();
  for (const name of ['account.state', 'call.state'] as const) {
    client.on(name, (payload) => {
      events.push({ event: name, payload });
      for (const w of [...waiters]) w();
    });
  }

  function waitFor<E extends EventName>(event: E, predicate: (p: EventPayload<E>) => boolean, timeoutMs = 15000): Promise<EventPayload<E>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.find((e) => e.event === event && predicate(e.payload as EventPayload<E>));
        if (!hit) return false;
        cleanup();
        resolve(hit.payload as EventPayload<E>);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${event}.\nEvents so far:\n${events
              .map((e) => `${e.event} ${JSON.stringify(e.payload)}`)
              .join('\n')}\n--- headless stderr (tail) ---\n${stderr.slice(-4000)}`,
          ),
        );
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`headless exited while waiting for ${event}\n--- stderr ---\n${stderr.slice(-4000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('exit', onExit);
      };
      const waiter = () => void check();
      if (check()) return;
      waiters.add(waiter);
      child.once('exit', onExit);
    });
  }

  return {
    client,
    process: child,
    events,
    waitFor,
    waitForAccount: (state, timeoutMs) => waitFor('account.state', (a) => a.state === state, timeoutMs),
    waitForCall: (predicate, timeoutMs) => waitFor('call.state', predicate, timeoutMs),
    async callSnapshot(callId) {
      const { calls } = await client.call('call.list', {});
      const call = calls.find((c) => c.callId === callId);
      if (!call) throw new Error(`call ${callId} is not listed: ${calls.map((c) => c.callId).join(', ') || 'no calls'}`);
      return call;
    },
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
