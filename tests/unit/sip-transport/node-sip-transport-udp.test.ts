import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { TransportState } from 'sip.js';
import { NodeSipTransport, type SipTransportConfig } from '../../../src-main/core/sip/transport/node-sip-transport';
import type { ServerLocator, ServerTarget } from '../../../src-main/core/sip/dns/server-locator';
import { DnsServerLocator } from '../../../src-main/core/sip/dns/server-locator';
import { startDnsResponder } from '../dns/dns-test-responder';
import { PLACEHOLDER, delay, headerOf, responseTo, sipJsRequest, testLogger, udpPeer, waitFor, type UdpPeer } from './transport-test-kit';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function peer(): Promise<UdpPeer> {
  const p = await udpPeer();
  cleanups.push(() => p.close());
  return p;
}

interface Harness {
  transport: NodeSipTransport;
  delivered: string[];
  invalid: Array<{ remote: string; reason: string; answered?: number }>;
  publicAddresses: Array<{ host: string; port: number }>;
  traces: Array<{ direction: string; remote: string; text: string }>;
}

async function connected(config: Partial<SipTransportConfig>, connect = true, logLines: string[] = []): Promise<Harness> {
  const h: Harness = { transport: undefined!, delivered: [], invalid: [], publicAddresses: [], traces: [] };
  h.transport = new NodeSipTransport(testLogger(logLines), {
    protocol: 'udp',
    viaPlaceholderHost: PLACEHOLDER,
    keepAliveSeconds: 0,
    timers: { t1Ms: 40, t2Ms: 320 },
    onInvalidMessage: (i) => h.invalid.push(i),
    onPublicAddressChanged: (a) => h.publicAddresses.push(a),
    trace: (e) => h.traces.push(e),
    ...config,
  });
  h.transport.onMessage = (m) => h.delivered.push(m);
  cleanups.push(() => h.transport.dispose());
  if (connect) await h.transport.connect();
  return h;
}

describe('NodeSipTransport over UDP', () => {
  test('state machine: Disconnected -> Connecting -> Connected -> Disconnecting -> Disconnected', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` }, false);
    const states: string[] = [];
    h.transport.stateChange.addListener((s) => states.push(s));
    assert.equal(h.transport.state, TransportState.Disconnected);
    await assert.rejects(h.transport.send(sipJsRequest()), /transport is Disconnected/);
    const connecting = h.transport.connect();
    assert.equal(h.transport.state, TransportState.Connecting);
    await connecting;
    assert.equal(h.transport.isConnected(), true);
    let disconnectArg: unknown = 'not called';
    h.transport.onDisconnect = (e) => (disconnectArg = e);
    await h.transport.disconnect();
    assert.deepEqual(states, ['Connecting', 'Connected', 'Disconnecting', 'Disconnected']);
    assert.equal(disconnectArg, undefined, 'user-requested disconnect reports no error');
  });

  test('outgoing request: placeholder replaced by the real ip:port in Via and Contact; default bind still writes 127.0.0.1', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const local = h.transport.localAddress();
    assert.equal(local.host, '127.0.0.1', 'interface used to reach a loopback server, never 0.0.0.0');
    await h.transport.send(sipJsRequest());
    const got = await waitFor('REGISTER at server', () => server.received[0]);
    assert.equal(headerOf(got.text, 'Via'), `SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bKtest1;rport`);
    assert.equal(headerOf(got.text, 'Contact'), `<sip:abcde@127.0.0.1:${local.port};transport=udp>;expires=600`);
    assert.equal(got.from.port, local.port, 'sent from the advertised port');
    assert.ok(!got.text.includes(PLACEHOLDER));
  });

  test('incoming response: received/rport learned (NAT), top Via restored to the bare placeholder for sip.js', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const local = h.transport.localAddress();
    await h.transport.send(sipJsRequest());
    const req = await waitFor('REGISTER', () => server.received[0]);
    const natVia = `Via: SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bKtest1;rport=40000;received=198.51.100.7`;
    await server.send(responseTo(req.text, 200, 'OK', natVia), local.port);
    const delivered = await waitFor('response to sip.js', () => h.delivered[0]);
    assert.equal(headerOf(delivered, 'Via'), `SIP/2.0/UDP ${PLACEHOLDER};branch=z9hG4bKtest1;rport=40000;received=198.51.100.7`);
    assert.deepEqual(h.publicAddresses, [{ host: '198.51.100.7', port: 40000 }]);
    assert.deepEqual(h.transport.contactAddress(), { host: '198.51.100.7', port: 40000 });
    // From now on Contact carries the public address; Via keeps the local one.
    await h.transport.send(sipJsRequest({ branch: 'z9hG4bKtest2', cseq: 2 }));
    const second = await waitFor('2nd REGISTER', () => server.received[1]);
    assert.match(headerOf(second.text, 'Contact')!, /^<sip:abcde@198\.51\.100\.7:40000;transport=udp>/);
    assert.match(headerOf(second.text, 'Via')!, new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${local.port};`));
  });

  test('a 180 to our INVITE without a Contact (Linphone) reaches sip.js with the INVITE\'s Request-URI as Contact; others stay as they are', async () => {
    const server = await peer();
    const lines: string[] = [];
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` }, true, lines);
    const local = h.transport.localAddress();
    await h.transport.send(sipJsRequest({ method: 'INVITE', ruri: 'sip:erin@127.0.0.1', branch: 'z9hG4bKinv1' }));
    const invite = await waitFor('INVITE', () => server.received[0]);
    const withContact = responseTo(invite.text, 183, 'Session Progress').replace('Content-Length: 0', 'Contact: <sip:erin@192.0.2.9:5062>\r\nContent-Length: 0');
    for (const response of [responseTo(invite.text, 100, 'Trying'), responseTo(invite.text, 180, 'Ringing'), withContact, responseTo(invite.text, 200, 'OK')]) {
      await server.send(response, local.port);
    }
    await waitFor('4 responses to sip.js', () => h.delivered.length === 4);
    assert.deepEqual(h.delivered.map((m) => [m.split(' ')[1], headerOf(m, 'Contact')]), [
      ['100', undefined], // no To tag: no dialog, nothing to target
      ['180', '<sip:erin@127.0.0.1>'],
      ['183', '<sip:erin@192.0.2.9:5062>'],
      ['200', undefined], // a 2xx without Contact stays malformed: its dialog would have no target at all
    ]);
    assert.ok(lines.some((l) => /180 from 127\.0\.0\.1:\d+ has no Contact/.test(l)), lines.join('\n'));
    // Not for other methods' provisional responses, nor for an INVITE this transport never sent.
    await h.transport.send(sipJsRequest({ method: 'OPTIONS', branch: 'z9hG4bKopt1', cseq: 2 }));
    const options = await waitFor('OPTIONS', () => server.received.find((r) => r.text.startsWith('OPTIONS')));
    await server.send(responseTo(options.text, 180, 'Ringing'), local.port);
    await server.send(responseTo(invite.text, 180, 'Ringing').replace('z9hG4bKinv1', 'z9hG4bKother'), local.port);
    await waitFor('2 more responses', () => h.delivered.length === 6);
    assert.deepEqual(h.delivered.slice(4).map((m) => headerOf(m, 'Contact')), [undefined, undefined]);
  });

  test('a response without NAT (received absent, rport = our port) changes nothing', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const local = h.transport.localAddress();
    await h.transport.send(sipJsRequest());
    const req = await waitFor('REGISTER', () => server.received[0]);
    await server.send(responseTo(req.text, 200, 'OK', `Via: SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bKtest1;rport=${local.port}`), local.port);
    await waitFor('response', () => h.delivered[0]);
    assert.deepEqual(h.publicAddresses, []);
    assert.deepEqual(h.transport.contactAddress(), local);
  });

  test('incoming request: received added and empty rport filled (RFC 3261 18.2.1, RFC 3581)', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const invite = sipJsRequest({ method: 'INVITE', viaHost: '10.9.9.9:5062', branch: 'z9hG4bKin1', ruri: 'sip:abcde@127.0.0.1' });
    await server.send(invite, h.transport.localAddress().port);
    const delivered = await waitFor('INVITE to sip.js', () => h.delivered[0]);
    assert.equal(headerOf(delivered, 'Via'), `SIP/2.0/UDP 10.9.9.9:5062;branch=z9hG4bKin1;rport=${server.port};received=127.0.0.1`);
  });

  test('responses go to received:rport when rport is present, else to the sent-by port', async () => {
    const server = await peer();
    const other = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    // sent-by says `other`, but the request came from `server` with rport -> answer to server's port.
    await server.send(sipJsRequest({ method: 'OPTIONS', viaHost: `127.0.0.1:${other.port}`, branch: 'z9hG4bKo1' }), h.transport.localAddress().port);
    const withRport = await waitFor('OPTIONS', () => h.delivered[0]);
    await h.transport.send(responseTo(withRport, 200, 'OK'));
    await waitFor('200 at rport (source port)', () => server.received.find((r) => r.text.startsWith('SIP/2.0 200')));
    // Without rport: RFC 3261 -> the sent-by port.
    const noRport = sipJsRequest({ method: 'OPTIONS', viaHost: `127.0.0.1:${other.port}`, branch: 'z9hG4bKo2' }).replace(';rport', '');
    await server.send(noRport, h.transport.localAddress().port);
    const delivered = await waitFor('OPTIONS 2', () => h.delivered[1]);
    await h.transport.send(responseTo(delivered, 200, 'OK'));
    await waitFor('200 at the sent-by port', () => other.received.find((r) => r.text.startsWith('SIP/2.0 200')));
  });

  test('Timer A: an unanswered INVITE is retransmitted until a provisional arrives', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    await h.transport.send(sipJsRequest({ method: 'INVITE', branch: 'z9hG4bKinv' }));
    await waitFor('3 copies of the INVITE', () => server.received.length >= 3);
    assert.ok(server.received.every((r) => r.text === server.received[0]!.text), 'retransmissions are identical');
    await server.send(responseTo(server.received[0]!.text, 100, 'Trying'), h.transport.localAddress().port);
    await waitFor('100 delivered', () => h.delivered[0]);
    const count = server.received.length;
    await delay(400); // > several T1 doublings at T1 = 40 ms
    assert.ok(server.received.length <= count + 1, `retransmission stopped (had ${count}, now ${server.received.length})`);
  });

  test('Timer E: a non-INVITE keeps being retransmitted after a provisional, stops on the final response', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    await h.transport.send(sipJsRequest({ method: 'REGISTER', branch: 'z9hG4bKreg' }));
    await waitFor('first copy', () => server.received[0]);
    await server.send(responseTo(server.received[0]!.text, 100, 'Trying'), h.transport.localAddress().port);
    const afterProvisional = server.received.length;
    await waitFor('retransmission after 100', () => server.received.length > afterProvisional + 1);
    await server.send(responseTo(server.received[0]!.text, 200, 'OK'), h.transport.localAddress().port);
    await waitFor('200 delivered', () => h.delivered.length === 2);
    const count = server.received.length;
    await delay(800); // > 2 * T2 at T2 = 320 ms
    assert.ok(server.received.length <= count + 1, 'retransmission stopped by the final response');
  });

  test('Timer G: our 486 to an INVITE is retransmitted until the ACK (same branch) arrives', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const invite = sipJsRequest({ method: 'INVITE', viaHost: `127.0.0.1:${server.port}`, branch: 'z9hG4bKg1', ruri: 'sip:abcde@127.0.0.1' });
    await server.send(invite, h.transport.localAddress().port);
    const delivered = await waitFor('INVITE', () => h.delivered[0]);
    await h.transport.send(responseTo(delivered, 486, 'Busy Here'));
    await waitFor('486 retransmitted', () => server.received.filter((r) => r.text.startsWith('SIP/2.0 486')).length >= 3);
    const ack = invite.replace(/^INVITE/, 'ACK').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK');
    await server.send(ack, h.transport.localAddress().port);
    await waitFor('ACK delivered', () => h.delivered[1]);
    const count = server.received.length;
    await delay(800);
    assert.ok(server.received.length <= count + 1, 'Timer G stopped by the ACK');
    // ACK itself is never retransmitted by the transport.
    await h.transport.send(sipJsRequest({ method: 'ACK', branch: 'z9hG4bKack' }));
    await delay(300);
    assert.equal(server.received.filter((r) => r.text.startsWith('ACK')).length, 1);
  });

  test('disconnect() stops all retransmission timers', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    await h.transport.send(sipJsRequest({ method: 'INVITE', branch: 'z9hG4bKd' }));
    await waitFor('first copy', () => server.received[0]);
    await h.transport.disconnect();
    const count = server.received.length;
    await delay(400);
    assert.equal(server.received.length, count);
  });

  test('requests from sources other than the server are dropped unless acceptDirect; responses are not filtered', async () => {
    const scanner = await peer(); // sends from 127.0.0.1
    // The configured server is 127.0.0.5 (nothing listens there; UDP needs no connection).
    const strict = await connected({ server: 'sip:127.0.0.5:5060', localAddress: '127.0.0.1' });
    await scanner.send(sipJsRequest({ method: 'INVITE', branch: 'z9hG4bKscan', viaHost: '127.0.0.1:5060' }), strict.transport.localAddress().port);
    await waitFor('drop reported', () => strict.invalid[0]);
    assert.match(strict.invalid[0]!.reason, /request from 127\.0\.0\.1, which is not the configured SIP server/);
    assert.deepEqual(strict.delivered, []);
    await scanner.send(responseTo(sipJsRequest({ viaHost: PLACEHOLDER }), 200, 'OK'), strict.transport.localAddress().port);
    await waitFor('response delivered despite the source', () => strict.delivered[0]);

    const open = await connected({ server: 'sip:127.0.0.5:5060', localAddress: '127.0.0.1', acceptDirect: true });
    await scanner.send(sipJsRequest({ method: 'INVITE', branch: 'z9hG4bKscan2', viaHost: '127.0.0.1:5060' }), open.transport.localAddress().port);
    await waitFor('delivered with acceptDirect', () => open.delivered[0]);
    assert.deepEqual(open.invalid, []);
  });

  test('validator "reject": stateless error answered to the source (rport), nothing reaches sip.js', async () => {
    const server = await peer();
    const h = await connected({
      server: `sip:127.0.0.1:${server.port}`,
      validator: {
        validateSipMessage: (raw) => (raw.includes('X-Bad: 1') ? { kind: 'reject', status: 400, reason: 'Bad X header' } : { kind: 'accept' }),
        buildStatelessErrorResponse: (raw, status, reason) => responseTo(raw.toString('utf8'), status, reason),
      },
    });
    const bad = sipJsRequest({ method: 'OPTIONS', viaHost: '127.0.0.1:9', branch: 'z9hG4bKbad', extraHeaders: ['X-Bad: 1'] });
    await server.send(bad, h.transport.localAddress().port);
    const answer = await waitFor('400 back at the source port', () => server.received.find((r) => r.text.startsWith('SIP/2.0 400 Bad X header')));
    assert.ok(answer);
    assert.deepEqual(h.invalid, [{ remote: `127.0.0.1:${server.port}`, reason: 'Bad X header', answered: 400 }]);
    assert.deepEqual(h.delivered, []);
  });

  test('default validator (wire/message-validator) is in front of sip.js: a SIP/7.0 request gets 505 at its source', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    const bad = sipJsRequest({ method: 'OPTIONS', viaHost: '127.0.0.1:9', branch: 'z9hG4bKv7', ruri: 'sip:abcde@127.0.0.1' }).replace(' SIP/2.0\r\n', ' SIP/7.0\r\n');
    await server.send(bad, h.transport.localAddress().port);
    await waitFor('505 at the source port', () => server.received.find((r) => r.text.startsWith('SIP/2.0 505')));
    assert.equal(h.invalid[0]?.answered, 505);
    assert.deepEqual(h.delivered, []);
  });

  test('validator "drop": reported, not answered, not delivered; a datagram is decoded as UTF-8', async () => {
    const server = await peer();
    const h = await connected({
      server: `sip:127.0.0.1:${server.port}`,
      validator: {
        validateSipMessage: (raw) => (raw.includes('X-Drop') ? { kind: 'drop', reason: 'garbage' } : { kind: 'accept' }),
        buildStatelessErrorResponse: () => undefined,
      },
    });
    await server.send(sipJsRequest({ method: 'OPTIONS', branch: 'z9hG4bKdrop', viaHost: '127.0.0.1:9', extraHeaders: ['X-Drop: 1'] }), h.transport.localAddress().port);
    await waitFor('drop reported', () => h.invalid[0]);
    assert.equal(h.invalid[0]!.reason, 'garbage');
    await server.send(sipJsRequest({ method: 'MESSAGE', branch: 'z9hG4bKutf', viaHost: '127.0.0.1:9', body: 'Grüße 🎉' }), h.transport.localAddress().port);
    const msg = await waitFor('MESSAGE', () => h.delivered[0]);
    assert.ok(msg.endsWith('Grüße 🎉'));
    assert.equal(server.received.length, 0);
  });

  test('trace redacts Authorization and Proxy-Authorization', async () => {
    const server = await peer();
    const h = await connected({ server: `sip:127.0.0.1:${server.port}` });
    await h.transport.send(sipJsRequest({ extraHeaders: ['Authorization: Digest username="alice", response="deadbeef"', 'Proxy-Authorization: Digest username="alice", response="cafe"'] }));
    const got = await waitFor('REGISTER', () => server.received[0]);
    assert.match(got.text, /response="deadbeef"/, 'the wire copy is untouched');
    const out = h.traces.find((t) => t.direction === 'out')!;
    assert.equal(out.remote, `127.0.0.1:${server.port}`);
    assert.doesNotMatch(out.text, /deadbeef|cafe/);
    assert.match(out.text, /Authorization: <redacted>/);
  });

  test('keep-alive: CRLFCRLF datagrams to the server', async () => {
    const server = await peer();
    await connected({ server: `sip:127.0.0.1:${server.port}`, keepAliveSeconds: 0.05 });
    await waitFor('two keep-alives', () => server.received.filter((r) => r.text === '\r\n\r\n').length >= 2);
  });

  test('failover: no response from the first target within the failover timeout -> resent to the next', async () => {
    const dead = await peer(); // receives but never answers
    const live = await peer();
    const targets: ServerTarget[] = [
      { host: '127.0.0.1', port: dead.port, protocol: 'udp', name: 'dead' },
      { host: '127.0.0.1', port: live.port, protocol: 'udp', name: 'live' },
    ];
    const locator: ServerLocator = { locate: async () => targets };
    const h = await connected({ server: 'sip:pbx.test', locator, failoverTimeoutMs: 150 });
    assert.deepEqual(h.transport.serverAddresses(), targets);
    await h.transport.send(sipJsRequest({ branch: 'z9hG4bKfo' }));
    const got = await waitFor('request at the second target', () => live.received[0]);
    assert.match(got.text, /^REGISTER/);
    assert.ok(dead.received.length >= 1);
    await live.send(responseTo(got.text, 200, 'OK'), h.transport.localAddress().port);
    await waitFor('200 delivered', () => h.delivered[0]);
    // The next request goes straight to the target that answered.
    const deadCount = dead.received.length;
    await h.transport.send(sipJsRequest({ branch: 'z9hG4bKfo2', cseq: 2 }));
    await waitFor('2nd request at live', () => live.received.find((r) => r.text.includes('z9hG4bKfo2')));
    assert.equal(dead.received.filter((r) => r.text.includes('z9hG4bKfo2')).length, 0);
    assert.ok(dead.received.length >= deadCount);
  });

  test('failover order comes from DNS SRV (real resolver against a loopback DNS responder)', async () => {
    const dead = await peer();
    const live = await peer();
    const dns = await startDnsResponder([
      { type: 'SRV', name: '_sip._udp.pbx.test', priority: 1, weight: 0, port: dead.port, target: 'a.pbx.test' },
      { type: 'SRV', name: '_sip._udp.pbx.test', priority: 2, weight: 0, port: live.port, target: 'a.pbx.test' },
      { type: 'A', name: 'a.pbx.test', address: '127.0.0.1' },
    ]);
    cleanups.push(() => dns.close());
    const h = await connected({ server: 'sip:pbx.test', locator: new DnsServerLocator({ servers: [dns.server] }), failoverTimeoutMs: 150 });
    assert.deepEqual(h.transport.serverAddresses().map((t) => t.port), [dead.port, live.port]);
    await h.transport.send(sipJsRequest({ branch: 'z9hG4bKdns' }));
    await waitFor('request at the SRV backup', () => live.received[0]);
    assert.ok(dead.received.length >= 1, 'the primary was tried first');
  });

  test('connect() fails with the DNS reason when the server cannot be resolved', async () => {
    const locator: ServerLocator = { locate: async () => Promise.reject(new Error('No SIP server found for nowhere.test over udp')) };
    const h = await connected({ server: 'sip:nowhere.test', locator }, false);
    await assert.rejects(h.transport.connect(), /No SIP server found for nowhere\.test/);
    assert.equal(h.transport.state, TransportState.Disconnected);
  });

  test('bad configuration is refused with a specific error', () => {
    assert.throws(() => new NodeSipTransport(testLogger(), { protocol: 'sctp' as 'udp', viaPlaceholderHost: PLACEHOLDER }), /protocol must be udp, tcp or tls/);
    assert.throws(() => new NodeSipTransport(testLogger(), { protocol: 'udp', viaPlaceholderHost: 'a b' }), /viaPlaceholderHost/);
    assert.throws(() => new NodeSipTransport(testLogger(), { protocol: 'udp', viaPlaceholderHost: PLACEHOLDER, server: 'pbx.test' }), /Not a SIP URI/);
  });
});
