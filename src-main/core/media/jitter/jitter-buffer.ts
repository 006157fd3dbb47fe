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
 * Delay, when the device says when it takes each pull (pull(samples, deviceTimeMs): the app and
 * headless clocks always do) -- "device-timed" steering:
 * - The quantity that decides whether a pull finds its audio is the pull's SLACK: device time of the
 *   pull minus the fastest-path arrival of the newest packet the pull needs. A packet that is j ms
 *   slower than the fastest path is in time iff j <= slack. So target = percentile-95 jitter over a
 *   5 s window + SLACK_MARGIN_MS, within [minDelayMs, maxDelayMs] (at least startupDelayMs for a
 *   stream's first 50 packets: DelayEstimator), and the buffer keeps slack >= target.
 * - Slack is geometry, not a noisy measurement: it changes only when time-scaling moves a pull's end
 *   across a frame boundary. So a frame is shortened (one pitch period, time-scale.ts: only in
 *   silence or periodic audio) whenever the pulls that will first need each of the next frames
 *   (slackMs: any ptime against the pull size) would all still have slack >= target -- this minimises the playout delay down to what the device's pull phase allows
 *   (a device pulling 20 ms at a fixed phase makes a packet wait up to 20 ms for its pull; the
 *   headless clock aligns its phase, see media-session.ts) -- and lengthened when slack drops below
 *   target (jitter grew, or a far-end clock slower than ours; the headless clock moves its pulls
 *   later for that before the slack drops: pullsMoved).
 * - Playing starts (and re-anchors at a talkspurt) when the first packet's slack reaches target.
 * Without device times (pull(samples)) the buffer falls back to arrival-measured steering:
 * - target = percentile-95 jitter + one frame (the pull phase is unknown: headroom of one pull), and
 *   the current delay is kept within [target - EXPAND_BELOW_MS, target + ACCELERATE_ABOVE_MS].
 * - current delay = how long after the fastest-path arrival a packet is played, measured at each
 *   push: (packet media time - playout position) + (its transit - min transit), smoothed.
 * - Clock drift: a far end running fast/slow by some ppm makes the current delay creep up/down; the
 *   same time-scaling removes/inserts a pitch period now and then (at 500 ppm: ~0.5 ms per second).
 *
 * Comfort noise (RFC 3389, only for a stream on an 8 kHz RTP clock: CN/8000): a far end with voice
 * activity detection sends a SID packet (pushComfortNoise) instead of audio when its user falls
 * silent, in the same sequence and timestamp space, and nothing more (or a new SID now and then)
 * until the next talkspurt. Played at its place in the timeline, a SID starts a silence period:
 * comfort noise at the SID's level and spectrum (comfort-noise.ts) with the timeline advancing, for
 * every frame until the next audio packet, also while buffering to re-anchor at that talkspurt. A
 * silence period is neither loss, nor concealment, nor underrun (the far end said it stopped
 * sending); `comfortNoiseMs` counts it.
 *
 * Telephone events (RFC 4733, noteTelephoneEvent): a far end that sends a digit as events most
 * often sends no audio meanwhile (the events take the stream's sequence numbers and cover the
 * digit's time). A gap or underrun within a known event's span (from its start to its start plus
 * its duration, and three frames beyond while its end has not come) plays silence with the
 * timeline advancing: not loss, not concealment, not an underrun. A far end that sends audio
 * during the event leaves no gap, and its audio plays.
 *
 * Sender silence without a marker bit (Opus DTX, RFC 7587 s. 3.1.3: a packet every 400 ms or
 * none; a VAD phone that resumes without marking its talkspurt): the next packet's timestamp jumps
 * but its sequence number follows the last one played. That gap is no loss: it is concealed (the
 * decoder's own concealment: Opus plays its comfort noise after DTX) and counted as the far end's
 * silence (`comfortNoiseMs`), not in `lost`, `concealed` or `expandRate`; concealment already
 * played during an underrun that turns out to have been such silence is counted again as silence.
 *
 * Loss: a missing frame whose successor is already queued is rebuilt from that packet's redundancy
 * when the decoder can (decoder.recover: Opus in-band FEC; counted in `fecRecovered`), else
 * concealed. For such a decoder on a lossy stream (>= 1 % of recent frames lost), the target slack
 * includes one frame more, so that the successor IS queued when a lost frame falls due.
 *
 * Stats: `lost` counts frames missing at their playout time while later packets were present;
 * `late` counts packets that arrived after their playout time (a late packet was usually counted as
 * lost first). `expandRate` = (concealed + time-stretch-inserted samples) / all samples output.
 *
 * Ownership: owns its decoder (created from the codec, closed by close()). Node main thread only.
 */
import type { AudioCodec, AudioDecoder } from '../codecs/audio-codec';
import { ComfortNoiseGenerator, COMFORT_NOISE_CLOCK_RATE } from './comfort-noise';
import { DelayEstimator } from './delay-estimator';
import { GenericPlc } from './generic-plc';
import { RtpUnwrapper } from './rtp-unwrapper';
import { lengthenFrame, SHORTEN_MIN_MS, shortenFrame, shortestCutSamples } from './time-scale';
import { frameSamples } from '../frame-memory';
import { DOUBLE_FIELD, primeShape } from '../double-fields';

export interface RtpAudioPacket {
  seq: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
  /** Arrival time in ms (monotonic clock, same clock for every push of this buffer). */
  arrivalMs: number;
}

// The media session's per-packet literal for push(), keys in its order: the far end's random
// timestamp and SSRC (double-fields.ts).
primeShape({ seq: 0, timestamp: DOUBLE_FIELD, ssrc: DOUBLE_FIELD, marker: false, payload: new Uint8Array(0), arrivalMs: DOUBLE_FIELD } satisfies RtpAudioPacket);

export interface JitterBufferOptions {
  /** Lower bound of the target delay. Default 0 (the jitter percentile and margins set it). */
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
  /**
   * What the buffer steers toward: device-timed, the slack a pull keeps (see header; the playout
   * delay settles at most one pitch period above it on a device whose pull phase allows); else the
   * target of currentDelayMs.
   */
  targetDelayMs: number;
  received: number;
  late: number;
  lost: number;
  /** Frames produced by concealment (loss, underrun, decode error). */
  concealed: number;
  /** Lost frames rebuilt from the next packet's redundancy (decoder.recover: Opus FEC); also in `lost`. */
  fecRecovered: number;
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
  /** Audio played as comfort noise from the far end's SID packets while it was silent (see header), ms. */
  comfortNoiseMs: number;
}

interface QueuedPacket {
  extSeq: number;
  extTs: number;
  marker: boolean;
  payload: Uint8Array;
  /** An RFC 3389 SID (pushComfortNoise), not audio of the codec. */
  comfortNoise: boolean;
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
/**
 * Device-timed steering: slack kept above the jitter percentile. Covers what the percentile does not
 * see: a timer that fires before an already-arrived packet's I/O callback ran, and the 5 % tail.
 */
const SLACK_MARGIN_MS = 3;
/** Slacks of this many recent decodes bound the pull-phase advance (the smallest of them counts). */
const PHASE_SLACK_WINDOW = 8;
/** Frames ahead whose first pulls' slacks slackMs() weighs: covers the slack cycle of ptime 10 to 60 against 20 ms pulls. */
const SLACK_LOOKAHEAD_FRAMES = 4;
/**
 * FEC needs the packet AFTER a lost frame to be here when that frame is due: with a codec that can
 * recover (Opus) and recent loss at or above this share, the target slack gets one frame more.
 */
const FEC_HEADROOM_LOSS = 0.01;
/** EMA weight of one frame in the recent loss rate (~250 frames = 5 s at 20 ms). */
const LOSS_SMOOTHING = 1 / 250;
/** Smoothing of the per-packet delay measurements (EMA weight of a new sample). */
const DELAY_SMOOTHING = 1 / 16;
/**
 * How many sequence numbers back played packets are remembered, to tell duplicates from late
 * packets: a ring indexed by extended sequence number (no hash set to update per packet).
 */
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
  private readonly queue: QueuedPacket[] = [];
  /** Played extended sequence numbers, each at index extSeq % PLAYED_MEMORY (-1: none). */
  private readonly played = new Float64Array(PLAYED_MEMORY).fill(-1);
  /** Extended RTP timestamp of the next frame to decode (valid while playing; a double from the start, double-fields.ts). */
  private nextTs = DOUBLE_FIELD;
  /** Frame length in RTP timestamp units, learned from decoded frames. */
  private frameTs: number;
  private delayMs: number | undefined;
  private playoutDelayMs: number | undefined;
  /** The pull being served: its device time (undefined if not device-timed) and size. */
  private pullDeviceMs: number | undefined;
  private pullSamples = 0;
  /** Slack (ms) at each of the last PHASE_SLACK_WINDOW decodes (how many: recentSlackCount), a ring written at recentSlackNext. */
  private readonly recentSlacksMs = new Float64Array(PHASE_SLACK_WINDOW);
  private recentSlackCount = 0;
  private recentSlackNext = 0;
  /** Share of recent frames lost (EMA); decides whether FEC is worth a frame of delay. */
  private recentLoss = DOUBLE_FIELD; // 0 from the constructor on; a fraction at the first loss, maybe calls later (double-fields.ts)
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
  /** A SID was played and no audio since: gaps are the far end's silence (see header, "Comfort noise"). */
  private silencePeriod = false;
  /** Made at the stream's first SID (most streams never send one). */
  private comfortNoise: ComfortNoiseGenerator | undefined;
  /** Extended sequence number of the last packet played (-1: none): a gap whose next packet follows it is sender silence. */
  private lastPlayedSeq = -1;
  /** The latest telephone event (noteTelephoneEvent): extended timestamps of its start and known end, and whether its end packet came. */
  private eventKnown = false;
  private eventStartTs = 0;
  private eventEndTs = 0;
  private eventEnded = false;

  /** Decoded PCM waiting for pull(). */
  private pending: Int16Array[] = [];
  private pendingOffset = 0;
  private pendingLength = 0;

  private readonly counters = {
    received: 0,
    late: 0,
    lost: 0,
    concealed: 0,
    fecRecovered: 0,
    duplicates: 0,
    reordered: 0,
    underruns: 0,
    discarded: 0,
    ssrcChanges: 0,
    decodeErrors: 0,
    acceleratedSamples: 0,
    expandedSamples: 0,
    concealedSamples: 0,
    comfortNoiseSamples: 0,
    outputSamples: 0,
  };

  constructor(
    private readonly codec: AudioCodec,
    options: JitterBufferOptions = {},
  ) {
    this.sampleRate = codec.info.sampleRate;
    this.clockRate = codec.info.rtpClockRate;
    this.ratio = this.sampleRate / this.clockRate;
    this.minDelayMs = options.minDelayMs ?? 0;
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
    this.recentLoss = 0;
    this.silencePeriod = false; // a flag the per-frame code reads, written here as well (media-session.ts, "Teardown and V8")
  }

  /** Whether comfort noise (RFC 3389 CN/8000) can play in this stream: its RTP clock is CN's. */
  get acceptsComfortNoise(): boolean {
    return this.clockRate === COMFORT_NOISE_CLOCK_RATE;
  }

  /**
   * An RFC 3389 SID packet of this stream (same SSRC, sequence and timestamp space as its audio),
   * for a buffer that acceptsComfortNoise; played in its place in the timeline (see header).
   */
  pushComfortNoise(packet: RtpAudioPacket): void {
    if (!this.acceptsComfortNoise) throw new RangeError(`comfort noise (CN/8000) cannot play in a stream with an RTP clock of ${this.clockRate} Hz`);
    this.push(packet, true);
  }

  /**
   * An RFC 4733 telephone-event packet of this stream (same SSRC and timestamp space): its
   * timestamp (the event's start), its duration in timestamp units so far, and whether it is the
   * event's end. See the header, "Telephone events".
   */
  noteTelephoneEvent(ssrc: number, rtpTimestamp: number, durationTs: number, ended: boolean): void {
    if (ssrc !== this.ssrc) return; // before this stream's audio, or another stream's: no timeline to place it in
    const startTs = this.timestamps.unwrap(rtpTimestamp);
    if (!this.eventKnown || startTs !== this.eventStartTs) {
      this.eventKnown = true;
      this.eventStartTs = startTs;
      this.eventEndTs = startTs;
      this.eventEnded = false;
    }
    this.eventEndTs = Math.max(this.eventEndTs, startTs + durationTs);
    if (ended) this.eventEnded = true;
  }

  /** Whether the frame at `ts` falls in the latest telephone event's span (see the header). */
  private inTelephoneEvent(ts: number): boolean {
    if (!this.eventKnown || ts < this.eventStartTs) return false;
    return ts < (this.eventEnded ? this.eventEndTs : this.eventEndTs + 3 * this.frameTs);
  }

  /** `ts` timestamp units of a telephone event's time: silence, the timeline advancing. */
  private playEventSilence(ts: number): void {
    const silence = frameSamples(Math.round(ts * this.ratio));
    this.emit(this.decoder.conceal ? silence : this.plc.observe(silence));
    this.nextTs += ts;
  }

  /** An audio packet of the codec (`comfortNoise`: a SID, see pushComfortNoise). */
  push(packet: RtpAudioPacket, comfortNoise = false): void {
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

    if (this.wasPlayed(extSeq) || this.isQueued(extSeq)) {
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
    this.insert({ extSeq, extTs, marker: packet.marker, payload: packet.payload, comfortNoise });
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
    this.pullDeviceMs = deviceTimeMs;
    this.pullSamples = samples;
    if (deviceTimeMs !== undefined) this.measurePlayoutDelay(deviceTimeMs);
    while (this.pendingLength < samples) this.produceFrame();
    this.counters.outputSamples += samples;
    const first = this.pending[0]!;
    if (this.pendingOffset === 0 && first.length === samples) {
      // The usual pull: exactly one decoded frame. Every pending chunk is the buffer's own fresh
      // array (decoder output, concealment, time-scaled copy), so it is handed over, not copied.
      this.pending.shift();
      this.pendingLength -= samples;
      return first;
    }
    const out = frameSamples(samples);
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
    return out;
  }

  /** Playing a stream (not buffering, not idle): a pull that cannot be served now conceals. */
  get playing(): boolean {
    return this.state === 'playing';
  }

  /**
   * Whether pull(samples) would be served from received audio alone: already decoded, or playing
   * with the frames it needs queued back to back from the next one. Then pulling now or at the
   * pull's device time gives the same audio (the media session uses it to do a pull that falls due
   * shortly right when the packet it needs arrives, saving a wake-up).
   */
  canServe(samples: number): boolean {
    if (this.pendingLength >= samples) return true;
    if (this.state !== 'playing' || this.underrun) return false;
    let needTs = (samples - this.pendingLength) / this.ratio;
    let ts = this.nextTs;
    for (const packet of this.queue) {
      if (packet.extTs < ts) continue;
      if (packet.extTs > ts) return false;
      ts += this.frameTs;
      needTs -= this.frameTs;
      if (needTs <= 0) return true;
    }
    return false;
  }

  /**
   * For a device that can choose the phase of its pulls (the headless clock, see media-session.ts):
   * how much earlier (ms, in [0, one pull period)) its pulls could come and still keep the target
   * slack, i.e. the part of the playout delay no time-scaling can remove. Any ptime: the slack that
   * counts is that of each pull that first needs a frame (measured at the frame's decode), the
   * smallest over the last PHASE_SLACK_WINDOW decodes. Undefined until the stream is playing with
   * its jitter measured (after its first 50 packets) and that many decodes were device-timed, and
   * while the slack is short of the target (slackExcessMs < 0).
   */
  pullPhaseAdvanceMs(): number | undefined {
    // Time-scaling brings the slack of the pull that first needs a frame down to within one pull
    // period of the target; what is left of the excess modulo that period, only the phase removes.
    const excess = this.slackExcessMs();
    return excess === undefined || excess < 0 ? undefined : excess % this.pullMs;
  }

  /**
   * The smallest slack of the last PHASE_SLACK_WINDOW decodes minus the target (ms): negative when
   * pulls come too early for the target (arrivals drifting later, or the target grew). Undefined
   * until the stream is playing with its jitter measured and that many decodes were device-timed,
   * and in the far end's silence period (no frame decoded: the slacks are the last talkspurt's).
   */
  slackExcessMs(): number | undefined {
    if (this.state !== 'playing' || this.underrun || this.silencePeriod || this.recentSlackCount < PHASE_SLACK_WINDOW || !this.estimator.warm) return undefined;
    let smallest = this.recentSlacksMs[0]!;
    for (let i = 1; i < PHASE_SLACK_WINDOW; i++) smallest = Math.min(smallest, this.recentSlacksMs[i]!);
    return smallest - this.targetDelayMs();
  }

  /**
   * The device moved its pull grid by `deltaMs` (negative: earlier). The slacks measured so far and
   * the playout delay statistic shift by exactly that, so neither goes on describing the old grid
   * (a second move on stale slacks would overshoot; the smoothed delay would lag for ~16 pulls).
   */
  pullsMoved(deltaMs: number): void {
    for (let i = 0; i < PHASE_SLACK_WINDOW; i++) this.recentSlacksMs[i]! += deltaMs;
    if (this.playoutDelayMs !== undefined) this.playoutDelayMs += deltaMs;
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
      fecRecovered: c.fecRecovered,
      expandRate: c.outputSamples === 0 ? 0 : (c.concealedSamples + c.expandedSamples) / c.outputSamples,
      acceleratedSamples: c.acceleratedSamples,
      expandedSamples: c.expandedSamples,
      duplicates: c.duplicates,
      reordered: c.reordered,
      underruns: c.underruns,
      discarded: c.discarded,
      ssrcChanges: c.ssrcChanges,
      decodeErrors: c.decodeErrors,
      comfortNoiseMs: Math.round((c.comfortNoiseSamples * 1000) / this.sampleRate),
    };
  }

  close(): void {
    this.decoder.close();
    // Emptied in place, here and in changeStream: see media-session.ts, "Teardown and V8".
    this.queue.length = 0;
  }

  private get frameMs(): number {
    return (this.frameTs * 1000) / this.clockRate;
  }

  /** Length (ms) of the pull being served. */
  private get pullMs(): number {
    return (this.pullSamples * 1000) / this.sampleRate;
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

  /** The delay (ms) the buffer steers for: the slack each pull keeps over its frame's fastest arrival when device-timed. */
  targetDelayMs(): number {
    if (this.pullDeviceMs === undefined) return this.estimator.targetDelayMs(this.frameMs);
    // A lossy stream from a codec with in-band FEC: keep the next packet here when a frame is due,
    // so a lost frame can be rebuilt from it instead of concealed (one frame more delay, only then).
    const forFec = this.decoder.recover && this.recentLoss >= FEC_HEADROOM_LOSS ? this.frameMs : 0;
    return this.estimator.targetDelayMs(SLACK_MARGIN_MS + forFec);
  }

  /** `frames` lost: counted, and fed to the recent loss rate (EMA over ~5 s of frames). */
  private countLost(frames: number): void {
    this.counters.lost += frames;
    for (let i = 0; i < frames; i++) this.recentLoss += LOSS_SMOOTHING * (1 - this.recentLoss);
  }

  /**
   * The smallest slack over the pulls that will first need each of the next SLACK_LOOKAHEAD_FRAMES
   * frames, once the frame at `frameTs` is placed, `samples` long, right after what is pending now
   * (the pull being served takes what it still needs, later pulls come every pull period; later
   * frames are assumed untrimmed and on the fastest path). A pull's slack: its device
   * time minus the fastest-path arrival of the frame it first needs.
   * Frames and pulls may differ in length (ptime 10/30/40 against 20 ms pulls). Then a frame
   * leaving less than a pull after the current one makes the very next pull need the next frame
   * (trimming a 40 ms frame moves that pull 20 ms earlier), and with ptime 30 the pulls that first
   * need successive frames alternate 10 ms apart: steering the smaller keeps every pull served
   * without shortening one frame and lengthening the next. With equal frames and pulls it is the
   * slack of the pull being served. Undefined if not device-timed.
   */
  private slackMs(frameTs: number, samples: number): number | undefined {
    const minTransit = this.estimator.minTransitMs();
    if (this.pullDeviceMs === undefined || minTransit === undefined) return undefined;
    let smallest = Infinity;
    // Samples queued ahead of frame k (k = 1: the next frame), counted from the end of the pull being served.
    let before = this.pendingLength + samples - this.pullSamples;
    for (let k = 1; k <= SLACK_LOOKAHEAD_FRAMES; k++, before += this.frameSamples) {
      const pullsAhead = before < 0 ? 0 : 1 + Math.floor(before / this.pullSamples);
      const arrivalMs = ((frameTs + k * this.frameTs) * 1000) / this.clockRate + minTransit;
      smallest = Math.min(smallest, this.pullDeviceMs + pullsAhead * this.pullMs - arrivalMs);
    }
    return smallest;
  }

  private insert(packet: QueuedPacket): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.extTs > packet.extTs) i--;
    if (i === this.queue.length) this.queue.push(packet); // in order: the usual case
    else this.queue.splice(i, 0, packet);
  }

  private produceFrame(): void {
    if (this.state === 'buffering') {
      const head = this.queue[0];
      if (!head || !this.readyToPlay(head.extTs)) {
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

  /** Buffering: may playing start (or re-anchor) with the frame at `headTs`? (See header.) */
  private readyToPlay(headTs: number): boolean {
    const target = this.targetDelayMs();
    const slack = this.slackMs(headTs, this.frameSamples);
    if (slack !== undefined) return slack >= target;
    return ((this.latestEndTs - headTs) * 1000) / this.clockRate >= target;
  }

  private producePlaying(): void {
    // Packets overlapping audio already played (e.g. a sender that changed its frame size) are late.
    while (this.queue.length > 0 && this.queue[0]!.extTs < this.nextTs) {
      this.queue.shift();
      this.counters.late++;
    }
    const head = this.queue[0];
    if (!head) {
      if (this.silencePeriod) {
        this.playComfortNoise(this.frameTs);
        return;
      }
      if (this.inTelephoneEvent(this.nextTs)) {
        this.playEventSilence(this.frameTs);
        return;
      }
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
        // Talkspurt start (or timeline jump): a safe point to re-anchor at the target delay. An
        // underrun just before it that was the far end's silence (its sequence numbers run on) is
        // counted as silence, not as concealment or starvation.
        if (this.heldTs > 0 && head.extSeq === this.lastPlayedSeq + 1) {
          this.recountAsSilence(Math.round(this.heldTs / this.frameTs), Math.round(this.heldTs * this.ratio));
          this.heldTs = 0;
          this.uncountUnderrun();
        }
        this.playedFloorTs = this.nextTs;
        this.state = 'buffering';
        this.produceFrame();
        return;
      }
      if (this.silencePeriod) {
        // The far end's silence up to its next packet (a talkspurt without a marker bit).
        this.playComfortNoise(Math.min(gapTs, this.frameTs));
        return;
      }
      if (this.heldTs === 0 && this.inTelephoneEvent(this.nextTs)) {
        this.playEventSilence(Math.min(gapTs, this.frameTs));
        return;
      }
      const senderSilence = head.extSeq === this.lastPlayedSeq + 1;
      if (this.heldTs >= this.frameTs) {
        // Lost frame(s) at the end of an underrun, or the far end's silence: the concealment
        // played meanwhile stood in for them.
        const skipTs = Math.min(gapTs, Math.floor(this.heldTs / this.frameTs) * this.frameTs);
        this.heldTs -= skipTs;
        this.nextTs += skipTs;
        if (senderSilence) this.recountAsSilence(Math.round(skipTs / this.frameTs), Math.round(skipTs * this.ratio));
        else this.countLost(Math.round(skipTs / this.frameTs));
        this.uncountUnderrun();
        this.produceFrame();
        return;
      }
      const concealTs = Math.min(gapTs, this.frameTs);
      if (senderSilence) {
        this.nextTs += concealTs;
        this.emitSenderSilence(Math.round(concealTs * this.ratio));
        return;
      }
      this.countLost(1);
      this.nextTs += concealTs;
      // The one frame right before a queued packet: that packet may carry it as redundancy.
      const recovered = gapTs === this.frameTs ? this.recoverFrom(head) : undefined;
      this.emit(recovered ?? this.conceal(Math.round(concealTs * this.ratio)));
      return;
    }
    this.queue.shift();
    this.remember(head.extSeq);
    this.underrun = false;
    this.underrunCounted = false;
    this.heldTs = 0;
    if (head.comfortNoise) {
      this.startSilencePeriod(head);
      return;
    }
    this.silencePeriod = false;
    this.recentLoss -= LOSS_SMOOTHING * this.recentLoss; // a frame played: one more toward no loss
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
    this.emit(this.adaptDelay(pcm, head.extTs));
  }

  /** Time-scale one decoded frame toward the target delay; returns the frame to play. */
  private adaptDelay(pcm: Int16Array, frameTs: number): Int16Array {
    let out = pcm;
    const slack = this.slackMs(frameTs, pcm.length);
    if (slack !== undefined) {
      this.recentSlacksMs[this.recentSlackNext] = slack;
      this.recentSlackNext = (this.recentSlackNext + 1) % PHASE_SLACK_WINDOW;
      if (this.recentSlackCount < PHASE_SLACK_WINDOW) this.recentSlackCount++;
      out = this.steerSlack(pcm, frameTs, slack);
    } else if (this.delayMs !== undefined) {
      const target = this.targetDelayMs();
      // (Shortening that would leave the delay below the band is not searched for.)
      if (this.delayMs > target + ACCELERATE_ABOVE_MS && this.delayMs - SHORTEN_MIN_MS >= target - EXPAND_BELOW_MS) {
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

  /** Device-timed steering of one decoded frame (see header): keep slack >= target, delay minimal. */
  private steerSlack(pcm: Int16Array, frameTs: number, slack: number): Int16Array {
    const target = this.targetDelayMs();
    // Slack is exact geometry, not a noisy measurement: no band is needed against ping-pong, and
    // none is allowed below the target, which the jitter percentile alone barely covers under drift.
    if (slack < target) {
      const longer = lengthenFrame(pcm, this.sampleRate);
      if (!longer) return pcm;
      this.counters.expandedSamples += longer.length - pcm.length;
      return longer;
    }
    // Slack drops a pull period at a time: when even the shortest cut would take it below the
    // target (the steady state), the pitch search is not run, at every pull, for nothing.
    const afterShortest = this.slackMs(frameTs, pcm.length - shortestCutSamples(this.sampleRate));
    if (afterShortest === undefined || afterShortest < target) return pcm;
    const shorter = shortenFrame(pcm, this.sampleRate);
    if (!shorter) return pcm;
    const removed = pcm.length - shorter.length;
    const after = this.slackMs(frameTs, shorter.length);
    if (after === undefined || after < target) return pcm;
    this.counters.acceleratedSamples += removed;
    return shorter;
  }

  /** The lost frame before `next`, rebuilt from `next`'s in-band redundancy (if the codec can). */
  private recoverFrom(next: QueuedPacket): Int16Array | undefined {
    if (!this.decoder.recover) return undefined;
    try {
      const pcm = this.decoder.recover(next.payload, this.frameSamples);
      this.counters.fecRecovered++;
      return pcm;
    } catch (error) {
      this.counters.decodeErrors++;
      this.onDecodeError(new Error(`recovery of the frame before seq ${next.extSeq & 0xffff} failed: ${(error as Error).message}`, { cause: error }));
      return undefined;
    }
  }

  /** A SID at its place in the timeline: the far end is silent from here; its noise plays. */
  private startSilencePeriod(sid: QueuedPacket): void {
    this.comfortNoise ??= new ComfortNoiseGenerator(this.sampleRate);
    try {
      this.comfortNoise.update(sid.payload);
    } catch (error) {
      // The noise goes on as before (silence if this was the first SID).
      this.counters.decodeErrors++;
      this.onDecodeError(new Error(`comfort noise of seq ${sid.extSeq & 0xffff} unusable: ${(error as Error).message}`, { cause: error }));
    }
    this.silencePeriod = true;
    this.playComfortNoise(this.frameTs);
  }

  /** `ts` timestamp units of the far end's silence, as comfort noise; the timeline advances (see header). */
  private playComfortNoise(ts: number): void {
    this.emitComfortNoise(Math.round(ts * this.ratio));
    this.nextTs += ts;
  }

  private emitComfortNoise(samples: number): void {
    const noise = this.comfortNoise!.generate(samples);
    this.counters.comfortNoiseSamples += samples;
    this.emit(this.decoder.conceal ? noise : this.plc.observe(noise));
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
    if (this.silencePeriod) {
      // Re-anchoring at the talkspurt that ends a silence period: its noise goes on until then.
      this.emitComfortNoise(this.frameSamples);
      return;
    }
    const silence = frameSamples(this.frameSamples);
    this.emit(this.decoder.conceal ? silence : this.plc.observe(silence));
  }

  private emit(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.pending.push(pcm);
    this.pendingLength += pcm.length;
  }

  private remember(extSeq: number): void {
    this.played[extSeq % PLAYED_MEMORY] = extSeq;
    this.lastPlayedSeq = extSeq;
  }

  /** `samples` of the far end's silence (see the header, "Sender silence"): concealed, counted as silence. */
  private emitSenderSilence(samples: number): void {
    const pcm = this.conceal(samples);
    this.recountAsSilence(1, samples);
    this.emit(pcm);
  }

  /**
   * The current underrun was not starvation after all: the buffer ran dry because packets were
   * lost, or because the far end was silent. Counted once in `underruns`, that count is taken back.
   */
  private uncountUnderrun(): void {
    if (!this.underrunCounted) return;
    this.counters.underruns--;
    this.underrunCounted = false;
  }

  /** `frames` (`samples`) concealed that were the far end's silence: moved from concealment to silence. */
  private recountAsSilence(frames: number, samples: number): void {
    this.counters.concealed -= frames;
    this.counters.concealedSamples -= samples;
    this.counters.comfortNoiseSamples += samples;
  }

  private wasPlayed(extSeq: number): boolean {
    return this.played[extSeq % PLAYED_MEMORY] === extSeq;
  }

  private isQueued(extSeq: number): boolean {
    for (let i = 0; i < this.queue.length; i++) if (this.queue[i]!.extSeq === extSeq) return true;
    return false;
  }

  /** New SSRC: a new stream with its own numbering and encoder state. Audio already decoded still plays. */
  private changeStream(): void {
    this.counters.ssrcChanges++;
    this.seqs.reset();
    this.timestamps.reset();
    this.estimator.reset();
    this.queue.length = 0;
    this.played.fill(-1);
    this.highestSeq = -Infinity;
    this.latestEndTs = -Infinity;
    this.playedFloorTs = -Infinity;
    this.delayMs = undefined;
    this.playoutDelayMs = undefined;
    this.silencePeriod = false;
    this.eventKnown = false;
    this.lastPlayedSeq = -1;
    this.state = 'buffering';
    this.decoder.close();
    this.decoder = this.codec.createDecoder();
  }
}
