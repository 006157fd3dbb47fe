/**
 * `npm run bench [-- options]`: Switchboard's figures next to baresip's, measured in the same run
 * on this machine, printed as a table and written to .test-artifacts/bench.json.
 *
 *   --quick                 fewer repetitions, shorter calls (about a minute and a half)
 *   --runs N                registrations and call setups per softphone (default 10; quick 3)
 *   --call-seconds S        length of each CPU/RSS call (default 30; quick 8)
 *   --settle-seconds S      phones idle after registering, before each such call (default 30; quick 0; see call-cpu-bench.ts)
 *   --only LIST             comma list of: media, jitter, app, register, setup, calls, ab (default all but ab)
 *   --codecs LIST           comma list of codec names for the media and calls sections (default all)
 *   --repeat N              calls per codec in the calls section, interleaved; rows give medians (default 3; quick 1)
 *   --calls N               calls one after the other per set of phones in the calls section, a row each (default 2, at least 2)
 *   --out FILE              JSON output (default .test-artifacts/bench.json)
 *   --against REV           the ab section: this tree against REV, side by side (ab-bench.ts; e.g. --only ab --against HEAD~1)
 *   --windows N             the ab section: 20 s windows measured per call (default 3; calls: --calls)
 *   --sets N                the ab section: sets of phones, alternating which build starts first (default 4)
 *
 * Sections (issue numbering): 1 registration, 2 call setup, 3 memory, 4 media CPU in-process,
 * 5 whole-process CPU in calls, 6 jitter-buffer delay and capture-to-wire delay; 7, only on request
 * (--only ab), this tree against another revision in calls side by side.
 * Benchmarks never fail on a number. A section that cannot run (e.g. a peer did not start) is
 * reported as NOT MEASURED with the error, and the others still run; exit code 1 then.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { repoRoot } from '../harness/headless-switchboard';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { buildHeadlessBundle } from '../harness/headless-bundle';
import { AB_SECTION, benchAb } from './ab-bench';
import { benchCodecs } from './bench-codecs';
import { benchCallCpu, type CallCpuFigures } from './call-cpu-bench';
import { failedSection, row, type FigureRow } from './figures';
import { benchCaptureToWire, benchJitterDelay, JITTERY_LINK } from './jitter-bench';
import { benchAppPlayout } from './app-audio-bench';
import { benchEchoCanceller } from './echo-canceller-bench';
import { PORT_SAMPLE_RATE } from '../../src-main/core/media/audio/renderer-audio-provider';
import { benchMediaCpu, type CodecCpu } from './media-cpu-bench';
import { formatTable, writeJson } from './report';
import { benchCallSetup, benchRegistration } from './sip-core-bench';
import { machineBusyPercent } from './process-stats';
import { distribution, pairedMedians } from './stats';
import { speechLikeWav } from './test-signal';

const SECTIONS = ['media', 'jitter', 'app', 'register', 'setup', 'calls', 'ab'] as const;
/** Sections run without --only: ab needs a revision to compare with. */
const DEFAULT_SECTIONS = SECTIONS.filter((s) => s !== 'ab');
type Section = (typeof SECTIONS)[number];

function parseOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      'call-seconds': { type: 'string' },
      'settle-seconds': { type: 'string' },
      only: { type: 'string' },
      codecs: { type: 'string' },
      repeat: { type: 'string' },
      calls: { type: 'string' },
      out: { type: 'string' },
      against: { type: 'string' },
      windows: { type: 'string' },
      sets: { type: 'string' },
    },
  });
  const quick = Boolean(values.quick);
  const integer = (name: string, text: string | undefined, fallback: number, least: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < least) throw new Error(`--${name} must be an integer of at least ${least}, got ${JSON.stringify(text)}`);
    return n;
  };
  const positive = (name: string, text: string | undefined, fallback: number) => integer(name, text, fallback, 1);
  const nonNegative = (name: string, text: string | undefined, fallback: number) => integer(name, text, fallback, 0);
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...DEFAULT_SECTIONS];
  for (const s of only) if (!SECTIONS.includes(s as Section)) throw new Error(`--only: unknown section ${JSON.stringify(s)} (have ${SECTIONS.join(', ')})`);
  if (only.includes('ab') !== (values.against !== undefined)) throw new Error('--only ab and --against REV go together: the ab section compares this tree with REV');
  return {
    quick,
    runs: positive('runs', values.runs, quick ? 3 : 10),
    callSeconds: positive('call-seconds', values['call-seconds'], quick ? 8 : 30),
    settleSeconds: nonNegative('settle-seconds', values['settle-seconds'], quick ? 0 : 30),
    repeat: positive('repeat', values.repeat, quick ? 1 : 3),
    callsPerSet: integer('calls', values.calls, 2, 2),
    against: values.against,
    windows: positive('windows', values.windows, 3),
    sets: positive('sets', values.sets, 4),
    audioSeconds: quick ? 5 : 30,
    repetitions: quick ? 2 : 3,
    jitterSeconds: quick ? 5 : 15,
    captureSeconds: quick ? 1 : 3,
    sections: new Set(only as Section[]),
    codecs: values.codecs?.split(',').map((s) => s.trim()),
    out: values.out ?? join(repoRoot, '.test-artifacts', 'bench.json'),
  };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Machine load (% of one core, all processes) above which the run is flagged as not quiet. */
const QUIET_BUSY_PERCENT = 10;

async function main(): Promise<number> {
  const options = parseOptions();
  const startedAt = new Date();
  const loadBefore = loadavg();
  // Nothing else should run: another process's load perturbs both softphones' jitter and CPU.
  const busyBefore = await machineBusyPercent(2000);
  if (busyBefore > QUIET_BUSY_PERCENT) log(`WARNING: the machine is not quiet: ${busyBefore.toFixed(0)} % of one core busy before the run (other processes); figures will be noisier`);
  const codecs = benchCodecs(options.codecs);
  const rows: FigureRow[] = [];
  const raw: Record<string, unknown> = {};
  let failures = 0;
  const attempt = async (section: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      failures++;
      log(`${section} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push(failedSection(section, error));
    }
  };

  /** The headless client's added mouth-to-ear on a clean link (section 6), which the app's adds to. */
  let headlessAddedMs: { total: number; wire: number; playout: number } | undefined;
  // In-process figures first, before any peer runs on this machine.
  let mediaCpu: CodecCpu[] = [];
  if (options.sections.has('media')) {
    await attempt('4 media CPU', async () => {
      log(`media CPU in-process: ${options.audioSeconds} s of audio per codec, ${options.repetitions} passes`);
      mediaCpu = benchMediaCpu(codecs, options.audioSeconds, options.repetitions);
      raw.mediaCpu = mediaCpu;
    });
  }
  if (options.sections.has('jitter')) {
    await attempt('6 jitter buffer / capture-to-wire', async () => {
      log(`jitter-buffer delay: ${options.jitterSeconds} s on a clean and a jittery link (PCMU)`);
      const links = await benchJitterDelay(codecs[0]!, options.jitterSeconds);
      log(`capture-to-wire: ${options.captureSeconds} s per codec`);
      const wire = [];
      for (const c of codecs) wire.push(await benchCaptureToWire(c, options.captureSeconds));
      raw.jitter = { links, captureToWire: wire, jitteryLink: JITTERY_LINK };
      const section = '6 jitter-buffer delay (in-process MediaSession → MediaSession, PCMU) and capture-to-wire';
      const theirs = { note: 'baresip: not observable from outside its process' };
      for (const link of links) {
        const name = link.link.startsWith('clean') ? 'clean' : 'jittery';
        rows.push(row(section, `JB current delay, ${name}, median`, 'ms', link.currentDelayMs?.median, undefined, { note: link.link }));
        rows.push(row(section, `JB current delay, ${name}, p90`, 'ms', link.currentDelayMs?.p90, undefined));
        rows.push(row(section, `JB current delay, ${name}, max`, 'ms', link.currentDelayMs?.max, undefined));
        rows.push(row(section, `JB target slack (p95 jitter + 3 ms), ${name}, median`, 'ms', link.targetDelayMs?.median, undefined));
        rows.push(row(section, `playout delay (arrival → device pull), ${name}, median`, 'ms', link.playoutDelayMs?.median, undefined));
        rows.push(row(section, `playout delay (arrival → device pull), ${name}, p90`, 'ms', link.playoutDelayMs?.p90, undefined));
        rows.push(row(section, `JB concealed frames, ${name}`, '', link.concealed, undefined, {
          note: `of ${link.received} packets received; lost ${link.lost}, late ${link.late}, expand rate ${(link.expandRate * 100).toFixed(1)} %`,
        }));
      }
      const clean = links.find((l) => l.link.startsWith('clean'))?.playoutDelayMs?.median;
      const wirePcmu = wire[0]?.delayMs?.median;
      headlessAddedMs = clean !== undefined && wirePcmu !== undefined ? { total: 20 + wirePcmu + clean, wire: wirePcmu, playout: clean } : undefined;
      if (clean !== undefined && wirePcmu !== undefined) {
        rows.push(row(section, 'added mouth-to-ear by the client, clean link (median)', 'ms', 20 + wirePcmu + clean, undefined, {
          goal: '< 40 ms',
          note: `20 ms packetisation + capture-to-wire ${wirePcmu.toFixed(2)} ms + playout delay ${clean.toFixed(1)} ms (the device's own output buffer is not ours)`,
        }));
      }
      for (const w of wire) {
        rows.push(row(section, `capture-to-wire ${w.codec}, median`, 'ms', w.delayMs?.median, undefined, w === wire[0] ? theirs : {}));
        rows.push(row(section, `capture-to-wire ${w.codec}, p99`, 'ms', w.delayMs?.p99, undefined));
      }
    });
  }

  if (options.sections.has('app')) {
    await attempt('6b app playout path', async () => {
      log('app playout path: the AudioEngine in Chromium, 6 s of clicks');
      const app = await benchAppPlayout(6);
      raw.appPlayout = app;
      const section = "6b the app's playout path beyond the jitter buffer (AudioEngine in Chromium, dev:web shape)";
      const theirs = { note: 'baresip: not comparable (it plays to the sound card directly)' };
      rows.push(row(section, 'queued ahead of the device (pull → worklet output), median', 'ms', app.queuedAheadMs?.median, undefined, { ...theirs, note: `${theirs.note}; sampled every 50 ms` }));
      rows.push(row(section, 'playout target at the end (adaptive: 40 ms, more after the device ran dry)', 'ms', app.targetMs, undefined, { note: `raised ${app.targetRaises} times` }));
      rows.push(row(section, 'worklet underrun while measured', 'ms', app.underrunMs, undefined, { note: `of ${(app.playedMs / 1000).toFixed(1)} s played` }));
      rows.push(row(section, 'echo-reference loopback route (worklet → <audio> element), median', 'ms', app.routeMs?.median, undefined, { note: `${app.routeMs?.n ?? 0} of ${app.clicksSent} clicks paired; RTCPeerConnection loopback for Chromium's AEC` }));
      rows.push(row(section, 'echo-reference loopback route, p90', 'ms', app.routeMs?.p90, undefined, { note: `less ${app.measuringPathMs?.median.toFixed(1) ?? '?'} ms that recording through a MediaStream costs by itself` }));
      // The built-in canceller (the other echo cancellation setting) needs no route; it adds its
      // block delay to the microphone instead.
      const cancellers = benchEchoCanceller();
      raw.echoCanceller = cancellers;
      const splitAt48 = cancellers.find((c) => c.sampleRate === 48000 && c.kind === 'split-band');
      for (const c of cancellers) {
        const replaced = c.kind === 'full-band' && splitAt48 && c.sampleRate === 48000;
        const label = replaced ? 'built-in echo canceller at 48 kHz, full band (not used since session 30): CPU' : `built-in echo canceller at ${c.sampleRate / 1000} kHz${c.kind === 'split-band' ? ' (filter at 16 kHz below 8 kHz)' : ''}: CPU in a call`;
        const ratio = replaced ? `; the split-band one takes ${(splitAt48.cpuPercent / c.cpuPercent).toFixed(2)}x this` : '';
        rows.push(row(section, label, '% core', c.cpuPercent, undefined, { note: `adds at most ${c.delayMs.toFixed(1)} ms to the microphone; V8 in this process, as in the audio worklet${ratio}` }));
      }
      const builtIn = cancellers.find((c) => c.sampleRate === PORT_SAMPLE_RATE);
      if (headlessAddedMs && app.queuedAheadMs && app.routeMs) {
        const total = headlessAddedMs.total + app.queuedAheadMs.median + app.routeMs.median;
        rows.push(row(section, "added mouth-to-ear by the app, clean link, Chromium's canceller (median, estimate)", 'ms', total, undefined, {
          goal: '< 40 ms',
          note: `the headless figure ${headlessAddedMs.total.toFixed(1)} ms + queued ${app.queuedAheadMs.median.toFixed(1)} ms + route ${app.routeMs.median.toFixed(1)} ms (the sound card's buffers not included)`,
        }));
      }
      if (headlessAddedMs && app.queuedAheadMs && builtIn) {
        const total = headlessAddedMs.total + app.queuedAheadMs.median + builtIn.delayMs;
        rows.push(row(section, 'added mouth-to-ear by the app, clean link, built-in canceller (median, estimate)', 'ms', total, undefined, {
          goal: '< 40 ms',
          note: `the headless figure ${headlessAddedMs.total.toFixed(1)} ms + queued ${app.queuedAheadMs.median.toFixed(1)} ms + the canceller's ${builtIn.delayMs.toFixed(1)} ms at most (no route)`,
        }));
      }
    });
  }

  const needsPeers = ['register', 'setup', 'calls', 'ab'].some((s) => options.sections.has(s as Section));
  let callCpu: CallCpuFigures[] = [];
  if (needsPeers) {
    const dir = makeTempDir('bench-');
    let pbx: TestPbx | undefined;
    try {
      const headlessBundle = buildHeadlessBundle(join(dir, 'headless'));
      pbx = await startKamailio({ users: ['alice', 'bob', 'carol', 'dave'] });
      // baresip's aufile must outlast its calls; the headless loops a short file (see peers.ts)
      const signal8k = speechLikeWav(join(dir, 'signal-8000.wav'), 8000, 120);
      const ourSignal8k = speechLikeWav(join(dir, 'signal-8000-10s.wav'), 8000, 10);
      const sipOptions = { pbx, dir, runs: options.runs, signal8k, ourSignal8k, headlessBundle, log };
      if (options.sections.has('register')) {
        await attempt('1 registration', async () => {
          log(`registration: ${options.runs} runs each`);
          const result = await benchRegistration(sipOptions);
          rows.push(...result.rows);
          raw.registration = result.raw;
        });
      }
      if (options.sections.has('setup')) {
        await attempt('2 call setup / 3 idle memory', async () => {
          log(`call setup: ${options.runs} calls each`);
          const result = await benchCallSetup(sipOptions);
          rows.push(...result.rows);
          raw.callSetup = result.raw;
        });
      }
      if (options.sections.has('calls')) {
        await attempt('5 whole-process CPU in calls', async () => {
          const result = await benchCallCpu({
            pbx: pbx!,
            dir,
            log,
            callSeconds: options.callSeconds,
            settleSeconds: options.settleSeconds,
            repeat: options.repeat,
            callsPerSet: options.callsPerSet,
            headlessBundle,
            codecs: codecs.map((c) => ({
              name: c.name,
              sampleRate: c.codec.info.sampleRate,
              channels: c.name === 'opus' ? 2 : 1,
              wiredInSwitchboard: c.wiredInCalls,
              goal: c.goal,
            })),
          });
          callCpu = result.raw;
          rows.push(...result.rows);
          raw.callCpu = result.raw;
          const section = '6 jitter-buffer delay (in-process MediaSession → MediaSession, PCMU) and capture-to-wire';
          for (const name of new Set(callCpu.map((f) => f.codec))) {
            const runs = callCpu.filter((f) => f.codec === name);
            const delays = distribution(runs.flatMap((f) => f.switchboard?.jitterBufferDelayMs ?? []));
            if (delays) rows.push(row(section, `JB current delay, real ${name} call, median`, 'ms', delays.median, undefined, { note: 'Switchboard ← baresip over loopback, call.stats once a second for 8 s after the CPU window (all runs)' }));
            const playout = distribution(runs.flatMap((f) => f.switchboard?.playoutDelayMs ?? []));
            if (playout) rows.push(row(section, `playout delay (arrival → device pull), real ${name} call, median`, 'ms', playout.median, undefined));
          }
        });
      }
      if (options.sections.has('ab')) {
        await attempt(AB_SECTION, async () => {
          const result = await benchAb({
            pbx: pbx!,
            dir,
            log,
            against: options.against!,
            headlessBundle,
            calls: options.callsPerSet,
            windows: options.windows,
            sets: options.sets,
            settleSeconds: options.settleSeconds,
          });
          rows.push(...result.rows);
          raw.ab = result.raw;
        });
      }
    } catch (error) {
      failures++;
      rows.push(failedSection('PBX', error));
      log(`Kamailio failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await pbx?.stop();
      removeTempDir(dir);
    }
  }

  if (mediaCpu.length > 0) {
    const section = '4 media CPU per second of audio (in-process, % of one core)';
    for (const m of mediaCpu) {
      const codec = codecs.find((c) => c.name === m.codec)!;
      const theirs = pairedMedians(callCpu.filter((f) => f.codec === m.codec).map((f) => ({ theirs: f.baresip?.cpuPercent }))).theirs;
      rows.push(
        row(section, `${m.codec} encode + jitter buffer`, '%', m.totalPercent, theirs, {
          note: `encode ${m.encodePercent.toFixed(3)}, decode ${m.decodePercent.toFixed(3)}, JB incl. decode ${m.jitterBufferPercent.toFixed(3)}; ` +
            `${codec.wiredInCalls ? 'in calls' : 'NOT in calls yet (module measured alone)'}; baresip = its whole process in a call (figure 5)`,
        }),
      );
    }
  }

  // Stable order: by the figure number.
  const figureNumber = (r: FigureRow) => Number.parseInt(r.section) || 99;
  rows.sort((a, b) => figureNumber(a) - figureNumber(b));
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadavg(), busyPercentBefore: busyBefore };
  const quiet = busyBefore > QUIET_BUSY_PERCENT ? `NOT QUIET: ${busyBefore.toFixed(0)} % of one core busy before the run` : `quiet before the run (${busyBefore.toFixed(1)} % of one core busy)`;
  process.stdout.write(`Switchboard vs baresip — ${startedAt.toISOString()} — ${machine.cpu}, ${machine.cores} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, ${quiet}\n`);
  process.stdout.write(`${formatTable(rows)}\n`);
  writeJson(options.out, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { ...options, sections: [...options.sections] },
    machine,
    rows,
    raw,
  });
  process.stdout.write(`JSON: ${options.out}\n`);
  return failures > 0 ? 1 : 0;
}

process.on('unhandledRejection', (reason) => log(`unhandled rejection (a waiter left behind by a failed step): ${String(reason)}`));
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
