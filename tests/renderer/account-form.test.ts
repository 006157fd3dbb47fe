// The Add account form's call audio and encryption settings, in Chromium against a scripted core:
// what the user chooses is what account.add receives, defaults send nothing (so the core's
// defaults apply), and a choice the contract refuses is shown with the form's own words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { addAccountThroughForm, openScriptedApp, type ScriptedApp } from './scripted-app';
import type { ScriptedCore } from './scripted-core';
import { makeTestCertificates } from '../harness/test-certificates';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';

const UI_TIMEOUT = 10_000;

describe('Add account: call audio and encryption', () => {
  let app: ScriptedApp;
  let core: ScriptedCore;
  let page: Page;
  let problems: string[];
  let form: Locator;

  const certDir = makeTempDir('sb-form-ca-');
  const caPem = readFileSync(makeTestCertificates(certDir).caFile, 'utf8');
  const ca = new X509Certificate(caPem);

  before(async () => {
    app = await openScriptedApp({ width: 1000, height: 900 });
    ({ core, page, problems } = app);
    form = page.getByRole('region', { name: 'Add account' });
  });

  after(async () => {
    await app?.close();
    removeTempDir(certDir);
  });

  /** Adds an account through the form and returns the params account.add received. */
  async function add(user: string): Promise<Record<string, unknown>> {
    const before = core.calls.filter((c) => c.method === 'account.add').length;
    await addAccountThroughForm(page, user);
    const adds = core.calls.filter((c) => c.method === 'account.add');
    assert.equal(adds.length, before + 1);
    return adds.at(-1)!.params as Record<string, unknown>;
  }

  test('left alone, the form sends no codec, packet time, encryption, DTMF or silent-call setting: the core defaults apply', async () => {
    const params = await add('301');
    for (const key of ['codecs', 'ptime', 'srtp', 'dtmfMode', 'mediaTimeoutSeconds']) assert.ok(!(key in params), `${key} not sent: ${JSON.stringify(params)}`);
  });

  test('codec order and choice, packet time, encryption, DTMF and the silent-call timeout reach account.add as chosen', async () => {
    await form.getByText('Call audio and encryption').click();
    await form.getByRole('checkbox', { name: 'Opus' }).uncheck();
    // PCMA to the top of what is left: PCMA, G.722, PCMU.
    await form.getByRole('button', { name: 'Move G.711 A-law (PCMA) up' }).click();
    await form.getByRole('button', { name: 'Move G.711 A-law (PCMA) up' }).click();
    await form.getByLabel('Packet time').selectOption({ label: '30 ms' });
    await form.getByLabel('Media encryption').selectOption('mandatory');
    await form.getByLabel('DTMF').selectOption('info');
    await form.getByLabel('Silent calls').selectOption({ label: 'Never hang up' });
    const params = await add('302');
    assert.deepEqual(params.codecs, ['PCMA', 'G722', 'PCMU']);
    assert.equal(params.ptime, 30);
    assert.equal(params.srtp, 'mandatory');
    assert.equal(params.dtmfMode, 'info');
    assert.equal(params.mediaTimeoutSeconds, 0);
  });

  test("a TLS account can pin a self-signed PBX certificate: the fingerprint reaches account.add (no such field for UDP)", async () => {
    const fingerprint = form.getByLabel('Server certificate fingerprint');
    assert.equal(await fingerprint.count(), 0);
    await form.getByLabel('Transport').selectOption('tls');
    const pin = `${'AB:'.repeat(31)}CD`;
    await fingerprint.fill(pin);
    const params = await add('304');
    assert.equal(params.transport, 'tls');
    assert.deepEqual(params.tls, { pinnedCertSha256: pin });
    assert.equal(await fingerprint.inputValue(), '', 'cleared after the account was added');
  });

  test('a malformed fingerprint is refused by the core and said with the form\'s label', async () => {
    await form.getByLabel('Server certificate fingerprint').fill('not a fingerprint');
    await form.getByLabel('Address (AOR)').fill('305@pbx.test');
    await form.getByRole('button', { name: 'Add account' }).click();
    await form.getByRole('alert').getByText('Server certificate fingerprint: must be a SHA-256 fingerprint in hex').waitFor({ timeout: UI_TIMEOUT });
    await form.getByLabel('Server certificate fingerprint').fill('');
    await form.getByLabel('Transport').selectOption('udp');
  });

  test("a TLS account can trust its PBX's own CA: the picked file, PEM or DER, reaches account.add as PEM (no such field for UDP)", async () => {
    const picker = form.getByLabel('Trusted CA certificate');
    assert.equal(await picker.count(), 0);
    await form.getByLabel('Transport').selectOption('tls');
    await picker.setInputFiles({ name: 'company-ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(caPem) });
    const fromPem = await add('306');
    assert.deepEqual(fromPem.tls, { caPem });
    assert.equal(await picker.inputValue(), '', 'cleared after the account was added');
    await picker.setInputFiles({ name: 'company-ca.cer', mimeType: 'application/pkix-cert', buffer: ca.raw });
    const fromDer = await add('307');
    const { caPem: sent } = fromDer.tls as { caPem: string };
    assert.equal(new X509Certificate(sent).fingerprint256, ca.fingerprint256, 'the DER file sent as the same certificate');
  });

  test('a file that is no certificate is refused by the core and said with the form\'s label', async () => {
    await form.getByLabel('Trusted CA certificate').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a certificate') });
    await form.getByLabel('Address (AOR)').fill('308@pbx.test');
    await form.getByRole('button', { name: 'Add account' }).click();
    await form.getByRole('alert').getByText('Trusted CA certificate: must be a PEM certificate').waitFor({ timeout: UI_TIMEOUT });
    await form.getByLabel('Transport').selectOption('udp');
  });

  test('no codec left is refused by the core and said with the form\'s label', async () => {
    for (const name of ['G.722', 'G.711 µ-law (PCMU)', 'G.711 A-law (PCMA)']) await form.getByRole('checkbox', { name }).uncheck();
    await form.getByLabel('Address (AOR)').fill('303@pbx.test');
    await form.getByRole('button', { name: 'Add account' }).click();
    await form.getByRole('alert').getByText('Codecs: codecs must name at least one codec').waitFor({ timeout: UI_TIMEOUT });
    assert.deepEqual(problems, []);
  });
});
