/**
 * The least CPU any Node program can spend on one call's packet I/O: a 20 ms timer that sends one
 * 172-byte datagram (a G.711 RTP packet) per tick to a peer doing the same, and a 'message'
 * handler that receives the peer's. No media work at all. Run in pairs by call-cpu-bench.ts:
 *   node node-io-floor.mjs LOCAL_PORT PEER_PORT
 * Loopback only. Exits when stdin closes (the bench ends it).
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

const [localPort, peerPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(localPort) || !Number.isInteger(peerPort)) {
  process.stderr.write('usage: node node-io-floor.mjs LOCAL_PORT PEER_PORT\n');
  process.exit(2);
}
const socket = createSocket('udp4');
socket.on('error', (error) => {
  process.stderr.write(`node-io-floor: ${error.message}\n`);
  process.exit(1);
});
let received = 0;
socket.on('message', () => received++);
socket.bind(localPort, '127.0.0.1', () => {
  const packet = Buffer.alloc(172);
  const start = performance.now();
  let frames = 0;
  const tick = () => {
    frames++;
    socket.send(packet, peerPort, '127.0.0.1');
    timer = setTimeout(tick, start + frames * 20 - performance.now());
  };
  let timer = setTimeout(tick, 20);
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearTimeout(timer);
    socket.close();
    process.stdout.write(`${JSON.stringify({ sent: frames, received })}\n`);
  });
});
