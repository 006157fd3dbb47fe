/**
 * `npm run bench -- --only ab --against REV`: this tree's headless against another revision's,
 * both in PCMU calls AT THE SAME TIME, so a change to the per-packet code can be judged at ~5 %
 * (README: calibration). Two bench runs one after the other differ by 10-20 % in our CPU on this shared 2-core
 * machine (baresip's own CPU moves as much), which hides most single changes; two builds measured
 * in the same windows share every load of the moment.
 *
 * Set-up: each build runs as the bundled headless (scripts/build-headless.mjs; REV's own script
 * builds REV's bundle from `git archive REV` with this tree's node_modules) and calls its own
 * auto-answering baresip through one Kamailio: first phone alice → carol, second bob → dave. Per
 * call, both phones' CPU (run time of all threads, process-stats.ts) and wake-ups are read in the
 * same WINDOW_SECONDS windows, starting 1 s after both calls are up; calls follow one another in
 * the same processes, as in the calls section (the first call after start-up differs, see
 * call-cpu-bench.ts).
 *
 * Placement: a set of phones (both headless builds and their baresips, started together) has its
 * own bias between the two builds: which core each process shares with which baresip, settled at
 * start-up, and whatever else makes one process of identical code cost a few per cent more than
 * another for its whole life. Within a set the windows agree closely; between sets of IDENTICAL
 * builds the ratio moved by up to ~10 % either way here. So the section starts `--sets` sets (default 4), one after
 * the other, alternating which build starts first (as alice), takes each set's median window ratio
 * per call, and gives their geometric mean: a bias tied to the start order cancels between a pair
 * of sets, one of a single process averages out over sets. Each set's ratio is printed beside it.
 * `--against HEAD` on a clean tree measures the instrument itself (expect ~1.00x).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestPbx } from '../harness/kamailio';
import type { TestBaresip } from '../harness/baresip';
import type { HeadlessSwitchboard } from '../harness/headless-switchboard';
import { repoRoot } from '../harness/headless-switchboard';
import { row, type FigureRow } from './figures';
import { measureWindow, switchboardCall } from './call-cpu-bench';
import { startBaresipPhone, startSwitchboard, switchboardPid } from './peers';
import { percentile } from './stats';
import { speechLikeWav } from './test-signal';
import { sleep } from './wall-clock';

const WINDOW_SECONDS = 20;

export const AB_SECTION = '7 A/B side by side: this tree against another revision, PCMU calls at the same time (whole-process CPU, % of one core)';

export interface AbOptions {
  pbx: TestPbx;
  dir: string;
  /** The revision to compare against (anything `git rev-parse` takes). */
  against: string;
  /** This tree's bundled headless. */
  headlessBundle: string;
  /** Calls one after the other per set of phones. */
  calls: number;
  /** WINDOW_SECONDS windows measured per call. */
  windows: number;
  /** Sets of phones, one after the other, alternating which build starts first (see header). */
  sets: number;
  /** Phones idle this long after registering, before the first call (see call-cpu-bench.ts). */
  settleSeconds: number;
  log: (line: string) => void;
}

/** One window of one call: both builds measured over the same seconds. */
export interface AbWindow {
  /** 1-based set of phones (see header). */
  set: number;
  /** Whether this tree's headless started first (as alice) in that set. */
  thisFirst: boolean;
  call: number;
  window: number;
  thisCpuPercent: number;
  revCpuPercent: number;
  thisWakeupsPerSecond: number;
  revWakeupsPerSecond: number;
}

export interface AbCallSummary {
  call: number;
  /** Medians over all windows of all sets. */
  thisCpuPercent: number;
  revCpuPercent: number;
  thisWakeupsPerSecond: number;
  revWakeupsPerSecond: number;
  /** Per set with a usable window: the median of its per-window ratios this/REV. */
  setRatios: { set: number; thisFirst: boolean; ratio: number }[];
  /** Geometric mean of the sets' ratios (see header). */
  ratio: number;
  windows: number;
}

/** Per call: medians and the sets' combined ratio (see header). Windows with no CPU on REV's side are left out of the ratios. */
export function summarizeAb(windows: readonly AbWindow[]): AbCallSummary[] {
  const calls = [...new Set(windows.map((w) => w.call))].sort((a, b) => a - b);
  return calls.map((call) => {
    const of = windows.filter((w) => w.call === call);
    const setRatios: AbCallSummary['setRatios'] = [];
    for (const set of [...new Set(of.map((w) => w.set))].sort((a, b) => a - b)) {
      const usable = of.filter((w) => w.set === set && w.revCpuPercent > 0);
      if (usable.length > 0) setRatios.push({ set, thisFirst: usable[0]!.thisFirst, ratio: percentile(usable.map((w) => w.thisCpuPercent / w.revCpuPercent), 50) });
    }
    if (setRatios.length === 0) throw new Error(`call ${call}: no window where REV's build used any CPU`);
    return {
      call,
      thisCpuPercent: percentile(of.map((w) => w.thisCpuPercent), 50),
      revCpuPercent: percentile(of.map((w) => w.revCpuPercent), 50),
      thisWakeupsPerSecond: percentile(of.map((w) => w.thisWakeupsPerSecond), 50),
      revWakeupsPerSecond: percentile(of.map((w) => w.revWakeupsPerSecond), 50),
      setRatios,
      ratio: Math.exp(setRatios.reduce((sum, r) => sum + Math.log(r.ratio), 0) / setRatios.length),
      windows: of.length,
    };
  });
}

/**
 * REV's bundled headless, built by REV's own build script from its tracked files (`git archive`)
 * with this tree's node_modules. Returns the bundle and the full commit it was built from.
 */
export function buildRevisionBundle(rev: string, dir: string): { bundle: string; commit: string } {
  const git = (...args: string[]) => execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  } catch (error) {
    throw new Error(`--against ${JSON.stringify(rev)}: not a commit in ${repoRoot}`, { cause: error });
  }
  const source = join(dir, `ab-${commit.slice(0, 12)}`);
  mkdirSync(source, { recursive: true });
  const archive = execFileSync('git', ['-C', repoRoot, 'archive', '--format=tar', commit], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', source], { input: archive });
  symlinkSync(join(repoRoot, 'node_modules'), join(source, 'node_modules'));
  const outdir = join(source, 'headless-bundle');
  execFileSync(process.execPath, [join(source, 'scripts', 'build-headless.mjs'), '--outdir', outdir], { cwd: source, stdio: ['ignore', 'inherit', 'inherit'] });
  return { bundle: join(outdir, 'headless.cjs'), commit };
}

export async function benchAb(options: AbOptions): Promise<{ rows: FigureRow[]; raw: { commit: string; windows: AbWindow[] } }> {
  const { log } = options;
  log(`A/B: building the headless of ${options.against}`);
  const rev = buildRevisionBundle(options.against, options.dir);
  const short = rev.commit.slice(0, 9);
  // Written once for all sets; baresip's aufile must outlast the calls (see peers.ts).
  const callSeconds = 1 + options.windows * WINDOW_SECONDS + 5;
  const signals = {
    ours: speechLikeWav(join(options.dir, 'ab-ours-8000.wav'), 8000, 10),
    theirs: speechLikeWav(join(options.dir, 'ab-theirs-8000.wav'), 8000, callSeconds * options.calls + 60),
  };
  const windows: AbWindow[] = [];
  for (let set = 1; set <= options.sets; set++) {
    const thisFirst = set % 2 === 1;
    log(`A/B set ${set} of ${options.sets}: ${thisFirst ? 'this tree' : short} started first; ${options.calls} calls, ${options.windows} windows of ${WINDOW_SECONDS} s each`);
    windows.push(...(await oneSet(options, set, thisFirst, rev.bundle, signals)));
  }
  const rows: FigureRow[] = [];
  const columns = ['this tree', short] as const;
  for (const s of summarizeAb(windows)) {
    const name = s.call === 1 ? 'first call after start-up' : `call ${s.call}, same processes`;
    const perSet = s.setRatios.map((r) => `${r.ratio.toFixed(3)}x${r.thisFirst ? '' : '*'}`).join(', ');
    rows.push({
      ...row(AB_SECTION, `${name}: CPU`, '%', s.thisCpuPercent, s.revCpuPercent, {
        note: `ratio: geometric mean of the sets' median window ratios (${perSet}; * = ${short} started first); ${s.windows} windows of ${WINDOW_SECONDS} s`,
      }),
      ratio: s.ratio,
      columns,
    });
    rows.push({ ...row(AB_SECTION, `${name}: wake-ups a second`, '/s', s.thisWakeupsPerSecond, s.revWakeupsPerSecond), columns });
  }
  return { rows, raw: { commit: rev.commit, windows } };
}

/** One set of phones: [first, second] = [this, REV] when `thisFirst`, else [REV, this]. */
async function oneSet(options: AbOptions, set: number, thisFirst: boolean, revBundle: string, signals: { ours: string; theirs: string }): Promise<AbWindow[]> {
  const { pbx, dir } = options;
  const bundles = thisFirst ? [options.headlessBundle, revBundle] : [revBundle, options.headlessBundle];
  const thisIndex = thisFirst ? 0 : 1;
  const users = [
    { user: 'alice', peer: 'carol' },
    { user: 'bob', peer: 'dave' },
  ];
  const phones: HeadlessSwitchboard[] = [];
  const peers: TestBaresip[] = [];
  const result: AbWindow[] = [];
  try {
    for (const [i, u] of users.entries()) {
      const phone = startSwitchboard(pbx, u.user, signals.ours, join(dir, `ab-${set}-${u.user}.wav`), bundles[i]!);
      phones.push(phone);
      await phone.waitForAccount('registered', 20_000);
    }
    const registered = performance.now();
    for (const u of users) peers.push(await startBaresipPhone(pbx, u.peer, signals.theirs, ['PCMU'], true));
    await sleep(registered + options.settleSeconds * 1000 - performance.now());
    const pids = phones.map(switchboardPid);
    for (let call = 1; call <= options.calls; call++) {
      const callIds = await Promise.all(phones.map((phone, i) => switchboardCall(phone, pbx.aor(users[i]!.peer))));
      await sleep(1000);
      for (let window = 1; window <= options.windows; window++) {
        const measured = await measureWindow(pids, WINDOW_SECONDS);
        const w: AbWindow = {
          set,
          thisFirst,
          call,
          window,
          thisCpuPercent: measured[thisIndex]!.cpuPercent,
          revCpuPercent: measured[1 - thisIndex]!.cpuPercent,
          thisWakeupsPerSecond: measured[thisIndex]!.wakeupsPerSecond,
          revWakeupsPerSecond: measured[1 - thisIndex]!.wakeupsPerSecond,
        };
        options.log(`  call ${call} window ${window}: this tree ${w.thisCpuPercent.toFixed(3)} % (${w.thisWakeupsPerSecond.toFixed(0)}/s), REV ${w.revCpuPercent.toFixed(3)} % (${w.revWakeupsPerSecond.toFixed(0)}/s)`);
        result.push(w);
      }
      await Promise.all(
        phones.map(async (phone, i) => {
          await phone.client.call('call.hangup', { callId: callIds[i]! });
          await phone.waitForCall((c) => c.callId === callIds[i] && c.state === 'ended', 10_000);
        }),
      );
      await sleep(2000);
    }
  } finally {
    for (const phone of phones) await phone.stop();
    for (const peer of peers) await peer.stop();
  }
  return result;
}
