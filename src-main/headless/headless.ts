/**
 * Headless Switchboard: the same core as the app, under plain Node, speaking the contract as
 * JSON-RPC 2.0 lines on stdio. Audio comes from / goes to WAV files paced in real time.
 *
 *   SWITCHBOARD_PASSWORD=secret npm run --silent headless -- --account sip:201@pbx.example.com \
 *     [--transport udp|tcp|tls] [--proxy URI] [--audio-in in.wav] [--audio-out out.wav] [--auto-answer]
 *
 * stdout carries JSON-RPC messages only; diagnostics go to stderr. Closing stdin (or SIGINT/SIGTERM)
 * hangs up, unregisters and exits 0. That graceful shutdown is bounded: if it has not finished
 * within 5 s (SHUTDOWN_BOUND_MS; say, the registrar does not answer), or if it fails, a stderr
 * line says what was still pending (or the error) and the exit code is 1. A second SIGINT/SIGTERM
 * during it exits at once with 130/143 (128 + signal number), after a stderr line saying what was
 * cut short.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Session } from 'sip.js';
import { createStdioChannel } from '../carriers/stdio-carrier';
import { AccountConfig } from '../common/contract/contract';
import { createSwitchboardCore, type CallAudioProvider, type SwitchboardCore } from '../core/app/switchboard-core';
import { tuneV8ForCalls } from '../core/app/v8-tuning';
import type { AudioSink, AudioSource } from '../core/media/audio/audio-port';
import { NullSink } from '../core/media/audio/null-sink';
import { SilenceSource } from '../core/media/audio/silence-source';
import { WavFileSink } from '../core/media/audio/wav-file-sink';
import { WavFileSource } from '../core/media/audio/wav-file-source';

const USAGE = `Usage: npm run --silent headless -- --account URI [options]
  --account URI          address of record, e.g. sip:201@pbx.example.com (required)
  --password-file FILE   digest password: the file's content (one line; its line break dropped)
  --password PW          digest password, readable by every local user in ps: prefer
                         --password-file, or SWITCHBOARD_PASSWORD in the environment
  --auth-user NAME       digest username when it differs from the AOR user
  --display-name NAME    caller name
  --transport T          udp (default), tcp or tls
  --proxy URI            outbound proxy (every request goes there)
  --registrar URI        registrar (default: the AOR's domain)
  --no-register          local serverless account: direct sip:user@host:port calls only
  --accept-direct        also accept calls that do not come through the PBX
  --listen HOST:PORT     local SIP address (default: all interfaces, random port)
  --expires SECONDS      registration interval (default 600)
  --ca-file PEM          extra CA to trust for TLS
  --pin SHA256           accept exactly this TLS server certificate
  --audio-in FILE.wav    what we send (default: silence)
  --audio-out FILE.wav   record what we receive (calls after the first get -2, -3 ... suffixes),
                         mono at the negotiated codec's rate: 8000 (G.711), 16000 (G.722), 48000 (opus)
  --codecs LIST          codec preference, e.g. opus,G722,PCMU,PCMA (the default order)
  --ptime MS             packet time to ask the far end for: 10-60, a multiple of 10 (default 20)
  --srtp POLICY          off | optional | mandatory (SDES-SRTP; default optional on tls, else off)
  --dtmf-mode MODE       rfc4733 | info | auto (default auto: RFC 4733 when negotiated, else SIP INFO)
  --media-timeout SECONDS  hang up after this long with nothing from the far end (not on hold):
                         0 (never) or 10-3600 (default 60)
  --auto-answer          answer incoming calls at once
  --trace                SIP trace on stderr (passwords redacted)
  --help
Speaks JSON-RPC 2.0 on stdin/stdout, one message per line; see README "Headless contract".`;

/**
 * Upper bound on the graceful shutdown. A reachable registrar answers the un-REGISTER in
 * milliseconds and the core gives a slow one 4 s (Account.stop); an unreachable registrar or proxy
 * would hold the exit until SIP Timer F (32 s), longer than anyone at Ctrl-C or any service
 * manager waits (docker stop kills after 10 s).
 */
const SHUTDOWN_BOUND_MS = 5000;

/** 128 + signal number: how shells and service managers recognise "ended by this signal". */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

function fail(message: string): never {
  process.stderr.write(`switchboard headless: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const OPTIONS = {
  account: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'auth-user': { type: 'string' },
  'display-name': { type: 'string' },
  transport: { type: 'string' },
  proxy: { type: 'string' },
  registrar: { type: 'string' },
  'no-register': { type: 'boolean' },
  'accept-direct': { type: 'boolean' },
  listen: { type: 'string' },
  expires: { type: 'string' },
  'ca-file': { type: 'string' },
  pin: { type: 'string' },
  'audio-in': { type: 'string' },
  'audio-out': { type: 'string' },
  codecs: { type: 'string' },
  ptime: { type: 'string' },
  'auto-answer': { type: 'boolean' },
  srtp: { type: 'string' },
  'dtmf-mode': { type: 'string' },
  'media-timeout': { type: 'string' },
  trace: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Options that take a value: their value may start with "-" (a password like "-x7!q" must work). */
const VALUE_OPTIONS = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string').map(([name]) => name));

/** `--password -abc` → `--password=-abc`, so that parseArgs does not take the value for an option. */
function joinOptionValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--') && !arg.includes('=') && VALUE_OPTIONS.has(arg.slice(2)) && i + 1 < argv.length) {
      out.push(`${arg}=${argv[i + 1]!}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

/**
 * The password from --password-file, --password or SWITCHBOARD_PASSWORD (one of them). A command
 * line is world-readable (ps, /proc/PID/cmdline); a file or the environment is the user's own.
 * The variable is removed once read, so that nothing this process starts inherits it.
 */
function digestPassword(option: string | undefined, file: string | undefined): string | undefined {
  const fromEnvironment = process.env.SWITCHBOARD_PASSWORD;
  delete process.env.SWITCHBOARD_PASSWORD;
  if (option !== undefined && file !== undefined) fail('give the password once: --password or --password-file, not both');
  if (file === undefined) return option ?? (fromEnvironment === '' ? undefined : fromEnvironment);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`--password-file: cannot read ${file}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') fail(`--password-file: ${file} is empty`);
  if (/[\r\n]/.test(password)) fail(`--password-file: ${file} has more than one line; it must hold the password alone`);
  return password;
}

function parseCommandLine(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinOptionValues(argv),
      strict: true,
      options: OPTIONS,
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!v.account) fail('--account is required');
  let localAddress: string | undefined;
  let localPort: number | undefined;
  if (v.listen) {
    const m = /^(.+):(\d+)$/.exec(v.listen);
    if (!m) fail(`--listen must be HOST:PORT, got "${v.listen}"`);
    localAddress = m[1]!.replace(/^\[|\]$/g, '');
    localPort = Number(m[2]);
  }
  const config = AccountConfig.safeParse({
    aor: v.account,
    password: digestPassword(v.password, v['password-file']),
    authUsername: v['auth-user'],
    displayName: v['display-name'],
    transport: v.transport,
    outboundProxy: v.proxy,
    registrar: v.registrar,
    register: !v['no-register'],
    acceptDirectCalls: Boolean(v['accept-direct']),
    localAddress,
    localPort,
    registerExpires: v.expires === undefined ? undefined : Number(v.expires),
    tls: v['ca-file'] || v.pin ? { caFile: v['ca-file'], pinnedCertSha256: v.pin } : undefined,
    srtp: v.srtp,
    dtmfMode: v['dtmf-mode'],
    codecs: v.codecs === undefined ? undefined : v.codecs.split(',').map((c) => c.trim()).filter((c) => c !== ''),
    ptime: v.ptime === undefined ? undefined : Number(v.ptime),
    mediaTimeoutSeconds: v['media-timeout'] === undefined ? undefined : Number(v['media-timeout']),
  });
  if (!config.success)
    fail(config.error.issues.map((i) => `${i.path.join('.') || 'account'}: ${i.message}`).join('; '));
  return {
    config: config.data,
    audioIn: v['audio-in'],
    audioOut: v['audio-out'],
    autoAnswer: Boolean(v['auto-answer']),
    trace: Boolean(v.trace),
  };
}

/**
 * WAV files as the "device": one input shared by every call, one output file per call. The input
 * plays at the file's own rate (the media session converts each frame to the codec's rate); the
 * output is written at the rate the media layer asks for (the negotiated codec's, so wideband
 * audio is not band-limited).
 */
function wavAudio(audioIn: string | undefined, audioOut: string | undefined): CallAudioProvider {
  let calls = 0;
  return {
    open(_session: Session, { sampleRate }: { sampleRate: number }) {
      calls += 1;
      // The input file plays at its own rate: the media session converts each frame to the codec's.
      const source: AudioSource = audioIn ? new WavFileSource(audioIn) : new SilenceSource(sampleRate);
      let sink: AudioSink = new NullSink(sampleRate);
      if (audioOut) sink = new WavFileSink(calls === 1 ? audioOut : audioOut.replace(/(\.wav)?$/i, `-${calls}$1`), sampleRate);
      return { source, sink };
    },
  };
}

/** What core.stop() still waits for, as far as the account and call states show. */
async function pendingSteps(core: SwitchboardCore): Promise<string> {
  try {
    const { calls } = await core.phone.handlers['call.list']({});
    const { accounts } = await core.phone.handlers['account.list']({});
    // Account.stop() ends in 'unregistered'; until then it waits for the registrar's answer
    // (sip.js disposes a Registerer only once its REGISTER transaction is over).
    const waitsFor = (state: string) =>
      state === 'registering' ? ', REGISTER unanswered' : state === 'unregistering' ? ', un-REGISTER unanswered' : '';
    const pending = [
      ...calls.filter((c) => c.state !== 'ended').map((c) => `call ${c.callId} (${c.remoteUri}) ${c.state}`),
      ...accounts.filter((a) => a.state !== 'unregistered').map((a) => `account ${a.accountId} (${a.aor}) ${a.state}${waitsFor(a.state)}`),
    ];
    return pending.length > 0 ? pending.join('; ') : 'unknown (every call has ended and every account is unregistered)';
  } catch (error) {
    return `unknown (could not read the account and call states: ${String(error)})`;
  }
}

async function main(): Promise<void> {
  tuneV8ForCalls();
  const options = parseCommandLine(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const core = createSwitchboardCore({
    log,
    audio: wavAudio(options.audioIn, options.audioOut),
    autoAnswer: options.autoAnswer,
    trace: options.trace
      ? (event) => process.stderr.write(`--- SIP ${event.direction === 'in' ? 'from' : 'to'} ${event.remote}\n${event.text}\n`)
      : undefined,
  });
  const channel = createStdioChannel(process.stdin, process.stdout);
  core.server.attach(channel);

  let stopping = false;
  /** Exit without waiting for core.stop() any longer, saying what it was still waiting for. */
  const giveUp = async (why: string, code: number) => {
    log(`switchboard headless: ${why}; still pending: ${await pendingSteps(core)}`);
    process.exit(code);
  };
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`switchboard headless: ${why}; hanging up and unregistering`);
    setTimeout(() => void giveUp(`graceful shutdown did not finish within ${SHUTDOWN_BOUND_MS / 1000} s`, 1), SHUTDOWN_BOUND_MS);
    try {
      await core.stop();
    } catch (error) {
      log(`switchboard headless: graceful shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    }
    process.exit(0);
  };
  // A signal during the shutdown means "now" (Ctrl-C twice, a service manager's second signal).
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    if (stopping) void giveUp(`${signal} during shutdown; graceful shutdown cut short`, SIGNAL_EXIT_CODES[signal]);
    else void shutdown(signal);
  };
  channel.onClose(() => void shutdown('stdin closed'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  await core.phone.addAccount(options.config);
}

main().catch((error: unknown) => {
  process.stderr.write(`switchboard headless: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
