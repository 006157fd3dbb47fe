/**
 * Issue "media engine" figure (5), and the in-call part of (3): whole-process CPU and RSS of a
 * softphone during a call, per codec.
 *
 * Per codec: Switchboard (alice, headless) calls carol and, AT THE SAME TIME, baresip (bob) calls
 * dave; carol and dave are identical auto-answering baresips offering only that codec, so the
 * codec is forced. Running both calls concurrently means machine load (other work on this shared
 * host) hits both alike; each process's CPU is its own (its threads' run time from
 * /proc/PID/task/TID/schedstat, see process-stats.ts, over the same window, started 1 s after the
 * call is up). Both callers send the same speech-like signal
 * and record what they receive (Switchboard: --audio-out WAV; baresip: sndfile, both directions).
 *
 * A codec that Switchboard cannot negotiate yet (not among the codecs its calls offer) still gets
 * baresip's figure; Switchboard's is then missing with the reason.
 *
 * Two calls (`--calls N`: N) per set of phones, one after the other in the same processes: the
 * first call after start-up, the second, and so on, each its own row. They differ for Switchboard:
 * V8 compiles the per-packet code to its optimizing tier only as a call makes it hot (50 packets a
 * second), which takes the first tens of seconds of the first call, and each new call's first
 * packets send a few functions back to baseline code (paths the earlier calls only ran before V8
 * collected feedback for them) to be compiled again; a desktop phone that has been in calls for a
 * while runs on the optimized code. baresip (compiled C) costs the same in all.
 *
 * Switchboard runs as it ships for scripting: the bundled headless (scripts/build-headless.mjs,
 * plain `node headless.cjs`), not the sources under tsx (whose loader thread alone costs ~1 % here).
 *
 * Repeats (`--repeat N`): one call of 15-30 s on a shared 2-core VM varies by a third (baresip
 * itself 1.0-1.6 % between runs), so each codec is measured N times, rounds interleaved (PCMU,
 * PCMA, ..., PCMU, PCMA, ...) so slow drifts of the machine hit every codec alike. A row shows the
 * medians of both sides and, as its ratio, the median of the N per-run ratios (each run's two calls
 * ran at the same time, so their ratio is the better-paired figure).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePortOtherThan, freeUdpPort } from '../harness/ports';
import type { TestPbx } from '../harness/kamailio';
import type { TestBaresip } from '../harness/baresip';
import type { HeadlessSwitchboard } from '../harness/headless-switchboard';
import { ARRIVAL_WATCHDOG_LONG_MS } from '../../src-main/core/media/media-session';
import { row, type FigureRow } from './figures';
import { baresipPid, startBaresipPhone, startSwitchboard, switchboardPid } from './peers';
import { cpuSeconds, mainThreadCpuSeconds, rssKiB, wakeups } from './process-stats';
import { pairedMedians, percentile } from './stats';
import { speechLikeWav } from './test-signal';
import { sleep } from './wall-clock';

/** Shared with the idle-CPU row of sip-core-bench.ts so both land in one table section. */
export const CPU_SECTION = '5 whole-process CPU (run time of all threads, /proc/PID/task/*/schedstat, % of one core; both calls concurrent)';

export interface CallCodec {
  /** SDP name as baresip's harness takes it */
  name: string;
  sampleRate: number;
  /** Whether Switchboard's calls offer it (else only baresip is measured). */
  wiredInSwitchboard: boolean;
  /** Channels of the WAV baresip plays: 2 for Opus (opus/48000/2). */
  channels: 1 | 2;
  goal?: string;
}

export interface CallCpuOptions {
  /** The bundled headless to run (scripts/build-headless.mjs output). */
  headlessBundle: string;
  /** Calls per codec, in interleaved rounds (see header). */
  repeat: number;
  /** Calls one after the other per set of phones, each measured (see header); at least 2 (the jitter-buffer and memory rows come from the second). */
  callsPerSet: number;
  /** Also measure bare Node's I/O floor (node-io-floor.mjs) during the first codec's call. */
  withNodeFloor?: boolean;
  pbx: TestPbx;
  dir: string;
  codecs: CallCodec[];
  callSeconds: number;
  /**
   * Both phones idle this long after registering before the calls. A Node process just started
   * runs V8's memory reducer: up to three full garbage collections ~8 s apart once start-up
   * allocation dies down (~60 ms of CPU each here), which a desktop phone started at login has
   * long done before its calls, and which would otherwise land in a call's window.
   */
  settleSeconds: number;
  log: (line: string) => void;
}

export interface CallCpuFigures {
  codec: string;
  /** 0-based round of --repeat this run belongs to. */
  round: number;
  /** 1: the phones' first call after start-up; 2: the call after it, same processes; and so on (see header). */
  callNumber: number;
  /** Bare Node doing only this call's packet I/O (node-io-floor.mjs), same window: first codec only. */
  nodeFloor?: { cpuPercent: number; wakeupsPerSecond?: number; error?: string };
  /** Why this codec's calls could not be measured at all. */
  error?: string;
  switchboard?: {
    cpuPercent: number;
    /** The main thread alone (our JavaScript); the rest of cpuPercent is V8's compiler and GC threads. */
    mainThreadCpuPercent?: number;
    rssMiB: number;
    wakeupsPerSecond?: number;
    negotiatedCodec?: string;
    jitterBufferDelayMs?: number[];
    playoutDelayMs?: number[];
    error?: string;
  };
  baresip?: { cpuPercent: number; rssMiB: number; wakeupsPerSecond?: number; error?: string };
}

/** call.stats samples of the jitter buffer, taken after the CPU window. */
const STATS_SAMPLES = 8;

interface Sampler {
  cpuStart: number;
  mainThreadStart: number;
  wakeupsStart: number;
  rss: number[];
}

/** CPU % of one core (all threads, and the main thread alone), wake-ups a second and median RSS of `pid` over `seconds`, sampling RSS every second. */
export async function measureWindow(pids: number[], seconds: number): Promise<{ cpuPercent: number; mainThreadCpuPercent: number; wakeupsPerSecond: number; rssMiB: number }[]> {
  const samplers: Sampler[] = pids.map((pid) => ({ cpuStart: cpuSeconds(pid), mainThreadStart: mainThreadCpuSeconds(pid), wakeupsStart: wakeups(pid), rss: [] }));
  const started = performance.now();
  for (let s = 0; s < seconds; s++) {
    await sleep(started + (s + 1) * 1000 - performance.now());
    pids.forEach((pid, i) => samplers[i]!.rss.push(rssKiB(pid)));
  }
  const elapsed = (performance.now() - started) / 1000;
  return pids.map((pid, i) => ({
    cpuPercent: ((cpuSeconds(pid) - samplers[i]!.cpuStart) / elapsed) * 100,
    mainThreadCpuPercent: ((mainThreadCpuSeconds(pid) - samplers[i]!.mainThreadStart) / elapsed) * 100,
    wakeupsPerSecond: (wakeups(pid) - samplers[i]!.wakeupsStart) / elapsed,
    rssMiB: percentile(samplers[i]!.rss, 50) / 1024,
  }));
}

export async function benchCallCpu(options: CallCpuOptions): Promise<{ rows: FigureRow[]; raw: CallCpuFigures[] }> {
  const { log } = options;
  const figures: CallCpuFigures[] = [];
  for (let round = 0; round < options.repeat; round++) {
    for (const codec of options.codecs) {
      const of = options.repeat > 1 ? ` (run ${round + 1} of ${options.repeat})` : '';
      log(`  ${options.callSeconds} s calls with ${codec.name}${of}${codec.wiredInSwitchboard ? '' : ' (baresip only: not in Switchboard calls)'}`);
      try {
        figures.push(...(await oneCodec({ ...options, withNodeFloor: codec === options.codecs[0] }, codec, round)));
      } catch (error) {
        // One codec failing (a peer that would not set up the call) must not cost the others.
        const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
        log(`  ${codec.name} calls failed: ${message}`);
        for (const callNumber of callNumbers(options)) figures.push({ codec: codec.name, round, callNumber, error: message });
      }
    }
  }
  return { rows: toRows(figures, options), raw: figures };
}

function callNumbers(options: CallCpuOptions): number[] {
  return Array.from({ length: options.callsPerSet }, (_, i) => i + 1);
}

async function oneCodec(options: CallCpuOptions, codec: CallCodec, round: number): Promise<CallCpuFigures[]> {
  const { pbx } = options;
  // baresip's aufile MUST outlast each call. The headless loops its input, so it gets a 10 s file at
  // the codec's rate: no resampling or loading of a long file at call start inside the figures.
  const theirSignal = speechLikeWav(join(options.dir, `signal-${codec.sampleRate}-${codec.channels}ch.wav`), codec.sampleRate, options.callSeconds + 30, codec.channels);
  const ourSignal = speechLikeWav(join(options.dir, `signal-${codec.sampleRate}-10s.wav`), codec.sampleRate, 10);
  const started: TestBaresip[] = [];
  let alice: HeadlessSwitchboard | undefined;
  const results: CallCpuFigures[] = [];
  try {
    if (codec.wiredInSwitchboard) {
      alice = startSwitchboard(pbx, 'alice', ourSignal, join(options.dir, `cpu-call-received-${codec.name}.wav`), options.headlessBundle);
      await alice.waitForAccount('registered', 20_000);
    }
    const registered = performance.now();
    const carol = await startBaresipPhone(pbx, 'carol', theirSignal, [codec.name], true);
    started.push(carol);
    const dave = await startBaresipPhone(pbx, 'dave', theirSignal, [codec.name], true);
    started.push(dave);
    const bob = await startBaresipPhone(pbx, 'bob', theirSignal, [codec.name]);
    started.push(bob);
    // Phones start long before their calls: see CallCpuOptions.settleSeconds.
    await sleep(registered + options.settleSeconds * 1000 - performance.now());
    for (const callNumber of callNumbers(options)) {
      results.push(await callPair(options, { codec: codec.name, round, callNumber }, alice, bob, { withNodeFloor: callNumber === 1 && options.withNodeFloor === true, withStats: callNumber === 2 }));
    }
  } finally {
    await alice?.stop();
    for (const far of started.reverse()) await far.stop();
  }
  return results;
}

/**
 * One measured call on each side, concurrently: Switchboard (`phone`) calls carol while baresip
 * (`bob`) calls dave, one common CPU window, then both hang up.
 */
async function callPair(
  options: CallCpuOptions,
  result: CallCpuFigures,
  phone: HeadlessSwitchboard | undefined,
  bob: TestBaresip,
  what: { withNodeFloor: boolean; withStats: boolean },
): Promise<CallCpuFigures> {
  const { pbx } = options;
  let floor: NodeFloor | undefined;
  try {
    const oursUp = phone
      ? switchboardCall(phone, pbx.aor('carol')).then(
          (callId) => ({ callId }),
          (error: Error) => ({ error: error.message.split('\n')[0]! }),
        )
      : undefined;
    const bobUp = bob.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000);
    await bob.dial(pbx.aor('dave'));
    const bobCall = (await bobUp).id;
    if (bobCall === undefined) throw new Error('baresip reported CALL_ESTABLISHED without a call id');
    const outcome = await oursUp;
    let ourCallId: string | undefined;
    if (outcome && 'error' in outcome) result.switchboard = { cpuPercent: NaN, rssMiB: NaN, error: outcome.error };
    else ourCallId = outcome?.callId;
    await sleep(1000);
    const pids = [baresipPid(bob), ...(phone && ourCallId !== undefined ? [switchboardPid(phone)] : [])];
    if (what.withNodeFloor) floor = await startNodeFloor();
    if (floor) pids.push(floor.pid);
    const jitterBufferDelayMs: number[] = [];
    const playoutDelayMs: number[] = [];
    // Nothing talks to either phone inside the CPU window: baresip is not polled either.
    const measured = await measureWindow(pids, options.callSeconds);
    if (phone && ourCallId !== undefined && what.withStats) {
      // Switchboard's receive jitter buffer in this real call, after the window (one stats request a second).
      for (let i = 0; i < STATS_SAMPLES; i++) {
        const stats = await phone.client.call('call.stats', { callId: ourCallId });
        if (stats.jitterBuffer?.state === 'playing') {
          jitterBufferDelayMs.push(stats.jitterBuffer.currentDelayMs);
          if (stats.jitterBuffer.playoutDelayMs !== undefined) playoutDelayMs.push(stats.jitterBuffer.playoutDelayMs);
        }
        await sleep(1000);
      }
    }
    const [theirs] = measured;
    const mine = phone && ourCallId !== undefined ? measured[1] : undefined;
    if (floor) result.nodeFloor = { cpuPercent: measured.at(-1)!.cpuPercent, wakeupsPerSecond: measured.at(-1)!.wakeupsPerSecond };
    result.baresip = theirs;
    if (phone && mine && ourCallId !== undefined) {
      const callId = ourCallId;
      const snapshot = (await phone.client.call('call.list', {})).calls.find((c) => c.callId === callId);
      result.switchboard = { ...mine, negotiatedCodec: snapshot?.media?.codec, jitterBufferDelayMs, playoutDelayMs };
      await phone.client.call('call.hangup', { callId });
      await phone.waitForCall((c) => c.callId === callId && c.state === 'ended', 10_000);
    }
    // includePast: the far end may have closed it already; the id tells this call from the last one.
    const bobClosed = bob.waitForEvent((e) => e.type === 'CALL_CLOSED' && e.id === bobCall, 10_000, { includePast: true });
    await bob.hangup();
    await bobClosed;
  } finally {
    await floor?.stop();
  }
  return result;
}

interface NodeFloor {
  pid: number;
  stop(): Promise<void>;
}

/** Two node-io-floor.mjs processes exchanging 50 packets/s each way over loopback; we measure the paced one. */
async function startNodeFloor(): Promise<NodeFloor> {
  const script = join(fileURLToPath(import.meta.url), '..', 'node-io-floor.mjs');
  const a = await freeUdpPort();
  const b = await freePortOtherThan(() => freeUdpPort(), [a]);
  const roles = [['paced', String(ARRIVAL_WATCHDOG_LONG_MS)], ['clock']];
  const children: ChildProcess[] = [a, b].map((local, i) => spawn(process.execPath, [script, String(local), String(i === 0 ? b : a), ...roles[i]!], { stdio: ['pipe', 'ignore', 'inherit'] }));
  const pid = children[0]!.pid;
  if (pid === undefined) throw new Error('could not start node-io-floor.mjs');
  await sleep(1000);
  return {
    pid,
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.stdin!.end();
            }),
        ),
      );
    },
  };
}

/** Dial and wait until connected; resolves with the call id, rejects if the call fails. */
export async function switchboardCall(alice: HeadlessSwitchboard, target: string): Promise<string> {
  const { callId } = await alice.client.call('call.dial', { target });
  const state = await alice.waitForCall((c) => c.callId === callId && (c.state === 'connected' || c.state === 'ended'), 15_000);
  if (state.state === 'ended') throw new Error(`call ended before connecting: ${state.reason ?? ''} ${state.sipCode ?? ''}`.trim());
  return callId;
}

function toRows(figures: CallCpuFigures[], options: CallCpuOptions): FigureRow[] {
  const cpu = CPU_SECTION;
  const memory = '3 memory (VmRSS)';
  const rows: FigureRow[] = [];
  const repeated = options.repeat > 1;
  const ok = (f: CallCpuFigures) => (f.switchboard && !f.switchboard.error ? f.switchboard : undefined);
  /** A row from repeated paired runs: medians, and the median per-run ratio (see header). */
  const summaryRow = (section: string, figure: string, unit: string, runs: { ours?: number; theirs?: number }[], extra: { goal?: string; note?: string }) => {
    const summary = pairedMedians(runs);
    const r = row(section, figure, unit, summary.ours, summary.theirs, extra);
    if (!repeated) return r;
    const spread = summary.pairs > 0 ? `; per-run ratios ${summary.ratioMin!.toFixed(2)}-${summary.ratioMax!.toFixed(2)}` : '';
    return { ...r, ratio: summary.ratio, note: [`median of ${runs.length} runs, ratio = median per-run ratio${spread}`, extra.note].filter(Boolean).join('; ') };
  };
  const byCodec = options.codecs.map((codec) => ({ codec, runs: figures.filter((f) => f.codec === codec.name) })).filter((c) => c.runs.length > 0);
  for (const { codec, runs: allRuns } of byCodec) {
    for (const callNumber of callNumbers(options)) {
      const runs = allRuns.filter((f) => f.callNumber === callNumber);
      const notes = new Set<string>();
      for (const f of runs) {
        if (f.error) notes.add(`NOT MEASURED: ${f.error}`);
        else if (!codec.wiredInSwitchboard) notes.add('Switchboard: codec not offered in calls yet');
        else if (f.switchboard?.error) notes.add(`Switchboard: ${f.switchboard.error}`);
        else if (ok(f)?.negotiatedCodec && ok(f)!.negotiatedCodec!.toLowerCase() !== f.codec.toLowerCase()) notes.add(`Switchboard negotiated ${ok(f)!.negotiatedCodec}!`);
      }
      const failed = runs.filter((f) => f.error || (codec.wiredInSwitchboard && !ok(f))).length;
      const note = [...notes].map((n) => (repeated && failed < runs.length ? `${failed} of ${runs.length} runs: ${n}` : n)).join('; ') || undefined;
      const settled = options.settleSeconds > 0 ? `, phones up ${options.settleSeconds} s before` : '';
      const which = callNumber === 1 ? `first call after start-up${settled}` : callNumber === 2 ? 'second call, same processes' : `call ${callNumber}, same processes`;
      rows.push(summaryRow(cpu, `${options.callSeconds} s call with ${codec.name}: ${which}`, '%', runs.map((f) => ({ ours: ok(f)?.cpuPercent, theirs: f.baresip?.cpuPercent })), { goal: codec.goal, note }));
    }
  }
  // Where our CPU goes per call: the main thread (our JavaScript) against V8's compiler and GC
  // threads, which do most of the difference between a process's first calls and its later ones.
  for (const { codec, runs: allRuns } of byCodec) {
    for (const callNumber of callNumbers(options)) {
      const runs = allRuns.filter((f) => f.callNumber === callNumber && ok(f)?.mainThreadCpuPercent !== undefined);
      if (runs.length === 0) continue;
      const others = percentile(runs.map((f) => ok(f)!.cpuPercent - ok(f)!.mainThreadCpuPercent!), 50);
      rows.push(
        summaryRow(cpu, `Switchboard's main thread alone, ${codec.name} call ${callNumber}`, '%', runs.map((f) => ({ ours: ok(f)!.mainThreadCpuPercent })), {
          note: `its other threads (V8's compiler and GC): ${others.toFixed(2)} %`,
        }),
      );
    }
  }
  const withFloor = figures.filter((f) => f.nodeFloor);
  if (withFloor.length > 0) {
    rows.push(
      summaryRow(cpu, `bare Node ${process.version}: only a call's packet I/O (50 pkt/s each way, paced by arrivals as the headless), during the ${withFloor[0]!.codec} call`, '%', withFloor.map((f) => ({ ours: f.nodeFloor!.cpuPercent, theirs: f.baresip?.cpuPercent })), {
        note: "tests/bench/node-io-floor.mjs, no media work: the least a Node program woken as the headless is spends here; ratio against baresip's whole call",
      }),
    );
  }
  // Wake-ups explain much of the CPU (see process-stats.ts, wakeups): the last call's, where the JIT has settled.
  const lastCall = options.callsPerSet;
  for (const { codec, runs: allRuns } of byCodec) {
    const runs = allRuns.filter((f) => f.callNumber === lastCall);
    if (!runs.some((f) => ok(f)?.wakeupsPerSecond !== undefined)) continue;
    rows.push(
      summaryRow(cpu, `wake-ups a second (voluntary context switches, all threads), ${lastCall === 1 ? 'first call' : `call ${lastCall}`} with ${codec.name}`, '/s', runs.map((f) => ({ ours: ok(f)?.wakeupsPerSecond, theirs: f.baresip?.wakeupsPerSecond })), {}),
    );
  }
  if (withFloor.some((f) => f.nodeFloor!.wakeupsPerSecond !== undefined)) {
    rows.push(summaryRow(cpu, `wake-ups a second, bare Node's packet I/O (the row above)`, '/s', withFloor.map((f) => ({ ours: f.nodeFloor!.wakeupsPerSecond, theirs: f.baresip?.wakeupsPerSecond })), {}));
  }
  for (const { codec, runs: allRuns } of byCodec) {
    const runs = allRuns.filter((f) => f.callNumber === 2);
    if (!runs.some((f) => ok(f) || f.baresip)) continue;
    rows.push(summaryRow(memory, `in a call with ${codec.name} (median)`, 'MiB', runs.map((f) => ({ ours: ok(f)?.rssMiB, theirs: f.baresip?.rssMiB })), codec === byCodec[0]!.codec ? { note: 'caller side of the second call, sampled every second' } : {}));
  }
  return rows;
}
