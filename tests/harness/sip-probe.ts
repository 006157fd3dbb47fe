// Minimal SIP OPTIONS over UDP, only to learn that a peer is up (any response counts).
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

/** The text of a minimal OPTIONS request (RFC 3261 8.1.1 mandatory headers, no body). */
export function optionsRequest(o: { requestUri: string; toUri?: string; via: string; fromHost: string; callId: string; rport?: boolean }): string {
  return [
    `OPTIONS ${o.requestUri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.via};branch=z9hG4bK${randomBytes(6).toString('hex')}${o.rport ? ';rport' : ''}`,
    'Max-Forwards: 70',
    `From: <sip:probe@${o.fromHost}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <${o.toUri ?? o.requestUri}>`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export async function sipOptionsResponds(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const localPort = socket.address().port;
  const message = optionsRequest({
    requestUri: `sip:${host}:${port}`,
    via: `127.0.0.1:${localPort}`,
    fromHost: '127.0.0.1',
    callId: randomBytes(8).toString('hex'),
    rport: true,
  });
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on('message', (data) => {
        clearTimeout(timer);
        resolve(data.toString().split('\r\n')[0]);
      });
      socket.send(message, port, host, (error) => {
        if (error) {
          clearTimeout(timer);
          resolve(undefined);
        }
      });
    });
  } finally {
    socket.close();
  }
}
