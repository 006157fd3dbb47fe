// dev:web's /audio endpoint (websocket-audio-broker.ts): who may connect, and how a page socket and
// a call's audio device find each other whichever comes first. A real `ws` client plays the page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import WebSocket from 'ws';
import { decodeFrameMessage, encodeFrameMessage, FRAME_PROTOCOL_VERSION, parseFrameMessage } from '../../src-main/common/audio/frame-protocol';
import { createWebSocketAudioBroker, type WebSocketAudioBroker } from '../../src-main/web/websocket-audio-broker';

function connect(base: string, path: string, origin?: string): Promise<{ ws?: WebSocket; refused?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base}${path}`, origin ? { headers: { Origin: origin } } : {});
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ refused: `${res.statusCode} ${body.trim()}` }));
    });
    ws.once('error', (error) => resolve({ refused: `error ${error.message}` }));
  });
}

function nextMessage(ws: WebSocket): Promise<ArrayBuffer> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer) => resolve(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer)),
  );
}

const HELLO = { type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 48000, frameSamples: 960, deviceSampleRate: 48000 } as const;

describe('dev:web /audio socket', () => {
  let server: Server;
  let audio: WebSocketAudioBroker;
  let base: string;
  let origin: string;

  before(async () => {
    const allowedOrigins: string[] = [];
    audio = createWebSocketAudioBroker({ allowedOrigins });
    server = createServer((_q, r) => r.writeHead(404).end());
    server.on('upgrade', (request, socket, head: Buffer) => {
      if (!audio.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    base = `ws://127.0.0.1:${port}`;
    origin = `http://127.0.0.1:${port}`;
    allowedOrigins.push(origin);
  });

  after(async () => {
    await audio.close();
    server.closeAllConnections();
    server.close();
  });

  test('refuses other origins, foreign hosts, bad call ids and other paths', async () => {
    assert.match((await connect(base, '/audio?call=call-1&rate=48000', 'https://evil.example')).refused ?? '', /^403 Origin "https:\/\/evil\.example" is not allowed/);
    const rebinding = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${base}/audio?call=call-1&rate=48000`, { headers: { Origin: origin, Host: 'evil.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('open', () => resolve('open'));
    });
    assert.equal(rebinding, '403');
    assert.match((await connect(base, '/audio?call=../x&rate=48000', origin)).refused ?? '', /^400 The call parameter must be a call id/);
    assert.match((await connect(base, '/other?call=call-1', origin)).refused ?? '', /404/);
    assert.equal(audio.linkCount, 0, 'nothing refused left a link behind');
  });

  test('media first, then the page: frames flow both ways; the call end closes the socket', async () => {
    const port = audio.broker.open({ callId: 'call-1', sampleRate: 48000 });
    const fromPage: unknown[] = [];
    port.onmessage = (event) => fromPage.push(parseFrameMessage(event.data));
    port.postMessage({ type: 'playout', seq: 0, sampleRate: 48000, samples: new Int16Array(960) }); // no page yet: dropped

    assert.match((await connect(base, '/audio?call=call-1&rate=16000', origin)).refused ?? '', /^409 Call call-1 audio runs at 48000 Hz/);
    const { ws } = await connect(base, '/audio?call=call-1&rate=48000', origin);
    assert.ok(ws);
    ws.send(new Uint8Array(encodeFrameMessage(HELLO)));
    const toPage = nextMessage(ws);
    port.postMessage({ type: 'playout', seq: 1, sampleRate: 48000, samples: new Int16Array([5, -5]) });
    const playout = decodeFrameMessage(await toPage);
    assert.deepEqual({ ...playout, samples: Array.from((playout as { samples: Int16Array }).samples) }, { type: 'playout', seq: 1, sampleRate: 48000, samples: [5, -5] });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(fromPage, [HELLO]);

    const closed = once(ws, 'close');
    audio.broker.close('call-1');
    const [code, reason] = (await closed) as [number, Buffer];
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'Call audio ended');
    assert.equal(audio.linkCount, 0);
  });

  test('the page first (it saw the call connect before media started): the socket waits for the call', async () => {
    const { ws } = await connect(base, '/audio?call=call-2&rate=48000', origin);
    assert.ok(ws);
    const port = audio.broker.open({ callId: 'call-2', sampleRate: 48000 });
    const toPage = nextMessage(ws);
    port.postMessage({ type: 'playout', seq: 0, sampleRate: 48000, samples: new Int16Array([1]) });
    assert.equal(decodeFrameMessage(await toPage).type, 'playout');
    audio.broker.close('call-2');
  });

  test('a reloaded page replaces its older socket for the same call', async () => {
    const port = audio.broker.open({ callId: 'call-3', sampleRate: 48000 });
    const first = (await connect(base, '/audio?call=call-3&rate=48000', origin)).ws!;
    const firstClosed = once(first, 'close');
    const second = (await connect(base, '/audio?call=call-3&rate=48000', origin)).ws!;
    const [code] = (await firstClosed) as [number];
    assert.equal(code, 1000);
    const toPage = nextMessage(second);
    port.postMessage({ type: 'playout', seq: 0, sampleRate: 48000, samples: new Int16Array([2]) });
    assert.equal(decodeFrameMessage(await toPage).type, 'playout');
    audio.broker.close('call-3');
  });
});
