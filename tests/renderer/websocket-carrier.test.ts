// The WebSocket carrier with a real ContractServer and real WebSocket clients (the `ws` package):
// messages flow both ways, and the checks that keep web pages away from the core hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { listenWebSocketCarrier, type ListeningWebSocketCarrier } from '../../src-main/carriers/websocket-carrier';
import { ContractServer } from '../../src-main/common/contract/contract-server';
import type { ContractHandlers } from '../../src-main/common/contract/contract';

const ALLOWED = 'http://127.0.0.1:4999';

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`)));
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

describe('WebSocket carrier', () => {
  let server: ContractServer;
  let carrier: ListeningWebSocketCarrier;
  const log: string[] = [];

  before(async () => {
    const handlers = {
      'app.info': async () => ({ name: 'Switchboard', version: '1.2.3', sipUserAgent: 'Switchboard/1.2.3', notices: [] }),
    } as unknown as ContractHandlers; // only app.info is exercised
    server = new ContractServer(handlers);
    carrier = await listenWebSocketCarrier({ server, allowedOrigins: [ALLOWED], log: (line) => log.push(line) });
  });
  after(() => carrier.close());

  test('listens on loopback only', () => {
    assert.match(carrier.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc$/);
  });

  test('answers a request and delivers events to every connection', async () => {
    const a = await open(carrier.url, { Origin: ALLOWED });
    const b = await open(carrier.url);
    try {
      const answer = nextMessage(a);
      a.send(JSON.stringify({ jsonrpc: '2.0', id: 'x1', method: 'app.info', params: {} }));
      assert.deepEqual(await answer, {
        jsonrpc: '2.0',
        id: 'x1',
        result: { name: 'Switchboard', version: '1.2.3', sipUserAgent: 'Switchboard/1.2.3', notices: [] },
      });
      const [eventA, eventB] = [nextMessage(a), nextMessage(b)];
      server.emit('app.notice', { level: 'info', message: 'hello' });
      const expected = { jsonrpc: '2.0', method: 'app.notice', params: { level: 'info', message: 'hello' } };
      assert.deepEqual(await eventA, expected);
      assert.deepEqual(await eventB, expected);
    } finally {
      a.close();
      b.close();
    }
  });

  test('answers a frame that is not JSON with a parse error', async () => {
    const ws = await open(carrier.url, { Origin: ALLOWED });
    try {
      const answer = nextMessage(ws);
      ws.send('{not json');
      assert.deepEqual(await answer, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: not valid JSON' } });
    } finally {
      ws.close();
    }
  });

  test('refuses a page from another origin (cross-site WebSocket hijacking)', async () => {
    await assert.rejects(open(carrier.url, { Origin: 'https://evil.example' }), /HTTP 403: Origin "https:\/\/evil.example" is not allowed/);
  });

  test('refuses a non-loopback Host header (DNS rebinding)', async () => {
    await assert.rejects(open(carrier.url, { Origin: ALLOWED, Host: 'evil.example:80' }), /HTTP 403: Host "evil.example:80" is not a loopback address/);
  });

  test('answers plain HTTP with 426 and other paths with 403', async () => {
    const port = new URL(carrier.url).port;
    const status = await new Promise<number | undefined>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path: '/rpc' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
    assert.equal(status, 426);
    await assert.rejects(open(carrier.url.replace('/rpc', '/other')), /HTTP 403: No WebSocket endpoint/);
  });

  test('close() tells connected clients the core is going away', async () => {
    const ws = await open(carrier.url, { Origin: ALLOWED });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await carrier.close();
    assert.equal(await closed, 1001);
  });
});
