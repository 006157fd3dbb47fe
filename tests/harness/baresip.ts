// A real softphone far end: baresip 1.0 (Debian baresip-core), one process per instance with its
// own config dir (-f) in a temp dir. Controlled over ctrl_tcp (netstring JSON) on a free port.
//
// Audio without a sound card: aufile plays `toneWav` as microphone; the speaker is an aubridge
// device nobody reads (opens fine headless). sndfile records every call into <dir>/recordings:
// dump-<timestamp>-dec.wav = what baresip received (decoded), dump-<timestamp>-enc.wav = what it
// sent (before encoding). The files are complete once the call has ended; then they are renamed
// call-<NNN>-dump-...wav so recordings() lists calls in order (received[i]/sent[i] = call i,
// a call still in progress comes last).
//
// MUST: the tone WAV must last longer than any call made with it — baresip 1.0's aufile reports
// an error at end of file and baresip then closes the call (AUDIO_ERROR, CALL_CLOSED).
//
// Readiness: ctrl_tcp accepts connections and, when registering, the REGISTER_OK event arrived
// (REGISTER_FAIL makes startBaresip reject with BaresipRegistrationError).
import { mkdirSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { startManagedProcess, tail, type ManagedProcess } from './child-processes';
import { freePortOtherThan, freeTcpPort, freeUdpTcpPort, waitForTcpAccept, LOOPBACK } from './ports';
import { makeTempDir, removeTempDir } from './temp-dir';
import { encodeNetstring, NetstringDecoder } from './netstring';
import type { TestPbx, SipTransportName } from './kamailio';

/** A ctrl_tcp event, e.g. { event: true, class: 'call', type: 'CALL_ESTABLISHED', peeruri, id, ... }. */
export interface BaresipEvent {
  event: true;
  class?: string;
  type: string;
  accountaor?: string;
  peeruri?: string;
  param?: string;
  id?: string;
  [key: string]: unknown;
}

export interface TestBaresip {
  /** Its AOR (registered via the PBX) or its direct URI sip:<user>@127.0.0.1:<port> (localOnly). */
  sipUri: string;
  /** SIP port it listens on (udp and tcp). */
  sipPort: number;
  ctrlPort: number;
  /** Sends a ctrl_tcp command (long menu names: 'dial', 'hangup', 'accept', 'reginfo', ...).
   *  Resolves with the response `data`; rejects when baresip answers ok:false. */
  command(cmd: string, params?: string): Promise<unknown>;
  /** Waits for the next event matching `predicate` (only events from now on unless
   *  options.includePast, which also searches every event seen since start). */
  waitForEvent(predicate: (e: BaresipEvent) => boolean, timeoutMs?: number, options?: { includePast?: boolean }): Promise<BaresipEvent>;
  /** Every event received so far. */
  events(): BaresipEvent[];
  dial(uri: string): Promise<void>;
  hangup(): Promise<void>;
  answer(): Promise<void>;
  /** WAV files sndfile wrote for calls: what baresip received (decoded) and what it sent.
   *  One entry per call that had audio, oldest first; read them after CALL_CLOSED (then they are complete). */
  recordings(): Promise<{ received: string[]; sent: string[] }>;
  /** Its temp dir (config, accounts, baresip.log, recordings/). */
  dir: string;
  logs(): string;
  /**
   * Freezes the whole process (SIGSTOP: no SIP, no RTP, as a far end whose machine or network
   * died) or thaws it (SIGCONT). stop() thaws it first.
   */
  freeze(frozen: boolean): void;
  stop(): Promise<void>;
}

export interface StartBaresipOptions {
  /** Register to this PBX (as `user`, with the PBX's password for it unless `password` is given). */
  pbx?: TestPbx;
  user?: string;
  transport?: SipTransportName;
  /** Override the password (e.g. a wrong one, to see the PBX refuse it). */
  password?: string;
  autoAnswer?: boolean;
  /** WAV played as microphone: 16-bit mono at the codec rate (8000 Hz for G.711, 16000 for G.722).
   *  MUST last longer than any call (at its end baresip hangs up). */
  toneWav: string;
  /** Codec order, e.g. ['PCMU','PCMA'] (names as in SDP: PCMU, PCMA, G722, opus). */
  codecs?: string[];
  /** No registration; listen on 127.0.0.1:<port> for direct calls. */
  localOnly?: boolean;
  /** How long to wait for ctrl_tcp and registration (default 15 s). */
  readyTimeoutMs?: number;
  /** baresip -v (debug logs) */
  verbose?: boolean;
  /** Media encryption (srtp module): 'srtp' = RTP/AVP + a=crypto (best effort), 'srtp-mand' = RTP/SAVP. */
  mediaEncryption?: 'srtp' | 'srtp-mand';
  /**
   * Opus in-band FEC on baresip's encoder (it only sends FEC when the peer's fmtp asks for it, as
   * ours does, AND its expected packet loss is above 0: this sets 10 %). Default off, baresip's own.
   */
  opusFec?: boolean;
  /** Packet time (ms) of what baresip sends (its account's ptime; default baresip's own, 20). */
  ptime?: number;
}

export class BaresipRegistrationError extends Error {
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = 'BaresipRegistrationError';
  }
}

const BARESIP = '/usr/bin/baresip';
// terminal colour codes baresip puts around "OK"/"ERR" in reginfo
const ANSI_COLOUR = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g');
const MODULE_DIR = '/usr/lib/baresip/modules';
const CODEC_MODULES: Record<string, string> = { PCMU: 'g711', PCMA: 'g711', G722: 'g722', OPUS: 'opus', L16: 'l16' };

export async function startBaresip(options: StartBaresipOptions): Promise<TestBaresip> {
  if (!existsSync(BARESIP)) throw new Error(`startBaresip: ${BARESIP} not found (apt-get install baresip-core)`);
  if (!options.toneWav || !existsSync(options.toneWav)) throw new Error(`startBaresip: toneWav ${JSON.stringify(options.toneWav)} does not exist`);
  if (!options.localOnly && !options.pbx) throw new Error('startBaresip: give a pbx to register to, or localOnly: true');
  if (options.localOnly && options.pbx) throw new Error('startBaresip: localOnly and pbx are exclusive');
  const transport = options.transport ?? 'udp';
  if (!['udp', 'tcp', 'tls'].includes(transport)) throw new Error(`startBaresip: unknown transport ${JSON.stringify(transport)}`);
  const codecs = options.codecs ?? ['PCMU', 'PCMA'];
  const codecModules: string[] = [];
  for (const codec of codecs) {
    const module = CODEC_MODULES[codec.toUpperCase()];
    if (!module) throw new Error(`startBaresip: unsupported codec ${JSON.stringify(codec)} (have ${Object.keys(CODEC_MODULES).join(', ')})`);
    if (!codecModules.includes(module)) codecModules.push(module);
  }
  const user = options.user ?? (options.localOnly ? 'far' : undefined);
  if (!user) throw new Error('startBaresip: user is required when registering to a pbx');
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(user)) throw new Error(`startBaresip: invalid user ${JSON.stringify(user)}`);
  if (options.pbx) {
    const password = options.password ?? options.pbx.password(user); // throws for unknown users
    if (password === '' || /[;"\s>]/.test(password)) throw new Error('startBaresip: password must be non-empty without ; " > or spaces');
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(options, transport, codecs, codecModules);
    } catch (error) {
      lastError = error;
      if (!/Address already in use|failed to listen/i.test(String(error))) break;
    }
  }
  throw lastError;
}

async function startOnce(options: StartBaresipOptions, transport: SipTransportName, codecs: string[], codecModules: string[]): Promise<TestBaresip> {
  const dir = makeTempDir('baresip');
  const recordingsDir = join(dir, 'recordings');
  mkdirSync(recordingsDir);
  const sipPort = await freeUdpTcpPort();
  const ctrlPort = await freePortOtherThan(() => freeTcpPort(), [sipPort]);
  const user = options.user ?? 'far';
  // Random RTP range per instance so parallel instances rarely collide (baresip retries anyway).
  const rtpBase = 20000 + 2 * Math.floor(Math.random() * 10000);
  const config = [
    'poll_method epoll',
    `sip_listen ${LOOPBACK}:${sipPort}`,
    ...(options.pbx ? [`sip_cafile ${options.pbx.caFile}`] : []),
    'sip_trans_def udp',
    'call_local_timeout 120',
    'call_max_calls 4',
    'audio_player aubridge,nil',
    'audio_alert aubridge,nil',
    `audio_source aufile,${options.toneWav}`,
    'audio_level no',
    'audio_buffer 20-160',
    `rtp_ports ${rtpBase}-${rtpBase + 40}`,
    'rtp_timeout 0',
    'jitter_buffer_delay 1-10',
    `net_interface ${LOOPBACK}`,
    // only loopback: never ask the host's resolver (all URIs are numeric anyway)
    'dns_server 127.0.0.1:53',
    `module_path ${MODULE_DIR}`,
    ...codecModules.map((m) => `module ${m}.so`),
    ...(options.opusFec ? ['opus_inbandfec yes', 'opus_packet_loss 10'] : []),
    ...(options.mediaEncryption ? ['module srtp.so'] : []),
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen ${LOOPBACK}:${ctrlPort}`,
    `snd_path ${recordingsDir}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config'), config);

  const params = [`audio_codecs=${codecs.join(',')}`];
  if (options.autoAnswer) params.push('answermode=auto');
  if (options.mediaEncryption) params.push(`mediaenc=${options.mediaEncryption}`);
  if (options.ptime !== undefined) params.push(`ptime=${options.ptime}`);
  let sipUri: string;
  let account: string;
  if (options.pbx) {
    const pbx = options.pbx;
    const password = options.password ?? pbx.password(user);
    sipUri = pbx.aor(user);
    account = `<sip:${user}@${pbx.domain};transport=${transport}>;auth_pass=${password};outbound="${pbx.proxyUri(transport)}";regint=300;${params.join(';')}`;
  } else {
    sipUri = `sip:${user}@${LOOPBACK}:${sipPort}`;
    account = `<sip:${user}@${LOOPBACK}:${sipPort}>;regint=0;${params.join(';')}`;
  }
  writeFileSync(join(dir, 'accounts'), account + '\n');
  writeFileSync(join(dir, 'contacts'), '');

  const args = ['-f', dir, '-n', LOOPBACK, ...(options.verbose ? ['-v'] : [])];
  const proc: ManagedProcess = startManagedProcess('baresip', BARESIP, args, { cwd: dir, logFile: join(dir, 'baresip.log') });
  const redact = (text: string): string => (options.pbx ? text.split(options.password ?? options.pbx.password(user)).join('<redacted>') : text);

  const fail = async (why: string, error?: Error): Promise<never> => {
    const logs = redact(proc.logs());
    control?.close();
    await proc.stop(500);
    removeTempDir(dir);
    const message = `startBaresip(${user}): ${why}\n--- baresip log (tail) ---\n${tail(logs)}`;
    throw error instanceof BaresipRegistrationError ? new BaresipRegistrationError(message, error.reason) : new Error(message);
  };
  const timeout = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeout;
  let control: ControlConnection | undefined;
  try {
    await waitForTcpAccept(LOOPBACK, ctrlPort, timeout, () => proc.hasExited());
    control = await ControlConnection.open(ctrlPort);
  } catch (error) {
    return fail(`ctrl_tcp not ready: ${(error as Error).message}`);
  }
  if (options.pbx) {
    // REGISTER_OK/FAIL events may fire before our ctrl_tcp connection exists, so poll the
    // registration state (`reginfo`: "OK" / "ERR" per UA) as well as listening for events.
    try {
      for (;;) {
        const event = control.events.find((e) => e.type === 'REGISTER_OK' || e.type === 'REGISTER_FAIL');
        if (event?.type === 'REGISTER_OK') break;
        const info = String(await control.command('reginfo')).replace(ANSI_COLOUR, ' ');
        if (/\bOK\b/.test(info)) break;
        if (event?.type === 'REGISTER_FAIL' || /\bERR\b/.test(info)) {
          const reason = String(event?.param ?? /reg: \S+: (.+?)(?: \(|\n|$)/.exec(proc.logs())?.[1] ?? 'unknown');
          return fail(`registration failed: ${reason}`, new BaresipRegistrationError('', reason));
        }
        if (proc.hasExited()) return fail('baresip exited while registering');
        if (Date.now() > deadline) return fail(`not registered within ${timeout} ms; reginfo: ${JSON.stringify(info)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (error) {
      return fail(`registration state unknown: ${(error as Error).message}`);
    }
  }
  const ctrl = control;
  // sndfile names files by the second a call starts (dump-YYYY-MM-DD-HH-MM-SS-{enc,dec}.wav), so two
  // calls within one second would share files. When a call closes, give its files a unique,
  // ordered name: call-001-dump-...-dec.wav. (Renaming a file sndfile still has open is harmless.)
  let callsClosed = 0;
  const archiveRecordings = (): void => {
    const current = readdirSync(recordingsDir).filter((f) => /^dump-.*-(enc|dec)\.wav$/.test(f));
    if (current.length === 0) return;
    callsClosed++;
    for (const f of current) renameSync(join(recordingsDir, f), join(recordingsDir, `call-${String(callsClosed).padStart(3, '0')}-${f}`));
  };
  ctrl.onEvent((e) => {
    if (e.type !== 'CALL_CLOSED') return;
    try {
      archiveRecordings();
    } catch (error) {
      console.error(`[harness] baresip(${user}): could not archive recordings in ${recordingsDir}:`, error);
    }
  });
  let stopped = false;
  return {
    sipUri,
    sipPort,
    ctrlPort,
    dir,
    command: (cmd, params) => ctrl.command(cmd, params),
    waitForEvent: (predicate, timeoutMs, opts) => ctrl.waitForEvent(predicate, timeoutMs ?? 10_000, opts),
    events: () => ctrl.events.slice(),
    async dial(uri) {
      await ctrl.command('dial', uri);
    },
    async hangup() {
      await ctrl.command('hangup');
    },
    async answer() {
      await ctrl.command('accept');
    },
    async recordings() {
      const files = readdirSync(recordingsDir).filter((f) => f.endsWith('.wav')).sort();
      return {
        received: files.filter((f) => f.endsWith('-dec.wav')).map((f) => join(recordingsDir, f)),
        sent: files.filter((f) => f.endsWith('-enc.wav')).map((f) => join(recordingsDir, f)),
      };
    },
    logs: () => redact(proc.logs()),
    freeze(frozen) {
      process.kill(proc.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!proc.hasExited()) process.kill(proc.pid, 'SIGCONT');
      ctrl.close();
      await proc.stop(3000);
      removeTempDir(dir);
    },
  };
}

/** One ctrl_tcp connection: commands matched to responses by token, events kept in order. */
class ControlConnection {
  readonly events: BaresipEvent[] = [];
  private readonly waiters = new Set<{ predicate: (e: BaresipEvent) => boolean; resolve: (e: BaresipEvent) => void }>();
  private readonly listeners: ((e: BaresipEvent) => void)[] = [];
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; cmd: string }>();
  private nextToken = 1;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    const decoder = new NetstringDecoder();
    socket.on('data', (chunk) => {
      let messages: string[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        this.failAll(new Error(`ctrl_tcp framing: ${(error as Error).message}`));
        socket.destroy();
        return;
      }
      for (const text of messages) this.onMessage(text);
    });
    socket.on('close', () => this.failAll(new Error('ctrl_tcp connection closed')));
    socket.on('error', (error) => this.failAll(new Error(`ctrl_tcp: ${error.message}`)));
  }

  static open(port: number): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, LOOPBACK);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new ControlConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  private onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      console.error(`[harness] baresip ctrl_tcp sent non-JSON ${JSON.stringify(text)}: ${(error as Error).message}`);
      return;
    }
    if (message.event === true) {
      const event = message as BaresipEvent;
      this.events.push(event);
      for (const listener of this.listeners) listener(event);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(event)) {
          this.waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
      return;
    }
    if (message.response === true) {
      const token = String(message.token ?? '');
      const pending = this.pending.get(token);
      if (!pending) return; // response to a command sent by someone else
      this.pending.delete(token);
      if (message.ok === false) pending.reject(new Error(`baresip ${pending.cmd} failed: ${String(message.data ?? '')}`));
      else pending.resolve(message.data);
    }
  }

  onEvent(listener: (e: BaresipEvent) => void): void {
    this.listeners.push(listener);
  }

  private failAll(error: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  command(cmd: string, params?: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`baresip ${cmd}: ctrl_tcp connection is closed`));
    const token = String(this.nextToken++);
    const body: Record<string, string> = { command: cmd, token };
    if (params !== undefined) body.params = params;
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject, cmd });
      this.socket.write(encodeNetstring(JSON.stringify(body)));
    });
  }

  waitForEvent(predicate: (e: BaresipEvent) => boolean, timeoutMs: number, options: { includePast?: boolean } = {}): Promise<BaresipEvent> {
    if (options.includePast) {
      const past = this.events.find(predicate);
      if (past) return Promise.resolve(past);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (e: BaresipEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seen = this.events.map((e) => e.type).join(', ') || 'none';
        reject(new Error(`baresip: no matching event within ${timeoutMs} ms (events so far: ${seen})`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
