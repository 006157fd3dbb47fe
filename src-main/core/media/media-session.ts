/**
 * The audio of one call: paces frames from an AudioSource through the encoder into RTP, and
 * decodes received RTP into an AudioSink.
 *
 * Sending (states: idle -> running -> stopped; `start` and `stop` are idempotent):
 * - One frame every `ptime` ms. Frame k is due at start + k*ptime on the monotonic clock
 *   (performance.now), and every timer is scheduled from that, not by accumulating intervals,
 *   so timer jitter does not drift the stream.
 * - When the event loop was blocked, overdue frames are sent at once, up to MAX_CATCH_UP; frames
 *   overdue beyond that are read from the source and skipped (timestamp advances, marker on the
 *   next packet) so the RTP timeline stays true to wall time.
 * - When our direction does not include sending (hold, recvonly, inactive) or the peer gave port
 *   0, frames are skipped the same way.
 *
 * Receiving:
 * - Packets with a payload type of our SDP are decoded; telephone-event packets go to
 *   `onTelephoneEvent`; anything else is counted and dropped.
 * - Gaps are filled by timestamp (decoder concealment or silence), so a recording's timeline
 *   matches the sender's. A timestamp jump much larger than the time that actually passed is a
 *   sender discontinuity: then the gap is filled by the real elapsed time instead.
 * - Packets older than the last played one are dropped (no jitter buffer yet). A new SSRC
 *   restarts the timeline.
 *
 * Ownership: the session owns its encoder, decoders and resamplers. It does NOT own the
 * RtpSession, source or sink: whoever created them closes them after `stop()`.
 * Node main thread only.
 */
import { performance } from 'node:perf_hooks';
import type { MediaSummary } from '../../common/contract/contract';
import type { AudioSink, AudioSource } from './audio/audio-port';
import { Resampler } from './audio/resampler';
import type { AudioDecoder, AudioEncoder } from './codecs/audio-codec';
import { timestampDelta } from './rtp/rtp-packet';
import type { ReceivedRtp, RtpSession } from './rtp/rtp-session';
import { formatTransportAddress } from './rtp/rtp-stream-socket';
import type { NegotiatedAudio } from './sdp/offer-answer';

const MAX_CATCH_UP = 5;

export type MediaSessionState = 'idle' | 'running' | 'stopped';

export interface MediaSessionCounters {
  framesSkipped: number;
  unknownPayloadType: number;
  lateDropped: number;
  /** Samples (at the decoder's rate) of gap filled with concealment or silence. */
  samplesConcealed: number;
}

export interface MediaSessionOptions {
  rtp: RtpSession;
  negotiated: NegotiatedAudio;
  source: AudioSource;
  sink: AudioSink;
  log?: (message: string) => void;
}

interface ReceiveTimeline {
  ssrc: number;
  /** RTP timestamp the next packet should carry if nothing was lost. */
  expectedTimestamp: number;
  lastArrival: number;
}

export class MediaSession {
  readonly counters: MediaSessionCounters = { framesSkipped: 0, unknownPayloadType: 0, lateDropped: 0, samplesConcealed: 0 };
  /** RFC 4733 packets (payload, RTP header fields) for a future DTMF receiver. */
  onTelephoneEvent: ((payload: Uint8Array, timestamp: number, marker: boolean) => void) | undefined;
  private negotiated: NegotiatedAudio;
  private readonly rtp: RtpSession;
  private readonly source: AudioSource;
  private readonly sink: AudioSink;
  private readonly log: (message: string) => void;
  private stateValue: MediaSessionState = 'idle';
  private encoder: AudioEncoder;
  private readonly decoders = new Map<number, AudioDecoder>();
  private sourceResampler: Resampler | undefined;
  private sinkResamplers = new Map<number, Resampler>();
  private sourceFifo = new Int16Array(0);
  private startTime = 0;
  private framesDone = 0;
  private timer: NodeJS.Timeout | undefined;
  private timeline: ReceiveTimeline | undefined;
  private readonly loggedOnce = new Set<string>();

  constructor(options: MediaSessionOptions) {
    this.rtp = options.rtp;
    this.source = options.source;
    this.sink = options.sink;
    this.negotiated = options.negotiated;
    this.log = options.log ?? ((message) => console.warn(message));
    this.encoder = this.negotiated.send.codec.createEncoder();
    this.configureSourceResampler();
    this.rtp.socket.setRemote(this.negotiated.remoteRtp);
    this.rtp.onPacket((rtp) => this.onRtp(rtp));
  }

  get state(): MediaSessionState {
    return this.stateValue;
  }

  get firstPacketSent(): Promise<number> {
    return this.rtp.firstPacketSent;
  }

  get firstPacketReceived(): Promise<number> {
    return this.rtp.firstPacketReceived;
  }

  get params(): Readonly<NegotiatedAudio> {
    return this.negotiated;
  }

  summary(): MediaSummary {
    const remote = this.rtp.socket.remote ?? this.negotiated.remoteRtp;
    return {
      codec: this.negotiated.send.codec.info.encodingName,
      localRtp: formatTransportAddress(this.rtp.socket.local),
      remoteRtp: formatTransportAddress(remote),
      packetsSent: this.rtp.counters.packetsSent,
      packetsReceived: this.rtp.counters.packetsReceived,
    };
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'running';
    this.startTime = performance.now();
    this.framesDone = 0;
    this.tick();
  }

  /** Apply a new negotiation (re-INVITE): codec, remote address, direction, ptime may change. */
  update(negotiated: NegotiatedAudio): void {
    const previous = this.negotiated;
    this.negotiated = negotiated;
    const remoteChanged =
      previous.remoteRtp.address !== negotiated.remoteRtp.address || previous.remoteRtp.port !== negotiated.remoteRtp.port;
    if (remoteChanged) this.rtp.socket.setRemote(negotiated.remoteRtp);
    if (previous.send.codec !== negotiated.send.codec) {
      this.encoder.close();
      this.encoder = negotiated.send.codec.createEncoder();
      this.configureSourceResampler();
    }
    for (const [pt, decoder] of this.decoders) {
      const before = previous.receive.find((r) => r.payloadType === pt)?.codec;
      const after = negotiated.receive.find((r) => r.payloadType === pt)?.codec;
      if (before !== after) {
        decoder.close();
        this.decoders.delete(pt);
        this.sinkResamplers.delete(pt);
      }
    }
    if (previous.ptime !== negotiated.ptime && this.stateValue === 'running') {
      // Re-base the pacing clock on the new frame duration.
      this.startTime = performance.now();
      this.framesDone = 0;
    }
  }

  /** Stop sending and receiving. Does not close the RTP session, source or sink. */
  stop(): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.rtp.onPacket(() => undefined);
    this.encoder.close();
    for (const decoder of this.decoders.values()) decoder.close();
    this.decoders.clear();
  }

  private logOnce(key: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log(message);
  }

  private configureSourceResampler(): void {
    const rate = this.negotiated.send.codec.info.sampleRate;
    this.sourceResampler = this.source.sampleRate === rate ? undefined : new Resampler(this.source.sampleRate, rate);
    this.sourceFifo = new Int16Array(0);
  }

  private get sending(): boolean {
    const d = this.negotiated.direction;
    return (d === 'sendrecv' || d === 'sendonly') && this.negotiated.remoteRtp.port !== 0;
  }

  private get receiving(): boolean {
    const d = this.negotiated.direction;
    return d === 'sendrecv' || d === 'recvonly';
  }

  /** One frame of source audio at the codec's sample rate. */
  private readFrame(samples: number): Int16Array {
    if (!this.sourceResampler) {
      const frame = new Int16Array(samples);
      this.readSource(frame);
      return frame;
    }
    const chunk = Math.max(1, Math.round((this.source.sampleRate * this.negotiated.ptime) / 1000));
    while (this.sourceFifo.length < samples) {
      const input = new Int16Array(chunk);
      this.readSource(input);
      const converted = this.sourceResampler.process(input);
      const grown = new Int16Array(this.sourceFifo.length + converted.length);
      grown.set(this.sourceFifo);
      grown.set(converted, this.sourceFifo.length);
      this.sourceFifo = grown;
    }
    const frame = this.sourceFifo.slice(0, samples);
    this.sourceFifo = this.sourceFifo.slice(samples);
    return frame;
  }

  private readSource(frame: Int16Array): void {
    try {
      this.source.read(frame);
    } catch (error) {
      this.logOnce('source', `Audio source failed, sending silence: ${(error as Error).message}`);
      frame.fill(0);
    }
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stateValue !== 'running') return;
    const { ptime, send } = this.negotiated;
    const info = send.codec.info;
    const frameSamples = (info.sampleRate * ptime) / 1000;
    const timestampIncrement = (info.rtpClockRate * ptime) / 1000;
    const now = performance.now();
    const due = Math.floor((now - this.startTime) / ptime) + 1;
    let overdue = due - this.framesDone;
    while (overdue > MAX_CATCH_UP) {
      this.readFrame(frameSamples); // keep the source aligned with wall time
      this.rtp.skip(timestampIncrement);
      this.counters.framesSkipped++;
      this.framesDone++;
      overdue--;
    }
    for (; overdue > 0; overdue--) {
      const frame = this.readFrame(frameSamples);
      if (this.sending) {
        this.rtp.sendFrame(send.payloadType, this.encoder.encode(frame), timestampIncrement);
      } else {
        this.rtp.skip(timestampIncrement);
        this.counters.framesSkipped++;
      }
      this.framesDone++;
    }
    const nextDue = this.startTime + this.framesDone * ptime;
    this.timer = setTimeout(() => this.tick(), Math.max(0, nextDue - performance.now()));
  }

  private onRtp({ packet, receivedAt }: ReceivedRtp): void {
    if (this.stateValue === 'stopped' || !this.receiving) return;
    const te = this.negotiated.telephoneEvent;
    if (te && packet.payloadType === te.receivePayloadType) {
      this.onTelephoneEvent?.(packet.payload, packet.timestamp, packet.marker);
      return;
    }
    const entry = this.negotiated.receive.find((r) => r.payloadType === packet.payloadType);
    if (!entry) {
      this.counters.unknownPayloadType++;
      return;
    }
    const info = entry.codec.info;
    let decoder = this.decoders.get(packet.payloadType);
    if (!decoder) {
      decoder = entry.codec.createDecoder();
      this.decoders.set(packet.payloadType, decoder);
    }
    const timeline = this.timeline;
    if (timeline && timeline.ssrc === packet.ssrc) {
      const gap = timestampDelta(timeline.expectedTimestamp, packet.timestamp);
      if (gap < 0) {
        this.counters.lateDropped++;
        return;
      }
      if (gap > 0) {
        const elapsed = ((receivedAt - timeline.lastArrival) * info.rtpClockRate) / 1000;
        // A jump far beyond the time that passed is a sender discontinuity, not lost packets.
        const fill = gap <= elapsed + info.rtpClockRate ? gap : Math.max(0, elapsed - (info.rtpClockRate * this.negotiated.ptime) / 1000);
        const samples = Math.round((fill * info.sampleRate) / info.rtpClockRate);
        if (samples > 0) {
          this.counters.samplesConcealed += samples;
          this.play(packet.payloadType, info.sampleRate, decoder.conceal?.(samples) ?? new Int16Array(samples));
        }
      }
    }
    let pcm: Int16Array;
    try {
      pcm = decoder.decode(packet.payload);
    } catch (error) {
      this.logOnce(`decode-${packet.payloadType}`, `Cannot decode ${info.encodingName} payload: ${(error as Error).message}`);
      return;
    }
    this.timeline = {
      ssrc: packet.ssrc,
      expectedTimestamp: (packet.timestamp + Math.round((pcm.length * info.rtpClockRate) / info.sampleRate)) >>> 0,
      lastArrival: receivedAt,
    };
    this.play(packet.payloadType, info.sampleRate, pcm);
  }

  private play(payloadType: number, rate: number, pcm: Int16Array): void {
    let out = pcm;
    if (rate !== this.sink.sampleRate) {
      let resampler = this.sinkResamplers.get(payloadType);
      if (!resampler) {
        resampler = new Resampler(rate, this.sink.sampleRate);
        this.sinkResamplers.set(payloadType, resampler);
      }
      out = resampler.process(pcm);
    }
    if (out.length === 0) return;
    try {
      this.sink.write(out);
    } catch (error) {
      this.logOnce('sink', `Audio sink failed: ${(error as Error).message}`);
    }
  }
}
