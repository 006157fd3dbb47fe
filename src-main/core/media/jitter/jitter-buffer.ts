/**
 * Adaptive jitter buffer for one received RTP audio stream (one payload type / codec).
 *
 * push() is called when a packet arrives (with its arrival time in ms on any monotonic clock);
 * pull(n) is called by the playout device clock and ALWAYS returns exactly n samples at the codec's
 * PCM rate: decoded audio, concealment, or silence. It never blocks and never starves the device.
 *
 * Playout state machine (PlayoutState):
 *   idle      --first packet-->                                  buffering
 *   buffering --buffered audio >= target delay (at a pull)-->    playing   (anchored on the oldest packet)
 *   playing   --next packet starts a talkspurt (marker bit) after a gap,
 *               or the timeline jumps by more than maxDelayMs-->  buffering (silence until re-anchored)
 *   any       --SSRC change-->                                   buffering (decoder re-created)
 * While buffering the output is silence; while playing, a missing frame is concealed (codec conceal()
 * when the decoder has it, else GenericPlc) and counted as lost if later packets are already here;
 * with nothing buffered at all (underrun: network stall or DTX) it is concealed WITHOUT advancing the
 * timeline, so a merely delayed packet still plays (the delay grows and is trimmed again later).
 *
 * Delay:
 * - target = percentile-95 jitter over a 5 s window + one frame, within [minDelayMs, maxDelayMs],
 *   and at least startupDelayMs for a stream's first 50 packets (DelayEstimator). It is applied fully at talkspurt starts (re-anchoring), and followed in between
 *   by time-scaling decoded frames by one pitch period (time-scale.ts: only in silence or periodic
 *   audio) when the current delay leaves [target - EXPAND_BELOW_MS, target + ACCELERATE_ABOVE_MS].
 * - current delay = how long after the fastest-path arrival a packet is played, measured at each
 *   push: (packet media time - playout position) + (its transit - min transit), smoothed.
 * - Clock drift: a far end running fast/slow by some ppm makes the current delay creep up/down; the
 *   same time-scaling removes/inserts a pitch period now and then (at 500 ppm: ~0.5 ms per second).
 *
 * Stats: `lost` counts frames missing at their playout time while later packets were present;
 * `late` counts packets that arrived after their playout time (a late packet was usually counted as
 * lost first). `expandRate` = (concealed + time-stretch-inserted samples) / all samples output.
 *
 * Ownership: owns its decoder (created from the codec, closed by close()). Node main thread only.
 */
import type { AudioCodec, AudioDecoder } from '../codecs/audio-codec';
import { DelayEstimator } from './delay-estimator';
import { GenericPlc } from './generic-plc';
import { RtpUnwrapper } from './rtp-unwrapper';
import { lengthenFrame, shortenFrame } from './time-scale';

export interface RtpAudioPacket {
  seq: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
  /** Arrival time in ms (monotonic clock, same clock for every push of this buffer). */
  arrivalMs: number;
}

export interface JitterBufferOptions {
  /** Lower bound of the target delay. Default 20 ms. */
  minDelayMs?: number;
  /** Upper bound of the target delay; packets further ahead are discarded. Default 400 ms. */
  maxDelayMs?: number;
  /** Window over which jitter is measured. Default 5000 ms. */
  windowMs?: number;
  /** Jitter percentile the target covers. Default 95. */
  percentile?: number;
  /** Target delay floor for the first 50 packets of a stream, before jitter is known. Default 60 ms. */
  startupDelayMs?: number;
  /** Frame duration assumed until the first packet is decoded. Default 20 ms. */
  frameMs?: number;
  /** Where decode errors are reported (the frame is then concealed). Default console.warn. */
  onDecodeError?: (error: Error) => void;
}

export type PlayoutState = 'idle' | 'buffering' | 'playing';

export interface JitterBufferStats {
  state: PlayoutState;
  /** Current playout delay above the fastest network path (smoothed), measured at packet arrival. */
  currentDelayMs: number;
  /**
   * Fastest-path arrival -> handed to the device, measured at each pull given the device time
   * (smoothed). Unlike currentDelayMs it includes the wait for the device's next pull, so it is the
   * receive side's share of mouth-to-ear delay. Undefined until such a pull while playing.
   */
  playoutDelayMs: number | undefined;
  targetDelayMs: number;
  received: number;
  late: number;
  lost: number;
  /** Frames produced by concealment (loss, underrun, decode error). */
  concealed: number;
  /** (concealed + inserted samples) / output samples, 0..1. */
  expandRate: number;
  /** Samples removed / inserted by time-scaling (delay adaptation, drift). */
  acceleratedSamples: number;
  expandedSamples: number;
  duplicates: number;
  reordered: number;
  underruns: number;
  /** Packets dropped unplayed because the delay exceeded maxDelayMs. */
  discarded: number;
  ssrcChanges: number;
  decodeErrors: number;
}

interface QueuedPacket {
  extSeq: number;
  extTs: number;
  marker: boolean;
  payload: Uint8Array;
}

/**
 * Leave the delay alone within [target - EXPAND_BELOW_MS, target + ACCELERATE_ABOVE_MS]. Below
 * target means packets start arriving too late, so react at once; above it costs latency, which is
 * what the user hears, so trim it too, but only by a step (one pitch period, <= 15 ms) that does not
 * land below the band: steps never ping-pong, and the delay settles within one pitch period above
 * the target instead of anywhere in a wide band.
 */
const EXPAND_BELOW_MS = 2;
const ACCELERATE_ABOVE_MS = 2;
/** Smoothing of the per-packet delay measurements (EMA weight of a new sample). */
const DELAY_SMOOTHING = 1 / 16;
/** How many played sequence numbers are remembered to tell duplicates from late packets. */
const PLAYED_MEMORY = 512;

export class JitterBuffer {
  private readonly sampleRate: number;
  private readonly clockRate: number;
  /** PCM samples per RTP timestamp unit (2 for G.722, 1 otherwise). */
  private readonly ratio: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onDecodeError: (error: Error) => void;
  private readonly estimator: DelayEstimator;
  private readonly plc: GenericPlc;
  private decoder: AudioDecoder;

  private state: PlayoutState = 'idle';
  private ssrc: number | undefined;
  private seqs = new RtpUnwrapper(16);
  private timestamps = new RtpUnwrapper(32);
  private highestSeq = -Infinity;
  private latestEndTs = -Infinity;
  /** Packets waiting to be played, sorted by extended timestamp. */
  private queue: QueuedPacket[] = [];
  private played = new Set<number>();
  private playedOrder: number[] = [];
  /** Extended RTP timestamp of the next frame to decode (valid while playing). */
  private nextTs = 0;
  /** Frame length in RTP timestamp units, learned from decoded frames. */
  private frameTs: number;
  private delayMs: number | undefined;
  private playoutDelayMs: number | undefined;
  private underrun = false;
  /**
   * Timestamp units concealed during the current underrun (timeline held). If the packets that were
   * missing turn out to be lost, that concealment already stood in for them and is not repeated.
   */
  private heldTs = 0;
  /** The current underrun episode was counted in `underruns` (undone if it turns out to be a loss). */
  private underrunCounted = false;
  /** Everything before this timestamp has been played or skipped; older packets are late. */
  private playedFloorTs = -Infinity;

  /** Decoded PCM waiting for pull(). */
  private pending: Int16Array[] = [];
  private pendingOffset = 0;
  private pendingLength = 0;

  private readonly counters = {
    received: 0,
    late: 0,
    lost: 0,
    concealed: 0,
    duplicates: 0,
    reordered: 0,
    underruns: 0,
    discarded: 0,
    ssrcChanges: 0,
    decodeErrors: 0,
    acceleratedSamples: 0,
    expandedSamples: 0,
    concealedSamples: 0,
    outputSamples: 0,
  };

  constructor(
    private readonly codec: AudioCodec,
    options: JitterBufferOptions = {},
  ) {
    this.sampleRate = codec.info.sampleRate;
    this.clockRate = codec.info.rtpClockRate;
    this.ratio = this.sampleRate / this.clockRate;
    this.minDelayMs = options.minDelayMs ?? 20;
    this.maxDelayMs = options.maxDelayMs ?? 400;
    if (!(this.minDelayMs >= 0 && this.maxDelayMs >= this.minDelayMs)) {
      throw new RangeError(`jitter buffer delay bounds invalid: min ${this.minDelayMs}, max ${this.maxDelayMs}`);
    }
    this.frameTs = Math.round(((options.frameMs ?? 20) * this.clockRate) / 1000);
    this.onDecodeError =
      options.onDecodeError ?? ((error) => console.warn(`[jitter] ${codec.info.encodingName}: ${error.message}`));
    this.estimator = new DelayEstimator({
      windowMs: options.windowMs ?? 5000,
      percentile: options.percentile ?? 95,
      minDelayMs: this.minDelayMs,
      maxDelayMs: this.maxDelayMs,
      startupDelayMs: options.startupDelayMs ?? 60,
      warmupPackets: 50,
    });
    this.plc = new GenericPlc(this.sampleRate);
    this.decoder = codec.createDecoder();
  }

  push(packet: RtpAudioPacket): void {
    if (!Number.isFinite(packet.arrivalMs)) throw new RangeError(`arrivalMs must be finite, got ${packet.arrivalMs}`);
    if (!Number.isInteger(packet.ssrc) || packet.ssrc < 0 || packet.ssrc > 0xffffffff) {
      throw new RangeError(`SSRC out of range: ${packet.ssrc}`);
    }
    this.counters.received++;
    if (this.ssrc !== packet.ssrc) {
      if (this.ssrc !== undefined) this.changeStream();
      this.ssrc = packet.ssrc;
    }
    const extSeq = this.seqs.unwrap(packet.seq);
    const extTs = this.timestamps.unwrap(packet.timestamp);

    if (this.played.has(extSeq) || this.queue.some((p) => p.extSeq === extSeq)) {
      this.counters.duplicates++;
      return;
    }
    if (extSeq < this.highestSeq) this.counters.reordered++;
    else this.highestSeq = extSeq;

    const mediaMs = (extTs * 1000) / this.clockRate;
    this.estimator.add(packet.arrivalMs, mediaMs);

    if ((this.state === 'playing' && extTs < this.nextTs) || extTs < this.playedFloorTs) {
      this.counters.late++;
      return;
    }
    this.insert({ extSeq, extTs, marker: packet.marker, payload: packet.payload });
    this.latestEndTs = Math.max(this.latestEndTs, extTs + this.frameTs);
    if (this.state === 'idle') this.state = 'buffering';

    if (this.state === 'playing') {
      const playPosition = this.nextTs - this.pendingLength / this.ratio;
      const minTransit = this.estimator.minTransitMs()!;
      const measured =
        ((extTs - playPosition) * 1000) / this.clockRate + (packet.arrivalMs - mediaMs - minTransit);
      this.delayMs = this.delayMs === undefined ? measured : this.delayMs + DELAY_SMOOTHING * (measured - this.delayMs);
    }
  }

  /**
   * Exactly `samples` samples of audio for the device, at codec.info.sampleRate. `deviceTimeMs`
   * (same clock as arrivalMs) is when the device takes them; with it the playout delay is measured.
   */
  pull(samples: number, deviceTimeMs?: number): Int16Array {
    if (!Number.isInteger(samples) || samples <= 0) throw new RangeError(`pull() needs a positive sample count, got ${samples}`);
    if (deviceTimeMs !== undefined) this.measurePlayoutDelay(deviceTimeMs);
    while (this.pendingLength < samples) this.produceFrame();
    const out = new Int16Array(samples);
    let filled = 0;
    while (filled < samples) {
      const chunk = this.pending[0]!;
      const take = Math.min(chunk.length - this.pendingOffset, samples - filled);
      out.set(chunk.subarray(this.pendingOffset, this.pendingOffset + take), filled);
      filled += take;
      this.pendingOffset += take;
      if (this.pendingOffset === chunk.length) {
        this.pending.shift();
        this.pendingOffset = 0;
      }
    }
    this.pendingLength -= samples;
    this.counters.outputSamples += samples;
    return out;
  }

  stats(): JitterBufferStats {
    const c = this.counters;
    return {
      state: this.state,
      currentDelayMs: this.delayMs ?? 0,
      playoutDelayMs: this.playoutDelayMs,
      targetDelayMs: this.targetDelayMs(),
      received: c.received,
      late: c.late,
      lost: c.lost,
      concealed: c.concealed,
      expandRate: c.outputSamples === 0 ? 0 : (c.concealedSamples + c.expandedSamples) / c.outputSamples,
      acceleratedSamples: c.acceleratedSamples,
      expandedSamples: c.expandedSamples,
      duplicates: c.duplicates,
      reordered: c.reordered,
      underruns: c.underruns,
      discarded: c.discarded,
      ssrcChanges: c.ssrcChanges,
      decodeErrors: c.decodeErrors,
    };
  }

  close(): void {
    this.decoder.close();
    this.queue = [];
  }

  private get frameMs(): number {
    return (this.frameTs * 1000) / this.clockRate;
  }

  private get frameSamples(): number {
    return Math.round(this.frameTs * this.ratio);
  }

  /**
   * The next sample handed out has media time playPosition; on the fastest path it arrived at
   * playPosition + minTransit. Only while playing a stream (not silence, not a held timeline).
   */
  private measurePlayoutDelay(deviceTimeMs: number): void {
    const minTransit = this.estimator.minTransitMs();
    if (this.state !== 'playing' || this.underrun || minTransit === undefined) return;
    const playPositionMs = ((this.nextTs - this.pendingLength / this.ratio) * 1000) / this.clockRate;
    const measured = deviceTimeMs - (playPositionMs + minTransit);
    this.playoutDelayMs = this.playoutDelayMs === undefined ? measured : this.playoutDelayMs + DELAY_SMOOTHING * (measured - this.playoutDelayMs);
  }

  private targetDelayMs(): number {
    return this.estimator.targetDelayMs(this.frameMs);
  }

  private insert(packet: QueuedPacket): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.extTs > packet.extTs) i--;
    this.queue.splice(i, 0, packet);
  }

  private produceFrame(): void {
    if (this.state === 'buffering') {
      const head = this.queue[0];
      const bufferedMs = head ? ((this.latestEndTs - head.extTs) * 1000) / this.clockRate : 0;
      if (!head || bufferedMs < this.targetDelayMs()) {
        this.emitSilence();
        return;
      }
      this.state = 'playing';
      this.nextTs = head.extTs;
      this.delayMs = undefined;
      this.playoutDelayMs = undefined;
      this.underrun = false;
      this.heldTs = 0;
    }
    if (this.state === 'idle') {
      this.emitSilence();
      return;
    }
    this.producePlaying();
  }

  private producePlaying(): void {
    // Packets overlapping audio already played (e.g. a sender that changed its frame size) are late.
    while (this.queue.length > 0 && this.queue[0]!.extTs < this.nextTs) {
      this.queue.shift();
      this.counters.late++;
    }
    const head = this.queue[0];
    if (!head) {
      // Nothing buffered: stall or DTX. Conceal but hold the timeline.
      if (!this.underrun) {
        this.counters.underruns++;
        this.underrunCounted = true;
      }
      this.underrun = true;
      this.heldTs += this.frameTs;
      this.emit(this.conceal(this.frameSamples));
      return;
    }
    if (head.extTs > this.nextTs) {
      const gapTs = head.extTs - this.nextTs;
      if (head.marker || (gapTs * 1000) / this.clockRate > this.maxDelayMs) {
        // Talkspurt start (or timeline jump): a safe point to re-anchor at the target delay.
        this.playedFloorTs = this.nextTs;
        this.state = 'buffering';
        this.produceFrame();
        return;
      }
      if (this.heldTs >= this.frameTs) {
        // Lost frame(s) at the end of an underrun: the concealment played meanwhile stood in for them.
        const skipTs = Math.min(gapTs, Math.floor(this.heldTs / this.frameTs) * this.frameTs);
        this.heldTs -= skipTs;
        this.nextTs += skipTs;
        this.counters.lost += Math.round(skipTs / this.frameTs);
        if (this.underrunCounted) {
          // Not starvation after all: the buffer ran dry because the packet was lost.
          this.counters.underruns--;
          this.underrunCounted = false;
        }
        this.produceFrame();
        return;
      }
      const concealTs = Math.min(gapTs, this.frameTs);
      this.counters.lost++;
      this.nextTs += concealTs;
      this.emit(this.conceal(Math.round(concealTs * this.ratio)));
      return;
    }
    this.queue.shift();
    this.remember(head.extSeq);
    this.underrun = false;
    this.underrunCounted = false;
    this.heldTs = 0;
    if (this.delayMs !== undefined && this.delayMs > this.maxDelayMs && this.queue.length > 0) {
      // Far too much audio queued (e.g. a burst after a stall): drop this frame unplayed.
      this.counters.discarded++;
      this.nextTs += this.frameTs;
      this.delayMs -= this.frameMs;
      this.produceFrame();
      return;
    }
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decode(head.payload);
    } catch (error) {
      this.counters.decodeErrors++;
      this.onDecodeError(new Error(`decode of seq ${head.extSeq & 0xffff} failed: ${(error as Error).message}`, { cause: error }));
      this.nextTs += this.frameTs;
      this.emit(this.conceal(this.frameSamples));
      return;
    }
    if (pcm.length === 0) {
      // A payload that carries no audio (e.g. an empty frame); nothing to play for it.
      this.produceFrame();
      return;
    }
    this.frameTs = Math.round(pcm.length / this.ratio);
    this.nextTs = head.extTs + this.frameTs;
    this.emit(this.adaptDelay(pcm));
  }

  /** Time-scale one decoded frame toward the target delay; returns the frame to play. */
  private adaptDelay(pcm: Int16Array): Int16Array {
    let out = pcm;
    if (this.delayMs !== undefined) {
      const target = this.targetDelayMs();
      if (this.delayMs > target + ACCELERATE_ABOVE_MS) {
        const shorter = shortenFrame(pcm, this.sampleRate);
        const removed = shorter ? pcm.length - shorter.length : 0;
        const removedMs = (removed * 1000) / this.sampleRate;
        if (shorter && this.delayMs - removedMs >= target - EXPAND_BELOW_MS) {
          this.counters.acceleratedSamples += removed;
          this.delayMs -= removedMs;
          out = shorter;
        }
      } else if (this.delayMs < target - EXPAND_BELOW_MS) {
        const longer = lengthenFrame(pcm, this.sampleRate);
        if (longer) {
          const added = longer.length - pcm.length;
          this.counters.expandedSamples += added;
          this.delayMs += (added * 1000) / this.sampleRate;
          out = longer;
        }
      }
    }
    // Codecs with their own PLC smooth the recovery themselves; the generic PLC needs every good frame.
    return this.decoder.conceal ? out : this.plc.observe(out);
  }

  private conceal(samples: number): Int16Array {
    this.counters.concealed++;
    this.counters.concealedSamples += samples;
    if (this.decoder.conceal) {
      try {
        return this.decoder.conceal(samples);
      } catch (error) {
        this.counters.decodeErrors++;
        this.onDecodeError(new Error(`codec concealment failed: ${(error as Error).message}`, { cause: error }));
      }
    }
    return this.plc.conceal(samples);
  }

  private emitSilence(): void {
    const silence = new Int16Array(this.frameSamples);
    this.emit(this.decoder.conceal ? silence : this.plc.observe(silence));
  }

  private emit(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.pending.push(pcm);
    this.pendingLength += pcm.length;
  }

  private remember(extSeq: number): void {
    this.played.add(extSeq);
    this.playedOrder.push(extSeq);
    if (this.playedOrder.length > PLAYED_MEMORY) this.played.delete(this.playedOrder.shift()!);
  }

  /** New SSRC: a new stream with its own numbering and encoder state. Audio already decoded still plays. */
  private changeStream(): void {
    this.counters.ssrcChanges++;
    this.seqs.reset();
    this.timestamps.reset();
    this.estimator.reset();
    this.queue = [];
    this.played.clear();
    this.playedOrder = [];
    this.highestSeq = -Infinity;
    this.latestEndTs = -Infinity;
    this.playedFloorTs = -Infinity;
    this.delayMs = undefined;
    this.playoutDelayMs = undefined;
    this.state = 'buffering';
    this.decoder.close();
    this.decoder = this.codec.createDecoder();
  }
}
