// The built Electron main process (dist bundle, real core inside) run under Node against a recording
// fake of the Electron API: it serves the renderer from app://switchboard (a privileged scheme, so
// AudioWorklets load), hardens the window, serves the contract over IPC only to our page, hands
// call audio ports to the window, dials sip: links, alerts to an incoming call (a real INVITE) when
// the window is not focused, and holds quit until the core has stopped. Complements
// electron-smoke.test.ts, which needs a real Electron binary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACT_IPC_CHANNEL } from '../../src-main/carriers/ipc-contract-channel';
import { FRAME_PROTOCOL_VERSION, parseFrameMessage } from '../../src-main/common/audio/frame-protocol';
import { createElectronAudioBroker } from '../../src-main/electron/electron-audio-broker.main';
import { freeUdpPort } from '../harness/ports';
import { createFakeElectron, FakeMessagePortMain, preventable, type FakeWebContents } from './fake-electron';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Electron main process wiring (built main.cjs, fake Electron API)', () => {
  const fake = createFakeElectron();
  const work = mkdtempSync(join(tmpdir(), 'switchboard-main-'));
  const outdir = join(work, 'electron');
  const pageUrl = 'app://switchboard/index.html';
  const PAGE_CSP = "default-src 'self'; script-src 'self'; connect-src 'self'";
  const originalLoad = (Module as unknown as { _load: (...args: unknown[]) => unknown })._load;
  const logs: string[] = [];
  const originalStderrWrite = process.stderr.write.bind(process.stderr);
  let contents: FakeWebContents;

  function sendFromPage(message: unknown, frame: { url: string; parent: unknown } | null = { url: pageUrl, parent: null }): void {
    fake.electron.ipcMain.emit(CONTRACT_IPC_CHANNEL, { sender: contents, senderFrame: frame }, message);
  }

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build-electron.mjs', '--outdir', outdir], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `build:electron failed:\n${build.stderr}`);
    fake.app.userDataDir = join(work, 'userData');
    // The renderer the app scheme serves (next to the built main.cjs, as in dist/).
    mkdirSync(join(work, 'renderer'));
    writeFileSync(join(work, 'renderer', 'index.html'), `<!doctype html><meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}"><title>t</title>`);
    writeFileSync(join(work, 'secret.txt'), 'not for the page');
    (Module as unknown as { _load: (...args: unknown[]) => unknown })._load = function (this: unknown, ...args: unknown[]) {
      return args[0] === 'electron' ? fake.electron : originalLoad.apply(this, args);
    };
    // main.cjs logs to stderr; keep it for assertions instead of cluttering the test output.
    process.stderr.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    createRequire(import.meta.url)(join(outdir, 'main.cjs'));
    await until('the main window', () => fake.windows[0]?.loadedUrl);
    contents = fake.windows[0]!.webContents;
  });

  after(async () => {
    (Module as unknown as { _load: unknown })._load = originalLoad;
    process.stderr.write = originalStderrWrite;
    if (!fake.app.quitted) fake.app.quit();
    await until('quit', () => (fake.app.quitted ? true : undefined), 8000).catch((error: unknown) => console.error(error));
    rmSync(work, { recursive: true, force: true });
  });

  test('enables the sandbox for all renderers and opens one secured window on our page', () => {
    assert.equal(fake.app.sandboxEnabled, true);
    assert.equal(fake.windows.length, 1);
    const window = fake.windows[0]!;
    assert.equal(window.loadedUrl, pageUrl);
    assert.equal(window.shown, true);
    const prefs = window.options.webPreferences!;
    assert.equal(prefs.preload, join(outdir, 'preload.cjs'));
    assert.ok(existsSync(prefs.preload as string), 'the preload the window names was built next to main.cjs');
    assert.deepEqual(
      [prefs.contextIsolation, prefs.sandbox, prefs.nodeIntegration, prefs.webSecurity],
      [true, true, false, true],
    );
  });

  test('serves the renderer from app://switchboard, registered as privileged before ready', async () => {
    assert.deepEqual(fake.protocols.privileged, [
      { schemes: [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }], appReady: false },
    ]);
    const handle = fake.protocols.handlers.get('app')!;
    assert.ok(handle, 'app: is handled');
    const page = await handle(new Request(pageUrl));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), `${PAGE_CSP}; frame-ancestors 'none'`);
    assert.match(await page.text(), /<title>t<\/title>/);
    assert.equal((await handle(new Request('app://switchboard/%2e%2e/secret.txt'))).status, 404, 'no traversal out of dist/renderer');
    assert.equal((await handle(new Request('app://other/index.html'))).status, 404, 'only our host');
    assert.equal((await handle(new Request(pageUrl, { method: 'POST', body: 'x' }))).status, 405);
  });

  test('blocks navigation and new windows in every web contents', () => {
    const navigation = preventable();
    contents.emit('will-navigate', navigation, 'https://evil.example/');
    assert.equal(navigation.defaultPrevented, true);
    const webview = preventable();
    contents.emit('will-attach-webview', webview);
    assert.equal(webview.defaultPrevented, true);
    assert.deepEqual(contents.windowOpenHandler!({ url: 'file:///etc/passwd' }), { action: 'deny' });
    assert.deepEqual(contents.windowOpenHandler!({ url: 'https://example.org/help' }), { action: 'deny' });
    assert.deepEqual(fake.opened, ['https://example.org/help']);
  });

  test('grants the microphone to our page and nothing else', () => {
    const ask = (permission: string, requestingUrl: string, mediaTypes?: string[]): boolean => {
      let granted: boolean | undefined;
      fake.permission.request!(contents, permission, (ok) => (granted = ok), { requestingUrl, mediaTypes });
      return granted!;
    };
    assert.equal(ask('media', pageUrl, ['audio']), true);
    assert.equal(ask('media', pageUrl, ['audio', 'video']), false);
    assert.equal(ask('notifications', pageUrl), false);
    assert.equal(ask('media', 'https://evil.example/', ['audio']), false);
    assert.equal(ask('media', 'file:///index.html', ['audio']), false, 'not a file:// page');
    assert.equal(ask('media', 'app://other/index.html', ['audio']), false, 'not another app host');
    assert.equal(fake.permission.check!(contents, 'media', 'app://switchboard', { requestingUrl: pageUrl, mediaType: 'audio' }), true);
    assert.equal(fake.permission.check!(contents, 'media', 'app://switchboard', { requestingUrl: pageUrl, mediaType: 'video' }), false);
  });

  test('answers the contract over IPC from our page, with the real core', async () => {
    sendFromPage({ jsonrpc: '2.0', id: 1, method: 'app.info', params: {} });
    const [channel, answer] = await until('the app.info answer', () => contents.sent.find(([, m]) => (m as { id?: number }).id === 1));
    assert.equal(channel, CONTRACT_IPC_CHANNEL);
    assert.equal((answer as { result: { name: string } }).result.name, 'Switchboard');
  });

  test('drops IPC from a subframe or another page', async () => {
    sendFromPage({ jsonrpc: '2.0', id: 2, method: 'app.info', params: {} }, { url: pageUrl, parent: {} });
    sendFromPage({ jsonrpc: '2.0', id: 3, method: 'app.info', params: {} }, { url: 'https://evil.example/', parent: null });
    sendFromPage({ jsonrpc: '2.0', id: 6, method: 'app.info', params: {} }, { url: 'file:///tmp/index.html', parent: null });
    sendFromPage({ jsonrpc: '2.0', id: 4, method: 'app.info', params: {} });
    await until('the answer to the trusted request', () => contents.sent.find(([, m]) => (m as { id?: number }).id === 4));
    assert.equal(contents.sent.filter(([, m]) => [2, 3, 6].includes((m as { id?: number }).id ?? 0)).length, 0);
    assert.ok(logs.some((line) => /dropped switchboard:contract message from a subframe/.test(line)));
    assert.ok(logs.some((line) => /dropped switchboard:contract message from non-app origin https:/.test(line)));
    assert.ok(logs.some((line) => /dropped switchboard:contract message from non-app origin file:/.test(line)));
  });

  test('without a protected credential store, tells the user and runs without a vault', () => {
    const told = /Passwords cannot be stored securely on this system \(the OS credential store is not available, .*\); accounts are saved without their passwords/;
    assert.ok(logs.some((line) => told.test(line)), 'logged');
    const info = contents.sent.find(([, m]) => (m as { id?: number }).id === 1)?.[1] as { result: { notices: string[] } } | undefined;
    assert.ok(info?.result.notices.some((n) => told.test(n)), `the window is told through app.info notices: ${JSON.stringify(info?.result.notices)}`);
  });

  test('a sip: link is dialled through the core; a failure is shown to the user', async () => {
    const event = preventable();
    fake.app.emit('open-url', event, 'sip:202@127.0.0.1');
    assert.equal(event.defaultPrevented, true);
    const box = await until('a message box', () => fake.messageBoxes[0]);
    assert.equal(box.message, 'Cannot call sip:202@127.0.0.1');
    assert.match(String(box.detail), /Add an account before calling/);
  });

  test('an incoming call while the window is not focused: a silent notification says who, the window flashes; both end when the caller gives up', async () => {
    const sipPort = await freeUdpPort();
    sendFromPage({ jsonrpc: '2.0', id: 10, method: 'account.add', params: { aor: 'sip:alice@127.0.0.1', transport: 'udp', register: false, acceptDirectCalls: true, localAddress: '127.0.0.1', localPort: sipPort } });
    await until('the account', () => contents.sent.find(([, m]) => (m as { id?: number }).id === 10));
    await until('the account ready', () => contents.sent.find(([, m]) => (m as { method?: string; params?: { state?: string } }).params?.state === 'ready'));
    const caller = createSocket('udp4');
    await new Promise<void>((resolve) => caller.bind(0, '127.0.0.1', resolve));
    const responses: string[] = [];
    caller.on('message', (data) => responses.push(data.toString('latin1')));
    const me = caller.address().port;
    const dialog = (method: string, cseq: string, body = '') =>
      [
        `${method} sip:alice@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-wiring-1;rport`,
        'Max-Forwards: 70',
        `From: "Carol" <sip:carol@127.0.0.1:${me}>;tag=wiring-1`,
        `To: <sip:alice@127.0.0.1:${sipPort}>`,
        'Call-ID: wiring-incoming-1@127.0.0.1',
        `CSeq: ${cseq}`,
        `Contact: <sip:carol@127.0.0.1:${me}>`,
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    const sdp = ['v=0', 'o=carol 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const send = (text: string) => new Promise<void>((resolve, reject) => caller.send(text, sipPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    try {
      const window = fake.windows[0]!;
      window.focused = false;
      await send(dialog('INVITE', '1 INVITE', sdp));
      const notification = await until('a notification', () => fake.notifications[0]);
      assert.deepEqual(
        [notification.options.title, notification.options.body, notification.options.silent, notification.shown],
        ['Incoming call', `Carol · carol@127.0.0.1:${me}`, true, true],
      );
      assert.deepEqual(window.flashes, [true]);
      notification.emit('click');
      assert.equal(window.isFocused(), true, 'clicking the notification brings the window up');

      await until('180 Ringing', () => (responses.some((r) => r.startsWith('SIP/2.0 180')) ? true : undefined));
      await send(dialog('CANCEL', '1 CANCEL'));
      await until('the notification closed', () => (notification.closed ? true : undefined));
      assert.deepEqual(window.flashes, [true, false]);
      await until('487 to the INVITE', () => (responses.some((r) => r.startsWith('SIP/2.0 487')) ? true : undefined));
      await send(dialog('ACK', '1 ACK'));
    } finally {
      caller.close();
    }
  });

  test('quit waits for the core to stop, then quits', async () => {
    const event = preventable();
    fake.app.emit('before-quit', event);
    assert.equal(event.defaultPrevented, true, 'first quit is held for core.stop()');
    await until('the app to quit after the core stopped', () => (fake.app.quitted ? true : undefined));
  });

  test('a destroyed window closes its channel: nothing is sent to it afterwards', async () => {
    const before = contents.sent.length;
    contents.destroyed = true;
    contents.emit('destroyed');
    sendFromPage({ jsonrpc: '2.0', id: 5, method: 'app.info', params: {} });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(contents.sent.length, before);
  });
});

describe('Electron call audio broker (MessageChannelMain per call)', () => {
  test('hands port2 to the window with the call id and rate; port1 carries frames; close closes it', () => {
    const fake = createFakeElectron();
    const window = new fake.electron.BrowserWindow({});
    const logs: string[] = [];
    const broker = createElectronAudioBroker({
      newChannel: () => new fake.electron.MessageChannelMain(),
      contents: () => window.webContents,
      log: (line) => logs.push(line),
    });
    const framePort = broker.open({ callId: 'call-7', sampleRate: 48000 });
    const [{ port1, port2 }] = fake.channels as [{ port1: FakeMessagePortMain; port2: FakeMessagePortMain }];
    assert.deepEqual(window.webContents.posted, [{ channel: 'audio-port', message: { callId: 'call-7', sampleRate: 48000 }, transfer: [port2] }]);
    assert.equal(port1.started, true, 'main starts its end');

    // The page's end (port2, in the worklet) sends a hello; main's FramePort sees it.
    const received: unknown[] = [];
    framePort.onmessage = (event) => received.push(parseFrameMessage(event.data));
    port2.start();
    port2.postMessage({ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 48000, frameSamples: 960, deviceSampleRate: 44100 });
    assert.deepEqual(received, [{ type: 'hello', version: FRAME_PROTOCOL_VERSION, sampleRate: 48000, frameSamples: 960, deviceSampleRate: 44100 }]);
    const toPage: unknown[] = [];
    port2.on('message', (event: { data: unknown }) => toPage.push(event.data));
    framePort.postMessage({ type: 'playout', seq: 0, sampleRate: 48000, samples: new Int16Array([1, 2, 3]) });
    assert.equal(toPage.length, 1);

    assert.throws(() => broker.open({ callId: 'call-7', sampleRate: 48000 }), /already has an audio port/);
    broker.close('call-7');
    assert.equal(port1.closed, true);
    broker.close('call-7'); // idempotent
    assert.deepEqual(logs, []);
  });

  test('without a window the call still gets a port, and the missing window is logged', () => {
    const fake = createFakeElectron();
    const logs: string[] = [];
    const broker = createElectronAudioBroker({ newChannel: () => new fake.electron.MessageChannelMain(), contents: () => undefined, log: (l) => logs.push(l) });
    const port = broker.open({ callId: 'call-1', sampleRate: 48000 });
    port.postMessage({ type: 'playout', seq: 0, sampleRate: 48000, samples: new Int16Array(4) });
    assert.deepEqual(logs, ['audio: call call-1 has no window to play in']);
  });
});
