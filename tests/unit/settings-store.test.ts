import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingsStore } from '../../src-main/core/store/settings-store';
import type { CredentialVault } from '../../src-main/core/store/credential-vault';
import { AccountConfig } from '../../src-main/common/contract/contract';

/** A reversible test vault (the app uses Electron safeStorage). */
const vault: CredentialVault = {
  kind: 'test',
  seal: (p) => `sealed:${Buffer.from(p).toString('base64')}`,
  open: (s) => {
    if (!s.startsWith('sealed:')) throw new Error('not sealed by this vault');
    return Buffer.from(s.slice(7), 'base64').toString();
  },
};

const account = AccountConfig.parse({ aor: 'sip:201@pbx.example.com', password: 'hunter2', transport: 'tls' });

test('accounts round-trip; the password is never written in plain text; file is private', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-settings-'));
  const store = new SettingsStore(join(dir, 'settings.json'), vault);
  store.save([account]);
  const text = readFileSync(join(dir, 'settings.json'), 'utf8');
  assert.ok(!text.includes('hunter2'), 'no plain password on disk');
  assert.equal(statSync(join(dir, 'settings.json')).mode & 0o777, 0o600);
  const loaded = store.load();
  assert.deepEqual(loaded.notices, []);
  assert.equal(loaded.accounts[0]!.password, 'hunter2');
  assert.equal(loaded.accounts[0]!.transport, 'tls');
});

test('a corrupt settings file is reported and preserved, never silently overwritten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-settings-'));
  const path = join(dir, 'settings.json');
  writeFileSync(path, '{"version":1,"accounts":[{"aor":');
  const store = new SettingsStore(path, vault);
  const loaded = store.load();
  assert.equal(loaded.accounts.length, 0);
  assert.match(loaded.notices[0]!, /could not be read .* kept as settings\.json\.corrupt-/);
  const kept = readdirSync(dir).find((f) => f.startsWith('settings.json.corrupt-'));
  assert.ok(kept, 'a copy of the corrupt file exists');
  assert.equal(readFileSync(join(dir, kept), 'utf8'), '{"version":1,"accounts":[{"aor":');
  store.save([account]);
  assert.equal(readFileSync(join(dir, kept), 'utf8'), '{"version":1,"accounts":[{"aor":', 'saving later leaves the kept copy intact');
});

test('without a vault, passwords are not saved at all; an unreadable sealed password is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-settings-'));
  const path = join(dir, 'settings.json');
  new SettingsStore(path, undefined).save([account]);
  assert.ok(!readFileSync(path, 'utf8').includes('hunter2'));
  assert.equal(new SettingsStore(path, vault).load().accounts[0]!.password, undefined);
  writeFileSync(path, JSON.stringify({ version: 1, accounts: [{ aor: 'sip:a@b', sealedPassword: 'garbage' }] }));
  const loaded = new SettingsStore(path, vault).load();
  assert.match(loaded.notices[0]!, /could not be decrypted/);
  assert.equal(loaded.accounts[0]!.aor, 'sip:a@b');
});
