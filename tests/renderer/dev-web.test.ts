// dev:web's HTTP side and command line: what it serves, what it refuses, and --account pre-adding.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { parseDevWebArgs, startDevWeb, type DevWeb } from '../../src-main/web/dev-web';
import { createScriptedCore, type ScriptedCore } from './scripted-core';

interface Reply {
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(base: string, path: string, method = 'GET'): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // `path` is sent verbatim, so encoded traversal attempts reach the server as written.
    request({ host: url.hostname, port: url.port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

function connects(url: string, origin: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { Origin: origin } });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    ws.once('error', (error) => resolve(`error ${error.message}`));
  });
}

describe('dev:web server', () => {
  let core: ScriptedCore;
  let devWeb: DevWeb;

  before(async () => {
    core = createScriptedCore();
    devWeb = await startDevWeb({
      core,
      account: { aor: 'sip:201@pbx.test', password: 'right', transport: 'tcp' },
      log: () => undefined,
    });
  });
  after(() => devWeb.stop());

  test('listens on 127.0.0.1 and pre-adds the --account through the contract', () => {
    assert.match(devWeb.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(devWeb.accountId, 'acc-1');
    assert.deepEqual(core.calls[0], {
      method: 'account.add',
      params: {
        aor: 'sip:201@pbx.test',
        password: 'right',
        transport: 'tcp',
        register: true,
        acceptDirectCalls: false,
        localPort: 0,
        registerExpires: 600,
      },
    });
  });

  test('serves the page with a strict CSP that allows only loopback WebSockets beyond self', async () => {
    const page = await get(devWeb.url, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:\*;/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // The meta tag is widened the same way (both policies apply; the stricter would win).
    assert.match(page.body, /content="[^"]*connect-src 'self' ws:\/\/127\.0\.0\.1:\*;/);
    // No inline script: the only script is an external module.
    assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /<script type="module" crossorigin src="\.\/(assets\/[^"]+\.js)"><\/script>/.exec(page.body);
    assert.ok(script, 'page loads its bundle as an external module');
    const bundle = await get(devWeb.url, `/${script[1]}`);
    assert.equal(bundle.status, 200);
    assert.equal(bundle.headers['content-type'], 'text/javascript; charset=utf-8');
    // Scripts carry a policy of their own: the one a worker runs under (the audio frame relay:
    // a worker's policy is its script's, the page's meta tag does not reach it).
    assert.equal(bundle.headers['content-security-policy'], "default-src 'none'; script-src 'self'; connect-src 'self'");
  });

  test('serves nothing outside dist/renderer', async () => {
    for (const path of ['/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/.vite/manifest.json', '/nope.js']) {
      const reply = await get(devWeb.url, path);
      assert.equal(reply.status, 404, path);
      assert.doesNotMatch(reply.body, /"name": "switchboard"/, path);
    }
    assert.equal((await get(devWeb.url, '/', 'POST')).status, 405);
  });

  test('the /rpc carrier accepts this page and refuses other origins', async () => {
    const rpc = devWeb.url.replace('http:', 'ws:') + 'rpc';
    const origin = devWeb.url.replace(/\/$/, '');
    assert.equal(await connects(rpc, origin), 'open');
    assert.equal(await connects(rpc, 'http://127.0.0.1:1'), 'HTTP 403');
    assert.equal(await connects(rpc, 'https://evil.example'), 'HTTP 403');
  });
});

describe('dev:web start-up', () => {
  test('a bad --account fails start-up with the contract\'s reason', async () => {
    await assert.rejects(
      startDevWeb({ core: createScriptedCore(), account: { aor: 'alice' }, log: () => undefined }),
      /dev:web could not add the account alice: Invalid params for account\.add: aor: must be a SIP URI/,
    );
  });
});

describe('dev:web command line', () => {
  test('parses port and account options', () => {
    assert.deepEqual(parseDevWebArgs(['--port', '8080', '--account', 'sip:a@b', '--password=pw', '--transport', 'tls', '--proxy', 'sip:p']), {
      port: 8080,
      account: { aor: 'sip:a@b', password: 'pw', transport: 'tls', registrar: undefined, outboundProxy: 'sip:p' },
    });
    assert.deepEqual(parseDevWebArgs([]), {});
  });

  test('says what is wrong with bad input', () => {
    assert.throws(() => parseDevWebArgs(['--port', 'x']), /--port must be 0…65535, got "x"/);
    assert.throws(() => parseDevWebArgs(['--transport', 'udp']), /--transport need --account/);
    assert.throws(() => parseDevWebArgs(['--account', 'sip:a@b', '--transport', 'sctp']), /--transport must be udp, tcp or tls/);
    assert.throws(() => parseDevWebArgs(['--acount', 'sip:a@b']), /Unknown option "--acount"/);
    assert.throws(() => parseDevWebArgs(['--account']), /--account needs a value/);
  });
});
