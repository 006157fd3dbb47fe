// The Add account form's certificate file: a PEM file is taken as it is, a DER file (Windows'
// .cer export) becomes the same certificate as PEM, and anything else goes on as text for the
// contract to refuse in words.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { certificatePem } from '../../src-renderer/src/lib/certificate-file';
import { TlsSettings } from '../../src-main/common/contract/contract';
import { makeTestCertificates } from '../harness/test-certificates';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';

const dir = makeTempDir('sb-cert-file-');
after(() => removeTempDir(dir));
const { caFile } = makeTestCertificates(dir);
const pem = readFileSync(caFile, 'utf8');
const ca = new X509Certificate(pem);

describe('certificate file → tls.caPem', () => {
  test('a PEM file is taken as it is, and the contract accepts it', () => {
    const got = certificatePem(new TextEncoder().encode(pem));
    assert.equal(got, pem);
    assert.equal(TlsSettings.safeParse({ caPem: got }).success, true);
  });

  test('a DER file becomes the same certificate as PEM', () => {
    const got = certificatePem(new Uint8Array(ca.raw));
    assert.match(got, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
    assert.equal(new X509Certificate(got).fingerprint256, ca.fingerprint256);
    assert.equal(TlsSettings.safeParse({ caPem: got }).success, true);
  });

  test('anything else goes on as text, which the contract refuses saying what it wants', () => {
    const got = certificatePem(new TextEncoder().encode('this is my password list'));
    const parsed = TlsSettings.safeParse({ caPem: got });
    assert.equal(parsed.success, false);
    assert.match(parsed.error!.issues[0]!.message, /must be a PEM certificate/);
  });
});
