/**
 * dev:web — the renderer in a normal browser: serves dist/renderer over http://127.0.0.1:PORT, the
 * contract over the WebSocket carrier at /rpc and each call's audio device at /audio
 * (websocket-audio-broker.ts), backed by a real Switchboard core.
 *
 *   npm run dev:web -- [--port N] [--account sip:201@pbx --password PW --transport udp|tcp|tls
 *                       [--registrar sip:…] [--proxy sip:…]]
 *
 * Loopback only: the HTTP server binds 127.0.0.1 and the carrier accepts only this page's origin.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ContractClient } from '../common/contract/contract-client';
import { SipTransportName, type AccountConfigInput } from '../common/contract/contract';
import { createWebSocketCarrier } from '../carriers/websocket-carrier';
import type { SwitchboardCore } from '../core/app/switchboard-core';
import { tuneV8ForCalls } from '../core/app/v8-tuning';
import { createInProcessChannelPair } from './in-process-channel';
import { createWebSocketAudioBroker } from './websocket-audio-broker';
import { createRendererAssetHandler } from './renderer-assets';
import { ensureRendererBuilt, rendererDistDir } from './renderer-build';

export interface DevWebOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Account to add before serving, like headless --account. */
  account?: AccountConfigInput;
  /** Serve this core instead of creating one (tests); dev:web then does not stop it. */
  core?: Pick<SwitchboardCore, 'server'>;
  log?: (line: string) => void;
}

export interface DevWeb {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** The account pre-added from options.account, if any. */
  readonly accountId: string | undefined;
  /** Closes the page server and carrier, then stops the core it created (unregistering accounts). */
  stop(): Promise<void>;
}

/** account.add through the contract (same validation as any client). */
async function addAccount(core: Pick<SwitchboardCore, 'server'>, account: AccountConfigInput): Promise<string> {
  const pair = createInProcessChannelPair();
  core.server.attach(pair.a);
  try {
    return (await new ContractClient(pair.b).call('account.add', account)).accountId;
  } finally {
    pair.close();
  }
}

export async function startDevWeb(options: DevWebOptions = {}): Promise<DevWeb> {
  const log = options.log ?? ((line: string) => console.error(line));
  await ensureRendererBuilt(log);

  // Origins are known once listening; the checks read this array at each upgrade.
  const allowedOrigins: string[] = [];
  // Call audio from the page (only for a core we create: a core passed in has its own audio).
  const audio = createWebSocketAudioBroker({ allowedOrigins, log });
  let core: Pick<SwitchboardCore, 'server'>;
  let ownedCore: SwitchboardCore | undefined; // the one we created, so stop() is ours to call
  if (options.core) core = options.core;
  else {
    // Loaded lazily so a test serving its own core does not load the SIP stack.
    const { createSwitchboardCore } = await import('../core/app/switchboard-core');
    tuneV8ForCalls();
    core = ownedCore = createSwitchboardCore({ log, audioBroker: audio.broker, recordingsDir: join(tmpdir(), 'switchboard-recordings') });
  }
  let accountId: string | undefined;
  try {
    await ownedCore?.start();
    // Before serving, so a bad --account fails start-up instead of leaving a half-configured server.
    if (options.account) accountId = await addAccount(core, options.account);
  } catch (error) {
    await ownedCore?.stop();
    await audio.close();
    const what = options.account ? `add the account ${options.account.aor}` : 'start the core';
    throw new Error(`dev:web could not ${what}: ${(error as Error).message}`);
  }
  const http = createServer(createRendererAssetHandler(rendererDistDir));
  try {
    await new Promise<void>((resolveListen, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, '127.0.0.1', () => {
        http.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    await ownedCore?.stop();
    await audio.close();
    throw new Error(`dev:web cannot listen on 127.0.0.1:${options.port ?? 0}: ${(error as Error).message}`);
  }
  const port = (http.address() as AddressInfo).port;
  allowedOrigins.push(`http://127.0.0.1:${port}`, `http://localhost:${port}`);
  const carrier = createWebSocketCarrier({ server: core.server, allowedOrigins, log });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!carrier.handleUpgrade(request, socket, head) && !audio.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    accountId,
    stop() {
      stopping ??= (async () => {
        await carrier.close();
        await audio.close();
        http.closeAllConnections();
        await new Promise<void>((done, reject) => http.close((error) => (error ? reject(error) : done())));
        await ownedCore?.stop();
      })();
      return stopping;
    },
  };
}

const USAGE = `Usage: npm run dev:web -- [--port N] [--account sip:USER@DOMAIN --password PW --transport udp|tcp|tls [--registrar URI] [--proxy URI]]`;

/** Parse dev:web's command line; throws an Error whose message says what is wrong. */
export function parseDevWebArgs(argv: readonly string[]): DevWebOptions & { help?: boolean } {
  const values: Record<string, string> = {};
  const known = new Set(['--port', '--account', '--password', '--transport', '--registrar', '--proxy']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { help: true };
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!known.has(name)) throw new Error(`Unknown option "${name}".\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`Option ${name} needs a value.\n${USAGE}`);
    values[name] = value;
  }
  const options: DevWebOptions = {};
  if (values['--port'] !== undefined) {
    const port = Number(values['--port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0…65535, got "${values['--port']}"`);
    options.port = port;
  }
  const accountOnly = ['--password', '--transport', '--registrar', '--proxy'].filter((n) => values[n] !== undefined);
  if (values['--account'] === undefined) {
    if (accountOnly.length > 0) throw new Error(`${accountOnly.join(', ')} need --account.\n${USAGE}`);
    return options;
  }
  const transport = SipTransportName.safeParse(values['--transport'] ?? 'udp');
  if (!transport.success) throw new Error(`--transport must be udp, tcp or tls, got "${values['--transport']}"`);
  options.account = {
    aor: values['--account'],
    password: values['--password'],
    transport: transport.data,
    registrar: values['--registrar'],
    outboundProxy: values['--proxy'],
  };
  return options;
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseDevWebArgs>;
  try {
    options = parseDevWebArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const devWeb = await startDevWeb(options);
  console.log(`Switchboard dev:web: ${devWeb.url}`);
  const shutdown = (signal: string): void => {
    console.error(`dev:web: ${signal}, unregistering and stopping…`);
    devWeb.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('dev:web: stop failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error('dev:web failed:', error);
    process.exit(1);
  });
}
