/**
 * Headless shutdown with a registrar that never answers (a loopback UDP port that drops every
 * datagram): the graceful shutdown must not wait for SIP Timer F (32 s). A second SIGTERM exits at
 * once with 143; a single SIGTERM exits non-zero once the shutdown bound passes, naming what was
 * still pending. The test timeout (well above the 5 s bound, well below 32 s) is only a safety net:
 * without the bound or the second-signal exit the child outlives it and the test fails.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';

const SAFETY_TIMEOUT_MS = 20_000;

/** A "registrar" on loopback that receives everything and answers nothing. */
async function silentRegistrar(t: TestContext): Promise<{ port: number; registerReceived: Promise<void> }> {
  const socket = createSocket('udp4');
  const registerReceived = new Promise<void>((resolve) =>
    socket.on('message', (message) => {
      if (message.toString('utf8').startsWith('REGISTER ')) resolve();
    }),
  );
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return { port: socket.address().port, registerReceived };
}

/** A headless Switchboard whose account is trying to register with the silent registrar. */
async function registeringHeadless(t: TestContext): Promise<{ headless: HeadlessSwitchboard; exited: Promise<unknown[]> }> {
  const registrar = await silentRegistrar(t);
  const headless = startHeadless(['--account', `sip:201@127.0.0.1:${registrar.port}`, '--password', 'secret', '--listen', '127.0.0.1:0']);
  const exited = once(headless.process, 'exit');
  t.after(() => {
    if (headless.process.exitCode === null && headless.process.signalCode === null) headless.process.kill('SIGKILL');
  });
  await headless.waitForAccount('registering');
  // The REGISTER is out (and unanswered): stopping now has a transaction to wait for.
  await registrar.registerReceived;
  return { headless, exited };
}

/** Resolves once the headless child has written `text` to stderr (e.g. its shutdown began). */
async function stderrShows(headless: HeadlessSwitchboard, text: string): Promise<void> {
  while (!headless.stderr().includes(text)) await once(headless.process.stderr!, 'data');
}

test('a second SIGTERM during the shutdown exits at once with 143 and says what was cut short', { timeout: SAFETY_TIMEOUT_MS }, async (t) => {
  const { headless, exited } = await registeringHeadless(t);
  headless.process.kill('SIGTERM');
  await stderrShows(headless, 'SIGTERM; hanging up and unregistering');
  headless.process.kill('SIGTERM');
  const [code, signal] = await exited;
  assert.equal(signal, null, 'exits by itself, not killed by the signal');
  assert.equal(code, 143, headless.stderr());
  assert.match(headless.stderr(), /SIGTERM during shutdown; graceful shutdown cut short; still pending: account acc-1 \(sip:201@127\.0\.0\.1:\d+\) registering, REGISTER unanswered/);
});

test('a single SIGTERM with an unresponsive registrar exits 1 at the bound, naming what was pending', { timeout: SAFETY_TIMEOUT_MS }, async (t) => {
  const { headless, exited } = await registeringHeadless(t);
  headless.process.kill('SIGTERM');
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(code, 1, headless.stderr());
  assert.match(headless.stderr(), /SIGTERM; hanging up and unregistering/);
  assert.match(headless.stderr(), /graceful shutdown did not finish within 5 s; still pending: account acc-1 \(sip:201@127\.0\.0\.1:\d+\) registering, REGISTER unanswered/);
});
