// Free local ports for peers we start. The OS picks (bind port 0); we release and hand the
// number to the peer. A tiny race remains (someone else may take it), so starters retry.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export const LOOPBACK = '127.0.0.1';

export function freeTcpPort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no TCP port from the OS'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export function freeUdpPort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * A port from `probe` that is not in `taken`: consecutive probes may be handed the same released
 * ephemeral port, so draw again (up to 20 times) until it differs.
 */
export async function freePortOtherThan(probe: () => Promise<number>, taken: number[]): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await probe();
    if (!taken.includes(port)) return port;
  }
  throw new Error(`the OS keeps returning ports already taken (${taken.join(', ')})`);
}

/** A port free for both UDP and TCP (SIP peers listen on both with one number). */
export async function freeUdpTcpPort(host = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort(host);
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('could not find a port free for both UDP and TCP');
}

/** Probe until a TCP connect succeeds (or give up at the deadline). */
export async function waitForTcpAccept(host: string, port: number, timeoutMs: number, isDead?: () => boolean): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (isDead?.()) throw new Error(`process died before ${host}:${port} accepted TCP`);
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, host);
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${host}:${port} did not accept TCP within ${timeoutMs} ms: ${String(lastError)}`);
}
