// Packet loss in the kernel: a network namespace joined to the host by a veth pair, with an
// nftables table inside the namespace that drops a random N % of UDP packets leaving the namespace
// (and, optionally, entering it). Processes run inside with `ip netns exec`.
//
//   host: <hostAddress> (veth end "sbXa<id>")  ⟷  namespace: <nsAddress> (veth end "sbXb<id>"), lo up
//
// Addresses are 169.254.<a>.<b>/30 link-local on the veth only: nothing is routed anywhere else.
// Needs root, iproute2 and nftables (no tc/netem required: numgen random does the dropping).
// Cleanup always: cleanup() (called by withLossyNamespace), process exit, and the watchdog if the
// test process is killed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startManagedProcess, watchNamespace, type ManagedProcess } from './child-processes';

export interface LossyNamespace {
  name: string;
  /** Address of the host end of the veth: processes in the namespace reach the host here. */
  hostAddress: string;
  /** Address inside the namespace: the host reaches namespace processes here. */
  nsAddress: string;
  /** Runs a command inside the namespace to completion; returns stdout; throws with stderr. */
  exec(command: string, args?: string[]): string;
  /** Starts a long-running process inside the namespace (killed on stop/exit like any harness process). */
  spawn(name: string, command: string, args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string }): ManagedProcess;
  /** Changes the loss (0..100) for UDP in the configured direction(s). */
  setLoss(percent: number): void;
  /** UDP packets dropped by the nftables rules so far. */
  droppedPackets(): number;
  cleanup(): void;
}

export interface LossyNamespaceOptions {
  lossPercent: number;
  /** 'egress' (default): drop UDP leaving the namespace; 'both': also UDP entering it. */
  direction?: 'egress' | 'both';
}

function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

function checkLoss(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new Error(`lossy namespace: loss must be an integer 0..100 (got ${percent})`);
}

function rules(loss: number, direction: 'egress' | 'both'): string {
  const chain = (name: string, hook: string): string =>
    [`  chain ${name} {`, `    type filter hook ${hook} priority 0; policy accept;`, `    meta l4proto udp numgen random mod 100 < ${loss} counter drop`, '  }'].join('\n');
  return ['table inet impair {', chain('egress', 'output'), ...(direction === 'both' ? [chain('ingress', 'input')] : []), '}', ''].join('\n');
}

/** Why namespaces cannot be used here, or undefined when they can (tries one for real). */
export function lossyNamespaceUnsupportedReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns / nft)';
  try {
    const ns = createLossyNamespace({ lossPercent: 0 });
    ns.cleanup();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function createLossyNamespace(options: LossyNamespaceOptions): LossyNamespace {
  checkLoss(options.lossPercent);
  const direction = options.direction ?? 'egress';
  const id = randomBytes(3).toString('hex');
  const name = `sb-lossy-${id}`;
  const hostIf = `sbXa${id}`;
  const nsIf = `sbXb${id}`;
  // a /30 in 169.254.0.0/16 derived from the random id: concurrent namespaces rarely collide, and
  // a collision fails loudly ("File exists" from ip addr add) rather than misrouting
  const a = parseInt(id.slice(0, 2), 16) % 254 + 1;
  const b = (parseInt(id.slice(2, 4), 16) % 63) * 4;
  const hostAddress = `169.254.${a}.${b + 1}`;
  const nsAddress = `169.254.${a}.${b + 2}`;
  let created = false;
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    process.removeListener('exit', cleanup);
    if (!created) return;
    try {
      run('ip', ['netns', 'del', name]); // also destroys the veth pair
    } finally {
      watchNamespace(name, false);
    }
  };
  try {
    run('ip', ['netns', 'add', name]);
    created = true;
    watchNamespace(name, true);
    process.on('exit', cleanup);
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run('ip', ['link', 'set', nsIf, 'netns', name]);
    run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf]);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], rules(options.lossPercent, direction));
  } catch (error) {
    try {
      cleanup();
    } catch (cleanupError) {
      console.error(`[harness] cleaning up namespace ${name} failed:`, cleanupError);
    }
    throw new Error(`lossy namespace: ${(error as Error).message}`);
  }
  return {
    name,
    hostAddress,
    nsAddress,
    exec: (command, args = []) => run('ip', ['netns', 'exec', name, command, ...args]),
    spawn: (procName, command, args, spawnOptions) => startManagedProcess(procName, 'ip', ['netns', 'exec', name, command, ...args], spawnOptions),
    setLoss(percent) {
      checkLoss(percent);
      run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], `flush table inet impair\ndelete table inet impair\n${rules(percent, direction)}`);
    },
    droppedPackets() {
      const json = JSON.parse(run('ip', ['netns', 'exec', name, 'nft', '-j', 'list', 'table', 'inet', 'impair'])) as {
        nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
      };
      let dropped = 0;
      for (const item of json.nftables) for (const expr of item.rule?.expr ?? []) dropped += expr.counter?.packets ?? 0;
      return dropped;
    },
    cleanup,
  };
}

/** Creates the namespace, runs fn, and always removes the namespace afterwards. */
export async function withLossyNamespace<T>(options: LossyNamespaceOptions, fn: (ns: LossyNamespace) => Promise<T>): Promise<T> {
  const ns = createLossyNamespace(options);
  try {
    return await fn(ns);
  } finally {
    ns.cleanup();
  }
}
