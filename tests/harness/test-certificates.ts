// A throw-away CA and a server certificate signed by it, made with the openssl CLI at start-up.
// SAN covers every name a test may dial: IP:127.0.0.1, DNS:localhost, DNS:pbx.test.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';

export interface TestCertificates {
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  caFingerprint256: string; // 'AA:BB:..'
  serverCertFingerprint256: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

export function makeTestCertificates(
  dir: string,
  sans: string[] = ['IP:127.0.0.1', 'DNS:localhost', 'DNS:pbx.test'],
): TestCertificates {
  const caKeyFile = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const extFile = join(dir, 'server.ext');
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKeyFile], dir);
  openssl(
    ['req', '-x509', '-new', '-key', caKeyFile, '-sha256', '-days', '2', '-subj', '/CN=Switchboard Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', caFile],
    dir,
  );
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile], dir);
  openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=pbx.test', '-out', csrFile], dir);
  writeFileSync(
    extFile,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${sans.join(',')}`,
      '',
    ].join('\n'),
  );
  openssl(
    ['x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKeyFile, '-CAcreateserial', '-days', '2',
      '-sha256', '-extfile', extFile, '-out', certFile],
    dir,
  );
  return {
    caFile,
    caKeyFile,
    certFile,
    keyFile,
    caFingerprint256: new X509Certificate(readFileSync(caFile)).fingerprint256,
    serverCertFingerprint256: new X509Certificate(readFileSync(certFile)).fingerprint256,
  };
}
