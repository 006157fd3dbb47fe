/**
 * The least CPU a Node program spends on one call's packet I/O, woken as the headless is: one
 * 172-byte datagram (a G.711 RTP packet) each way every 20 ms, no media work at all. Run in pairs
 * by call-cpu-bench.ts, which measures the `paced` one:
 *   node node-io-floor.mjs LOCAL_PORT PEER_PORT clock|paced [WATCHDOG_MS]
 * - clock: sends on a 20 ms timer (the far end, like baresip's audio clock);
 * - paced: sends one packet per packet received, as the headless does once the far end's packets
 *   pace it (media-session.ts, "Pacing"), with the same watchdog that would send on its own if
 *   they stopped, every WATCHDOG_MS (the bench passes the headless's for a G.711 stream that never
 *   stopped, ARRIVAL_WATCHDOG_LONG_MS). One wake-up a frame plus the watchdog's. Its first
 *   arrival connects its socket to the peer, as a headless RTP socket's first packet latches and
 *   connects it (rtp-stream-socket.ts): from then on sends carry no address.
 * Loopback only. Exits when stdin closes (the bench ends it).
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

const [localPort, peerPort] = process.argv.slice(2, 4).map(Number);
const role = process.argv[4];
const watchdogMs = Number(process.argv[5] ?? 0);
if (!Number.isInteger(localPort) || !Number.isInteger(peerPort) || (role !== 'clock' && role !== 'paced') || (role === 'paced' && !(watchdogMs > 0))) {
  process.stderr.write('usage: node node-io-floor.mjs LOCAL_PORT PEER_PORT clock|paced [WATCHDOG_MS, required with paced]\n');
  process.exit(2);
}
// Destinations are IP literals, answered at once as the headless's RTP sockets do
// (rtp-stream-socket.ts): dgram's default dns.lookup would defer every send by a tick.
const socket = createSocket({ type: 'udp4', lookup: (hostname, _family, callback) => callback(null, hostname, 4) });
socket.on('error', (error) => {
  // Connected, the peer's ICMP port-unreachable surfaces here (it stopped first at the end).
  if (error.code === 'ECONNREFUSED') return;
  process.stderr.write(`node-io-floor: ${error.message}\n`);
  process.exit(1);
});
const packet = Buffer.alloc(172);
let received = 0;
let sent = 0;
let lastArrival = 0;
let connected = false;
const send = () => {
  sent++;
  if (connected) socket.send(packet);
  else socket.send(packet, peerPort, '127.0.0.1');
};
socket.on('message', () => {
  received++;
  lastArrival = performance.now();
  if (role !== 'paced') return;
  if (!connected) {
    socket.connect(peerPort, '127.0.0.1'); // at once: the lookup above answers IP literals synchronously
    connected = true;
  }
  send();
});
socket.bind(localPort, '127.0.0.1', () => {
  const start = performance.now();
  let timer;
  if (role === 'clock') {
    const tick = () => {
      send();
      timer = setTimeout(tick, start + sent * 20 - performance.now());
    };
    timer = setTimeout(tick, 20);
  } else {
    // The watchdog: without arrivals for a frame and more, send on its own.
    timer = setInterval(() => {
      if (performance.now() - lastArrival > 30) send();
    }, watchdogMs);
  }
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearTimeout(timer);
    socket.close();
    process.stdout.write(`${JSON.stringify({ sent, received })}\n`);
  });
});
