/**
 * Issue "SIP core" figures (1)-(3), Switchboard (headless, child process) vs baresip, same
 * Kamailio, same run, measured uniformly from a dumpcap capture on lo (one kernel clock for both):
 *
 * (1) registration: start of the softphone → 200 OK to its REGISTER, and first REGISTER → 200 OK
 *     (includes the 401 digest round trip). "Start" is the moment the benchmark asks the harness to
 *     spawn it (for baresip the harness first writes its config and picks ports: ~ms).
 * (2) call setup, caller Switchboard vs caller baresip, same auto-answering baresip callee:
 *     first INVITE → 200 OK, → first RTP received, → first RTP sent.
 * (3, idle part) RSS of both softphones registered and idle. The in-call part is measured during
 *     the CPU calls (call-cpu-bench.ts).
 *
 * Runs alternate Switchboard / baresip so machine load drifts hit both alike.
 */
import { performance } from 'node:perf_hooks';
import type { TestPbx } from '../harness/kamailio';
import type { TestBaresip } from '../harness/baresip';
import type { HeadlessSwitchboard } from '../harness/headless-switchboard';
import { CPU_SECTION } from './call-cpu-bench';
import { callSetupTiming, registrationTiming, sipPackets } from './capture-analysis';
import { row, type FigureRow } from './figures';
import { captureDuring, startLoopbackCapture } from './loopback-capture';
import { baresipPid, baresipRtpPorts, startBaresipPhone, startSwitchboard, switchboardPid } from './peers';
import { cpuSeconds, rssKiB } from './process-stats';
import { distribution } from './stats';
import { epochMs, sleep } from './wall-clock';

export interface SipCoreOptions {
  /** The bundled headless to run (scripts/build-headless.mjs output). */
  headlessBundle: string;
  pbx: TestPbx;
  dir: string;
  runs: number;
  /** speech-like WAV at 8 kHz sent by baresip (long: its aufile must outlast the call)... */
  signal8k: string;
  /** ...and the same signal, 10 s, sent by Switchboard (the headless loops its input file). */
  ourSignal8k: string;
  log: (line: string) => void;
}

const SB_USER = 'alice';
const BS_USER = 'bob';
const CALLEE = 'carol';
/** How long each benchmark call stays up: long enough for RTP to flow both ways. */
const TALK_MS = 800;
/** Window for the idle CPU figure (CPU time has 10 ms resolution). */
const IDLE_CPU_MS = 5000;

function distributionRows(section: string, label: string, ours: number[], theirs: number[], note?: string): FigureRow[] {
  const a = distribution(ours);
  const b = distribution(theirs);
  return [
    row(section, `${label}, median`, 'ms', a?.median, b?.median, { note: note ?? `n = ${a?.n ?? 0} / ${b?.n ?? 0}` }),
    row(section, `${label}, p90`, 'ms', a?.p90, b?.p90),
  ];
}

export async function benchRegistration(options: SipCoreOptions): Promise<{ rows: FigureRow[]; raw: unknown }> {
  const { pbx, runs, log } = options;
  const capture = await startLoopbackCapture(options.dir, 'register', `udp and host 127.0.0.1 and port ${pbx.udpPort}`);
  const starts: { who: 'switchboard' | 'baresip'; at: number }[] = [];
  const packets = await captureDuring(capture, async () => {
    for (let i = 0; i < runs; i++) {
      log(`  registration run ${i + 1}/${runs}`);
      let at = epochMs();
      const phone = startSwitchboard(pbx, SB_USER, options.ourSignal8k, undefined, options.headlessBundle);
      try {
        await phone.waitForAccount('registered', 20_000);
      } finally {
        await phone.stop();
      }
      starts.push({ who: 'switchboard', at });
      at = epochMs();
      const far = await startBaresipPhone(pbx, BS_USER, options.signal8k, ['PCMU']);
      await far.stop();
      starts.push({ who: 'baresip', at });
    }
  });
  const sip = sipPackets(packets);
  const timings = starts.map((s) => ({ ...s, ...registrationTiming(sip, s.who === 'switchboard' ? SB_USER : BS_USER, pbx.udpPort, s.at) }));
  const of = (who: string, key: 'startToRegisteredMs' | 'registerTo200Ms' | 'challengeToRetryMs') =>
    timings.filter((t) => t.who === who).flatMap((t) => (t[key] === undefined ? [] : [t[key]]));
  const section = '1 registration (UDP, Kamailio, dumpcap on lo)';
  return {
    rows: [
      ...distributionRows(section, 'spawn → registered', of('switchboard', 'startToRegisteredMs'), of('baresip', 'startToRegisteredMs'),
        `n = ${runs} each; Switchboard = node start-up + loading the bundled headless + core`),
      ...distributionRows(section, 'REGISTER sent → 200 OK', of('switchboard', 'registerTo200Ms'), of('baresip', 'registerTo200Ms'), 'incl. 401 challenge round trip'),
      ...distributionRows(section, '401 received → REGISTER retried', of('switchboard', 'challengeToRetryMs'), of('baresip', 'challengeToRetryMs'), "the phone's own reaction (digest)"),
    ],
    raw: timings,
  };
}

export interface CallSetupResult {
  rows: FigureRow[];
  raw: unknown;
}

/** (2) call setup and (3) idle RSS. Leaves no process running. */
export async function benchCallSetup(options: SipCoreOptions): Promise<CallSetupResult> {
  const { pbx, runs, log, dir } = options;
  let caller: HeadlessSwitchboard | undefined;
  let farCaller: TestBaresip | undefined;
  let callee: TestBaresip | undefined;
  try {
    callee = await startBaresipPhone(pbx, CALLEE, options.signal8k, ['PCMU'], true);
    farCaller = await startBaresipPhone(pbx, BS_USER, options.signal8k, ['PCMU']);
    caller = startSwitchboard(pbx, SB_USER, options.ourSignal8k, `${dir}/setup-received.wav`, options.headlessBundle);
    await caller.waitForAccount('registered', 20_000);

    // (3) idle, registered: let start-up garbage settle first; idle CPU over the next seconds
    await sleep(3000);
    const pids = { switchboard: switchboardPid(caller), baresip: baresipPid(farCaller) };
    const cpuBefore = { switchboard: cpuSeconds(pids.switchboard), baresip: cpuSeconds(pids.baresip) };
    const idleStarted = performance.now();
    await sleep(IDLE_CPU_MS);
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const idle = {
      switchboardKiB: rssKiB(pids.switchboard),
      baresipKiB: rssKiB(pids.baresip),
      switchboardCpuPercent: ((cpuSeconds(pids.switchboard) - cpuBefore.switchboard) / idleSeconds) * 100,
      baresipCpuPercent: ((cpuSeconds(pids.baresip) - cpuBefore.baresip) / idleSeconds) * 100,
    };

    const calleePorts = baresipRtpPorts(callee);
    const callerPorts = baresipRtpPorts(farCaller);
    const filter = `udp and host 127.0.0.1 and (port ${pbx.udpPort} or portrange ${calleePorts.first}-${calleePorts.last} or portrange ${callerPorts.first}-${callerPorts.last})`;
    const capture = await startLoopbackCapture(dir, 'call-setup', filter);
    const starts: { who: 'switchboard' | 'baresip'; at: number }[] = [];
    const phone = caller;
    const farPhone = farCaller;
    const c = callee;
    const packets = await captureDuring(capture, async () => {
      for (let i = 0; i < runs; i++) {
        log(`  call-setup run ${i + 1}/${runs}`);
        // caller = Switchboard
        let calleeClosed = c.waitForEvent((e) => e.type === 'CALL_CLOSED', 20_000);
        let at = epochMs();
        const { callId } = await phone.client.call('call.dial', { target: pbx.aor(CALLEE) });
        await phone.waitForCall((s) => s.callId === callId && s.state === 'connected', 15_000);
        await sleep(TALK_MS);
        await phone.client.call('call.hangup', { callId });
        await phone.waitForCall((s) => s.callId === callId && s.state === 'ended', 10_000);
        await calleeClosed;
        starts.push({ who: 'switchboard', at });
        // caller = baresip
        calleeClosed = c.waitForEvent((e) => e.type === 'CALL_CLOSED', 20_000);
        const established = farPhone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000);
        const callerClosed = farPhone.waitForEvent((e) => e.type === 'CALL_CLOSED', 20_000);
        at = epochMs();
        await farPhone.dial(pbx.aor(CALLEE));
        await established;
        await sleep(TALK_MS);
        await farPhone.hangup();
        await Promise.all([callerClosed, calleeClosed]);
        starts.push({ who: 'baresip', at });
      }
    });
    const sip = sipPackets(packets);
    const timings = starts.map((s) => ({ ...s, ...callSetupTiming(packets, sip, s.who === 'switchboard' ? SB_USER : BS_USER, pbx.udpPort, s.at) }));
    const of = (who: string, key: 'inviteTo200Ms' | 'inviteToFirstRtpInMs' | 'inviteToFirstRtpOutMs' | 'challengeToRetryMs') =>
      timings.filter((t) => t.who === who).flatMap((t) => (t[key] === undefined ? [] : [t[key]]));
    const section = '2 call setup (caller → Kamailio → auto-answering baresip, PCMU, dumpcap on lo)';
    const memory = '3 memory (VmRSS)';
    return {
      rows: [
        ...distributionRows(section, 'INVITE sent → 200 OK received', of('switchboard', 'inviteTo200Ms'), of('baresip', 'inviteTo200Ms'),
          `n = ${runs} each; incl. 407 challenge round trip`),
        ...distributionRows(section, 'INVITE sent → first RTP received', of('switchboard', 'inviteToFirstRtpInMs'), of('baresip', 'inviteToFirstRtpInMs'), ''),
        ...distributionRows(section, 'INVITE sent → first RTP sent', of('switchboard', 'inviteToFirstRtpOutMs'), of('baresip', 'inviteToFirstRtpOutMs'), ''),
        ...distributionRows(section, '407 received → INVITE retried', of('switchboard', 'challengeToRetryMs'), of('baresip', 'challengeToRetryMs'), "the phone's own reaction (digest)"),
        row(memory, 'registered, idle', 'MiB', idle.switchboardKiB / 1024, idle.baresipKiB / 1024, {
          note: 'Switchboard = whole node process (V8 heap and code, the bundled headless); baresip with g711 only',
        }),
        row(CPU_SECTION, `registered, idle (no call), over ${IDLE_CPU_MS / 1000} s`, '%', idle.switchboardCpuPercent, idle.baresipCpuPercent, {
          note: 'baseline for the call figures below',
        }),
      ],
      raw: { timings, idleRss: idle },
    };
  } finally {
    await caller?.stop();
    await farCaller?.stop();
    await callee?.stop();
  }
}
