import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Phone } from '../../src-main/core/sip/phone/phone';

function phone(recordingsDir?: string): Phone {
  return new Phone({
    userAgentString: 'test',
    version: '0',
    recordingsDir,
    sessionDescriptionHandlerFactory: () => {
      throw new Error('no media in this test');
    },
    onAccountChange: () => {},
    onCallChange: () => {},
    log: () => {},
  });
}

test('with a recordings folder (the app), call.record refuses paths: a compromised renderer cannot write anywhere', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sb-rec-')), 'recordings');
  const p = phone(dir);
  for (const path of ['/etc/cron.d/evil', '../outside.wav', 'sub/dir.wav', '.hidden.wav', '..']) {
    await assert.rejects(p.handlers['call.record']({ callId: 'call-1', path, on: true }), /Recordings are saved in .*give a file name/, path);
  }
  // A plain name passes the path check and reaches the call lookup (there is no such call here).
  await assert.rejects(p.handlers['call.record']({ callId: 'call-1', path: 'meeting', on: true }), /No call call-1/);
});

test('headless (no recordings folder) takes any path, as scripts expect', async () => {
  await assert.rejects(phone().handlers['call.record']({ callId: 'call-1', path: '/tmp/x/y.wav', on: true }), /No call call-1/);
});
