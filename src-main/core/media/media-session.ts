/**
 * The audio of one call: paces frames from an AudioSource through the encoder into RTP, and
 * decodes received RTP into an AudioSink.
 *
 * Sending (states: idle -> running -> stopped; `start` and `stop` are idempotent):
 * - One frame every `ptime` ms. Frame k is due at start + k*ptime on the monotonic clock (the RTP
 *   session's MediaClock: performance.now() and Node's timers, a virtual clock in tests), and every
 *   timer is scheduled from that, not by accumulating intervals, so timer jitter does not drift the
 *   stream.
 * - When the event loop was blocked, overdue frames are sent at once, up to MAX_CATCH_UP; frames
 *   overdue beyond that are read from the source and skipped (timestamp advances, marker on the
 *   next packet) so the RTP timeline stays true to wall time.
 * - When our direction does not include sending (hold, recvonly, inactive) or the peer gave port
 *   0, frames are skipped the same way.
 * - Device capture: a source with its own clock (AudioSource.setCaptureListener: the app's
 *   microphone through PortAudioDevice) says when audio came in; every complete codec frame of it
 *   is sent (or skipped) right then, so the sound card's clock paces the stream and capture never
 *   piles up or runs dry against our timer (device clocks are tens to hundreds of ppm off it). The
 *   timer then only covers a stall: CAPTURE_STALL_MS without capture (a device unplugged, a hung
 *   renderer) and it sends silence on the time grid above, re-based at that moment, until capture
 *   comes back, so the far end never sees the stream stop. It wakes every CAPTURE_STALL_MS to look,
 *   not every frame.
 *
 * Receiving (RTP -> jitter buffer -> playout clock -> sink):
 * - Packets with a payload type of our SDP are pushed into a JitterBuffer for that payload type
 *   (the buffer handles SSRC changes, reordering, loss concealment, delay adaptation and drift);
 *   telephone-event packets go to `onTelephoneEvent`; comfort noise (RFC 3389 SID packets, when
 *   CN/8000 was negotiated) goes into the buffer of the stream it belongs to, where it plays the
 *   far end's silence as its background noise (jitter-buffer.ts, "Comfort noise"); anything else
 *   is counted and dropped. Every media packet also feeds the RTCP reception statistics (loss,
 *   interarrival jitter).
 * - The playout clock is the "device" clock: every PLAYOUT_MS (20 ms) of monotonic time, one frame
 *   is pulled from the buffer of the payload type that arrived last (exactly 20 ms of decoded audio,
 *   concealment or silence, at the codec's PCM rate), resampled to the sink's rate if they differ,
 *   and written to the sink. Before any packet, on hold and while not receiving it writes silence
 *   (or the owner's idle fill: local ringback while the far end alerts during early media, see
 *   setIdleFill), so a recording's length always equals the wall time the call lasted. Ticks are scheduled from
 *   the start time like the send clock; after a blocked event loop up to MAX_PLAYOUT_CATCH_UP
 *   frames are produced at once, beyond that the clock is re-based (a gap in the device's time).
 *   With `manualPlayout` the owner drives the clock by calling `playoutFrame()` (tests).
 * - Device clock: a sink with its own clock (AudioSink.setPuller: the app's AudioWorklet through
 *   PortAudioDevice) pulls each frame when the sound card needs it (its deadline for the buffer);
 *   the timer then only sends. So the jitter buffer is drained at exactly the device's speed and a
 *   device clock that runs fast or slow against ours (tens to hundreds of ppm) is absorbed by the
 *   buffer's time-scaling, instead of a ring between two clocks over- or underflowing every few
 *   minutes. Pull phase alignment and the early tick are then not ours to do.
 * - Pull phase: a device pulling 20 ms at a fixed phase makes a frame wait up to 20 ms for its pull,
 *   whatever the jitter buffer does. This clock is ours, so once the stream is playing with its
 *   jitter measured, it moves its grid earlier by what the buffer reports as removable
 *   (JitterBuffer.pullPhaseAdvanceMs): pulls then come just `target slack` after the fastest
 *   arrivals (with ptime 10, 30 or 40: the pulls that first need each frame do). It looks again
 *   once a second and moves again when PHASE_REALIGN_MIN_MS or more became removable: the jitter
 *   target measured first can be inflated by the call's start (a busy event loop), and once it
 *   settles lower, time-scaling alone cannot remove the rest (slack only drops a pull period at a
 *   time). Each move, the sink sees one pull come early, nothing else (like a sound card opened at
 *   that moment). The send clock moves with it (one frame is read and sent early), so both still
 *   fall due together.
 * - Far-end clock drift, on this clock: arrivals creep earlier (far end fast) or later (slow) by
 *   tens to hundreds of ppm. Earlier: the once-a-second look moves the grid earlier in steps of
 *   PHASE_REALIGN_MIN_MS. Later: at every pull, when the slack comes within PHASE_RETARD_BELOW_MS of
 *   the target, the grid moves later by the shortfall plus PHASE_RETARD_CUSHION_MS (a fraction of
 *   a ms each time). So playout (and sending) follow the far end's clock and no audio is
 *   time-scaled for drift. Time-scaling could only absorb a slow far end a whole pull period at a
 *   time, which the once-a-second look then moved away again: 20 ms of audio stretched EVERY
 *   second at 500 ppm. A shortfall of PHASE_RETARD_MAX_MS or more is the jitter target jumping,
 *   not drift: the buffer's time-scaling spreads that. With a device clock (the app), drift is
 *   the jitter buffer's job, as on any sound card.
 * - Early tick: once aligned, the tick falls due a few ms after the packet it needs arrives. So when
 *   a packet arrives, the tick is due within EARLY_TICK_MS (more with a higher jitter target, see
 *   there) and the jitter buffer can already serve that pull (JitterBuffer.canServe: the same audio
 *   as at the due time), the tick runs right then, as of its due time. This keeps the pull from
 *   missing a packet that is being delivered while the timer fires (without it the clean-link
 *   playout delay grew by a frame, 6 -> 21 ms, in the in-process bench).
 * - Pacing (MediaPacing), because every wake-up of a Node process costs ~0.15 ms of CPU here
 *   (more than the media work of a G.711 frame) and a timer cleared outside its own callback
 *   still wakes the loop at its old expiry (libuv's one timer is only re-armed when it fires):
 *   - 'timer' (the start): a timer armed for every due tick; early ticks still leave it waking the
 *     loop, so a call costs two wake-ups a frame (the packet and the timer).
 *   - 'arrivals': the packets pace the ticks. Entered after ARRIVAL_PACING_AFTER ticks in a row
 *     ran on arrivals, with the send clock due together with the pulls (ptime 20) and no capture
 *     device clocking the sends. No timer per frame: a watchdog wakes every ARRIVAL_WATCHDOG_MS,
 *     so one wake-up a frame plus the watchdog's; while the far end's stream never stopped in this
 *     call and its codecs cannot pause by design (AudioCodecInfo.discontinuous: Opus DTX), every
 *     ARRIVAL_WATCHDOG_LONG_MS (see there). Sending then follows the far end's packets as the
 *     playout grid already does (it is the far end's clock the headless follows); an outgoing
 *     packet leaves up to EARLY_TICK_MAX_MS before its grid time, never after it.
 *   - arrivals -> timer, the same moment: an arrival that does not complete its coming pull (a
 *     lost, late or reordered packet), an overdue tick an arrival or the watchdog finds (the far
 *     end stopped sending: hold, silence suppression, a stall; the watchdog's look catches up what
 *     fell due, at most a watchdog period late, once), a telephone-event packet (RFC 4733: the far
 *     end's audio pauses while a digit lasts), a renegotiation. Paced by arrivals, a lost
 *     packet delays one of ours by less than a frame; so after each such failure the arrivals must
 *     run twice as many clean ticks in a row before they pace again (up to
 *     ARRIVAL_PACING_BACKOFF_MAX times), and a lossy link stays on the timer; a failure after
 *     ARRIVAL_PACING_FORGIVEN_AFTER clean ticks paced by arrivals is an isolated one (a late packet
 *     on a busy machine) and does not double it.
 *   The app does not use it: its sound card clocks playout and capture.
 * - Late timer: when the process was busy (another process on the core, a GC pause), the timer and
 *   the datagram carrying the due frame are both waiting when the loop gets to run again, and Node
 *   runs timers BEFORE it polls sockets: the pull would conceal a frame that has arrived. So when
 *   the timer finds a due pull the playing stream's buffer cannot serve, it first lets the pending
 *   I/O be handled (MediaClock.afterPendingIo: setImmediate) and then ticks; a frame that is really
 *   missing costs that one deferral. On a loaded 2-core machine this caused most of the concealment
 *   on a clean loopback link (and the time-scaling that recovered from it).
 *
 * Timer: ONE timer drives both clocks (send and playout). It wakes at the earlier of the next
 * send frame and the next playout frame, does what is due (send first, then playout) and
 * re-arms; with ptime 20 both fall due together: 50 timer wake-ups a second, not 100 (and, paced
 * by arrivals, only the watchdog's). In the app the sound card clocks both playout and capture:
 * the timer then only looks for a capture stall, every CAPTURE_STALL_MS.
 *
 * RTCP: an RtcpSession sends SR/RR every ~5 s (see rtp/rtcp-session.ts), on the RTP port with
 * rtcp-mux, else from port+1 to the peer's RTCP address, and measures the RTT from the peer's
 * reports. The loss the peer reports on our stream goes to the encoder
 * (AudioEncoder.setExpectedLoss): Opus then spends in-band FEC on the loss there is, none on a
 * clean link. `stats()` returns everything a user or test wants to know about the media of the
 * call, including an E-model R-factor/MOS estimate.
 *
 * Teardown and V8: V8 compiles a field that was only ever written once per object (in practice:
 * only by the constructor) as a constant of that object shape, and throws away every optimized
 * function that relied on it when any object of that shape writes it again. So the first call's
 * teardown writing `closed`, `queue = []` and the like threw the optimized per-packet code away,
 * and the next call started on baseline code (the headless's V8 deopt log: ~15 media functions
 * dropped, "code dependencies", at the end of a process's first call). Fields the per-packet code
 * reads are therefore emptied in place at teardown, or are flags written at construction as well.
 *
 * Per-call object literals and V8: V8 makes an object literal's boilerplate the second time the
 * literal runs, and that generalizes what its shape's fields were known to hold (the class of the
 * object in each), again throwing away optimized code that relied on it. A literal made once per
 * call (the negotiation's `send`, a `{ codec, buffer }` entry) runs its second time at a process's
 * second call: in the headless's V8 trace (`--trace-generalization`, `--trace-deopt-verbose`) the
 * second call's negotiation and first packet dropped the send clock, `sending` and the playout
 * functions ("code dependencies"), which then ran on baseline code for 15-25 s. So the per-frame
 * code reads what it needs of the negotiation from this session's own fields (adoptNegotiated:
 * constructor and update), and a payload type's decoder chain is a class instance (ReceiveChain).
 *
 * Ownership: the session owns its encoder, jitter buffers (each owns its decoder), resamplers and
 * RtcpSession. It does NOT own the RtpSession, source or sink: whoever created them closes them
 * after `stop()`.
 * Node main thread only.
 */
import type { MediaSummary } from '../../common/contract/contract';
import type { AudioSink, AudioSource } from './audio/audio-port';
import { Resampler } from './audio/resampler';
import type { AudioCodec, AudioEncoder } from './codecs/audio-codec';
import type { MediaClock, MediaTimer } from './media-clock';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats, type RtpAudioPacket } from './jitter/jitter-buffer';
import { COMFORT_NOISE_CLOCK_RATE } from './jitter/comfort-noise';
import { estimateCallQuality, type CallQuality } from './quality/e-model';
import { RtcpSession, type RtcpStats } from './rtp/rtcp-session';
import type { RtpPacketReceiver, RtpSession } from './rtp/rtp-session';
import type { RtpPacket } from './rtp/rtp-packet';
import { formatTransportAddress } from './rtp/rtp-stream-socket';
import type { NegotiatedAudio } from './sdp/offer-answer';
import { frameSamples } from './frame-memory';

/** Frames overdue beyond this many are skipped, not sent (see header): covers a long watchdog's look. */
const MAX_CATCH_UP = 8;
/** Device capture: this long without captured audio and the timer sends silence (see header). */
const CAPTURE_STALL_MS = 60;
/** Duration of one playout (device) frame. */
export const PLAYOUT_MS = 20;
const MAX_PLAYOUT_CATCH_UP = 10;
/**
 * Node runs timers on libuv's loop time: whole ms, read when the loop iteration began. A timer
 * set for the exact wait fired up to a ms BEFORE the frame was due, found nothing to do and
 * re-armed for 1 ms: two wake-ups a frame. Rounded up plus this, it fires 0-2 ms after the due
 * time; the work is done as of the grid time (the jitter buffer pulls for the grid's device time).
 */
const TIMER_ROUNDING_MS = 1;
/** One playout pull at the codec's PCM rate. */
const playoutSamples = (rate: number) => Math.round((rate * PLAYOUT_MS) / 1000);
/** Phase alignment leaves this much of the removable wait (see alignPlayoutPhase). */
const PHASE_ALIGN_CUSHION_MS = 0.25;
/** After the first alignment, the removable wait is looked at again once a second (in pulls)... */
const PHASE_CHECK_PULLS = 50;
/** ...and the grid moved again only if at least this much became removable (a settled target is a few ms off). */
const PHASE_REALIGN_MIN_MS = 2;
/**
 * At every pull after the first alignment: when the slack came within this much of the target
 * (arrivals drifting later), the grid moves later so the slack is PHASE_RETARD_CUSHION_MS above it
 * (less than PHASE_REALIGN_MIN_MS, so the next check does not move it back)...
 */
const PHASE_RETARD_BELOW_MS = 0.1;
const PHASE_RETARD_CUSHION_MS = 1;
/** ...unless it fell short by this much or more: then the target jumped (jitter), not the far end's clock. */
const PHASE_RETARD_MAX_MS = 2;
/**
 * A packet arrival runs the media tick when it falls due within this many ms (see header), or within
 * the jitter target plus EARLY_TICK_MARGIN_MS when that is more (an aligned grid puts the pull about
 * the target after the fastest arrivals: Opus from baresip needs ~10 ms), but never EARLY_TICK_MAX_MS
 * or more: less than a pull period, so a burst of packets cannot run the pull after next ahead.
 */
const EARLY_TICK_MS = 8;
const EARLY_TICK_MARGIN_MS = 3;
const EARLY_TICK_MAX_MS = 15;
/** Clean ticks on arrivals in a row before the arrivals pace the media (see header, "Pacing"): 1 s... */
const ARRIVAL_PACING_AFTER = 50;
/** ...twice that after each time they failed to, up to this many times that (a lossy link stays on the timer)... */
const ARRIVAL_PACING_BACKOFF_MAX = 32;
/**
 * ...unless they had paced this many ticks in a row (5 s) before failing: a late or lost packet now
 * and then (a busy machine, a jitter spike) is not a lossy link, and must not cost the rest of the
 * call its arrival pacing. Before, each failure doubled the clean run needed for the rest of the
 * call, and the first one also put the watchdog on 60 ms: on the bench's loaded 2-core machine,
 * one call in three ran at 66-89 wake-ups a second instead of ~60 (README, session 16).
 */
const ARRIVAL_PACING_FORGIVEN_AFTER = 250;
/** Paced by arrivals, the watchdog looks this often for a tick the arrivals did not run... */
const ARRIVAL_WATCHDOG_MS = 60;

/**
 * Receive stall: nothing (audio or telephone-event) has come from the far end for this long
 * while it should be sending: our direction receives and it does not hold the call. One-way
 * audio from the start (a NAT or firewall in the way) or a connection lost mid-call; the call's
 * snapshot says so (`media.stalled`) and the account's media timeout may end the call. Looked at
 * where the playout clock runs (our timer, the device's pulls), so it costs no wake-up of its own;
 * the next packet ends it. Opus DTX still sends a frame every 400 ms, so 5 s is no pause of speech.
 */
export const RECEIVE_STALL_MS = 5000;
/**
 * ...but after a comfort-noise packet (and until its next audio) the far end has said it stopped
 * sending for its user's silence, which may last minutes: then only its RTCP shows it is there, and
 * a stall is nothing from it, RTP or RTCP, for this long (RFC 3550 section 6.3.5 times a member out
 * after five report intervals; ours and most peers' is 5 s). A silent far end that sends no RTCP at
 * all gives nothing to tell a dead line from silence: no stall is declared while it is silent.
 */
export const SILENT_FAR_END_STALL_MS = 25000;
/**
 * ...or this seldom while nothing says the far end's packets may stop: its stream never paused in
 * this call (no gap of more than ARRIVAL_WATCHDOG_MS between two of its packets, telephone-events
 * included; a late or lost packet leaves a shorter one) and no codec it may send is discontinuous. Each
 * look is a wake-up of its own, which costs more CPU than a G.711 frame's media work (see
 * "Pacing"): 7 a second instead of 17. The price: the first time such a stream does stop (a hold
 * whose re-INVITE comes after its media stopped, a dead link, a non-conforming silence
 * suppression), our packets wait up to this long, once (then all go at once, see MAX_CATCH_UP);
 * from then on the watchdog is the short one.
 */
export const ARRIVAL_WATCHDOG_LONG_MS = 140;

/**
 * What wakes the media ticks of a session with its own playout clock (see header, "Pacing").
 * Transitions: timer -> arrivals (ARRIVAL_PACING_AFTER clean early ticks in a row);
 * arrivals -> timer (a tick the arrivals did not run on time, a renegotiation).
 */
export type MediaPacing = 'timer' | 'arrivals';

export type MediaSessionState = 'idle' | 'running' | 'stopped';

export interface MediaSessionCounters {
  framesSkipped: number;
  unknownPayloadType: number;
  /** Playout frames written to the sink (silence included). */
  framesPlayed: number;
  /** Times the playout clock fell more than MAX_PLAYOUT_CATCH_UP frames behind and was re-based. */
  playoutRebased: number;
  /** How far (ms) the playout grid was moved earlier to follow the arrivals (see header), in all. */
  playoutPhaseAdvanceMs: number;
  /** How far (ms) it was moved later to follow arrivals drifting later (a slower far-end clock), in all. */
  playoutPhaseRetardMs: number;
  /** How many times it was moved (either way). */
  playoutPhaseMoves: number;
  /** Timer ticks put off until pending I/O was handled (see header, "Late timer"). */
  ticksAfterPendingIo: number;
  /** Media ticks run on a packet arrival, ahead of the timer (see header, "Early tick"). */
  ticksOnArrival: number;
  /** Times the media timer (or, paced by arrivals, the watchdog) fired (see TIMER_ROUNDING_MS). */
  timerWakeups: number;
  /** Times the arrivals took over pacing from the timer, and gave it back (see header, "Pacing"). */
  pacedByArrivals: number;
  pacedByTimer: number;
}

export interface MediaSessionOptions {
  rtp: RtpSession;
  negotiated: NegotiatedAudio;
  source: AudioSource;
  sink: AudioSink;
  /**
   * Where the session reports: what went wrong (a failing device, undecodable audio; `level`
   * 'warn' or absent) and one summary per call when it stops ('info': its media clock's counters,
   * for support logs). Default: warnings to console.warn, the summary nowhere.
   */
  log?: (message: string, level?: 'info' | 'warn') => void;
  /** Jitter buffer tuning (defaults: see jitter-buffer.ts). */
  jitterBuffer?: JitterBufferOptions;
  /** RTCP SDES CNAME (default: random per session). */
  cname?: string;
  /** RTCP report interval (default 5000 ms; tests may shorten it). */
  rtcpIntervalMs?: number;
  /** Do not run the playout timer; the owner calls playoutFrame() (deterministic tests). */
  manualPlayout?: boolean;
  /** Called when a receive stall begins (true) and when the far end's packets come again (false); see RECEIVE_STALL_MS. */
  onReceiveStall?: (stalled: boolean) => void;
  /**
   * A fault: an exception from this session's own work on a timer, a device pull or capture, or its
   * RTCP (a bug, or a device or codec failing in a way nothing else catches). The session has
   * stopped when this is called, once; without it the exception would reach the event loop (the
   * headless process ends, Electron shows its crash dialog) and the call would go on without audio.
   */
  onFault?: (error: Error) => void;
}

/** Everything about one call's media; the shape of the contract's `call.stats` result. */
export interface MediaStats {
  codec: string;
  /** PCM rate of the codec in use for sending. */
  sampleRate: number;
  direction: NegotiatedAudio['direction'];
  rtcpMux: boolean;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Peer's packets lost on the way to us (RFC 3550 cumulative lost, never negative). */
  packetsLost: number;
  /** (packetsLost + packets too late to play) as a percentage of the packets expected. */
  lossPercent: number;
  /** RFC 3550 interarrival jitter of the peer's stream, ms. */
  jitterMs: number;
  roundTripTimeMs?: number;
  /** The peer's view of our stream, from its last RTCP report. */
  remote?: RtcpStats['remote'];
  rtcpSent: number;
  rtcpReceived: number;
  jitterBuffer?: JitterBufferStats;
  quality: CallQuality;
}

/**
 * A session's counters, all zero. The two ms sums take fractional values, and V8 fixes a field's
 * representation by its first value: a first 0 (an integer) made the first fractional sum give the
 * counters a new shape, and creating the next call's counters from the old one threw away the
 * per-packet code that counts (seen at a second call's start; see "Teardown and V8" above). So
 * they start as a fraction (NaN) and are then zeroed.
 */
function newCounters(): MediaSessionCounters {
  const counters: MediaSessionCounters = {
    framesSkipped: 0,
    unknownPayloadType: 0,
    framesPlayed: 0,
    playoutRebased: 0,
    playoutPhaseAdvanceMs: Number.NaN,
    playoutPhaseRetardMs: Number.NaN,
    playoutPhaseMoves: 0,
    ticksOnArrival: 0,
    ticksAfterPendingIo: 0,
    timerWakeups: 0,
    pacedByArrivals: 0,
    pacedByTimer: 0,
  };
  counters.playoutPhaseAdvanceMs = 0;
  counters.playoutPhaseRetardMs = 0;
  return counters;
}

/** A received packet as a jitter buffer takes it: keys in the order jitter-buffer.ts primes (double-fields.ts). */
function bufferedPacket(packet: RtpPacket, receivedAt: number): RtpAudioPacket {
  return {
    seq: packet.sequenceNumber,
    timestamp: packet.timestamp,
    ssrc: packet.ssrc,
    marker: packet.marker,
    payload: packet.payload,
    arrivalMs: receivedAt,
  };
}

/** A received payload type's codec and jitter buffer (a class, not a literal: see header, "Per-call object literals and V8"). */
class ReceiveChain {
  constructor(
    readonly codec: AudioCodec,
    readonly buffer: JitterBuffer,
  ) {}
}

export class MediaSession implements RtpPacketReceiver {
  readonly counters: MediaSessionCounters = newCounters();
  /** RFC 4733 packets (payload, RTP header fields) for a future DTMF receiver. */
  onTelephoneEvent: ((payload: Uint8Array, timestamp: number, marker: boolean) => void) | undefined;
  /**
   * While true, audio frames are not sent (the timestamp still advances, as on hold): an RFC 4733
   * digit is being sent on the same SSRC (media-B's DTMF sender sets it).
   */
  suppressAudio = false;
  private negotiated: NegotiatedAudio;
  /**
   * What the per-frame code needs of `negotiated`, copied by adoptNegotiated() (see header,
   * "Per-call object literals and V8"): packet time, our payload type and clock rate, a frame in
   * samples (codec rate) and in timestamp units, whether the direction lets us send (to a real
   * port) and receive, the far end's telephone-event payload type (-1: none), the codec of each
   * payload type we receive, and whether one of them is discontinuous (DTX).
   */
  private ptime = 0;
  private sendPayloadType = 0;
  private sendClockRate = 0;
  private sendFrameSamples = 0;
  private sendTimestampIncrement = 0;
  private directionSends = false;
  private directionReceives = false;
  private telephoneEventPayloadType = -1;
  /** The peer's own number for events, when it may send with it (TelephoneEventParams.aliasReceivePayloadType). */
  private telephoneEventAliasPayloadType = -1;
  private telephoneEventClockRate = 8000;
  private comfortNoisePayloadType = -1;
  private readonly receiveCodecs = new Map<number, AudioCodec>();
  private receivesDiscontinuous = false;
  private readonly rtp: RtpSession;
  private readonly source: AudioSource;
  private readonly sink: AudioSink;
  private readonly log: (message: string, level?: 'info' | 'warn') => void;
  private stateValue: MediaSessionState = 'idle';
  private encoder: AudioEncoder;
  /** One jitter buffer per received payload type (each owns its decoder). */
  private readonly jitterBuffers = new Map<number, ReceiveChain>();
  /** Payload type of the latest received media packet: the buffer the playout clock pulls from... */
  private activePayloadType: number | undefined;
  /** ...and its entry in jitterBuffers (the jitter buffer playout pulls from, and its codec), kept at hand: the packets and the pulls need it every frame. */
  private activeEntry: ReceiveChain | undefined;
  /** What the sink plays instead of silence while none of the far end's audio plays (setIdleFill). */
  private idleFill: ((frame: Int16Array, sampleRate: number) => void) | undefined;
  private readonly jitterOptions: JitterBufferOptions;
  private readonly rtcp: RtcpSession;
  private sourceResampler: Resampler | undefined;
  private sinkResamplers = new Map<number, Resampler>();
  private sourceFifo = new Int16Array(0);
  /** readFrame's array when no resampling is needed. */
  private frameScratch = new Int16Array(0);
  private startTime = 0;
  private framesDone = 0;
  /** The far end's last two loss reports on our stream, percent (see onLossReported). */
  private reportedLoss: number[] = [];
  /** The one media timer (see header): armed while running; paced by arrivals, the watchdog. */
  private timer: MediaTimer | undefined;
  private pacingValue: MediaPacing = 'timer';
  /** Ticks run on arrivals since the timer last ran one, and how many it takes to pace by them (see header, "Pacing"). */
  private arrivalTicksInARow = 0;
  private arrivalPacingAfter = ARRIVAL_PACING_AFTER;
  /** When the far end's last RTP packet arrived (clock ms; none yet: +Infinity), and whether two of them were ever more than ARRIVAL_WATCHDOG_MS apart. */
  private lastArrivalAt = Number.POSITIVE_INFINITY;
  private farEndPaused = false;
  /** Receive stall (RECEIVE_STALL_MS): since when packets are due (start, or an update that made them due again), and whether they stalled. */
  private receiveDueSince = 0;
  private receiveStalledValue = false;
  /** When the current receive stall was declared (clock ms). */
  private stalledAt = 0;
  /** The far end's latest packet was comfort noise: it is silent, not gone (see SILENT_FAR_END_STALL_MS). */
  private farEndSilent = false;
  private readonly onReceiveStall: ((stalled: boolean) => void) | undefined;
  /** The RTP session's clock: arrivals are stamped on it, so pulls and sends are timed on it too. */
  private readonly clock: MediaClock;
  // The entry points from the event loop and the devices guard themselves (see onFault): a
  // try/catch in the function that already runs, so no wrapper per timer or frame.
  private readonly onTimer = () => {
    try {
      this.counters.timerWakeups++;
      this.arrivalTicksInARow = 0;
      this.tickFromTimer();
    } catch (error) {
      this.fail(error);
    }
  };
  private readonly onPendingIoHandled = () => {
    try {
      this.clockTick();
    } catch (error) {
      this.fail(error);
    }
  };
  /** Paced by arrivals: a tick they did not run hands pacing back to the timer (see header, "Pacing"). */
  private readonly onWatchdog = () => {
    try {
      this.counters.timerWakeups++;
      this.timer = undefined;
      if (this.stateValue !== 'running' || this.pacingValue !== 'arrivals') return;
      if (this.nextDue() > this.clock.now()) {
        this.armTimer();
        return;
      }
      this.arrivalsFailedToPace();
      this.tickFromTimer();
    } catch (error) {
      this.fail(error);
    }
  };
  private readonly onFault: ((error: Error) => void) | undefined;
  private readonly manualPlayout: boolean;
  /** The sink pulls on its own clock (AudioSink.setPuller, the app's sound card): our timer only sends. */
  private readonly devicePlayout: boolean;
  /** The source captures on its own clock (AudioSource.setCaptureListener): capture paces sending. */
  private readonly deviceCapture: boolean;
  /** Device capture: when audio last came in, and whether the timer is covering a stall since. */
  private lastCaptureAt = 0;
  private captureStalled = true;
  /** Device-clocked playout: audio rendered beyond what the last pull took (a resampler's odd length). */
  private pulledCarry = new Int16Array(0);
  private playoutStart = 0;
  private playoutFrames = 0;
  private playoutPhaseAligned = false;
  /** playoutFrames at which alignPlayoutPhase next looks (0: at every pull until the first alignment). */
  private nextPhaseCheck = 0;
  private readonly loggedOnce = new Set<string>();

  constructor(options: MediaSessionOptions) {
    this.rtp = options.rtp;
    this.clock = options.rtp.clock;
    this.source = options.source;
    this.sink = options.sink;
    this.negotiated = options.negotiated;
    this.adoptNegotiated();
    this.log =
      options.log ??
      ((message, level) => {
        if (level !== 'info') console.warn(message);
      });
    this.jitterOptions = {
      onDecodeError: (error) => this.logOnce('jitter-decode', `Received audio could not be decoded (concealed): ${error.message}`),
      ...options.jitterBuffer,
    };
    this.manualPlayout = options.manualPlayout ?? false;
    this.devicePlayout = !this.manualPlayout && this.sink.setPuller !== undefined;
    this.deviceCapture = this.source.setCaptureListener !== undefined;
    this.encoder = this.negotiated.send.codec.createEncoder(this.negotiated.send.peerFmtp);
    this.configureSourceResampler();
    this.farEndPaused = false; // a flag the per-packet code reads, written here as well (see "Teardown and V8")
    this.receiveStalledValue = false; // the same
    this.farEndSilent = false; // the same
    this.onReceiveStall = options.onReceiveStall;
    this.onFault = options.onFault;
    this.rtp.socket.setRemote(this.negotiated.remoteRtp);
    this.rtp.socket.rtcp?.setRemote(this.negotiated.remoteRtcp);
    this.rtp.onPacket(this);
    this.rtcp = new RtcpSession({
      rtp: this.rtp,
      mux: this.negotiated.rtcpMux,
      log: this.log,
      ...(options.cname !== undefined ? { cname: options.cname } : {}),
      ...(options.rtcpIntervalMs !== undefined ? { intervalMs: options.rtcpIntervalMs } : {}),
      onRemoteReport: (report) => this.onLossReported(report.fractionLost * 100),
      onFault: (error) => this.fail(error),
    });
  }

  /**
   * An exception escaped this session's work (see MediaSessionOptions.onFault): stop, say so once.
   * Also for the RTP session's receive path, whose socket reports such exceptions to the owner.
   */
  fail(error: unknown): void {
    if (this.stateValue === 'stopped') return;
    const fault = error instanceof Error ? error : new Error(String(error));
    this.log(`Media failed, stopping this call's audio: ${fault.stack ?? fault.message}`);
    try {
      this.stop();
    } catch (stopError) {
      this.log(`Stopping the failed media failed too: ${(stopError as Error).message}`);
    }
    this.onFault?.(fault);
  }

  get state(): MediaSessionState {
    return this.stateValue;
  }

  /** What wakes the media ticks (see header, "Pacing"). */
  get pacing(): MediaPacing {
    return this.pacingValue;
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
      mos: Math.round(this.stats().quality.mos * 100) / 100,
      ...(this.stateValue === 'running' ? { stalled: this.receiveStalledValue } : {}),
    };
  }

  /** Whether the far end's packets stalled (see RECEIVE_STALL_MS). */
  get receiveStalled(): boolean {
    return this.receiveStalledValue;
  }

  /** Packets are due from the far end: our direction receives and it does not hold the call. */
  private get receiveDue(): boolean {
    const peer = this.negotiated.peerDirection;
    return this.directionReceives && peer !== 'sendonly' && peer !== 'inactive';
  }

  /** Where the playout clock runs (see RECEIVE_STALL_MS): has a receive stall begun by `now`? */
  private watchReceiving(now: number): void {
    if (this.stateValue !== 'running') return;
    if (this.receiveStalledValue) {
      // A silent far end's report after the stall began: it is there after all.
      if (this.farEndSilent && this.rtcp.lastReceivedAt > this.stalledAt) this.setReceiveStalled(false);
      return;
    }
    let last = this.lastArrivalAt === Number.POSITIVE_INFINITY ? this.receiveDueSince : Math.max(this.lastArrivalAt, this.receiveDueSince);
    let limit = RECEIVE_STALL_MS;
    if (this.farEndSilent) {
      const reportedAt = this.rtcp.lastReceivedAt;
      if (reportedAt === Number.NEGATIVE_INFINITY) return;
      last = Math.max(last, reportedAt);
      limit = SILENT_FAR_END_STALL_MS;
    }
    if (now - last >= limit && this.receiveDue) {
      this.stalledAt = now;
      this.setReceiveStalled(true);
      this.logOnce('receive-stall', `Nothing received from the far end for ${limit / 1000} s (first time in this call)`);
    }
  }

  private setReceiveStalled(stalled: boolean): void {
    this.receiveStalledValue = stalled;
    this.onReceiveStall?.(stalled);
  }

  /** Jitter-buffer statistics of the payload type being played, if anything was received. */
  jitterBufferStats(): JitterBufferStats | undefined {
    return this.activePayloadType === undefined ? undefined : this.jitterBuffers.get(this.activePayloadType)?.buffer.stats();
  }

  /**
   * Media statistics of the call. Loss counts what never arrived (RTCP reception statistics) plus
   * what arrived too late to play (jitter buffer). Quality: E-model with RTT/2 + our playout
   * delay (jitter buffer + wait for the device) + one packet time as one-way delay, the
   * peer's interarrival jitter and that loss.
   */
  stats(): MediaStats {
    const rtcp = this.rtcp.stats();
    const jitterBuffer = this.jitterBufferStats();
    const reception = rtcp.reception;
    const packetsLost = Math.max(0, reception?.cumulativeLost ?? 0);
    const expected = reception?.expected ?? 0;
    const lossPercent = expected > 0 ? Math.min(100, ((packetsLost + (jitterBuffer?.late ?? 0)) / expected) * 100) : 0;
    const jitterMs = reception?.jitterMs ?? 0;
    const quality = estimateCallQuality({
      ...(rtcp.roundTripTimeMs !== undefined ? { roundTripTimeMs: rtcp.roundTripTimeMs } : {}),
      localDelayMs: Math.max(0, jitterBuffer?.playoutDelayMs ?? jitterBuffer?.currentDelayMs ?? 0) + this.negotiated.ptime,
      jitterMs,
      packetLossPercent: lossPercent,
      codec: this.negotiated.send.codec.info.encodingName,
    });
    const c = this.rtp.counters;
    return {
      codec: this.negotiated.send.codec.info.encodingName,
      sampleRate: this.negotiated.send.codec.info.sampleRate,
      direction: this.negotiated.direction,
      rtcpMux: this.negotiated.rtcpMux,
      packetsSent: c.packetsSent,
      packetsReceived: c.packetsReceived,
      bytesSent: c.bytesSent,
      bytesReceived: c.bytesReceived,
      packetsLost,
      lossPercent,
      jitterMs,
      ...(rtcp.roundTripTimeMs !== undefined ? { roundTripTimeMs: rtcp.roundTripTimeMs } : {}),
      ...(rtcp.remote ? { remote: rtcp.remote } : {}),
      rtcpSent: rtcp.sent,
      rtcpReceived: rtcp.received,
      ...(jitterBuffer ? { jitterBuffer } : {}),
      quality,
    };
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'running';
    this.startTime = this.clock.now();
    this.receiveDueSince = this.startTime;
    this.framesDone = 0;
    this.playoutStart = this.startTime;
    this.playoutFrames = 0;
    // Until the device's first capture, the timer sends silence as after a stall.
    this.lastCaptureAt = this.startTime;
    this.captureStalled = true;
    this.clockTick();
    if (this.devicePlayout) this.sink.setPuller!((frame) => this.pullPlayoutGuarded(frame));
    if (this.deviceCapture) this.source.setCaptureListener!((readable) => this.onCapturedGuarded(readable));
    this.rtcp.start();
  }

  /** Apply a new negotiation (re-INVITE): codec, remote address, direction, ptime may change. */
  update(negotiated: NegotiatedAudio): void {
    const previous = this.negotiated;
    const wasDue = this.receiveDue;
    this.negotiated = negotiated;
    this.adoptNegotiated();
    const remoteChanged =
      previous.remoteRtp.address !== negotiated.remoteRtp.address || previous.remoteRtp.port !== negotiated.remoteRtp.port;
    // Packets due again (resumed, or the far end moved): the stall clock starts afresh; not due: no stall.
    if (!this.receiveDue || !wasDue || remoteChanged) {
      this.receiveDueSince = this.clock.now();
      if (this.receiveStalledValue) this.setReceiveStalled(false);
    }
    if (remoteChanged) this.rtp.socket.setRemote(negotiated.remoteRtp);
    const rtcpChanged =
      previous.remoteRtcp?.address !== negotiated.remoteRtcp?.address || previous.remoteRtcp?.port !== negotiated.remoteRtcp?.port;
    if (rtcpChanged) this.rtp.socket.rtcp?.setRemote(negotiated.remoteRtcp);
    this.rtcp.setMux(negotiated.rtcpMux);
    if (previous.send.codec !== negotiated.send.codec || previous.send.peerFmtp !== negotiated.send.peerFmtp) {
      // A new codec, or the far end now asks something else of our encoder (its fmtp).
      this.encoder.close();
      this.encoder = negotiated.send.codec.createEncoder(negotiated.send.peerFmtp);
      this.tellEncoderLoss();
      this.configureSourceResampler();
    }
    for (const [pt, entry] of this.jitterBuffers) {
      const after = this.receiveCodecs.get(pt); // adoptNegotiated() has already read the new negotiation
      if (entry.codec !== after) {
        entry.buffer.close();
        this.jitterBuffers.delete(pt);
        this.sinkResamplers.delete(pt);
        if (this.activePayloadType === pt) {
          this.activePayloadType = undefined;
          this.activeEntry = undefined;
        }
      }
    }
    if (previous.ptime !== negotiated.ptime && this.stateValue === 'running') {
      // Re-base the pacing clock on the new frame duration.
      this.startTime = this.clock.now();
      this.framesDone = 0;
    }
    if (this.pacingValue === 'arrivals' && this.stateValue === 'running') {
      // Direction, ptime or codec may have changed what arrives: the timer paces until it is steady again.
      this.usePacing('timer');
      this.armTimer();
    }
  }

  /**
   * Stop sending and receiving; a started session sends a last RTCP report with BYE.
   * Does not close the RTP session, source or sink.
   */
  stop(): void {
    if (this.stateValue === 'stopped') return;
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
    if (this.devicePlayout && wasRunning) this.sink.setPuller!(undefined);
    if (this.deviceCapture && wasRunning) this.source.setCaptureListener!(undefined);
    this.rtcp.stop(wasRunning);
    // One line per call: how its media clock was woken and kept (see header, "Pacing"); what a
    // support log needs when a call cost more CPU or sounded worse than the others.
    if (wasRunning) this.log(`Media clock at the end of the call: pacing ${this.pacingValue}, ${JSON.stringify(this.counters)}`, 'info');
    this.rtp.onPacket(undefined);
    this.activeEntry = undefined;
    this.encoder.close();
    for (const { buffer } of this.jitterBuffers.values()) buffer.close();
    this.jitterBuffers.clear();
  }

  /**
   * What the sink plays while none of the far end's audio plays (before its first audio packet,
   * or while not receiving): silence when undefined, else `fill` writes a frame at the sink's rate
   * over the zeroed `frame`. The owner sets it for local ringback while the far end alerts during
   * early media (RFC 3960 s. 3) and clears it at the answer.
   */
  setIdleFill(fill: ((frame: Int16Array, sampleRate: number) => void) | undefined): void {
    this.idleFill = fill;
  }

  /** Whether the sink is playing the idle fill now (no far-end audio has come yet). */
  get playingIdleFill(): boolean {
    return this.idleFill !== undefined && this.stateValue === 'running' && (this.activePayloadType === undefined || !this.receiving);
  }

  /**
   * One tick of the playout (device) clock: PLAYOUT_MS of received audio (or silence) to the sink.
   * Called by the internal timer, or by the owner with `manualPlayout`. `deviceTimeMs`
   * (the media clock) is when the device takes the frame; the jitter buffer measures the
   * playout delay with it.
   */
  playoutFrame(deviceTimeMs?: number): void {
    if (this.manualPlayout) this.watchReceiving(deviceTimeMs ?? this.clock.now());
    this.writeSink(this.renderPlayout(deviceTimeMs));
  }

  /** The device's pull, guarded (see onFault): silence and a stopped session rather than an exception in the device. */
  private pullPlayoutGuarded(frame: Int16Array): void {
    try {
      this.pullPlayout(frame);
    } catch (error) {
      frame.fill(0);
      this.fail(error);
    }
  }

  /**
   * Device-clocked playout (AudioSink.setPuller): fill the device's frame with one pull of the
   * jitter buffer for what the last render left short, keeping any excess for the next pull. One
   * pull per device frame, so the buffer's slack model sees the device's real pull size and period.
   * Its deadline is now, when the audio is taken, whatever the device queues after it. A
   * resampler's first output is short by its filter delay: that render is padded with leading
   * silence, so the shortfall never becomes a carry that would delay every later frame by it.
   */
  private pullPlayout(frame: Int16Array): void {
    if (this.stateValue !== 'running') {
      frame.fill(0);
      return;
    }
    const now = this.clock.now();
    this.watchReceiving(now);
    let carry = this.pulledCarry;
    while (carry.length < frame.length) {
      const wanted = frame.length - carry.length;
      const rendered = this.renderPlayout(now, wanted);
      const joined = frameSamples(carry.length + Math.max(rendered.length, wanted));
      joined.set(carry);
      joined.set(rendered, joined.length - rendered.length);
      carry = joined;
    }
    frame.set(carry.subarray(0, frame.length));
    this.pulledCarry = carry.subarray(frame.length);
  }

  /** `sinkSamples` (default PLAYOUT_MS) of received audio (or silence) at the sink's rate, in one pull. */
  private renderPlayout(deviceTimeMs: number | undefined, sinkSamples?: number): Int16Array {
    const pt = this.activePayloadType;
    const entry = this.activeEntry;
    this.counters.framesPlayed++;
    if (pt === undefined || !entry || !this.receiving) {
      const idle = frameSamples(sinkSamples ?? playoutSamples(this.sink.sampleRate));
      if (this.idleFill) this.idleFill(idle, this.sink.sampleRate);
      return idle;
    }
    const rate = entry.codec.info.sampleRate;
    const samples = sinkSamples === undefined ? playoutSamples(rate) : Math.max(1, Math.round((sinkSamples * rate) / this.sink.sampleRate));
    return this.forSink(pt, rate, entry.buffer.pull(samples, deviceTimeMs));
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
    // Allocated here, not at a call's first frame: a site first run once the per-frame code is
    // optimized would send that code back to baseline at the next call's first frame.
    this.frameScratch = new Int16Array(Math.max(1, Math.round(this.sendFrameSamples)));
  }

  /** Copies what the per-frame code needs of `negotiated` into this session's fields (see there). */
  private adoptNegotiated(): void {
    const { ptime, send, receive, direction, remoteRtp, telephoneEvent } = this.negotiated;
    const info = send.codec.info;
    this.ptime = ptime;
    this.sendPayloadType = send.payloadType;
    this.sendClockRate = info.rtpClockRate;
    this.sendFrameSamples = (info.sampleRate * ptime) / 1000;
    this.sendTimestampIncrement = (info.rtpClockRate * ptime) / 1000;
    this.directionSends = (direction === 'sendrecv' || direction === 'sendonly') && remoteRtp.port !== 0;
    this.directionReceives = direction === 'sendrecv' || direction === 'recvonly';
    this.telephoneEventPayloadType = telephoneEvent ? telephoneEvent.receivePayloadType : -1;
    this.telephoneEventAliasPayloadType = telephoneEvent?.aliasReceivePayloadType ?? -1;
    if (telephoneEvent) this.telephoneEventClockRate = telephoneEvent.clockRate;
    this.comfortNoisePayloadType = this.negotiated.comfortNoise ? this.negotiated.comfortNoise.receivePayloadType : -1;
    if (this.comfortNoisePayloadType < 0) this.farEndSilent = false;
    this.receiveCodecs.clear();
    for (const { payloadType, codec } of receive) this.receiveCodecs.set(payloadType, codec);
    // (Comfort noise does not make the stream discontinuous here: its SID hands pacing to the timer as the far end stops.)
    this.receivesDiscontinuous = receive.some((r) => r.codec.info.discontinuous === true);
  }

  private get sending(): boolean {
    return this.directionSends && !this.suppressAudio;
  }

  private get receiving(): boolean {
    return this.directionReceives;
  }

  /**
   * One frame of source audio at the codec's sample rate. Without resampling it is read into the
   * same array every frame (the encoder consumes it at once and keeps nothing, see AudioEncoder).
   */
  private readFrame(samples: number): Int16Array {
    if (!this.sourceResampler) {
      if (this.frameScratch.length !== samples) this.frameScratch = new Int16Array(samples);
      this.readSource(this.frameScratch);
      return this.frameScratch;
    }
    const chunk = Math.max(1, Math.round((this.source.sampleRate * this.ptime) / 1000));
    while (this.sourceFifo.length < samples) this.readIntoSourceFifo(chunk);
    const frame = this.sourceFifo.slice(0, samples);
    this.sourceFifo = this.sourceFifo.slice(samples);
    return frame;
  }

  /** `samples` of source audio, at the codec's rate, appended to sourceFifo. */
  private readIntoSourceFifo(samples: number): void {
    const input = new Int16Array(samples);
    this.readSource(input);
    const converted = this.sourceResampler ? this.sourceResampler.process(input) : input;
    const grown = new Int16Array(this.sourceFifo.length + converted.length);
    grown.set(this.sourceFifo);
    grown.set(converted, this.sourceFifo.length);
    this.sourceFifo = grown;
  }

  private readSource(frame: Int16Array): void {
    try {
      this.source.read(frame);
    } catch (error) {
      this.logOnce('source', `Audio source failed, sending silence: ${(error as Error).message}`);
      frame.fill(0);
    }
  }

  /**
   * The media timer: send what is due, play out what is due, re-arm for the earlier next due.
   * `asOf` (a due time slightly ahead of now) runs the tick early, see header "Early tick".
   */
  private clockTick(asOf?: number): void {
    if (this.pacingValue === 'timer') {
      this.timer?.cancel();
      this.timer = undefined;
    }
    if (this.stateValue !== 'running') return;
    const now = asOf ?? this.clock.now();
    if (this.deviceCapture && !this.captureStalled && now >= this.lastCaptureAt + CAPTURE_STALL_MS) {
      // No capture for a while: send silence on a time grid from now on (see header).
      this.captureStalled = true;
      this.startTime = now;
      this.framesDone = 0;
    }
    if (!this.deviceCapture || this.captureStalled) this.sendDue(now);
    if (this.ownPlayoutClock) this.playoutDue(now);
    this.armTimer();
  }

  /**
   * The far end reported loss on our stream (RTCP): encoders with loss-dependent redundancy (Opus
   * in-band FEC) spend it on that loss, the larger of the last two reports so one clean interval
   * does not drop the protection a lossy link still needs.
   */
  private onLossReported(percent: number): void {
    this.reportedLoss = [...this.reportedLoss.slice(-1), percent];
    this.tellEncoderLoss();
  }

  private tellEncoderLoss(): void {
    if (this.reportedLoss.length === 0 || !this.encoder.setExpectedLoss) return;
    try {
      this.encoder.setExpectedLoss(Math.max(...this.reportedLoss));
    } catch (error) {
      this.logOnce('encoder-loss', `The encoder refused the reported loss: ${(error as Error).message}`);
    }
  }

  /** The timer for the next due tick; paced by arrivals, the watchdog unless it is already armed. */
  private armTimer(): void {
    if (this.pacingValue === 'arrivals') {
      this.timer ??= this.clock.setTimer(this.onWatchdog, this.watchdogMs());
      return;
    }
    this.timer?.cancel();
    const wait = this.nextDue() - this.clock.now();
    this.timer = this.clock.setTimer(this.onTimer, wait <= 0 ? 0 : Math.ceil(wait) + TIMER_ROUNDING_MS);
  }

  /** How long the watchdog waits before its look (see ARRIVAL_WATCHDOG_LONG_MS). */
  private watchdogMs(): number {
    return !this.farEndPaused && !this.receivesDiscontinuous ? ARRIVAL_WATCHDOG_LONG_MS : ARRIVAL_WATCHDOG_MS;
  }

  /** Switches what paces the ticks; the caller arms the timer it needs (see header, "Pacing"). */
  private usePacing(pacing: MediaPacing): void {
    if (this.pacingValue === pacing) return;
    this.pacingValue = pacing;
    this.arrivalTicksInARow = 0;
    // Leaving 'timer', the frame timer is no longer wanted; leaving 'arrivals', the watchdog.
    this.timer?.cancel();
    this.timer = undefined;
    if (pacing === 'arrivals') this.counters.pacedByArrivals++;
    else this.counters.pacedByTimer++;
  }

  private nextDue(): number {
    const nextSend = this.deviceCapture && !this.captureStalled ? this.lastCaptureAt + CAPTURE_STALL_MS : this.nextSendDue();
    return this.ownPlayoutClock ? Math.min(nextSend, this.nextPlayoutDue()) : nextSend;
  }

  /** Media time of the next frame on the send grid (timed sending). */
  private nextSendDue(): number {
    return this.startTime + this.framesDone * this.ptime;
  }

  /** Playout is paced by our timer (headless WAV devices), not by the owner or the sink. */
  private get ownPlayoutClock(): boolean {
    return !this.manualPlayout && !this.devicePlayout;
  }

  /** Device time of the next playout pull (the playout grid). */
  private nextPlayoutDue(): number {
    return this.playoutStart + this.playoutFrames * PLAYOUT_MS;
  }

  /** The tick a timer (or the watchdog) woke for; see header, "Late timer": the frame may be waiting in the socket. */
  private tickFromTimer(): void {
    if (this.pullWouldConceal()) {
      this.counters.ticksAfterPendingIo++;
      this.clock.afterPendingIo(this.onPendingIoHandled);
      return;
    }
    this.clockTick();
  }

  /** A playout pull is due on our clock and the playing stream's buffer lacks the audio for it. */
  private pullWouldConceal(): boolean {
    if (!this.ownPlayoutClock || this.stateValue !== 'running' || this.nextPlayoutDue() > this.clock.now()) return false;
    const entry = this.activeEntry;
    return entry !== undefined && entry.buffer.playing && !entry.buffer.canServe(playoutSamples(entry.codec.info.sampleRate));
  }

  /**
   * After a packet was queued: run the coming tick now if that changes nothing but the wake-up
   * (see header, "Early tick"), and hand pacing to the arrivals or back to the timer ("Pacing").
   */
  private tickEarlyIfServed(buffer: JitterBuffer, rate: number, now: number): void {
    if (!this.playoutPhaseAligned || !this.ownPlayoutClock || this.stateValue !== 'running') return;
    const due = this.nextDue();
    if (this.pacingValue === 'timer') {
      if (this.sendDueWithPull() && this.tickIfServed(buffer, rate, due, now) && ++this.arrivalTicksInARow >= this.arrivalPacingAfter && this.arrivalsCanPace()) {
        this.usePacing('arrivals');
        this.armTimer();
      }
      return;
    }
    if (due - now > this.earlyTickMs(buffer)) return; // not the packet the coming pull needs (ptime 10: the first half)
    if (due >= now && this.tickIfServed(buffer, rate, due, now)) {
      this.arrivalTicksInARow++;
      return;
    }
    // Overdue, or this packet does not complete the pull: the timer paces, from this tick on.
    this.arrivalsFailedToPace();
    if (!this.tickIfServed(buffer, rate, due, now)) this.armTimer();
  }

  /** Runs the tick due within earlyTickMs (or overdue) now, as of its due time, if the buffer can serve its pull. */
  private tickIfServed(buffer: JitterBuffer, rate: number, due: number, now: number): boolean {
    if (due - now > this.earlyTickMs(buffer) || !buffer.canServe(playoutSamples(rate))) return false;
    this.counters.ticksOnArrival++;
    // A hair past the due time, so float rounding cannot leave the due frame for later.
    this.clockTick(Math.max(due + 0.01, now));
    return true;
  }

  /** A tick the arrivals did not run on time: the timer paces, and longer before they may again (see header, "Pacing"). */
  private arrivalsFailedToPace(): void {
    // Paced by arrivals for long before this: an isolated failure, the next clean second may pace again.
    const isolated = this.pacingValue === 'arrivals' && this.arrivalTicksInARow >= ARRIVAL_PACING_FORGIVEN_AFTER;
    this.usePacing('timer');
    this.arrivalPacingAfter = isolated ? ARRIVAL_PACING_AFTER : Math.min(this.arrivalPacingAfter * 2, ARRIVAL_PACING_AFTER * ARRIVAL_PACING_BACKOFF_MAX);
  }

  /** How long before its due time an arrival may run the tick (see EARLY_TICK_MS). */
  private earlyTickMs(buffer: JitterBuffer): number {
    return Math.min(EARLY_TICK_MAX_MS, Math.max(EARLY_TICK_MS, buffer.targetDelayMs() + EARLY_TICK_MARGIN_MS));
  }

  /** The next tick is a playout pull (a send may fall due with it), not a send alone. */
  private sendDueWithPull(): boolean {
    return this.nextPlayoutDue() <= this.nextDue() + 0.001;
  }

  /** Every send falls due with a pull, and no capture device clocks the sends (see header, "Pacing"). */
  private arrivalsCanPace(): boolean {
    return !this.deviceCapture && this.ptime === PLAYOUT_MS && Math.abs(this.nextSendDue() - this.nextPlayoutDue()) < 0.001;
  }

  /** The device's capture callback, guarded (see onFault). */
  private onCapturedGuarded(readable: number): void {
    try {
      this.onCaptured(readable);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Device capture: send every complete codec frame of what came in (see header). */
  private onCaptured(readable: number): void {
    if (this.stateValue !== 'running') return;
    this.lastCaptureAt = this.clock.now();
    this.captureStalled = false;
    this.readIntoSourceFifo(readable);
    const frameSamples = this.sendFrameSamples;
    let offset = 0;
    for (; offset + frameSamples <= this.sourceFifo.length; offset += frameSamples) this.sendFrame(this.sourceFifo.subarray(offset, offset + frameSamples), this.lastCaptureAt);
    this.sourceFifo = this.sourceFifo.slice(offset);
  }

  /** Send clock: every frame due by `now` (see header for catch-up and skipping). */
  private sendDue(now: number): void {
    const ptime = this.ptime;
    const frameSamples = this.sendFrameSamples;
    const timestampIncrement = this.sendTimestampIncrement;
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
      this.sendFrame(this.readFrame(frameSamples), now);
      this.framesDone++;
    }
  }

  /** One codec frame of source audio, sent at `now` (clock ms): encoded and sent, or skipped (hold, DTX); the timestamp advances. */
  private sendFrame(frame: Int16Array, now: number): void {
    const timestampIncrement = this.sendTimestampIncrement;
    if (!this.sending) {
      this.rtp.skip(timestampIncrement);
      this.counters.framesSkipped++;
      return;
    }
    const payload = this.encoder.encode(frame);
    if (payload.length === 0) {
      // DTX: nothing worth sending for this frame; the timestamp still advances.
      this.rtp.skip(timestampIncrement);
      return;
    }
    const timestamp = this.rtp.nextTimestamp;
    if (this.rtp.sendFrame(this.sendPayloadType, payload, timestampIncrement)) this.rtcp.onRtpSent(payload.length, timestamp, this.sendClockRate, now);
  }

  /** Playout clock: every frame due by `now`, re-based after a long block (see header). */
  private playoutDue(now: number): void {
    this.watchReceiving(now);
    const due = Math.floor((now - this.playoutStart) / PLAYOUT_MS) + 1;
    let overdue = due - this.playoutFrames;
    if (overdue > MAX_PLAYOUT_CATCH_UP) {
      // The event loop was blocked for long: a real device would have glitched. Re-base the clock.
      this.counters.playoutRebased++;
      this.logOnce('playout-rebased', `Playout clock fell ${overdue} frames behind (event loop blocked); skipping ahead`);
      this.playoutStart = now - PLAYOUT_MS;
      this.playoutFrames = 0;
      this.nextPhaseCheck = 0; // a new grid: align it again
      overdue = 1;
    }
    for (; overdue > 0; overdue--) {
      this.playoutFrame(this.nextPlayoutDue());
      this.playoutFrames++;
    }
    if (this.playoutFrames >= this.nextPhaseCheck) this.alignPlayoutPhase();
    else if (this.playoutPhaseAligned) this.followLaterArrivals();
  }

  /** Pull just after the fastest arrivals (see header, "Pull phase"). */
  private alignPlayoutPhase(): void {
    const buffer = this.activeEntry?.buffer;
    const advance = buffer?.pullPhaseAdvanceMs();
    if (!buffer || advance === undefined) return;
    this.nextPhaseCheck = this.playoutFrames + PHASE_CHECK_PULLS;
    // A little less than all of it: slack exactly at the target would be a rounding error from a stretch.
    const shift = advance - PHASE_ALIGN_CUSHION_MS;
    const worthIt = this.playoutPhaseAligned ? PHASE_REALIGN_MIN_MS : 0;
    this.playoutPhaseAligned = true;
    if (shift > worthIt) this.movePlayoutGrid(buffer, -shift);
  }

  /**
   * Arrivals drifting later (a far-end clock slower than ours): move the pulls later by the little
   * that keeps the slack at the target, before the buffer would stretch the audio by a whole pull
   * period for it (see header, "Pull phase"). A larger shortfall is the jitter target jumping up:
   * the buffer's time-scaling spreads that out.
   */
  private followLaterArrivals(): void {
    const buffer = this.activeEntry?.buffer;
    const excess = buffer?.slackExcessMs();
    if (!buffer || excess === undefined || excess >= PHASE_RETARD_BELOW_MS || excess <= -PHASE_RETARD_MAX_MS) return;
    this.movePlayoutGrid(buffer, PHASE_RETARD_CUSHION_MS - excess);
  }

  /** Moves the playout grid (and the send clock with it, so both still fall due together) by `deltaMs`; negative: earlier. */
  private movePlayoutGrid(buffer: JitterBuffer, deltaMs: number): void {
    this.playoutStart += deltaMs;
    this.startTime += deltaMs;
    buffer.pullsMoved(deltaMs);
    if (deltaMs < 0) this.counters.playoutPhaseAdvanceMs -= deltaMs;
    else this.counters.playoutPhaseRetardMs += deltaMs;
    this.counters.playoutPhaseMoves++;
  }

  /** Each valid RTP packet of the call's RTP session (RtpPacketReceiver: the RTP session calls it, nothing else). */
  receiveRtp(packet: RtpPacket, receivedAt: number): void {
    if (this.stateValue === 'stopped') return;
    if (receivedAt - this.lastArrivalAt > ARRIVAL_WATCHDOG_MS) this.farEndPaused = true; // see ARRIVAL_WATCHDOG_LONG_MS
    this.lastArrivalAt = receivedAt;
    if (this.receiveStalledValue) this.setReceiveStalled(false);
    const payloadType = packet.payloadType;
    if (payloadType === this.telephoneEventPayloadType || payloadType === this.telephoneEventAliasPayloadType) {
      // The event's sequence number is no loss; its place in the timeline is no gap to conceal.
      this.rtcp.onEventReceived(packet.ssrc, packet.sequenceNumber, this.telephoneEventClockRate);
      const event = packet.payload;
      if (this.receiving && event.length >= 4) this.activeEntry?.buffer.noteTelephoneEvent(packet.ssrc, packet.timestamp, (event[2]! << 8) | event[3]!, (event[1]! & 0x80) !== 0);
      if (this.receiving) this.onTelephoneEvent?.(packet.payload, packet.timestamp, packet.marker);
      if (this.pacingValue === 'arrivals') {
        // The far end's audio pauses while its digit lasts: the timer paces, not the watchdog's look.
        this.arrivalsFailedToPace();
        this.armTimer();
      }
      return;
    }
    if (payloadType === this.comfortNoisePayloadType) {
      this.receiveComfortNoise(packet, receivedAt);
      return;
    }
    // The payload type playing now (nearly every packet): its entry, and so its codec, is at hand.
    let jitter = payloadType === this.activePayloadType ? this.activeEntry : undefined;
    const codec = jitter?.codec ?? this.receiveCodecs.get(payloadType);
    if (!codec) {
      this.counters.unknownPayloadType++;
      return;
    }
    if (this.farEndSilent) this.farEndSilent = false;
    this.rtcp.onRtpReceived(packet.ssrc, packet.sequenceNumber, packet.timestamp, receivedAt, codec.info.rtpClockRate);
    if (!this.receiving) return;
    if (!jitter) {
      jitter = this.receiveChain(payloadType, codec);
      this.activePayloadType = payloadType;
      this.activeEntry = jitter;
    }
    jitter.buffer.push(bufferedPacket(packet, receivedAt));
    this.tickEarlyIfServed(jitter.buffer, jitter.codec.info.sampleRate, receivedAt);
  }

  /** The decoder chain of a received payload type, made at its first packet. */
  private receiveChain(payloadType: number, codec: AudioCodec): ReceiveChain {
    let chain = this.jitterBuffers.get(payloadType);
    if (!chain) {
      chain = new ReceiveChain(codec, new JitterBuffer(codec, { frameMs: this.ptime, ...this.jitterOptions }));
      this.jitterBuffers.set(payloadType, chain);
    }
    return chain;
  }

  /**
   * An RFC 3389 SID: the far end's user fell silent (or its noise changed). It belongs to the stream
   * playing (same SSRC and numbering), or, before any audio, to the first stream we receive on an
   * 8 kHz RTP clock; a stream on another clock (Opus) cannot play it: counted as an unknown payload type.
   */
  private receiveComfortNoise(packet: RtpPacket, receivedAt: number): void {
    let chain = this.activeEntry;
    if (!chain) {
      for (const [payloadType, codec] of this.receiveCodecs) {
        if (codec.info.rtpClockRate !== COMFORT_NOISE_CLOCK_RATE) continue;
        chain = this.receiveChain(payloadType, codec);
        if (this.receiving) {
          this.activePayloadType = payloadType;
          this.activeEntry = chain;
        }
        break;
      }
    }
    if (!chain || !chain.buffer.acceptsComfortNoise) {
      this.counters.unknownPayloadType++;
      return;
    }
    this.farEndSilent = true;
    this.rtcp.onRtpReceived(packet.ssrc, packet.sequenceNumber, packet.timestamp, receivedAt, COMFORT_NOISE_CLOCK_RATE);
    if (this.pacingValue === 'arrivals') {
      // The far end stops sending now: the timer paces until its next talkspurt (not a failure of the link).
      this.usePacing('timer');
      this.armTimer();
    }
    if (!this.receiving) return;
    chain.buffer.pushComfortNoise(bufferedPacket(packet, receivedAt));
  }

  /** Decoded audio at the codec's `rate`, resampled to the sink's rate if they differ. */
  private forSink(payloadType: number, rate: number, pcm: Int16Array): Int16Array {
    if (rate === this.sink.sampleRate) return pcm;
    let resampler = this.sinkResamplers.get(payloadType);
    if (!resampler) {
      resampler = new Resampler(rate, this.sink.sampleRate);
      this.sinkResamplers.set(payloadType, resampler);
    }
    return resampler.process(pcm);
  }

  private writeSink(out: Int16Array): void {
    if (out.length === 0) return;
    try {
      this.sink.write(out);
    } catch (error) {
      this.logOnce('sink', `Audio sink failed: ${(error as Error).message}`);
    }
  }
}
