// Opens one TCP or TLS connection to a resolved target.
// TLS policy (never a silent fallback to an unverified connection):
//  - default: the chain must verify against node's bundled CAs, the operating system's trusted CAs
//    (where this Node can read them, see systemCaCertificates), `caFile` and `caPem`, and the certificate
//    must be valid for `serverName` (the host of the configured server URI, RFC 5922).
//  - pinnedCertSha256: the server certificate's SHA-256 fingerprint must equal the pin; CA and name
//    checks are replaced by the pin (that is the point of pinning a self-signed PBX certificate).
// Every failure rejects with an Error whose message says which check failed.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface TlsPolicy {
  /** Name the certificate must be valid for (the server URI host). */
  serverName: string;
  caFile?: string;
  /** PEM text of CA certificates to trust as well (the account's own, see the contract's TlsSettings). */
  caPem?: string;
  pinnedCertSha256?: string;
}

export interface StreamTarget {
  host: string;
  port: number;
}

export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

function formatFingerprint(hex: string): string {
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

/**
 * The CAs the operating system trusts (Windows' and macOS's certificate stores, the OpenSSL
 * certificate directory on Linux), where this Node can read them: `tls.getCACertificates('system')`,
 * Node 22.15 / 23.5 and later, so in the app's Electron; none on Node 20. A desk phone trusts what
 * the desk trusts: a PBX certificate from the company's own CA, which IT installs on every
 * machine, verifies here as it does in the browser, with no CA file to hand out.
 */
function systemCaCertificates(): readonly string[] {
  const getCACertificates = (tls as { getCACertificates?: (type: 'system') => string[] }).getCACertificates;
  if (getCACertificates === undefined) return [];
  try {
    return getCACertificates('system');
  } catch (error) {
    throw new Error(`Cannot read the system's trusted CA certificates: ${(error as Error).message}`, { cause: error });
  }
}

export function loadCaBundle(caFile: string | undefined, caPem?: string): string[] {
  const trusted = [...tls.rootCertificates, ...systemCaCertificates()];
  if (caPem !== undefined) {
    // A certificate OpenSSL cannot read would fail every connection with a less telling error.
    try {
      new X509Certificate(caPem);
    } catch (error) {
      throw new Error(`The account's trusted CA certificate cannot be read: ${(error as Error).message}`, { cause: error });
    }
    trusted.push(caPem);
  }
  if (caFile === undefined) return trusted;
  let extra: string;
  try {
    extra = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read TLS CA file ${caFile}: ${(error as Error).message}`, { cause: error });
  }
  return [...trusted, extra];
}

export function connectStream(
  target: StreamTarget,
  tlsPolicy: TlsPolicy | undefined,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    let settled = false;
    let socket: net.Socket;
    const where = `${target.host}:${target.port}`;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      finish(tlsPolicy ? describeTlsError(error, tlsPolicy.serverName, where) : new Error(`TCP connect to ${where} failed: ${error.message}`, { cause: error }));
    };
    const timer = setTimeout(() => finish(new Error(`${tlsPolicy ? 'TLS' : 'TCP'} connect to ${where} timed out after ${timeoutMs} ms`)), timeoutMs);

    if (!tlsPolicy) {
      socket = net.connect({ host: target.host, port: target.port }, () => finish());
      socket.on('error', onError);
      return;
    }
    const pinned = tlsPolicy.pinnedCertSha256 === undefined ? undefined : normalizeFingerprint(tlsPolicy.pinnedCertSha256);
    let ca: string[];
    try {
      ca = pinned ? [] : loadCaBundle(tlsPolicy.caFile, tlsPolicy.caPem);
    } catch (error) {
      clearTimeout(timer);
      reject(error as Error);
      return;
    }
    const options: tls.ConnectionOptions = {
      host: target.host,
      port: target.port,
      // SNI must not be an IP literal.
      ...(net.isIP(tlsPolicy.serverName) === 0 ? { servername: tlsPolicy.serverName } : {}),
      rejectUnauthorized: pinned === undefined,
      checkServerIdentity: (_host, cert) =>
        pinned === undefined ? tls.checkServerIdentity(tlsPolicy.serverName, cert) : undefined,
    };
    if (pinned === undefined) options.ca = ca;
    socket = tls.connect(options, () => {
      if (pinned !== undefined) {
        const presented = normalizeFingerprint((socket as tls.TLSSocket).getPeerCertificate().fingerprint256 ?? '');
        if (presented !== pinned) {
          finish(
            new Error(
              `TLS certificate for ${tlsPolicy.serverName} does not match the pinned SHA-256 fingerprint ` +
                `(server presented ${formatFingerprint(presented)})`,
            ),
          );
          return;
        }
      }
      finish();
    });
    socket.on('error', onError);
  });
}

/**
 * Node 22.15 and later append advice about their own command line to some verification errors
 * ("; if the root CA is installed locally, try running Node.js with --use-system-ca"): no use to
 * a user of the app (Electron's Node) or of an account setting, so it is left out.
 */
const NODE_COMMAND_LINE_ADVICE = /; if the root CA is installed locally, try running Node\.js with --use-system-ca$/;

/** A specific reason for a failed TLS connect, from Node's error (exported for tests). */
export function describeTlsError(error: NodeJS.ErrnoException, serverName: string, where: string): Error {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new Error(`TLS certificate for ${serverName} is not valid for that name: ${error.message}`, { cause: error });
  }
  const certificateCodes = [
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'CERT_UNTRUSTED',
    'CERT_REVOKED',
    'CERT_SIGNATURE_FAILURE',
  ];
  if (certificateCodes.includes(code)) {
    return new Error(`TLS certificate for ${serverName} is not trusted: ${error.message.replace(NODE_COMMAND_LINE_ADVICE, '')}`, { cause: error });
  }
  return new Error(`TLS connect to ${serverName} (${where}) failed: ${error.message}`, { cause: error });
}
