import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import tls from 'node:tls';
import { TransportState } from 'sip.js';
import { NodeSipTransport, type SipTransportConfig } from '../../../src-main/core/sip/transport/node-sip-transport';
import { describeTlsError } from '../../../src-main/core/sip/transport/stream-connector';
import type { ServerLocator } from '../../../src-main/core/sip/dns/server-locator';
import { makeTestCertificates, type TestCertificates } from '../../harness/test-certificates';
import { makeTempDir, removeTempDir } from '../../harness/temp-dir';
import { PLACEHOLDER, headerOf, sipJsRequest, tcpPeer, testLogger, waitFor, type TcpPeer } from './transport-test-kit';

let dir: string;
let ca: TestCertificates; // CA-signed cert for 127.0.0.1, localhost, pbx.test
let selfSigned: { certFile: string; keyFile: string; fingerprint256: string };
let caSignedPeer: TcpPeer;
let selfSignedPeer: TcpPeer;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  dir = makeTempDir('transport-tls');
  ca = makeTestCertificates(dir);
  const certFile = join(dir, 'self.pem');
  const keyFile = join(dir, 'self.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=pbx.test', '-addext', 'subjectAltName=DNS:pbx.test', '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  selfSigned = { certFile, keyFile, fingerprint256: new X509Certificate(readFileSync(certFile)).fingerprint256 };
  caSignedPeer = await tcpPeer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) });
  selfSignedPeer = await tcpPeer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
});

after(async () => {
  await caSignedPeer.close();
  await selfSignedPeer.close();
  removeTempDir(dir);
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The URI names `host`; the locator sends it to the loopback peer (as DNS would). */
function transport(host: string, peer: TcpPeer, config: Partial<SipTransportConfig>): NodeSipTransport {
  const locator: ServerLocator = { locate: async () => [{ host: '127.0.0.1', port: peer.port, protocol: 'tls', name: host }] };
  const t = new NodeSipTransport(testLogger(), {
    protocol: 'tls',
    server: `sip:${host};transport=tls`,
    viaPlaceholderHost: PLACEHOLDER,
    keepAliveSeconds: 0,
    locator,
    ...config,
  });
  cleanups.push(() => t.dispose());
  return t;
}

describe('NodeSipTransport over TLS', () => {
  test('verifies against caFile + server URI host; Via TLS, Contact sip: with transport=tls', async () => {
    const t = transport('pbx.test', caSignedPeer, { tls: { caFile: ca.caFile } });
    await t.connect();
    await t.send(sipJsRequest({ transport: 'tls' }));
    const local = t.localAddress();
    const got = await waitFor('REGISTER over TLS', () => caSignedPeer.connections.at(-1)?.received[0]);
    assert.equal(headerOf(got, 'Via'), `SIP/2.0/TLS 127.0.0.1:${local.port};branch=z9hG4bKtest1;rport`);
    assert.equal(headerOf(got, 'Contact'), `<sip:abcde@127.0.0.1:${local.port};transport=tls>;expires=600`);
  });

  test('untrusted CA: connect fails and says why (never falls back to an unverified connection)', async () => {
    const t = transport('pbx.test', caSignedPeer, {});
    await assert.rejects(t.connect(), /^Error: TLS certificate for pbx\.test is not trusted: unable to verify the first certificate$/);
    assert.equal(t.state, TransportState.Disconnected);
  });

  test("a CA the operating system trusts verifies without a CA file (Node 22.15+ reads the system's store; simulated on an older Node)", async () => {
    const node = tls as { getCACertificates?: (type: string) => string[] };
    const original = node.getCACertificates;
    const caPem = readFileSync(ca.caFile, 'utf8');
    node.getCACertificates = (type) => (type === 'system' ? [caPem] : (original?.call(tls, type) ?? []));
    try {
      const t = transport('pbx.test', caSignedPeer, {});
      await t.connect();
      assert.equal(t.state, TransportState.Connected);
    } finally {
      if (original === undefined) delete node.getCACertificates;
      else node.getCACertificates = original;
    }
  });

  test("a newer Node's advice about its own command line is not part of the reason (it means nothing to a user of the app)", () => {
    // The message Node 22.15+ (and Electron's Node) gives for the connect above.
    const error = Object.assign(new Error('unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    assert.equal(describeTlsError(error, 'pbx.test', '127.0.0.1:5061').message, 'TLS certificate for pbx.test is not trusted: unable to verify the first certificate');
  });

  test('self-signed certificate without a pin is refused with a specific message', async () => {
    const t = transport('pbx.test', selfSignedPeer, {});
    await assert.rejects(t.connect(), /TLS certificate for pbx\.test is not trusted: self-signed certificate/);
  });

  test('certificate valid, but not for the server URI host', async () => {
    const t = transport('other.test', caSignedPeer, { tls: { caFile: ca.caFile } });
    await assert.rejects(t.connect(), /TLS certificate for other\.test is not valid for that name: .*other\.test/);
  });

  test('pinnedCertSha256 accepts exactly that certificate (self-signed PBX)', async () => {
    const ok = transport('pbx.test', selfSignedPeer, { tls: { pinnedCertSha256: selfSigned.fingerprint256.toLowerCase() } });
    await ok.connect();
    assert.equal(ok.isConnected(), true);
    const wrong = transport('pbx.test', selfSignedPeer, { tls: { pinnedCertSha256: ca.serverCertFingerprint256 } });
    await assert.rejects(
      wrong.connect(),
      new RegExp(`TLS certificate for pbx\\.test does not match the pinned SHA-256 fingerprint \\(server presented ${selfSigned.fingerprint256}\\)`),
    );
  });

  test("the account's own CA as PEM text (what the app's form reads from the picked file) verifies like caFile", async () => {
    const t = transport('pbx.test', caSignedPeer, { tls: { caPem: readFileSync(ca.caFile, 'utf8') } });
    await t.connect();
    assert.equal(t.state, TransportState.Connected);
  });

  test('a CA PEM OpenSSL cannot read is a clear connect error, not a verification failure', async () => {
    const broken = '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    const t = transport('pbx.test', caSignedPeer, { tls: { caPem: broken } });
    await assert.rejects(t.connect(), /^Error: The account's trusted CA certificate cannot be read: /);
  });

  test('an unreadable caFile is a clear connect error', async () => {
    const t = transport('pbx.test', caSignedPeer, { tls: { caFile: join(dir, 'missing.pem') } });
    await assert.rejects(t.connect(), /Cannot read TLS CA file .*missing\.pem/);
  });

  test('rejectUnauthorized cannot be smuggled in', () => {
    assert.throws(
      () => new NodeSipTransport(testLogger(), { protocol: 'tls', viaPlaceholderHost: PLACEHOLDER, tls: { rejectUnauthorized: false as never } }),
      /rejectUnauthorized is not supported/,
    );
  });
});
