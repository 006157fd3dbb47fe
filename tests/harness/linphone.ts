// A second real softphone far end: Linphone 5.1's console client (Debian linphone-cli: linphonec),
// one process per instance with its own HOME and config (-c) in a temp dir, driven by typing its
// commands on its standard input and reading what it prints (its "Call 1 ... connected." lines).
// Where baresip (baresip.ts) is the reference peer, this one sends what a Linphone user's phone
// sends: its SDP (rtcp-xr, rtcp-fb, speex, G.729 annexb, one telephone-event per clock rate),
// its SRTP suites, its hold, its DTMF.
//
// Audio without a sound card: `soundcard use files`; `play` is what it sends (a 16-bit mono WAV,
// looped), `record` what it received (one file, rewritten by each call: read it after the call).
//
// Addresses: linphonec guesses its media address from the route to the peer it talks to. Calling
// a direct URI it would use the host's default-route address, so it registers to the PBX (on
// 127.0.0.1) and calls through it: everything stays on loopback. IPv6 is off.
//
// Readiness: its SIP port is bound (`ports` says so) and, with a PBX, "Registration on ...
// successful" was printed (a failure rejects with the line it printed).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startManagedProcess, tail, type ManagedProcess } from './child-processes';
import { freePortOtherThan, freeUdpPort, freeUdpTcpPort } from './ports';
import { makeTempDir, removeTempDir } from './temp-dir';
import type { TestPbx } from './kamailio';

export interface TestLinphone {
  /** Its AOR at the PBX, e.g. sip:erin@127.0.0.1. */
  sipUri: string;
  sipPort: number;
  /** Types one linphonec command line (e.g. `call sip:alice@127.0.0.1`, `pause`, `terminate`). */
  command(line: string): void;
  /**
   * Waits for a line it prints matching `pattern`, printed from now on (or from `since`, a `mark()`;
   * `includePast`: since it started). Rejects after `timeoutMs` with its output's tail.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number, options?: { includePast?: boolean; since?: number }): Promise<RegExpExecArray>;
  /** Where its output ends now: `waitForOutput(p, t, { since: mark() })` sees only what it prints after. */
  mark(): number;
  /** Everything it printed (its console, not its debug log). */
  output(): string;
  /** The WAV it records what it receives into (complete once its call has ended). */
  recordingFile: string;
  dir: string;
  /** Its debug log (liblinphone, belle-sip: every SIP message, SDP included). */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartLinphoneOptions {
  pbx: TestPbx;
  user: string;
  /** WAV it plays as microphone: 16-bit mono (it loops it). */
  playWav: string;
  autoAnswer?: boolean;
  /** Enabled codecs as its `codec list` names them (opus, PCMU, PCMA, G722, ...); default: its own defaults. */
  codecs?: string[];
  /** SDES-SRTP: 'srtp' offers RTP/AVP with crypto lines and takes plain RTP too; 'srtp-mandatory' offers RTP/SAVP only. */
  mediaEncryption?: 'srtp' | 'srtp-mandatory';
  /** Video on (linphonec -V): its offers carry an m=video line too (a static picture, no camera here). */
  video?: boolean;
  readyTimeoutMs?: number;
}

const LINPHONEC = '/usr/bin/linphonec';

export async function startLinphone(options: StartLinphoneOptions): Promise<TestLinphone> {
  if (!existsSync(LINPHONEC)) throw new Error(`startLinphone: ${LINPHONEC} not found (apt-get install linphone-cli)`);
  if (!existsSync(options.playWav)) throw new Error(`startLinphone: playWav ${JSON.stringify(options.playWav)} does not exist`);
  const { pbx, user } = options;
  const password = pbx.password(user); // throws for a user the PBX does not have
  const dir = makeTempDir('linphone');
  // liblinphone keeps its call history and friends in ~/.local/share/linphone; without the directory it never starts its core (every INVITE: 503).
  mkdirSync(join(dir, '.local', 'share', 'linphone'), { recursive: true });
  const sipPort = await freeUdpTcpPort();
  const rtpPort = await freePortOtherThan(() => freeUdpPort(), [sipPort]);
  const recordingFile = join(dir, 'received.wav');
  const config = [
    '[sip]',
    'use_ipv6=0',
    'sip_tcp_port=0',
    'sip_tls_port=0',
    'default_proxy=-1',
    ...(options.mediaEncryption ? ['media_encryption=srtp', `media_encryption_mandatory=${options.mediaEncryption === 'srtp-mandatory' ? 1 : 0}`] : []),
    '[rtp]',
    `audio_rtp_port=${rtpPort}`,
    '[sound]',
    'echocancellation=0',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'linphonerc'), config);
  const proc: ManagedProcess = startManagedProcess('linphonec', LINPHONEC, ['-c', join(dir, 'linphonerc'), '-S', ...(options.video ? ['-V'] : []), '-d', '5', '-l', join(dir, 'linphone.log')], {
    cwd: dir,
    env: { ...process.env, HOME: dir },
    logFile: join(dir, 'console.log'),
  });
  // The password is typed (`register`) and linphonec echoes what it reads, with a carriage return where a terminal would wrap.
  const redact = (text: string): string => text.replace(/(\bregister \S+ \S+ )[^\n]*/g, '$1<redacted>').split(password).join('<redacted>');
  const screen = new ConsoleReader(proc, redact);
  const fail = async (why: string): Promise<never> => {
    const printed = redact(proc.logs());
    await proc.stop(1000);
    removeTempDir(dir);
    throw new Error(`startLinphone(${user}): ${why}\n--- linphonec (tail) ---\n${tail(printed)}`);
  };
  const timeout = options.readyTimeoutMs ?? 15_000;
  const type = (line: string): void => proc.write(line + '\n');
  try {
    type('soundcard use files');
    type(`play ${options.playWav}`);
    type(`record ${recordingFile}`);
    type(`autoanswer ${options.autoAnswer ? 'enable' : 'disable'}`);
    type(`ports sip ${sipPort}`);
    type('ports');
    await screen.waitFor(new RegExp(`sip port = ${sipPort}\\b`), timeout, 0);
    if (options.codecs) {
      type('codec list');
      const listing = await screen.waitFor(/^\s*0: .*\n(?:\s*\d+: .*\n)*.*linphonec> /m, timeout, 0);
      const wanted = options.codecs.map((c) => c.toLowerCase());
      const known: string[] = [];
      for (const m of listing[0].matchAll(/^\s*(\d+): (\S+) \((\d+)\)/gm)) {
        known.push(m[2]!.toLowerCase());
        type(`codec ${wanted.includes(m[2]!.toLowerCase()) ? 'enable' : 'disable'} ${m[1]}`);
      }
      const missing = wanted.filter((c) => !known.includes(c));
      if (missing.length > 0) return await fail(`no codec ${missing.join(', ')} (it has ${known.join(', ')})`);
    }
    type(`register ${pbx.aor(user)} ${pbx.proxyUri('udp')} ${password}`);
    // linphonec prints no registration events; `status register` answers "registered, ..." once it is.
    const deadline = Date.now() + timeout;
    for (;;) {
      const mark = proc.logs().length;
      type('status register');
      const status = await screen.waitFor(/^(?:linphonec> )*((?:un)?registered\b.*)$/m, timeout, mark);
      if (status[1]!.startsWith('registered, ')) break;
      if (Date.now() > deadline) return await fail(`not registered within ${timeout} ms: ${status[1]}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    return fail((error as Error).message);
  }
  let stopped = false;
  return {
    sipUri: pbx.aor(user),
    sipPort,
    recordingFile,
    dir,
    command: type,
    waitForOutput: (pattern, timeoutMs = 10_000, opts = {}) => screen.waitFor(pattern, timeoutMs, opts.includePast ? 0 : opts.since),
    mark: () => proc.logs().length,
    output: () => redact(proc.logs()),
    logs: () => {
      try {
        return redact(readFileSync(join(dir, 'linphone.log'), 'latin1'));
      } catch (error) {
        return `(no debug log: ${(error as Error).message})`;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!proc.hasExited()) {
        try {
          type('quit');
        } catch (error) {
          screen.note(`quit: ${(error as Error).message}`);
        }
      }
      await proc.stop(3000);
      removeTempDir(dir);
    },
  };
}

/** What linphonec prints (its standard output and error), searched from an offset for a pattern. */
class ConsoleReader {
  constructor(
    private readonly proc: ManagedProcess,
    private readonly redact: (text: string) => string,
  ) {}

  note(text: string): void {
    process.stderr.write(`[harness] linphonec: ${text}\n`);
  }

  /** `from`: offset into its output to search from; default where it ends now. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = this.proc.logs().length): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.proc.logs().slice(from));
      if (match) return match;
      const why = this.proc.hasExited() ? `linphonec exited while waiting for ${pattern}` : Date.now() > deadline ? `linphonec printed nothing matching ${pattern} within ${timeoutMs} ms` : undefined;
      if (why) throw new Error(`${why}\n--- linphonec (tail) ---\n${tail(this.redact(this.proc.logs()), 30)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
