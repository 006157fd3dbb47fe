// sip.js UserAgent + Registerer over NodeSipTransport against a real Kamailio, over UDP, TCP and TLS,
// and over a lossy UDP relay (20 % datagram loss) where only the transport's Timers A/E save the day.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { Messager, Registerer, RegistererState, UserAgent, type UserAgentOptions } from 'sip.js';
import { NodeSipTransport, type SipTransportConfig } from '../../src-main/core/sip/transport/node-sip-transport';
import { startKamailio, type TestPbx, type SipTransportName } from '../harness/kamailio';

let pbx: TestPbx;
before(async () => {
  pbx = await startKamailio({ users: ['alice', 'bob', 'carol'] });
});
after(async () => {
  await pbx?.stop();
});

interface TestPhone {
  ua: UserAgent;
  registerer: Registerer;
  transport: NodeSipTransport;
  messages: string[];
  log: string[];
  publicAddresses: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

async function registeredPhone(user: string, protocol: SipTransportName, server: string, extra: Partial<SipTransportConfig> = {}): Promise<TestPhone> {
  const placeholder = `sb-${randomBytes(6).toString('hex')}.invalid`;
  const log: string[] = [];
  const messages: string[] = [];
  const publicAddresses: Array<{ host: string; port: number }> = [];
  const transportOptions: SipTransportConfig = {
    protocol,
    server,
    viaPlaceholderHost: placeholder,
    tls: { caFile: pbx.caFile },
    trace: (e) => log.push(`${e.direction} ${e.remote}\n${e.text}`),
    onPublicAddressChanged: (a) => publicAddresses.push(a),
    onInvalidMessage: (i) => log.push(`invalid from ${i.remote}: ${i.reason}`),
    ...extra,
  };
  const options: UserAgentOptions = {
    uri: UserAgent.makeURI(pbx.aor(user))!,
    authorizationUsername: user,
    authorizationPassword: pbx.password(user),
    transportConstructor: NodeSipTransport,
    transportOptions,
    viaHost: placeholder,
    contactParams: { transport: protocol },
    forceRport: true,
    logBuiltinEnabled: false,
    logLevel: 'warn',
    logConnector: (level, category, _label, content) => log.push(`sip.js ${level} ${category}: ${content}`),
    delegate: {
      onMessage: (message) => {
        messages.push(message.request.body);
        void message.accept();
      },
    },
  };
  const ua = new UserAgent(options);
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  const registered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${user}/${protocol}: not registered within 30 s\n${log.join('\n')}`)), 30_000);
    registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await registerer.register({
    requestDelegate: { onReject: (response) => log.push(`REGISTER rejected: ${response.message.statusCode}`) },
  });
  await registered;
  return {
    ua,
    registerer,
    transport: ua.transport as NodeSipTransport,
    messages,
    log,
    publicAddresses,
    async stop() {
      await registerer.unregister().catch((error: Error) => log.push(`unregister failed: ${error.message}`));
      await ua.stop();
    },
  };
}

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('NodeSipTransport + sip.js against Kamailio', () => {
  for (const protocol of ['udp', 'tcp', 'tls'] as const) {
    test(`registers over ${protocol}, and the registered Contact is reachable (MESSAGE from another user)`, async () => {
      const alice = await registeredPhone('alice', protocol, pbx.proxyUri(protocol));
      const bob = await registeredPhone('bob', 'udp', pbx.proxyUri('udp'));
      try {
        assert.equal(alice.transport.localAddress().host, '127.0.0.1');
        const text = `hello over ${protocol} ${randomBytes(3).toString('hex')}`;
        await new Messager(bob.ua, UserAgent.makeURI(pbx.aor('alice'))!, text).message();
        await waitFor(`MESSAGE at alice over ${protocol}`, () => alice.messages.includes(text) || undefined, 10_000).catch((error: Error) => {
          throw new Error(`${error.message}\n--- alice trace ---\n${alice.log.join('\n')}\n--- kamailio ---\n${pbx.logs().slice(-3000)}`);
        });
        // The trace never shows credentials.
        assert.ok(alice.log.some((l) => l.includes('Authorization: <redacted>')));
        assert.ok(!alice.log.some((l) => /Authorization:\s*Digest/i.test(l)));
      } finally {
        await alice.stop();
        await bob.stop();
      }
    });
  }

  test('registration completes through a UDP relay that drops 20 % of datagrams (Timers A/E)', async () => {
    const relay = await startLossyRelay(pbx.udpPort, 0.2);
    try {
      const carol = await registeredPhone('carol', 'udp', `sip:127.0.0.1:${relay.port}`, { timers: { t1Ms: 250, t2Ms: 2000 } });
      try {
        assert.ok(relay.dropped >= 1, 'the relay really dropped datagrams');
        assert.ok(relay.retransmissionsSeen >= 1, 'a REGISTER was retransmitted by the transport');
      } finally {
        await carol.stop();
      }
    } finally {
      await relay.close();
    }
  });
});

interface LossyRelay {
  port: number;
  dropped: number;
  retransmissionsSeen: number;
  close(): Promise<void>;
}

/**
 * UDP relay between one client and the PBX. Drops each datagram with probability `loss` (seeded PRNG,
 * reproducible) and always drops the first REGISTER, so at least one retransmission is needed.
 */
async function startLossyRelay(pbxPort: number, loss: number): Promise<LossyRelay> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: { address: string; port: number } | undefined;
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const seenBranches = new Map<string, number>();
  const relay: LossyRelay = { port: 0, dropped: 0, retransmissionsSeen: 0, close: async () => undefined };
  let firstRegisterDropped = false;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    const text = msg.toString('utf8');
    const branch = text.match(/branch=([^;\s]+)/)?.[1];
    if (branch && text.startsWith('REGISTER')) {
      const n = (seenBranches.get(branch) ?? 0) + 1;
      seenBranches.set(branch, n);
      if (n > 1) relay.retransmissionsSeen += 1;
      if (!firstRegisterDropped) {
        firstRegisterDropped = true;
        relay.dropped += 1;
        return;
      }
    }
    if (random() < loss) {
      relay.dropped += 1;
      return;
    }
    back.send(msg, pbxPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (!client) return;
    if (random() < loss) {
      relay.dropped += 1;
      return;
    }
    front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  relay.port = front.address().port;
  relay.close = async () => {
    await new Promise<void>((r) => front.close(() => r()));
    await new Promise<void>((r) => back.close(() => r()));
  };
  return relay;
}
