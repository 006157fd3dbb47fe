/**
 * sip.js SessionDescriptionHandler for Switchboard's own media: SDP offer/answer (RFC 3264) over
 * plain RTP with the codecs of the codec registry, audio through an AudioSource/AudioSink.
 *
 * Signaling state machine (one handler per sip.js Session / early dialog):
 *
 *   stable --getDescription--> have-local-offer --setDescription(answer)--> stable (media starts/updates)
 *   stable --setDescription(offer)--> have-remote-offer --getDescription--> stable (media starts/updates)
 *   have-local-offer | have-remote-offer --rollbackDescription--> stable
 *   any --close--> closed (terminal; every later call rejects)
 *
 * This covers every way sip.js drives a handler: offer in INVITE / answer in 200 (Inviter),
 * offer in INVITE / answer in 200 (Invitation), INVITE without SDP (offer in 200, answer in
 * ACK), and re-INVITEs with or without offer, since sip.js always calls setDescription for a
 * remote SDP and getDescription for a local one, in protocol order.
 *
 * Rules:
 * - An unusable remote offer/answer rejects setDescription with `SdpNegotiationError`
 *   (statusCode 488 "Not Acceptable Here", or 400 "Bad Request" when the SDP does not parse;
 *   reason in words) and leaves the state unchanged. (sip.js itself answers a bad re-INVITE
 *   offer with 488 whatever the code; the Call uses checkRemoteOffer for initial INVITEs.)
 * - The RTP socket is bound on the first getDescription/setDescription (we need its port for
 *   SDP) and lives until close. `env.openAudio` is called once, when media first starts.
 * - o= keeps one session id; its version increases only when our SDP changes (RFC 3264 s. 8).
 * - close() is synchronous for sip.js; the asynchronous teardown (socket, WAV finalization) is
 *   observable through `closed`.
 *
 * SRTP (SDES): with `env.srtpPolicy` other than 'off' our offers carry the profile and a=crypto
 * lines of ONE buildOutgoingOffer per handler (re-offers keep our keys); answers follow
 * decideIncomingOffer. After each completed exchange the RTP session's SRTP layer is set, replaced
 * only when a key changed, or removed when the stream became plain.
 *
 * Hold (`localHold`, set by the Call before it sends a re-INVITE): our offers say sendonly, or
 * inactive when the peer holds us too; our answers narrow the mirrored direction the same way;
 * what we send while holding is silence (the microphone is silenced, as by mute).
 * The peer holds us when its SDP says sendonly/inactive (or c=0.0.0.0) — except where that is
 * just the mirror of our own hold offer. `onChange` fires after every exchange (hold, SRTP, move)
 * and when the far end's media stalls or flows again.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type {
  BodyAndContentType,
  Session,
  SessionDescriptionHandler,
  SessionDescriptionHandlerFactory,
} from 'sip.js';
import type { MediaSummary } from '../../common/contract/contract';
import type { AudioSink, AudioSource } from './audio/audio-port';
import type { AudioCodec } from './codecs/audio-codec';
import { ensureBuiltinCodecs } from './codecs/builtin-codecs';
import type { CodecRegistry } from './codecs/codec-registry';
import { MediaSession } from './media-session';
import { RtpSession } from './rtp/rtp-session';
import { RtpStreamSocket } from './rtp/rtp-stream-socket';
import {
  answerOffer,
  createOffer,
  negotiateAnswer,
  SdpNegotiationError,
  type LocalMediaOptions,
  type NegotiatedAudio,
} from './sdp/offer-answer';
import { parseSdp, SdpParseError, serializeSdp, type SdpDirection, type SessionDescription } from './sdp/sdp';
import { buildOutgoingOffer, type OutgoingOffer, type SdesKeying, type SrtpPolicy } from './srtp/srtp-policy';
import { createSrtpSession, srtpSessionOptionsFromSdes } from './srtp/srtp-session';
import { CallDtmf } from './call-dtmf';
import type { ReceivedDtmfDigit } from './dtmf/rfc4733-receiver';
import type { DtmfDigit } from './dtmf/dtmf-digit';
import { CallRecorder, recordingRateFor } from './call-recorder';
import { TappedSink, TappedSource, type FrameTap } from './audio/tapped-ports';
import { MutingSource } from './audio/muting-source';
import { RingbackSignal } from './ringback-signal';
import { RingbackTone } from './ringback-tone';
import type { CallHold } from '../../common/contract/contract';

export { SdpNegotiationError } from './sdp/offer-answer';

export interface MediaEnvironment {
  /** IP to advertise in SDP c=/o= lines: the same interface the SIP transport uses. */
  localAddress(): string;
  /** Audio for a call; called once when media starts. */
  /**
   * `format.sampleRate` is the PCM rate of the negotiated codec (8000 G.711, 16000 G.722, 48000
   * Opus): a device that can run at any rate (WAV files) uses it so nothing is resampled away.
   */
  openAudio(session: Session, format: { sampleRate: number }): { source: AudioSource; sink: AudioSink };
  /** Encoding names in preference order, e.g. ['PCMU','PCMA']; default: all registered codecs. */
  codecPreference?: readonly string[];
  /** Registry to take codecs from; default: the process-wide one with the built-in codecs. */
  codecRegistry?: CodecRegistry;
  /** Where media problems are reported (default console.warn). */
  log?: (message: string) => void;
  /** SRTP/SDES policy of the account (default 'off'). */
  srtpPolicy?: SrtpPolicy;
  /** Packet time (ms) we ask for in our SDP (default 20). */
  ptime?: number;
}


export type SdhSignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer' | 'closed';

const SDP_CONTENT_TYPE = 'application/sdp';

function codecsFor(env: MediaEnvironment): AudioCodec[] {
  const registry = env.codecRegistry ?? ensureBuiltinCodecs();
  return registry.preferred(env.codecPreference);
}

function checkedLocalAddress(env: MediaEnvironment): string {
  const address = env.localAddress();
  if (isIP(address) === 0) throw new Error(`Media local address must be an IP address, got "${address}"`);
  if (address === '0.0.0.0' || address === '::') {
    throw new Error(`Media local address ${address} is unspecified; it cannot be advertised in SDP`);
  }
  return address;
}

/** The far end's SDP; SDP that does not parse is an SdpNegotiationError with status 400. */
export function parseRemoteSdp(body: string): SessionDescription {
  try {
    return parseSdp(body);
  } catch (error) {
    if (error instanceof SdpParseError) throw new SdpNegotiationError(`Malformed SDP: ${error.message}`, 'malformed');
    throw error;
  }
}

/** Everything but the o= line, to tell whether our SDP changed. */
function contentKey(sdp: SessionDescription): string {
  return serializeSdp({ ...sdp, origin: { ...sdp.origin, sessionVersion: '0' } });
}

export class SwitchboardSessionDescriptionHandler implements SessionDescriptionHandler {
  private stateValue: SdhSignalingState = 'stable';
  private rtp: RtpSession | undefined;
  private rtpOpening: Promise<RtpSession> | undefined;
  private media: MediaSession | undefined;
  private audio: { source: AudioSource; sink: AudioSink } | undefined;
  private localAddress: string | undefined;
  private readonly codecs: AudioCodec[];
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  private sessionVersion = BigInt(this.sessionId);
  private lastLocal: SessionDescription | undefined;
  private pendingLocalOffer: SessionDescription | undefined;
  private pendingRemoteOffer: { answer: SessionDescription; negotiated: NegotiatedAudio } | undefined;
  private srtpOffer: OutgoingOffer | undefined;
  private keying: SdesKeying | undefined;
  private remoteHold = false;
  private dtmf: CallDtmf | undefined;
  /** The call's recorder, when one runs, fed by the tapped audio ports. */
  private readonly recorderTap = new RecorderTap((message) => this.log(message));
  /** Local ringback wanted (the far end alerts; startRingback until stopRingback), and who plays it. */
  private ringbackSignal: RingbackSignal | undefined;
  private ringback: RingbackTone | undefined;
  /** The audio ports were opened by startRingback, before the codec was known. */
  private audioOpenedForRingback = false;
  /** Why the last answer to our offer was unusable (the call is then torn down by sip.js). */
  negotiationFailure: string | undefined;
  /**
   * Why this call's audio stopped mid-call: an exception in its media work (a bug, a device or codec
   * failing; MediaSessionOptions.onFault), caught so that it ends this call, not the process. Set
   * once, then onChange; the Call hangs up with it as the reason.
   */
  mediaFault: string | undefined;
  /** Our microphone on this call, with its mute switch, once media has started. */
  private microphone: MutingSource | undefined;
  private mutedValue = false;
  private localHoldValue = false;
  /** Called after every completed offer/answer exchange (hold, SRTP, remote address may change). */
  onChange: (() => void) | undefined;
  /** Called for every DTMF digit received as RFC 4733 telephone-events. */
  onDtmf: ((digit: ReceivedDtmfDigit) => void) | undefined;
  private resolveMediaStarted!: (media: MediaSession) => void;
  private resolveClosed!: () => void;
  private readonly log: (message: string) => void;
  /** Resolves once media has started (first completed offer/answer). */
  readonly mediaStarted: Promise<MediaSession>;
  /** Resolves when close() has released the socket and closed the audio ports. */
  readonly closed: Promise<void>;

  constructor(
    private readonly session: Session,
    private readonly env: MediaEnvironment,
  ) {
    this.codecs = codecsFor(env);
    this.log = env.log ?? ((message) => console.warn(message));
    this.mediaStarted = new Promise((resolve) => (this.resolveMediaStarted = resolve));
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get signalingState(): SdhSignalingState {
    return this.stateValue;
  }

  /** The running media, once an offer/answer exchange has completed. */
  get mediaSession(): MediaSession | undefined {
    return this.media;
  }

  mediaSummary(): MediaSummary | undefined {
    const summary = this.media?.summary();
    if (!summary) return undefined;
    return this.keying ? { ...summary, srtp: this.keying.suite } : summary;
  }

  /** Whether the far end's media stalled (MediaSession.receiveStalled; false before media starts). */
  get receiveStalled(): boolean {
    return this.media?.receiveStalled ?? false;
  }

  /** Who holds the call, once media has started. */
  get hold(): CallHold | undefined {
    if (!this.media) return undefined;
    if (this.localHold) return this.remoteHold ? 'both' : 'local';
    return this.remoteHold ? 'remote' : 'none';
  }

  /**
   * We hold the call: set by the Call before the re-INVITE that says so (see header), and back if
   * that fails. While held the microphone is silenced at once: our sendonly stream carries silence
   * to the held party, never the room (a desk phone's hold; a PBX plays its music on hold over it).
   */
  get localHold(): boolean {
    return this.localHoldValue;
  }

  set localHold(hold: boolean) {
    this.localHoldValue = hold;
    this.silenceMicrophoneIfWanted();
  }

  /**
   * Our microphone is muted (call.mute): the call sends silence (see muting-source.ts). May be set
   * before media starts, which then starts muted. Independent of hold: resuming keeps it muted.
   */
  get muted(): boolean {
    return this.mutedValue;
  }

  set muted(muted: boolean) {
    this.mutedValue = muted;
    this.silenceMicrophoneIfWanted();
  }

  private silenceMicrophoneIfWanted(): void {
    if (this.microphone) this.microphone.muted = this.mutedValue || this.localHoldValue;
  }

  /** Whether RFC 4733 telephone-events were negotiated (DTMF can go in RTP). */
  get telephoneEventNegotiated(): boolean {
    return this.media?.params.telephoneEvent !== undefined;
  }

  /** Send digits as RFC 4733 telephone-events; rejects if not negotiated or media is not running. */
  async sendRfc4733(digits: readonly DtmfDigit[], durationMs?: number): Promise<void> {
    if (!this.dtmf) throw new Error('The call has no media yet');
    await this.dtmf.send(digits, durationMs);
  }

  /**
   * The far end alerts (a 180 came): the caller hears local ringback until the far end's audio
   * comes or `stopRingback` (the answer, the end of the call), as RFC 3960 s. 3 asks: ringing only
   * after a 180, and never over audio the far end sends.
   * - Before media (180 without SDP): a RingbackTone writes it into the audio sink. The ports open
   *   early, at the highest PCM rate of the codecs we offer (the codec is not known yet; a lower-
   *   rate codec is resampled up into them, while opening at 8 kHz would band-limit a wideband call
   *   to 4 kHz). A sink that can follow a rate change (a WAV file) is switched to the codec's rate
   *   when media starts, so a narrowband call does not pay a resampling per frame for the ringback.
   * - With early media (an SDP in a 18x, before or after the 180): the media session plays it as
   *   its idle fill, so it stops at the far end's first audio packet (a PBX often sends its 183
   *   with SDP and no audio at all: the caller would hear nothing).
   * The same signal moves from one to the other in mid-cadence.
   */
  startRingback(): void {
    if (this.stateValue === 'closed' || this.ringbackSignal) return;
    const signal = new RingbackSignal();
    this.ringbackSignal = signal;
    if (this.media) {
      this.media.setIdleFill(signal.fill);
      return;
    }
    if (!this.audio) {
      this.audio = this.env.openAudio(this.session, { sampleRate: Math.max(...this.codecs.map((c) => c.info.sampleRate)) });
      this.audioOpenedForRingback = true;
    }
    this.ringback = new RingbackTone(this.audio.sink, signal, this.log);
    this.ringback.start();
  }

  /** The call was answered (or ends): no more local ringback. */
  stopRingback(): void {
    this.ringbackSignal = undefined;
    this.ringback?.stop();
    this.ringback = undefined;
    this.media?.setIdleFill(undefined);
  }

  /** Start or stop recording (see call-recorder.ts for the file format). */
  setRecording(path: string | undefined): void {
    const tap = this.recorderTap;
    if (tap.recorder) {
      tap.recorder.stop();
      tap.recorder = undefined;
    }
    if (path !== undefined) {
      if (this.stateValue === 'closed') throw new Error('The call has ended');
      // The call's codec rate; before media, the highest we offer (the codec is not known yet).
      const rates = this.media ? [this.media.params.send.codec.info.sampleRate] : this.codecs.map((codec) => codec.info.sampleRate);
      tap.recorder = new CallRecorder(path, recordingRateFor(rates));
    }
  }

  get recordingPath(): string | undefined {
    return this.recorderTap.recorder?.path;
  }

  hasDescription(contentType: string): boolean {
    return contentType.split(';')[0]!.trim().toLowerCase() === SDP_CONTENT_TYPE;
  }

  async getDescription(): Promise<BodyAndContentType> {
    this.assertOpen();
    const rtp = await this.openRtp();
    this.assertOpen();
    switch (this.stateValue) {
      case 'have-remote-offer': {
        const { answer, negotiated } = this.pendingRemoteOffer!;
        this.applyNegotiated(rtp, negotiated); // may throw (audio device/file): state stays put
        this.updateRemoteHold(negotiated, undefined);
        this.pendingRemoteOffer = undefined;
        const finalAnswer = this.versioned(answer);
        this.lastLocal = finalAnswer;
        this.stateValue = 'stable';
        return { body: serializeSdp(finalAnswer), contentType: SDP_CONTENT_TYPE };
      }
      case 'have-local-offer':
        // Asked again before the answer came (e.g. a retried request): same offer.
        return { body: serializeSdp(this.pendingLocalOffer!), contentType: SDP_CONTENT_TYPE };
      case 'stable': {
        const offer = this.versioned(createOffer(this.localOptions(rtp)));
        this.pendingLocalOffer = offer;
        this.stateValue = 'have-local-offer';
        return { body: serializeSdp(offer), contentType: SDP_CONTENT_TYPE };
      }
      case 'closed':
        throw new Error('Session description handler is closed');
    }
  }

  async setDescription(sdp: string): Promise<void> {
    this.assertOpen();
    const remote = parseRemoteSdp(sdp);
    const rtp = await this.openRtp();
    this.assertOpen();
    switch (this.stateValue) {
      case 'have-local-offer': {
        let negotiated: NegotiatedAudio;
        try {
          negotiated = negotiateAnswer(this.pendingLocalOffer!, remote, {
            address: this.localAddress!,
            codecs: this.codecs,
            srtp: this.srtpOptions(),
          });
        } catch (error) {
          // sip.js then ACKs and BYEs (or CANCELs); the Call shows this as the reason.
          if (error instanceof SdpNegotiationError) this.negotiationFailure = error.reason;
          throw error;
        }
        const offered = this.pendingLocalOffer!.media.find((m) => m.type === 'audio' && m.port !== 0)?.direction ?? 'sendrecv';
        this.updateRemoteHold(negotiated, offered);
        this.applyNegotiated(rtp, negotiated);
        this.lastLocal = this.pendingLocalOffer;
        this.pendingLocalOffer = undefined;
        this.stateValue = 'stable';
        return;
      }
      case 'stable': {
        // As answerer our wish is just sendonly when holding: the mirror of a sendonly offer
        // narrows it to inactive by itself (RFC 3264 s. 6.1).
        this.pendingRemoteOffer = answerOffer(remote, { ...this.localOptions(rtp), direction: this.localHold ? 'sendonly' : 'sendrecv' });
        this.stateValue = 'have-remote-offer';
        return;
      }
      case 'have-remote-offer':
        throw new Error('Received a new SDP offer while the previous remote offer is still unanswered');
      case 'closed':
        throw new Error('Session description handler is closed');
    }
  }

  async rollbackDescription(): Promise<void> {
    if (this.stateValue === 'have-local-offer' || this.stateValue === 'have-remote-offer') {
      this.pendingLocalOffer = undefined;
      this.pendingRemoteOffer = undefined;
      this.stateValue = 'stable';
    }
  }

  /** sip.js API: queue RFC 4733 digits; false when they cannot be sent (not negotiated, bad digit). */
  sendDtmf(tones: string, options?: { duration?: number }): boolean {
    if (!this.dtmf?.available || !/^[0-9*#A-D]+$/i.test(tones)) return false;
    const digits = [...tones.toUpperCase()] as DtmfDigit[];
    this.dtmf.send(digits, options?.duration).catch((error: unknown) => this.log(`Sending DTMF ${tones} failed: ${(error as Error).message}`));
    return true;
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.dtmf?.close();
    this.stopRingback();
    this.media?.stop();
    // Only when one runs: the tapped ports ask for every frame whether it does, and writing the
    // field with no recorder would still count as a second write (media-session.ts, "Teardown and V8").
    const recorder = this.recorderTap.recorder;
    if (recorder) {
      try {
        recorder.stop();
      } catch (error) {
        this.log(`Finishing the recording ${recorder.path} failed: ${(error as Error).message}`);
      }
      this.recorderTap.recorder = undefined;
    }
    void this.teardown().then(this.resolveClosed);
  }

  private async teardown(): Promise<void> {
    const tasks: Array<[string, Promise<unknown>]> = [];
    // A failed bind was already reported by the getDescription/setDescription it broke; here
    // it only means there is no socket to close.
    const rtp = this.rtp ?? (await this.rtpOpening?.catch(() => undefined));
    if (rtp) tasks.push(['RTP socket', rtp.close()]);
    if (this.audio) {
      tasks.push(['audio source', this.audio.source.close()], ['audio sink', this.audio.sink.close()]);
    }
    const results = await Promise.allSettled(tasks.map(([, task]) => task));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.log(`Closing the ${tasks[i]![0]} failed: ${(result.reason as Error)?.message ?? String(result.reason)}`);
      }
    });
  }

  /** The call's media failed (see mediaFault): what else runs for it stops, the owner hears of it. */
  private mediaFailed(error: unknown): void {
    if (this.mediaFault !== undefined || this.stateValue === 'closed') return;
    this.mediaFault = error instanceof Error ? error.message : String(error);
    // A media session logged it with its stack; before one exists (the socket's fault), log it here.
    if (!this.media) this.log(`The call's audio failed: ${error instanceof Error ? (error.stack ?? error.message) : this.mediaFault}`);
    this.dtmf?.close();
    this.stopRingback();
    queueMicrotask(() => this.onChange?.());
  }

  private assertOpen(): void {
    if (this.stateValue === 'closed') throw new Error('Session description handler is closed');
  }

  private openRtp(): Promise<RtpSession> {
    this.rtpOpening ??= (async () => {
      this.localAddress = checkedLocalAddress(this.env);
      const socket = await RtpStreamSocket.open(this.localAddress);
      socket.onError = (error) => this.log(`RTP socket ${socket.local.address}:${socket.local.port}: ${error.message}`);
      // The receive path's exceptions (its datagrams' handling): the media session stops, as for its own.
      socket.onFault = (error) => (this.media ? this.media.fail(error) : this.mediaFailed(error));
      this.rtp = new RtpSession(socket);
      if (this.stateValue === 'closed') await this.rtp.close();
      return this.rtp;
    })();
    return this.rtpOpening;
  }

  private localOptions(rtp: RtpSession): LocalMediaOptions {
    const options: LocalMediaOptions = {
      address: this.localAddress!,
      port: rtp.socket.local.port,
      codecs: this.codecsInUseFirst(),
      ptime: this.env.ptime,
      direction: this.wantedDirection(),
      origin: { username: '-', sessionId: this.sessionId, sessionVersion: this.sessionVersion.toString() },
    };
    const srtp = this.srtpOptions();
    if (srtp) options.srtp = srtp;
    return options;
  }

  /**
   * Our codecs in the user's order, but once media runs the one in use first: a re-offer (hold,
   * a PBX's session refresh with its whole codec list) then keeps the call's codec wherever the
   * other side still has it. A switch resets both ends' decoders and jitter buffers, an audible
   * glitch for nothing (RFC 3264 allows it; desk phones do not do it).
   */
  private codecsInUseFirst(): AudioCodec[] {
    const current = this.media?.params.send.codec;
    if (!current || this.codecs[0] === current || !this.codecs.includes(current)) return this.codecs;
    return [current, ...this.codecs.filter((codec) => codec !== current)];
  }

  private wantedDirection(): SdpDirection {
    if (!this.localHold) return 'sendrecv';
    return this.remoteHold ? 'inactive' : 'sendonly';
  }

  private srtpOptions(): LocalMediaOptions['srtp'] {
    const policy = this.env.srtpPolicy ?? 'off';
    if (policy === 'off') return undefined;
    this.srtpOffer ??= buildOutgoingOffer(policy);
    return this.keying ? { policy, offer: this.srtpOffer, previous: this.keying } : { policy, offer: this.srtpOffer };
  }

  /** `offered`: the direction of our offer this is the answer to; undefined for a remote offer. */
  private updateRemoteHold(negotiated: NegotiatedAudio, offered: SdpDirection | undefined): void {
    const peer = negotiated.peerDirection ?? 'sendrecv';
    const holding = peer === 'sendonly' || peer === 'inactive';
    if (offered === undefined || offered === 'sendrecv' || offered === 'recvonly') this.remoteHold = holding;
    else if (offered === 'sendonly') this.remoteHold = peer === 'inactive';
    // offered inactive: the answer must be inactive whatever the peer wants; keep what we knew.
  }

  private applySrtp(rtp: RtpSession, keying: SdesKeying | undefined): void {
    const same = (a: SdesKeying, b: SdesKeying) =>
      a.suite === b.suite &&
      Buffer.compare(Buffer.from(a.local.key.masterKey), Buffer.from(b.local.key.masterKey)) === 0 &&
      Buffer.compare(Buffer.from(a.remote.key.masterKey), Buffer.from(b.remote.key.masterKey)) === 0 &&
      Buffer.compare(Buffer.from(a.remote.key.masterSalt), Buffer.from(b.remote.key.masterSalt)) === 0;
    if (keying && this.keying && same(keying, this.keying)) return;
    rtp.srtp = keying ? createSrtpSession(srtpSessionOptionsFromSdes(keying)) : undefined;
    this.keying = keying;
  }

  /** Give `sdp` our session version, bumped if its content differs from what we sent last. */
  private versioned(sdp: SessionDescription): SessionDescription {
    if (this.lastLocal && contentKey(this.lastLocal) !== contentKey(sdp)) this.sessionVersion += 1n;
    return { ...sdp, origin: { ...sdp.origin, sessionVersion: this.sessionVersion.toString() } };
  }

  private applyNegotiated(rtp: RtpSession, negotiated: NegotiatedAudio): void {
    if (this.media) {
      this.applySrtp(rtp, negotiated.srtp);
      this.media.update(negotiated);
      queueMicrotask(() => this.onChange?.());
      return;
    }
    // Media starts: a ringback written into the sink stops (the media session feeds it now).
    this.ringback?.stop();
    this.ringback = undefined;
    const codecRate = negotiated.send.codec.info.sampleRate;
    this.audio ??= this.env.openAudio(this.session, { sampleRate: codecRate });
    if (this.audioOpenedForRingback && this.audio.sink.sampleRate !== codecRate && this.audio.sink.followSampleRate) {
      // May throw (closed file): like a failed openAudio, the exchange then fails.
      this.audio.sink.followSampleRate(codecRate);
    }
    this.applySrtp(rtp, negotiated.srtp);
    // Mute and hold come before the recorder's tap: a recording has what the far end heard. The ports
    // also feed the recorder, when one is running (see tapped-ports.ts for why classes).
    this.microphone = new MutingSource(this.audio.source);
    this.silenceMicrophoneIfWanted();
    const source = new TappedSource(this.microphone, this.recorderTap);
    const sink = new TappedSink(this.audio.sink, this.recorderTap);
    this.media = new MediaSession({
      rtp,
      negotiated,
      source,
      sink,
      log: this.log,
      onReceiveStall: () => queueMicrotask(() => this.onChange?.()),
      onFault: (error) => this.mediaFailed(error),
    });
    // Early media while the far end alerts: ringback until its audio comes. Not when the answer
    // starts the media (sip.js has its confirmed dialog by then): the Call stops the ringback.
    if (this.ringbackSignal && !this.session.dialog) this.media.setIdleFill(this.ringbackSignal.fill);
    this.dtmf = new CallDtmf(rtp, this.media, (digit) => this.onDtmf?.(digit), this.log);
    this.media.start();
    this.resolveMediaStarted(this.media);
    queueMicrotask(() => this.onChange?.());
  }
}

/** The factory sip.js calls, plus the offer check for the same environment (see checkRemoteOffer). */
export type SwitchboardSdhFactory = SessionDescriptionHandlerFactory & {
  checkRemoteOffer(sdp: string): SdpNegotiationError | undefined;
};

export function createSessionDescriptionHandlerFactory(env: MediaEnvironment): SwitchboardSdhFactory {
  // Resolve the codec preference now so a bad setting fails when the account is set up.
  codecsFor(env);
  const factory = (session: Session) => new SwitchboardSessionDescriptionHandler(session, env);
  return Object.assign(factory, { checkRemoteOffer: (sdp: string) => checkRemoteOffer(sdp, env) });
}

/** The offer check of a factory made by createSessionDescriptionHandlerFactory, if it is one. */
export function remoteOfferCheckOf(factory: unknown): ((sdp: string) => SdpNegotiationError | undefined) | undefined {
  const check = (factory as Partial<SwitchboardSdhFactory> | undefined)?.checkRemoteOffer;
  return typeof check === 'function' ? check : undefined;
}

/** Our handler behind a session, if it is one. */
export function switchboardSdhOf(sdh: unknown): SwitchboardSessionDescriptionHandler | undefined {
  return sdh instanceof SwitchboardSessionDescriptionHandler ? sdh : undefined;
}

/** Media summary of a session's handler, if media has started. */
export function mediaSummaryOf(sdh: unknown): MediaSummary | undefined {
  return sdh instanceof SwitchboardSessionDescriptionHandler ? sdh.mediaSummary() : undefined;
}

/**
 * Check a remote offer before accepting a call: sip.js answers a failed accept() with 480, so a
 * UAS that wants to send the correct 488 (with the reason, e.g. in a Warning header) calls this
 * first. Returns the error that setDescription would throw, or undefined if the offer is usable.
 */
export function checkRemoteOffer(sdp: string, env: MediaEnvironment): SdpNegotiationError | undefined {
  try {
    answerOffer(parseRemoteSdp(sdp), {
      address: checkedLocalAddress(env),
      port: 9,
      codecs: codecsFor(env),
      origin: { username: '-', sessionId: '0', sessionVersion: '0' },
      srtp: { policy: env.srtpPolicy ?? 'off' },
    });
    return undefined;
  } catch (error) {
    if (error instanceof SdpNegotiationError) return error;
    throw error;
  }
}

/**
 * Feeds a call's recorder from its tapped audio ports (see tapped-ports.ts). A class: the ports'
 * per-frame code calls `active()` on every call's tap, and one prototype method (not a new arrow
 * function per call) keeps V8 from throwing that code away at each new call ("wrong call target").
 * A recorder that fails is stopped and logged, the call goes on.
 */
class RecorderTap implements FrameTap {
  recorder: CallRecorder | undefined;

  constructor(private readonly log: (message: string) => void) {}

  active(): boolean {
    return this.recorder !== undefined;
  }

  local(frame: Int16Array, sampleRate: number): void {
    this.feed((recorder) => recorder.local(frame, sampleRate));
  }

  remote(frame: Int16Array, sampleRate: number): void {
    this.feed((recorder) => recorder.remoteFrame(frame, sampleRate));
  }

  private feed(action: (recorder: CallRecorder) => void): void {
    const recorder = this.recorder;
    if (!recorder) return;
    try {
      action(recorder);
    } catch (error) {
      this.log(`Recording ${recorder.path} failed, stopped: ${(error as Error).message}`);
      this.recorder = undefined;
    }
  }
}
