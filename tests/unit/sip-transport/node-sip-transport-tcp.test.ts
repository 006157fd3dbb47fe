import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TransportState } from 'sip.js';
import { NodeSipTransport, type SipTransportConfig } from '../../../src-main/core/sip/transport/node-sip-transport';
import type { ServerLocator } from '../../../src-main/core/sip/dns/server-locator';
import { PLACEHOLDER, delay, headerOf, responseTo, sipJsRequest, tcpPeer, testLogger, waitFor, type TcpPeer } from './transport-test-kit';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function peer(): Promise<TcpPeer> {
  const p = await tcpPeer();
  cleanups.push(() => p.close());
  return p;
}

async function freeClosedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Harness {
  transport: NodeSipTransport;
  delivered: string[];
  disconnects: Array<Error | undefined>;
}

async function connected(config: Partial<SipTransportConfig>, connect = true): Promise<Harness> {
  const h: Harness = { transport: undefined!, delivered: [], disconnects: [] };
  h.transport = new NodeSipTransport(testLogger(), { protocol: 'tcp', viaPlaceholderHost: PLACEHOLDER, keepAliveSeconds: 0, localAddress: '127.0.0.1', ...config });
  h.transport.onMessage = (m) => h.delivered.push(m);
  h.transport.onDisconnect = (e) => h.disconnects.push(e);
  cleanups.push(() => h.transport.dispose());
  if (connect) await h.transport.connect();
  return h;
}

function sipMessage(body: string, branch: string): string {
  return sipJsRequest({ method: 'MESSAGE', transport: 'tcp', viaHost: '127.0.0.1:5060', branch, body });
}

describe('NodeSipTransport over TCP', () => {
  test('Via/Contact carry the local ip and listening port with transport=tcp', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port};transport=tcp` });
    const local = h.transport.localAddress();
    await h.transport.send(sipJsRequest({ transport: 'tcp' }));
    const got = await waitFor('REGISTER', () => server.connections[0]?.received[0]);
    assert.equal(headerOf(got, 'Via'), `SIP/2.0/TCP 127.0.0.1:${local.port};branch=z9hG4bKtest1;rport`);
    assert.equal(headerOf(got, 'Contact'), `<sip:abcde@127.0.0.1:${local.port};transport=tcp>;expires=600`);
    // The advertised port accepts connections (peers may reach our Contact directly).
    const probe = net.connect(local.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => probe.once('connect', resolve).once('error', reject));
    probe.destroy();
  });

  test('framing: coalesced, split and multi-byte messages reach sip.js intact', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const conn = await waitFor('connection', () => server.connections[0]);
    const a = sipMessage('first', 'z9hG4bKa');
    const b = sipMessage('zweite Nachricht: Grüße 🎉', 'z9hG4bKb');
    const c = sipMessage('third', 'z9hG4bKc');
    const bytes = Buffer.from('\r\n' + a + b + c, 'utf8');
    conn.socket.write(bytes.subarray(0, a.length + 30));
    await delay(20);
    conn.socket.write(bytes.subarray(a.length + 30, a.length + 80));
    await delay(20);
    conn.socket.write(bytes.subarray(a.length + 80));
    await waitFor('three messages', () => h.delivered.length === 3);
    assert.ok(h.delivered[0]!.endsWith('\r\n\r\nfirst'));
    assert.ok(h.delivered[1]!.endsWith('\r\n\r\nzweite Nachricht: Grüße 🎉'));
    assert.ok(h.delivered[2]!.endsWith('\r\n\r\nthird'));
  });

  test('a CRLFCRLF ping from the server is answered with a CRLF pong', async () => {
    const server = await peer();
    await connected({ server: `sip:127.0.0.1:${server.port}` });
    const conn = await waitFor('connection', () => server.connections[0]);
    conn.socket.write('\r\n\r\n');
    await waitFor('pong', () => conn.raw.join('') === '\r\n');
  });

  test('keep-alive: RFC 5626 CRLFCRLF pings on the server connection', async () => {
    const server = await peer();
    await connected({ server: `sip:127.0.0.1:${server.port}`, keepAliveSeconds: 0.05 });
    const conn = await waitFor('connection', () => server.connections[0]);
    await waitFor('two pings', () => conn.received.filter((m) => m === '<ping>').length >= 2);
  });

  test('responses go back over the connection the request came in on', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const conn = await waitFor('connection', () => server.connections[0]);
    // Via sent-by points to a port where nobody listens: only the same connection works.
    conn.socket.write(sipJsRequest({ method: 'OPTIONS', transport: 'tcp', viaHost: '127.0.0.1:9', branch: 'z9hG4bKopt' }));
    const req = await waitFor('OPTIONS', () => h.delivered[0]);
    assert.match(headerOf(req, 'Via')!, /received=127\.0\.0\.1/);
    await h.transport.send(responseTo(req, 200, 'OK'));
    await waitFor('200 on the same connection', () => conn.received.find((m) => m.startsWith('SIP/2.0 200')));
    assert.equal(server.connections.length, 1);
  });

  test('response after its connection closed: a new connection to received at the sent-by port (RFC 3261 18.2.2)', async () => {
    const server = await peer();
    const sentBy = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const inbound = net.connect(h.transport.localAddress().port, '127.0.0.1');
    await new Promise<void>((resolve) => inbound.once('connect', resolve));
    inbound.write(sipJsRequest({ method: 'OPTIONS', transport: 'tcp', viaHost: `127.0.0.1:${sentBy.port}`, branch: 'z9hG4bKgone' }));
    const req = await waitFor('OPTIONS', () => h.delivered[0]);
    inbound.destroy();
    await delay(50);
    await h.transport.send(responseTo(req, 200, 'OK'));
    await waitFor('200 at received:sent-by-port', () => sentBy.connections[0]?.received.find((m) => m.startsWith('SIP/2.0 200')));
  });

  test('in-dialog request without Route to another host opens a new connection there', async () => {
    const server = await peer();
    const phone = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    await h.transport.send(sipJsRequest({ method: 'BYE', transport: 'tcp', toTag: 'remote1', ruri: `sip:bob@127.0.0.1:${phone.port};transport=tcp`, branch: 'z9hG4bKbye' }));
    const bye = await waitFor('BYE at the phone', () => phone.connections[0]?.received[0]);
    assert.match(bye, /^BYE /);
    assert.equal(server.connections[0]!.received.length, 0, 'the server did not get the BYE');
    // A request with a Route (record-routed dialog) goes to the server.
    await h.transport.send(sipJsRequest({ method: 'BYE', transport: 'tcp', toTag: 'remote1', route: `sip:127.0.0.1:${server.port};lr`, ruri: `sip:bob@127.0.0.1:${phone.port};transport=tcp`, branch: 'z9hG4bKbye2' }));
    await waitFor('routed BYE at the server', () => server.connections[0]!.received[0]);
  });

  test('loss of the server connection -> Disconnected with an error, no automatic reconnect', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const conn = await waitFor('connection', () => server.connections[0]);
    conn.socket.destroy();
    await waitFor('Disconnected', () => h.transport.state === TransportState.Disconnected);
    assert.equal(h.disconnects.length, 1);
    assert.match(h.disconnects[0]!.message, /TCP connection to SIP server 127\.0\.0\.1:\d+ closed/);
    await delay(200);
    assert.equal(server.connections.length, 1, 'no reconnect attempt');
    await assert.rejects(h.transport.send(sipJsRequest()), /transport is Disconnected/);
  });

  test('failover: connect tries targets in order', async () => {
    const deadPort = await freeClosedPort();
    const live = await peer();
    const locator: ServerLocator = {
      locate: async () => [
        { host: '127.0.0.1', port: deadPort, protocol: 'tcp', name: 'dead' },
        { host: '127.0.0.1', port: live.port, protocol: 'tcp', name: 'live' },
      ],
    };
    const h = await connected({ server: 'sip:pbx.test', locator });
    await h.transport.send(sipJsRequest({ transport: 'tcp' }));
    await waitFor('REGISTER at the live target', () => live.connections[0]?.received[0]);
  });

  test('connect() rejects naming every failed target when none answers', async () => {
    const p1 = await freeClosedPort();
    const p2 = await freeClosedPort();
    const locator: ServerLocator = {
      locate: async () => [
        { host: '127.0.0.1', port: p1, protocol: 'tcp', name: 'a' },
        { host: '127.0.0.1', port: p2, protocol: 'tcp', name: 'b' },
      ],
    };
    const h = await connected({ server: 'sip:pbx.test', locator }, false);
    await assert.rejects(h.transport.connect(), new RegExp(`All 2 targets failed: TCP connect to 127\\.0\\.0\\.1:${p1} failed: .*ECONNREFUSED.*127\\.0\\.0\\.1:${p2}`));
    assert.equal(h.transport.state, TransportState.Disconnected);
  });

  test('disconnect() while connecting: connect() rejects, nothing stays open (listener port is free again)', async () => {
    const server = await peer();
    const localPort = await freeClosedPort();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const locator: ServerLocator = {
      locate: async () => {
        await gate;
        return [{ host: '127.0.0.1', port: server.port, protocol: 'tcp', name: 'pbx' }];
      },
    };
    const h = await connected({ server: 'sip:pbx.test', locator, localPort }, false);
    const connecting = h.transport.connect();
    const disconnecting = h.transport.disconnect();
    assert.equal(h.transport.state, TransportState.Disconnecting);
    release();
    await assert.rejects(connecting, /Connect aborted by disconnect\(\)/);
    await disconnecting;
    assert.equal(h.transport.state, TransportState.Disconnected);
    await delay(100);
    assert.equal(server.connections.length, 0, 'no connection to the server was left open');
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(localPort, '127.0.0.1', resolve));
    await new Promise((r) => probe.close(r));
  });

  test('connect() while disconnecting: the pending disconnect() rejects, the new connect() wins', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const disconnecting = h.transport.disconnect();
    const connecting = h.transport.connect();
    await assert.rejects(disconnecting, /Disconnect aborted by connect\(\)/);
    await connecting;
    assert.equal(h.transport.isConnected(), true);
    await h.transport.send(sipJsRequest({ transport: 'tcp' }));
    await waitFor('REGISTER on the new connection', () => server.connections.at(-1)?.received[0]);
  });

  test('serverless: the request goes to its Request-URI; inbound connections are accepted', async () => {
    const phone = await peer();
    const h = await connected({});
    await h.transport.send(sipJsRequest({ method: 'OPTIONS', transport: 'tcp', ruri: `sip:bob@127.0.0.1:${phone.port}` }));
    await waitFor('OPTIONS at the phone', () => phone.connections[0]?.received[0]);
    const inbound = net.connect(h.transport.localAddress().port, '127.0.0.1');
    cleanups.push(async () => inbound.destroy());
    let answer = '';
    inbound.on('data', (d) => (answer += d.toString()));
    inbound.write(sipJsRequest({ method: 'OPTIONS', transport: 'tcp', viaHost: '127.0.0.1:9', branch: 'z9hG4bKin' }));
    const req = await waitFor('inbound OPTIONS', () => h.delivered[0]);
    await h.transport.send(responseTo(req, 200, 'OK'));
    await waitFor('answer on the inbound connection', () => answer.startsWith('SIP/2.0 200 OK'));
  });
});
