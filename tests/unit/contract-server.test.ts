import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContractServer } from '../../src-main/common/contract/contract-server';
import { ContractClient } from '../../src-main/common/contract/contract-client';
import { RpcError, RpcErrorCode, type JsonRpcMessage, type RpcChannel } from '../../src-main/common/contract/json-rpc';
import type { ContractHandlers } from '../../src-main/common/contract/contract';

/** Two in-memory channel ends wired to each other. */
function pipe(): [RpcChannel, RpcChannel, () => void] {
  const make = () => ({ message: [] as ((m: unknown) => void)[], close: [] as (() => void)[] });
  const a = make();
  const b = make();
  const end = (self: typeof a, other: typeof a): RpcChannel => ({
    send: (m: JsonRpcMessage) => queueMicrotask(() => other.message.forEach((l) => l(m === undefined ? undefined : JSON.parse(JSON.stringify(m))))),
    onMessage: (l) => void self.message.push(l),
    onClose: (l) => void self.close.push(l),
  });
  return [end(a, b), end(b, a), () => [...a.close, ...b.close].forEach((l) => l())];
}

function handlers(calls: unknown[]): ContractHandlers {
  const refuse = async () => {
    throw new RpcError(RpcErrorCode.ApplicationError, 'not in this test');
  };
  return {
    'app.info': async () => ({ name: 'Switchboard', version: '0', sipUserAgent: 'x', notices: [] }),
    'account.add': async (p) => (calls.push(p), { accountId: 'acc-1' }),
    'account.remove': refuse,
    'account.list': async () => ({ accounts: [] }),
    'call.dial': async (p) => (calls.push(p), { callId: 'call-1' }),
    'call.answer': refuse,
    'call.reject': refuse,
    'call.hangup': async () => {
      throw new Error('boom');
    },
    'call.list': async () => ({ calls: [] }),
    'call.dtmf': refuse,
    'call.hold': refuse,
    'call.resume': refuse,
    'call.mute': refuse,
    'call.transfer': refuse,
    'call.transferToCall': refuse,
    'call.record': refuse,
    'call.stats': refuse,
  };
}

test('the server validates params before the handler sees them, and names the bad field', async () => {
  const calls: unknown[] = [];
  const server = new ContractServer(handlers(calls), { onInternalError: () => {} });
  const [serverEnd, clientEnd] = pipe();
  server.attach(serverEnd);
  const client = new ContractClient(clientEnd);
  await assert.rejects(client.call('account.add', { aor: 'not a uri' }), (e: RpcError) => {
    assert.equal(e.code, RpcErrorCode.InvalidParams);
    assert.match(e.message, /aor: must be a SIP URI/);
    return true;
  });
  await assert.rejects(client.call('call.dial', { target: '   ' }), /target must not be empty/);
  await assert.rejects(client.call('account.add', { aor: 'sip:alice@pbx.test', ptime: 25 }), /ptime: ptime must be a multiple of 10 ms/);
  await assert.rejects(client.call('account.add', { aor: 'sip:alice@pbx.test', ptime: 120 }), /ptime: ptime must be 10 to 60 ms/);
  assert.deepEqual(calls, [], 'no handler ran for an invalid payload');
  const added = await client.call('account.add', { aor: 'sip:alice@pbx.test', password: 'pw' });
  assert.deepEqual(added, { accountId: 'acc-1' });
  assert.equal((calls[0] as { transport: string }).transport, 'udp', 'defaults applied before the handler');
});

test('unknown methods, malformed requests and handler bugs get JSON-RPC errors, never silence', async () => {
  const internal: string[] = [];
  const server = new ContractServer(handlers([]), { onInternalError: (m) => internal.push(m) });
  const [serverEnd, clientEnd] = pipe();
  server.attach(serverEnd);
  const replies: Record<string, unknown>[] = [];
  clientEnd.onMessage((m) => replies.push(m as Record<string, unknown>));
  clientEnd.send({ jsonrpc: '2.0', id: 1, method: 'nope.nope', params: {} });
  clientEnd.send({ jsonrpc: '1.0', id: 2, method: 'app.info' } as unknown as JsonRpcMessage);
  clientEnd.send(undefined as unknown as JsonRpcMessage);
  clientEnd.send({ jsonrpc: '2.0', id: 3, method: 'call.hangup', params: { callId: 'c' } });
  await new Promise((r) => setTimeout(r, 20));
  const byId = (id: unknown) => replies.find((r) => r.id === id)?.error as { code: number; message: string };
  assert.equal(byId(1).code, RpcErrorCode.MethodNotFound);
  assert.equal(byId(2).code, RpcErrorCode.InvalidRequest);
  assert.equal(byId(null).code, RpcErrorCode.ParseError);
  assert.equal(byId(3).code, RpcErrorCode.InternalError);
  assert.match(byId(3).message, /boom/);
  assert.deepEqual(internal, ['call.hangup'], 'handler bugs are reported, not swallowed');
});

test('events reach every attached client and are checked against their schema', async () => {
  const server = new ContractServer(handlers([]));
  const [s1, c1] = pipe();
  const [s2, c2] = pipe();
  server.attach(s1);
  server.attach(s2);
  const got: string[] = [];
  new ContractClient(c1).on('account.state', (a) => got.push(`1:${a.state}`));
  new ContractClient(c2).on('account.state', (a) => got.push(`2:${a.state}`));
  server.emit('account.state', { accountId: 'acc-1', aor: 'sip:a@b', transport: 'udp', state: 'registered' });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got.sort(), ['1:registered', '2:registered']);
  assert.throws(() => server.emit('account.state', { accountId: 'x' } as never), /invalid|expected/i);
});
