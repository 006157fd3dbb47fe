/**
 * Issue "media engine" figure (6), in-process with the real media path (MediaSession: pacing,
 * encoder, RTP socket, jitter buffer, playout clock):
 *
 * - Jitter-buffer delay distribution: a sending MediaSession streams to a receiving one over
 *   loopback, (a) directly ("clean") and (b) through the harness's impairing UDP relay ("jittery":
 *   uniform extra delay, some loss). The receiver's jitter buffer is sampled every 20 ms while
 *   playing, after its first 50 packets (start-up floor): playoutDelayMs (fastest-path arrival ->
 *   device pull, the receive side's share of mouth-to-ear), currentDelayMs (the same measured at
 *   arrival, without the wait for the pull) and targetDelayMs (the slack the buffer keeps). Both
 *   links run at the same time.
 * - Capture-to-wire delay: from the moment the media session reads a frame from its audio source
 *   (right before encoding) to the moment that frame's RTP packet is received on a plain UDP socket
 *   in this process (so it includes encode, packetize, send syscall, loopback and the event-loop
 *   turn of the receiver: an upper bound of "frame in → packet on the wire"). Matched by RTP
 *   timestamp.
 *
 * baresip has no equivalent that can be read from outside its process; the report says so.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { AudioSource } from '../../src-main/core/media/audio/audio-port';
import { NullSink } from '../../src-main/core/media/audio/null-sink';
import type { AudioCodec } from '../../src-main/core/media/codecs/audio-codec';
import { MediaSession } from '../../src-main/core/media/media-session';
import { RtpSession } from '../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket, type TransportAddress } from '../../src-main/core/media/rtp/rtp-stream-socket';
import { startImpairingRelay, type ImpairmentOptions } from '../harness/network';
import { LOOPBACK } from '../harness/ports';
import type { BenchCodec } from './bench-codecs';
import { distribution, type Distribution } from './stats';
import { speechLikeSamples } from './test-signal';
import { sleep } from './wall-clock';

const PAYLOAD_TYPE = 96;
export const JITTERY_LINK: ImpairmentOptions = { delayMs: 10, jitterMs: 60, lossPercent: 1, seed: 42 };

/** Plays a signal in a loop; calls `onRead` with each frame's read time (before encoding). */
class SignalSource implements AudioSource {
  private position = 0;
  constructor(
    readonly sampleRate: number,
    private readonly signal: Int16Array,
    private readonly onRead?: () => void,
  ) {}
  read(frame: Int16Array): void {
    this.onRead?.();
    for (let i = 0; i < frame.length; i++) {
      frame[i] = this.signal[this.position]!;
      this.position = (this.position + 1) % this.signal.length;
    }
  }
  async close(): Promise<void> {
    // Nothing to release.
  }
}

interface Endpoint {
  rtp: RtpSession;
  media?: MediaSession;
}

async function openEndpoint(): Promise<Endpoint> {
  return { rtp: new RtpSession(await RtpStreamSocket.open(LOOPBACK, 64, false)) };
}

function startMedia(endpoint: Endpoint, codec: AudioCodec, remote: TransportAddress, source: AudioSource, direction: 'sendonly' | 'recvonly'): MediaSession {
  const media = new MediaSession({
    rtp: endpoint.rtp,
    negotiated: {
      send: { codec, payloadType: PAYLOAD_TYPE },
      receive: [{ codec, payloadType: PAYLOAD_TYPE }],
      ptime: 20,
      remoteRtp: remote,
      rtcpMux: true,
      direction,
    },
    source,
    sink: new NullSink(codec.info.sampleRate),
    log: (message) => console.error(`[bench media] ${message}`),
  });
  endpoint.media = media;
  media.start();
  return media;
}

async function closeEndpoint(endpoint: Endpoint): Promise<void> {
  endpoint.media?.stop();
  await endpoint.rtp.close();
}

export interface JitterDelayFigures {
  link: string;
  currentDelayMs?: Distribution;
  /** Fastest-path arrival -> handed to the device (includes the wait for the device's pull). */
  playoutDelayMs?: Distribution;
  targetDelayMs?: Distribution;
  lost: number;
  late: number;
  concealed: number;
  expandRate: number;
  received: number;
}

async function oneLink(codec: AudioCodec, seconds: number, impairment: ImpairmentOptions | undefined): Promise<JitterDelayFigures> {
  const sender = await openEndpoint();
  const receiver = await openEndpoint();
  const relay = impairment ? await startImpairingRelay({ target: { host: receiver.rtp.socket.local.address, port: receiver.rtp.socket.local.port }, ...impairment }) : undefined;
  const signal = speechLikeSamples(codec.info.sampleRate, 10);
  const current: number[] = [];
  const playout: number[] = [];
  const target: number[] = [];
  try {
    // One-way: the receiver sends nothing (port 0), else the sender's symmetric-RTP latching would
    // lock onto the receiver's real address and bypass the relay.
    const receiving = startMedia(receiver, codec, { address: LOOPBACK, port: 0 }, new SignalSource(codec.info.sampleRate, signal), 'recvonly');
    const destination = relay ? { address: relay.host, port: relay.port } : receiver.rtp.socket.local;
    startMedia(sender, codec, destination, new SignalSource(codec.info.sampleRate, signal), 'sendonly');
    const sampler = setInterval(() => {
      const stats = receiving.jitterBufferStats();
      // skip the first 50 packets: the buffer's start-up floor, not the link, sets the delay then
      if (stats?.state !== 'playing' || stats.received < 50) return;
      current.push(stats.currentDelayMs);
      if (stats.playoutDelayMs !== undefined) playout.push(stats.playoutDelayMs);
      target.push(stats.targetDelayMs);
    }, 20);
    await sleep(seconds * 1000);
    clearInterval(sampler);
    const final = receiving.jitterBufferStats();
    return {
      link: impairment ? `jittery (relay: +${impairment.delayMs} ms, uniform 0-${impairment.jitterMs} ms jitter, ${impairment.lossPercent} % loss)` : 'clean (direct loopback)',
      currentDelayMs: distribution(current),
      playoutDelayMs: distribution(playout),
      targetDelayMs: distribution(target),
      lost: final?.lost ?? 0,
      late: final?.late ?? 0,
      concealed: final?.concealed ?? 0,
      expandRate: final?.expandRate ?? 0,
      received: final?.received ?? 0,
    };
  } finally {
    await closeEndpoint(sender);
    await closeEndpoint(receiver);
    await relay?.stop();
  }
}

/** Clean and jittery links at the same time, `seconds` each. */
export async function benchJitterDelay(codec: BenchCodec, seconds: number): Promise<JitterDelayFigures[]> {
  return Promise.all([oneLink(codec.codec, seconds, undefined), oneLink(codec.codec, seconds, JITTERY_LINK)]);
}

export interface CaptureToWire {
  codec: string;
  delayMs?: Distribution;
}

function bindReceiver(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
}

export async function benchCaptureToWire(codec: BenchCodec, seconds: number): Promise<CaptureToWire> {
  const sender = await openEndpoint();
  const receiver = await bindReceiver();
  const readAt = new Map<number, number>();
  const delays: number[] = [];
  receiver.on('message', (data) => {
    const arrived = performance.now();
    if (data.length < 12 || (data[1]! & 0x7f) !== PAYLOAD_TYPE) return; // RTCP
    const timestamp = data.readUInt32BE(4);
    const read = readAt.get(timestamp);
    if (read === undefined) return;
    readAt.delete(timestamp);
    delays.push(arrived - read);
  });
  try {
    const info = codec.codec.info;
    const signal = speechLikeSamples(info.sampleRate, 10);
    // The source is read right before encoding; the next packet carries the current send timestamp.
    const source = new SignalSource(info.sampleRate, signal, () => readAt.set(sender.rtp.sendState.timestamp, performance.now()));
    startMedia(sender, codec.codec, { address: LOOPBACK, port: receiver.address().port }, source, 'sendonly');
    await sleep(seconds * 1000);
  } finally {
    await closeEndpoint(sender);
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
  return { codec: codec.name, delayMs: distribution(delays) };
}
