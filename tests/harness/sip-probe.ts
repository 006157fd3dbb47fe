// Minimal SIP OPTIONS over UDP, only to learn that a peer is up (any response counts).
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export async function sipOptionsResponds(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const localPort = socket.address().port;
  const branch = 'z9hG4bK' + randomBytes(6).toString('hex');
  const callId = randomBytes(8).toString('hex');
  const message = [
    `OPTIONS sip:${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${host}:${port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
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
