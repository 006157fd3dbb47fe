import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DnsServerLocator, orderSrvRecords, parseSipUri } from '../../../src-main/core/sip/dns/server-locator';
import { startDnsResponder, type DnsTestResponder } from './dns-test-responder';

describe('DnsServerLocator (RFC 3263) against a real DNS responder on loopback', () => {
  let dns: DnsTestResponder;
  before(async () => {
    dns = await startDnsResponder([
      // example.test: NAPTR prefers TCP (order 10) over UDP (order 20); TLS only via SRV.
      { type: 'NAPTR', name: 'example.test', order: 20, preference: 10, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' },
      { type: 'NAPTR', name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.example.test' },
      { type: 'SRV', name: '_sip._udp.example.test', priority: 20, weight: 0, port: 5070, target: 'backup.example.test' },
      { type: 'SRV', name: '_sip._udp.example.test', priority: 10, weight: 0, port: 5080, target: 'primary.example.test' },
      { type: 'SRV', name: '_sip._tcp.example.test', priority: 10, weight: 0, port: 5090, target: 'primary.example.test' },
      { type: 'SRV', name: '_sips._tcp.example.test', priority: 10, weight: 0, port: 5091, target: 'primary.example.test' },
      { type: 'A', name: 'primary.example.test', address: '127.0.0.11' },
      { type: 'AAAA', name: 'primary.example.test', address: '::1' },
      { type: 'A', name: 'backup.example.test', address: '127.0.0.12' },
      { type: 'A', name: 'example.test', address: '127.0.0.10' },
      // plain.test: only an A record -> default ports.
      { type: 'A', name: 'plain.test', address: '127.0.0.20' },
      // srvonly.test: SRV without NAPTR.
      { type: 'SRV', name: '_sip._udp.srvonly.test', priority: 1, weight: 0, port: 6000, target: 'plain.test' },
    ]);
  });
  after(() => dns.close());

  test('NAPTR -> SRV (priority order) -> A/AAAA for UDP', async () => {
    const locator = new DnsServerLocator({ servers: [dns.server] });
    const targets = await locator.locate('sip:example.test', 'udp');
    assert.deepEqual(
      targets.map((t) => `${t.host}:${t.port}/${t.name}`),
      ['127.0.0.11:5080/primary.example.test', '::1:5080/primary.example.test', '127.0.0.12:5070/backup.example.test'],
    );
    assert.ok(targets.every((t) => t.protocol === 'udp'));
  });

  test('NAPTR service for the protocol is used (TCP -> SIP+D2T)', async () => {
    const targets = await new DnsServerLocator({ servers: [dns.server] }).locate('sip:example.test', 'tcp');
    assert.equal(targets[0]!.port, 5090);
  });

  test('no NAPTR entry for TLS -> _sips._tcp SRV', async () => {
    const targets = await new DnsServerLocator({ servers: [dns.server] }).locate('sips:example.test', 'tls');
    assert.equal(`${targets[0]!.host}:${targets[0]!.port}`, '127.0.0.11:5091');
  });

  test('SRV without NAPTR', async () => {
    const targets = await new DnsServerLocator({ servers: [dns.server] }).locate('sip:srvonly.test', 'udp');
    assert.deepEqual(targets.map((t) => `${t.host}:${t.port}`), ['127.0.0.20:6000']);
  });

  test('A fallback uses the default port: 5060, 5061 for TLS', async () => {
    const locator = new DnsServerLocator({ servers: [dns.server] });
    assert.deepEqual((await locator.locate('sip:plain.test', 'udp')).map((t) => `${t.host}:${t.port}`), ['127.0.0.20:5060']);
    assert.deepEqual((await locator.locate('sip:plain.test', 'tls')).map((t) => `${t.host}:${t.port}`), ['127.0.0.20:5061']);
  });

  test('explicit port: A/AAAA only, no NAPTR or SRV lookup', async () => {
    const locator = new DnsServerLocator({ servers: [dns.server] });
    dns.queries.length = 0;
    const targets = await locator.locate('sip:alice@example.test:7000;transport=udp', 'udp');
    assert.deepEqual(targets.map((t) => `${t.host}:${t.port}`), ['127.0.0.10:7000']);
    assert.ok(dns.queries.every((q) => q.startsWith('A ') || q.startsWith('AAAA ')), dns.queries.join(', '));
  });

  test('IP literal needs no DNS', async () => {
    const locator = new DnsServerLocator({ servers: [dns.server] });
    dns.queries.length = 0;
    assert.deepEqual(await locator.locate('sip:192.0.2.7', 'tcp'), [{ host: '192.0.2.7', port: 5060, protocol: 'tcp', name: '192.0.2.7' }]);
    assert.deepEqual((await locator.locate('sips:[::1]:5999', 'tls')).map((t) => `${t.host}:${t.port}`), ['::1:5999']);
    assert.deepEqual(dns.queries, []);
  });

  test('an unknown domain is a clear error', async () => {
    const locator = new DnsServerLocator({ servers: [dns.server] });
    await assert.rejects(locator.locate('sip:nowhere.test', 'udp'), /No SIP server found for nowhere\.test over udp/);
  });

  test('a URI that is not SIP is a clear error', async () => {
    await assert.rejects(new DnsServerLocator({ servers: [dns.server] }).locate('http://x', 'udp'), /Not a SIP URI/);
  });
});

describe('SRV ordering (RFC 2782)', () => {
  test('lower priority first; weight decides within a priority', () => {
    const records = [
      { name: 'c', port: 3, priority: 2, weight: 0 },
      { name: 'a', port: 1, priority: 1, weight: 1 },
      { name: 'b', port: 2, priority: 1, weight: 99 },
    ];
    // random 0.5 * (100 + 1) = 50.5 -> running sum passes 50.5 at "b" (1 + 99).
    assert.deepEqual(orderSrvRecords(records, () => 0.5).map((r) => r.name), ['b', 'a', 'c']);
    // random 0 -> the first record whose running sum reaches 0 -> "a"
    assert.deepEqual(orderSrvRecords(records, () => 0).map((r) => r.name), ['a', 'b', 'c']);
  });

  test('parseSipUri reads host, port and transport', () => {
    assert.deepEqual(parseSipUri('<sip:bob@pbx.test:5080;transport=TCP;lr>'), { scheme: 'sip', host: 'pbx.test', port: 5080, transport: 'tcp' });
  });
});
