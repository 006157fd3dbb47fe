// The impairment tools do what they promise: the relay drops/reorders/delays reproducibly, and the
// namespace drops UDP in the kernel.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { startImpairingRelay, withLossyNamespace, lossyNamespaceUnsupportedReason } from '../harness/network';

const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

async function udp(host = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  sockets.push(s);
  return s;
}

async function echoServer(): Promise<Socket> {
  const s = await udp();
  s.on('message', (m, rinfo) => s.send(m, rinfo.port, rinfo.address));
  return s;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `count` numbered packets through the relay at `port`; returns what came back, in order. */
async function roundTrip(port: number, count: number, settle: () => boolean): Promise<number[]> {
  const client = await udp();
  const got: number[] = [];
  client.on('message', (m) => got.push(m.readUInt32BE(0)));
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(i);
    client.send(b, port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2)); // don't overrun socket buffers
  }
  await until(settle, 5000, 'relay to settle');
  await new Promise((r) => setTimeout(r, 50));
  return got;
}

describe('harness: impairing UDP relay', () => {
  test('without impairment every packet goes there and back, in order', async () => {
    const echo = await echoServer();
    const relay = await startImpairingRelay({ target: { host: '127.0.0.1', port: echo.address().port } });
    try {
      const got = await roundTrip(relay.port, 200, () => relay.stats().toClient.forwarded === 200);
      assert.deepEqual(got, [...Array(200).keys()]);
      assert.deepEqual({ ...relay.stats(), toTarget: undefined, toClient: undefined }, { forwarded: 400, dropped: 0, reordered: 0, toTarget: undefined, toClient: undefined });
    } finally {
      await relay.stop();
    }
  });

  test('loss drops about the asked share, the same packets for the same seed', async () => {
    const echo = await echoServer();
    const run = async (seed: number) => {
      const relay = await startImpairingRelay({ target: { host: '127.0.0.1', port: echo.address().port }, lossPercent: 20, seed });
      try {
        const got = await roundTrip(relay.port, 500, () => {
          const s = relay.stats();
          return s.toTarget.forwarded + s.toTarget.dropped === 500 && s.toClient.forwarded + s.toClient.dropped === s.toTarget.forwarded;
        });
        return { got, stats: relay.stats() };
      } finally {
        await relay.stop();
      }
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(7);
    // two directions at 20 % each: ~36 % lost end to end
    assert.ok(a.got.length > 240 && a.got.length < 400, `received ${a.got.length}/500`);
    assert.equal(a.stats.dropped, 500 - a.got.length);
    assert.deepEqual(a.got, b.got, 'same seed, same packets lost');
    assert.notDeepEqual(a.got, c.got, 'another seed loses other packets');
  });

  test('reordering changes the order but loses nothing', async () => {
    const echo = await echoServer();
    const relay = await startImpairingRelay({ target: { host: '127.0.0.1', port: echo.address().port }, reorderPercent: 25, seed: 3 });
    try {
      const got = await roundTrip(relay.port, 200, () => relay.stats().toClient.forwarded === 200);
      assert.equal(got.length, 200);
      assert.deepEqual([...got].sort((x, y) => x - y), [...Array(200).keys()]);
      assert.notDeepEqual(got, [...Array(200).keys()]);
      assert.ok(relay.stats().reordered > 0);
      // a reordered packet swaps with its successor: every packet is at most a few places away
      got.forEach((seq, index) => assert.ok(Math.abs(seq - index) <= 3, `packet ${seq} at ${index}`));
    } finally {
      await relay.stop();
    }
  });

  test('delay holds packets back: a direct packet sent later overtakes a delayed one', async () => {
    const sink = await udp();
    const order: string[] = [];
    sink.on('message', (m) => order.push(m.toString()));
    const relay = await startImpairingRelay({ target: { host: '127.0.0.1', port: sink.address().port }, delayMs: 300 });
    try {
      const client = await udp();
      client.send('delayed', relay.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
      client.send('direct', sink.address().port, '127.0.0.1');
      await until(() => order.length === 2, 5000, 'both packets');
      assert.deepEqual(order, ['direct', 'delayed']);
    } finally {
      await relay.stop();
    }
  });

  test('bad settings are refused', async () => {
    await assert.rejects(startImpairingRelay({ target: { host: '127.0.0.1', port: 9 }, lossPercent: 150 }), /lossPercent must be within 0\.\.100/);
    await assert.rejects(startImpairingRelay({ target: { host: '127.0.0.1', port: 0 } }), /bad target/);
  });
});

describe('harness: lossy network namespace', () => {
  const unsupported = lossyNamespaceUnsupportedReason();

  test('nftables in the namespace drops the asked share of UDP, and cleanup removes it', { skip: unsupported }, async () => {
    let name = '';
    await withLossyNamespace({ lossPercent: 50 }, async (ns) => {
      name = ns.name;
      assert.match(ns.exec('ip', ['-4', 'addr', 'show']), new RegExp(ns.nsAddress.replace(/\./g, '\\.')));
      const sink = await udp(ns.hostAddress);
      let received = 0;
      sink.on('message', () => received++);
      const count = 400;
      const sender = `const s=require('dgram').createSocket('udp4');let i=0;(function go(){if(i>=${count})return s.close();for(let k=0;k<20&&i<${count};k++,i++)s.send(Buffer.alloc(8),${sink.address().port},'${ns.hostAddress}');setTimeout(go,2)})()`;
      // async (spawn): a synchronous exec would block our event loop and overflow the socket buffer
      const send = async () => {
        const proc = ns.spawn('sender', process.execPath, ['-e', sender]);
        const { code } = await proc.exited;
        assert.equal(code, 0, proc.logs());
      };
      await send();
      await until(() => received + ns.droppedPackets() === count, 5000, 'all packets accounted for');
      assert.ok(received > count * 0.3 && received < count * 0.7, `received ${received}/${count}`);

      ns.setLoss(0);
      received = 0;
      const before = ns.droppedPackets();
      await send();
      await until(() => received === count, 5000, 'every packet without loss');
      assert.equal(ns.droppedPackets(), 0, `counter reset with the new rules (was ${before})`);
    });
    assert.ok(name);
    assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(name));
  });
});
