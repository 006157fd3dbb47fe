/**
 * The headless contract as README documents it: `npm run --silent headless -- …` speaks JSON-RPC
 * 2.0, one message per line, and prints nothing else on stdout; bad input gets specific errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../harness/headless-switchboard';

test('stdout carries only JSON-RPC lines; errors are specific; closing stdin exits cleanly', async () => {
  const child = spawn('npm', ['run', '--silent', 'headless', '--', '--account', 'sip:me@127.0.0.1', '--no-register', '--listen', '127.0.0.1:0'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const byId = new Map<unknown, Record<string, unknown>>();
  const waiting = new Map<unknown, () => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const message = JSON.parse(line) as Record<string, unknown>;
    if ('id' in message) {
      byId.set(message.id, message);
      waiting.get(message.id)?.();
    }
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const send = (text: string) => child.stdin.write(`${text}\n`);
  const reply = (id: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      if (byId.has(id)) return resolve(byId.get(id)!);
      const timer = setTimeout(() => reject(new Error(`no reply to ${String(id)}; stderr:\n${stderr}`)), 20000);
      waiting.set(id, () => (clearTimeout(timer), resolve(byId.get(id)!)));
    });

  send('{"jsonrpc":"2.0","id":1,"method":"app.info","params":{}}');
  const info = await reply(1);
  assert.equal((info.result as { name: string }).name, 'Switchboard');

  send('this is not json');
  const parseError = await reply(null);
  assert.equal((parseError.error as { code: number }).code, -32700);

  send('{"jsonrpc":"2.0","id":2,"method":"call.dial","params":{"target":42}}');
  const invalid = (await reply(2)).error as { code: number; message: string };
  assert.equal(invalid.code, -32602);
  assert.match(invalid.message, /target/);

  send('{"jsonrpc":"2.0","id":3,"method":"call.answer","params":{"callId":"call-99"}}');
  const refused = (await reply(3)).error as { code: number; message: string };
  assert.equal(refused.code, -32000);
  assert.match(refused.message, /No call call-99/);

  send('{"jsonrpc":"2.0","id":4,"method":"account.list","params":{}}');
  const list = (await reply(4)).result as { accounts: { state: string }[] };
  assert.equal(list.accounts[0]?.state, 'ready');

  child.stdin.end();
  assert.equal(await exited, 0);
  assert.ok(lines.length >= 6);
  for (const line of lines) {
    const message = JSON.parse(line) as Record<string, unknown>;
    assert.equal(message.jsonrpc, '2.0', `every stdout line is JSON-RPC 2.0: ${line}`);
  }
  assert.ok(lines.some((l) => l.includes('"method":"account.state"')), 'account.state notifications on stdout');
});

test('bad command lines are refused with the reason and the usage, exit code 2', async () => {
  const child = spawn('npm', ['run', '--silent', 'headless', '--', '--account', 'not-a-uri', '--transport', 'carrier-pigeon'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.equal(stdout, '', 'nothing on stdout');
  assert.match(stderr, /aor: must be a SIP URI/);
  assert.match(stderr, /transport/);
  assert.match(stderr, /Usage: npm run --silent headless/);
});

/** Runs the headless with `args` until it exits; its exit code and stderr. */
async function headlessExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/headless/headless.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

test('a password file that cannot be used is refused with the reason, exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-password-'));
  try {
    const missing = await headlessExit(['--account', 'sip:me@127.0.0.1', '--password-file', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--password-file: cannot read .*nope: ENOENT/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const blank = await headlessExit(['--account', 'sip:me@127.0.0.1', '--password-file', empty]);
    assert.equal(blank.code, 2);
    assert.match(blank.stderr, /--password-file: .*empty is empty/);
    const both = await headlessExit(['--account', 'sip:me@127.0.0.1', '--password', 'x', '--password-file', empty]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give the password once: --password or --password-file, not both/);
    assert.equal(missing.stdout + blank.stdout + both.stdout, '', 'nothing on stdout');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a password that starts with "-" is taken as the password, not as an option', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/headless/headless.ts', '--account', 'sip:me@127.0.0.1', '--password', '-x7!q', '--no-register', '--listen', '127.0.0.1:0'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  assert.match(firstLine, /"method":"account.state"/);
  child.stdin.end();
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
});
