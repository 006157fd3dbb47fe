// The built preload (what Electron actually loads) exposes exactly the contract bridge:
// window.switchboard = { send, onMessage } on one IPC channel, and nothing else reaches the page
// except a call's audio port, forwarded from main to our own origin only.
// Electron is replaced by a recording fake, since the preload's only dependency is `electron`.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { CONTRACT_IPC_CHANNEL } from '../../src-main/carriers/ipc-contract-channel';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Recorded {
  exposed: Array<[string, unknown]>;
  required: string[];
  electronApisUsed: Set<string>;
  sends: unknown[][];
  listeners: Array<[string, (...args: unknown[]) => void]>;
  /** window.postMessage calls: message, target origin, transferred ports. */
  posted: unknown[][];
  errors: unknown[][];
}

function runBuiltPreload(code: string): Recorded {
  const recorded: Recorded = { exposed: [], required: [], electronApisUsed: new Set(), sends: [], listeners: [], posted: [], errors: [] };
  const contextBridge = { exposeInMainWorld: (key: string, value: unknown) => recorded.exposed.push([key, value]) };
  const ipcRenderer = {
    send: (...args: unknown[]) => recorded.sends.push(args),
    on: (channel: string, listener: (...args: unknown[]) => void) => recorded.listeners.push([channel, listener]),
  };
  // Records which electron APIs the preload touches; anything beyond these two is a finding.
  const electron = new Proxy({ contextBridge, ipcRenderer } as Record<string, unknown>, {
    get(target, key) {
      if (typeof key === 'string' && key !== '__esModule') recorded.electronApisUsed.add(key);
      return target[key as string];
    },
  });
  const module = { exports: {} };
  vm.runInNewContext(code, {
    postMessage: (...args: unknown[]) => recorded.posted.push(args),
    location: { origin: 'app://switchboard' },
    console: { error: (...args: unknown[]) => recorded.errors.push(args) },
    module,
    exports: module.exports,
    require: (id: string) => {
      recorded.required.push(id);
      if (id === 'electron') return electron;
      throw new Error(`preload required "${id}"; a sandboxed preload may require only electron`);
    },
  });
  return recorded;
}

describe('built preload', () => {
  let recorded: Recorded;

  before(() => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchboard-preload-'));
    try {
      const build = spawnSync(process.execPath, ['scripts/build-electron.mjs', '--only', 'preload', '--outdir', outdir], {
        cwd: root,
        encoding: 'utf8',
      });
      assert.equal(build.status, 0, `preload build failed:\n${build.stderr}`);
      recorded = runBuiltPreload(readFileSync(join(outdir, 'preload.cjs'), 'utf8'));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('exposes one global, "switchboard", with exactly send and onMessage', () => {
    assert.deepEqual(recorded.exposed.map(([key]) => key), ['switchboard']);
    const bridge = recorded.exposed[0]![1] as Record<string, unknown>;
    assert.deepEqual(Object.keys(bridge).sort(), ['onMessage', 'send']);
    assert.equal(typeof bridge.send, 'function');
    assert.equal(typeof bridge.onMessage, 'function');
  });

  test('send forwards the message on the contract channel only', () => {
    const bridge = recorded.exposed[0]![1] as { send(m: unknown): void };
    const message = { jsonrpc: '2.0', id: 1, method: 'app.info', params: {} };
    bridge.send(message);
    assert.deepEqual(recorded.sends, [[CONTRACT_IPC_CHANNEL, message]]);
  });

  test('onMessage hands the page the message only, never the IPC event (which carries ipcRenderer)', () => {
    const bridge = recorded.exposed[0]![1] as { onMessage(l: (...args: unknown[]) => void): void };
    const received: unknown[][] = [];
    bridge.onMessage((...args) => received.push(args));
    const contract = recorded.listeners.filter(([channel]) => channel === CONTRACT_IPC_CHANNEL);
    assert.equal(contract.length, 1);
    const [, listener] = contract[0]!;
    const event = { sender: { send() {} }, ports: [] };
    listener(event, { jsonrpc: '2.0', method: 'account.state', params: {} });
    assert.deepEqual(received, [[{ jsonrpc: '2.0', method: 'account.state', params: {} }]]);
  });

  test("a call's audio port from main is posted to our own origin with exactly that port; malformed ones are dropped", () => {
    const audio = recorded.listeners.filter(([channel]) => channel === 'audio-port');
    assert.equal(audio.length, 1);
    const [, listener] = audio[0]!;
    const port = { fake: 'MessagePort' };
    listener({ ports: [port] }, { callId: 'call-3', sampleRate: 48000 });
    // Objects made inside the preload's VM context: compare by content, the port by identity.
    assert.deepEqual(JSON.parse(JSON.stringify(recorded.posted[0]!.slice(0, 2))), [{ type: 'switchboard-audio-port', callId: 'call-3', sampleRate: 48000 }, 'app://switchboard']);
    const transfer = recorded.posted[0]![2] as unknown[];
    assert.equal(transfer.length, 1);
    assert.equal(transfer[0], port);
    listener({ ports: [] }, { callId: 'call-4', sampleRate: 48000 });
    listener({ ports: [port, port] }, { callId: 'call-5', sampleRate: 48000 });
    listener({ ports: [port] }, { callId: 5, sampleRate: 48000 });
    assert.equal(recorded.posted.length, 1, 'nothing malformed reaches the page');
    assert.equal(recorded.errors.length, 3);
  });

  test('onMessage refuses a non-function instead of failing later', () => {
    const bridge = recorded.exposed[0]![1] as { onMessage(l: unknown): void };
    assert.throws(() => bridge.onMessage('not a function'), /needs a function/);
  });

  // Last: by now every bridge function has run, so every electron API it touches was recorded.
  test('requires nothing but electron and uses only contextBridge and ipcRenderer', () => {
    assert.deepEqual([...new Set(recorded.required)], ['electron']);
    assert.deepEqual([...recorded.electronApisUsed].sort(), ['contextBridge', 'ipcRenderer']);
  });
});
