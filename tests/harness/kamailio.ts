// The test PBX: a real Kamailio 5.6 (Debian package) with our own config
// (tests/fixtures/kamailio/kamailio.cfg.tmpl — read its header for what it does).
// Each instance: own temp dir (config, TLS certs, runtime dir, pid file, log), random free ports on
// 127.0.0.1, users with random passwords, readiness proven by an OPTIONS answer over UDP and by the
// TCP and TLS ports accepting connections. Killed on stop() and when the test process exits.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManagedProcess, tail, type ManagedProcess } from './child-processes';
import { freeTcpPort, freeUdpPort, waitForTcpAccept, LOOPBACK, freePortOtherThan } from './ports';
import { makeTempDir, removeTempDir } from './temp-dir';
import { makeTestCertificates } from './test-certificates';
import { sipOptionsResponds } from './sip-probe';

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export interface TestPbx {
  /** SIP domain users register to ('127.0.0.1'); also accepted: 'localhost', 'pbx.test'. */
  domain: string;
  host: string;
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  /** PEM file of the test CA that signed the TLS server certificate. */
  caFile: string;
  caFingerprint256: string;
  serverCertFingerprint256: string;
  users: { name: string; password: string }[];
  /** `sip:<user>@127.0.0.1:<port>;transport=<t>` — the user's AOR reached through that listener. */
  uri(user: string, transport: SipTransportName): string;
  /** `sip:<user>@<domain>` */
  aor(user: string): string;
  /** `sip:127.0.0.1:<port>;transport=<t>` — outbound proxy / registrar URI for that transport. */
  proxyUri(transport: SipTransportName): string;
  port(transport: SipTransportName): number;
  password(user: string): string;
  /** Temp dir of this instance (kamailio.cfg, kamailio.log, certs). */
  dir: string;
  logs(): string;
  /** Stop Kamailio (every registration and connection is lost, as in a PBX reboot), stay down
   *  `downMs`, then start it again on the same ports with the same users. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartKamailioOptions {
  /** User names to create (random passwords). Default alice, bob, carol, dave. */
  users?: string[];
  /** Kamailio debug level (default 2 = notice/info; 3 for SIP-level debugging). */
  debugLevel?: number;
  /** How long to wait for readiness (default 15 s). */
  readyTimeoutMs?: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const TEMPLATE = join(here, '..', 'fixtures', 'kamailio', 'kamailio.cfg.tmpl');
const MODULE_PATHS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];
const KAMAILIO = '/usr/sbin/kamailio';
const USER_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`kamailio template: no value for {{${key}}}`);
    return value;
  });
}

export async function startKamailio(options: StartKamailioOptions = {}): Promise<TestPbx> {
  const names = options.users ?? ['alice', 'bob', 'carol', 'dave'];
  for (const name of names) {
    if (!USER_NAME.test(name)) throw new Error(`startKamailio: invalid user name ${JSON.stringify(name)}`);
  }
  if (!existsSync(KAMAILIO)) throw new Error(`startKamailio: ${KAMAILIO} not found (apt-get install kamailio kamailio-tls-modules)`);
  let lastError: unknown;
  // Ports are free when chosen but could be taken before kamailio binds: retry a few times.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(names, options);
    } catch (error) {
      lastError = error;
      if (!String(error).includes('Address already in use')) break;
    }
  }
  throw lastError;
}

async function startOnce(names: string[], options: StartKamailioOptions): Promise<TestPbx> {
  const dir = makeTempDir('kamailio');
  const users = names.map((name) => ({ name, password: randomBytes(9).toString('base64url') }));
  const certs = makeTestCertificates(dir);
  const [udpPort, tcpPort] = [await freeUdpPort(), await freeTcpPort()];
  const tlsPort = await freePortOtherThan(() => freeTcpPort(), [tcpPort]);
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const tlsCfg = join(dir, 'tls.cfg');
  writeFileSync(
    tlsCfg,
    [
      '[server:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      `certificate = ${certs.certFile}`,
      `private_key = ${certs.keyFile}`,
      `ca_list = ${certs.caFile}`,
      '',
      '[client:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      '',
    ].join('\n'),
  );
  const modulePath = MODULE_PATHS.find((p) => existsSync(p));
  if (!modulePath) throw new Error(`startKamailio: no kamailio module dir among ${MODULE_PATHS.join(', ')}`);
  const cfgFile = join(dir, 'kamailio.cfg');
  writeFileSync(
    cfgFile,
    render(readFileSync(TEMPLATE, 'utf8'), {
      DEBUG_LEVEL: String(options.debugLevel ?? 2),
      LOG_PREFIX: `[kam ${udpPort}] `,
      DOMAIN: LOOPBACK,
      UDP_PORT: String(udpPort),
      TCP_PORT: String(tcpPort),
      TLS_PORT: String(tlsPort),
      MODULE_PATH: modulePath,
      AUTH_SECRET: randomBytes(12).toString('hex'),
      TLS_CFG: tlsCfg,
      // passwords are base64url: no quotes or backslashes to escape
      USER_ROWS: users.map((u) => `\t$sht(users=>${u.name}) = "${u.password}";`).join('\n'),
    }),
  );
  const launch = (): ManagedProcess =>
    startManagedProcess(
      'kamailio',
      KAMAILIO,
      ['-f', cfgFile, '-DD', '-E', '-Y', runDir, '-P', join(runDir, 'kamailio.pid'), '-m', '64', '-M', '8', '-w', runDir],
      { cwd: dir, logFile: join(dir, 'kamailio.log') },
    );
  let proc: ManagedProcess = launch();
  const fail = async (why: string, keepDir = false): Promise<never> => {
    const logs = proc.logs();
    await proc.stop(500);
    if (!keepDir) removeTempDir(dir);
    throw new Error(`startKamailio: ${why}\n--- kamailio log (tail) ---\n${tail(logs)}`);
  };
  const timeout = options.readyTimeoutMs ?? 15_000;
  /** Readiness: OPTIONS answered on UDP, TCP and TLS ports accepting. */
  const awaitReady = async (keepDir: boolean): Promise<void> => {
    const deadline = Date.now() + timeout;
    let answered: string | undefined;
    while (!answered && Date.now() < deadline) {
      if (proc.hasExited()) return fail('kamailio exited during start-up', keepDir);
      answered = await sipOptionsResponds(LOOPBACK, udpPort, 200);
    }
    if (!answered) return fail(`no answer to OPTIONS on udp ${udpPort} within ${timeout} ms`, keepDir);
    if (!answered.startsWith('SIP/2.0 200')) return fail(`OPTIONS probe answered ${JSON.stringify(answered)}, expected 200`, keepDir);
    try {
      await waitForTcpAccept(LOOPBACK, tcpPort, Math.max(1000, deadline - Date.now()), () => proc.hasExited());
      await waitForTcpAccept(LOOPBACK, tlsPort, Math.max(1000, deadline - Date.now()), () => proc.hasExited());
    } catch (error) {
      return fail((error as Error).message, keepDir);
    }
  };
  await awaitReady(false);

  const portOf = (t: SipTransportName): number => {
    if (t === 'udp') return udpPort;
    if (t === 'tcp') return tcpPort;
    if (t === 'tls') return tlsPort;
    throw new Error(`unknown transport ${JSON.stringify(t)}`);
  };
  let stopped = false;
  return {
    domain: LOOPBACK,
    host: LOOPBACK,
    udpPort,
    tcpPort,
    tlsPort,
    caFile: certs.caFile,
    caFingerprint256: certs.caFingerprint256,
    serverCertFingerprint256: certs.serverCertFingerprint256,
    users,
    dir,
    uri: (user, transport) => `sip:${user}@${LOOPBACK}:${portOf(transport)};transport=${transport}`,
    aor: (user) => `sip:${user}@${LOOPBACK}`,
    proxyUri: (transport) => `sip:${LOOPBACK}:${portOf(transport)};transport=${transport}`,
    port: portOf,
    password(user) {
      const found = users.find((u) => u.name === user);
      if (!found) throw new Error(`TestPbx: no user ${JSON.stringify(user)} (have ${users.map((u) => u.name).join(', ')})`);
      return found.password;
    },
    logs: () => proc.logs(),
    async restart(downMs = 0) {
      if (stopped) throw new Error('TestPbx.restart: already stopped');
      await proc.stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      proc = launch();
      await awaitReady(true);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      removeTempDir(dir);
    },
  };
}
