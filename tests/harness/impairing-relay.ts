// A UDP relay of our own that impairs traffic in both directions: loss, delay, jitter, reordering.
//
//   client ──▶ relay.port ──(impair)──▶ target        (client = last address that sent to relay.port)
//   client ◀── relay.port ◀─(impair)── upstream socket ◀── target
//
// Put it between our softphone and a peer by giving the softphone relay.host:relay.port instead
// of the peer's address (e.g. as RTP destination or SIP proxy). One relay = one client↔target pair.
// Decisions come from a seeded PRNG, one draw sequence per direction, so a given seed and packet
// sequence always drops/reorders the same packets (delivery timing still depends on timers).
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { LOOPBACK } from './ports';
import { seededRandom } from './seeded-random';

export interface ImpairmentOptions {
  lossPercent?: number; // 0..100, each packet independently
  delayMs?: number; // fixed one-way delay added to every forwarded packet
  jitterMs?: number; // extra uniform random delay 0..jitterMs (may reorder on its own)
  reorderPercent?: number; // 0..100: packet is held back and sent right after the next one
  seed?: number;
}

export interface RelayStats {
  forwarded: number;
  dropped: number;
  reordered: number;
  /** Per direction: toTarget = client→target, toClient = target→client. */
  toTarget: { forwarded: number; dropped: number; reordered: number };
  toClient: { forwarded: number; dropped: number; reordered: number };
}

export interface ImpairingRelay {
  host: string;
  port: number;
  stats(): RelayStats;
  /** Change impairment on the fly (e.g. loss only after the call is up). */
  setImpairment(options: Omit<ImpairmentOptions, 'seed'>): void;
  stop(): Promise<void>;
}

function checkOptions(options: ImpairmentOptions): void {
  for (const key of ['lossPercent', 'reorderPercent'] as const) {
    const v = options[key];
    if (v !== undefined && !(v >= 0 && v <= 100)) throw new Error(`impairing relay: ${key} must be within 0..100 (got ${v})`);
  }
  for (const key of ['delayMs', 'jitterMs'] as const) {
    const v = options[key];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new Error(`impairing relay: ${key} must be >= 0 (got ${v})`);
  }
}

class Direction {
  readonly counts = { forwarded: 0, dropped: 0, reordered: 0 };
  private held: Buffer | undefined;
  private heldTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly random: () => number,
    private readonly impairment: () => ImpairmentOptions,
    private readonly send: (packet: Buffer) => void,
  ) {}

  push(packet: Buffer): void {
    const { lossPercent = 0, reorderPercent = 0 } = this.impairment();
    // always draw both numbers so the decision sequence does not depend on the settings mix
    const lossDraw = this.random() * 100;
    const reorderDraw = this.random() * 100;
    if (lossDraw < lossPercent) {
      this.counts.dropped++;
      return;
    }
    if (this.held === undefined && reorderDraw < reorderPercent) {
      this.held = packet;
      this.counts.reordered++;
      // never hold forever: if no next packet comes, release it after 200 ms
      this.heldTimer = setTimeout(() => this.releaseHeld(), 200);
      return;
    }
    this.schedule(packet);
    this.releaseHeld();
  }

  private releaseHeld(): void {
    if (this.held === undefined) return;
    clearTimeout(this.heldTimer);
    const packet = this.held;
    this.held = undefined;
    this.schedule(packet);
  }

  private schedule(packet: Buffer): void {
    const { delayMs = 0, jitterMs = 0 } = this.impairment();
    const wait = delayMs + this.random() * jitterMs;
    this.counts.forwarded++;
    if (wait <= 0) {
      this.send(packet);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.send(packet);
    }, wait);
    this.timers.add(timer);
  }

  stop(): void {
    clearTimeout(this.heldTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function bindUdp(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
}

export async function startImpairingRelay(options: { target: { host: string; port: number }; host?: string } & ImpairmentOptions): Promise<ImpairingRelay> {
  checkOptions(options);
  const { target } = options;
  if (!target || !Number.isInteger(target.port) || target.port <= 0 || target.port > 65535) {
    throw new Error(`impairing relay: bad target ${JSON.stringify(target)}`);
  }
  const host = options.host ?? LOOPBACK;
  let impairment: ImpairmentOptions = { ...options };
  const seed = options.seed ?? 1;
  const front = await bindUdp(host); // the client talks to this one
  const upstream = await bindUdp(host); // talks to the target
  let client: RemoteInfo | undefined;
  const log = (where: string, error: Error): void => console.error(`[harness] impairing relay ${host}:${front.address().port} ${where}: ${error.message}`);
  front.on('error', (e) => log('front socket', e));
  upstream.on('error', (e) => log('upstream socket', e));

  const toTarget = new Direction(seededRandom(seed), () => impairment, (p) => upstream.send(p, target.port, target.host));
  const toClient = new Direction(seededRandom(seed ^ 0x5bd1e995), () => impairment, (p) => {
    if (client) front.send(p, client.port, client.address);
  });
  front.on('message', (packet, rinfo) => {
    client = rinfo;
    toTarget.push(packet);
  });
  upstream.on('message', (packet, rinfo) => {
    if (rinfo.address !== target.host || rinfo.port !== target.port) return; // only the target's packets
    if (!client) return; // nobody to deliver to yet
    toClient.push(packet);
  });
  let stopped = false;
  return {
    host,
    port: front.address().port,
    stats: () => ({
      forwarded: toTarget.counts.forwarded + toClient.counts.forwarded,
      dropped: toTarget.counts.dropped + toClient.counts.dropped,
      reordered: toTarget.counts.reordered + toClient.counts.reordered,
      toTarget: { ...toTarget.counts },
      toClient: { ...toClient.counts },
    }),
    setImpairment(next) {
      checkOptions(next);
      impairment = { ...impairment, ...next };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      toTarget.stop();
      toClient.stop();
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => upstream.close(() => r()))]);
    },
  };
}
