/**
 * Starting the two softphones the benchmarks compare, configured alike: both register over UDP
 * through the same Kamailio, both send the same speech-like WAV and record what they receive.
 * Also the facts about a running baresip the harness does not expose (PID, RTP port range),
 * read from its private config dir.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import type { TestPbx } from '../harness/kamailio';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { findPid } from './process-stats';

/** `bundle`: the headless as built by scripts/build-headless.mjs (what ships; see call-cpu-bench.ts). */
export function startSwitchboard(pbx: TestPbx, user: string, audioIn: string, audioOut: string | undefined, bundle: string): HeadlessSwitchboard {
  const args = ['--account', pbx.aor(user), '--transport', 'udp', '--proxy', pbx.proxyUri('udp'), '--audio-in', audioIn];
  if (audioOut) args.push('--audio-out', audioOut);
  return startHeadless(args, { bundle, env: { SWITCHBOARD_PASSWORD: pbx.password(user) } });
}

export function switchboardPid(phone: HeadlessSwitchboard): number {
  const pid = phone.process.pid;
  if (pid === undefined) throw new Error('headless Switchboard has no PID (spawn failed?)');
  return pid;
}

export function startBaresipPhone(pbx: TestPbx, user: string, toneWav: string, codecs: string[], autoAnswer = false): Promise<TestBaresip> {
  return startBaresip({ pbx, user, transport: 'udp', toneWav, codecs, autoAnswer });
}

export function baresipPid(phone: TestBaresip): number {
  return findPid(['/usr/bin/baresip', phone.dir]);
}

/** The RTP port range the harness gave this baresip (`rtp_ports A-B` in its config). */
export function baresipRtpPorts(phone: TestBaresip): { first: number; last: number } {
  const config = readFileSync(join(phone.dir, 'config'), 'utf8');
  const match = /^rtp_ports (\d+)-(\d+)$/m.exec(config);
  if (!match) throw new Error(`no rtp_ports line in ${join(phone.dir, 'config')}`);
  return { first: Number(match[1]), last: Number(match[2]) };
}
