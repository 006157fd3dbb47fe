/**
 * One call, outgoing (sip.js Inviter) or incoming (sip.js Invitation), mapped onto the contract's
 * CallState machine (see contract.ts for the transitions). The call id is ours, not the SIP
 * Call-ID, so that it is stable and safe to show.
 *
 * Ownership: a Call owns its sip.js Session; the Phone owns the Calls. Node main thread only.
 */
import {
  Invitation,
  Inviter,
  SessionState,
  type Core,
  type Referral,
  type Session,
  type URI,
} from 'sip.js';
import { DEFAULT_MEDIA_TIMEOUT_SECONDS, effectiveSrtpPolicy, type CallDirection, type CallSnapshot, type CallState, type EventPayload } from '../../../common/contract/contract';
import { mediaSummaryOf, remoteOfferCheckOf, switchboardSdhOf, type SwitchboardSessionDescriptionHandler } from '../../media/session-description-handler';
import { toDtmfDigit, type DtmfDigit } from '../../media/dtmf/dtmf-digit';
import { buildDtmfRelayBody, DTMF_RELAY_CONTENT_TYPE, parseDtmfRelayBody } from '../../media/dtmf/sip-info-dtmf';
import { DEFAULT_DTMF_DURATION_MS } from '../../media/call-dtmf';
import { RECEIVE_STALL_MS } from '../../media/media-session';
import type { Account } from './account';
import { callFailureReason } from './failure-reasons';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a blind transfer waits for the transferee's final word (its call to the target may ring a while). */
export const TRANSFER_TIMEOUT_MS = 120_000;

/** How an in-dialog request we sent went (`code`: the other side's final status, when it answered). */
type RequestOutcome = { ok: true } | { ok: false; why: string; code?: number };

/** The status line of a REFER progress NOTIFY's message/sipfrag body (RFC 3515 2.4.5). */
const SIPFRAG_STATUS = /^SIP\/2\.0 (\d{3})(.*)$/m;

/** sip.js synthesises 408/503 responses for timeouts and transport errors; those carry no Via. */
function isLocallyGenerated(response: Core.IncomingResponse): boolean {
  return !response.message.hasHeader('via');
}

export class Call {
  private state: CallState;
  private reason?: string;
  private sipCode?: number;
  private hangupRequested = false;
  /** Ends the call when its media stalled for the account's media timeout (see followMediaStall). */
  private mediaTimeout: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly account: Account,
    readonly session: Session,
    private readonly onChange: (call: Call) => void,
    /** Received DTMF, as the contract event. */
    private readonly onDtmf: (event: EventPayload<'call.dtmf'>) => void = () => undefined,
    /** What went wrong where no caller hears of it (the media timeout's hang-up). */
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.state = session instanceof Invitation ? 'incoming' : 'dialing';
    session.stateChange.addListener((s) => this.onSessionState(s));
    session.delegate = {
      ...session.delegate,
      // Hold, SRTP and received RFC 4733 DTMF live in our handler; follow it once sip.js makes it.
      onSessionDescriptionHandler: (handler) => {
        const sdh = switchboardSdhOf(handler);
        if (!sdh) return;
        this.handler = sdh;
        sdh.muted = this.muted;
        sdh.onChange = () => {
          if (sdh.mediaFault !== undefined) this.endForMediaFault(sdh.mediaFault);
          this.followMediaStall();
          this.onChange(this);
        };
        sdh.onDtmf = (d) => this.onDtmf({ callId: this.id, digit: d.digit, durationMs: Math.round(d.durationMs), method: 'rfc4733' });
      },
      onInfo: (info) => this.onInfo(info),
      // Never sip.js's default, which follows a REFER with a call nobody tracks (the user could
      // neither see nor end it): the Phone decides (Phone.followTransfer).
      onRefer: (referral) => (this.onTransferRequest ? this.onTransferRequest(referral) : void referral.reject({ statusCode: 603, reasonPhrase: 'Decline' })),
    };
  }

  /** Who handles the other side's REFER (set by the Phone); unset: declined (603). */
  onTransferRequest: ((referral: Referral) => void) | undefined;

  /** Our microphone is muted on this call (call.mute); every handler sip.js makes for it is told. */
  private muted = false;

  /** Called once when a call we placed is answered (set by the Phone: one conversation at a time). */
  onAnswered: (() => void) | undefined;

  /** Set on a call placed because the other side of another call transferred us (see CallSnapshot). */
  transferOrigin: { fromCallId: string; referredBy: string } | undefined;

  /** The last handler sip.js made for this call (kept: sip.js drops its reference on dispose). */
  private handler: SwitchboardSessionDescriptionHandler | undefined;

  private get sdh(): SwitchboardSessionDescriptionHandler | undefined {
    return switchboardSdhOf(this.session.sessionDescriptionHandler) ?? this.handler;
  }

  get direction(): CallDirection {
    return this.session instanceof Invitation ? 'incoming' : 'outgoing';
  }

  /** Resolves once this call's media (sockets, audio ports, recordings) is closed. */
  async mediaClosed(): Promise<void> {
    await this.sdh?.closed;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Connected and not held by us: the other side hears us (Phone.holdOthers). */
  get inConversation(): boolean {
    return this.state === 'connected' && this.sdh?.localHold !== true;
  }

  snapshot(): CallSnapshot {
    const remote = this.session.remoteIdentity;
    return {
      callId: this.id,
      accountId: this.account.id,
      direction: this.direction,
      remoteUri: remote.uri.toString(),
      remoteName: remote.displayName || undefined,
      state: this.state,
      reason: this.reason,
      sipCode: this.sipCode,
      media: this.mediaSummary(),
      hold: this.sdh?.hold,
      muted: this.muted,
      recordingPath: this.sdh?.recordingPath,
      transferredFrom: this.transferOrigin?.fromCallId,
      referredBy: this.transferOrigin?.referredBy,
    };
  }

  /**
   * The media summary; `stalled` only once connected: before the answer a PBX may send nothing
   * with its 183 (its early media is its business), so no one-way audio is told then.
   */
  private mediaSummary(): CallSnapshot['media'] {
    const media = mediaSummaryOf(this.session.sessionDescriptionHandler);
    if (!media || this.state === 'connected' || media.stalled === undefined) return media;
    const { stalled: _notYet, ...rest } = media;
    return rest;
  }

  /** Send the INVITE (outgoing calls). */
  async dial(): Promise<void> {
    if (!(this.session instanceof Inviter)) throw new Error('Only outgoing calls can be dialled');
    await this.session.invite({
      requestDelegate: {
        onProgress: (response) => {
          const code = response.message.statusCode ?? 0;
          // Any 18x with SDP starts early media (sip.js applies it: earlyMedia option). Local
          // ringback (RFC 3960 s. 3): after a 180, with or without early media, until the far end's
          // audio comes (the handler's rule); without early media, a 183 rings too (a PBX that says
          // only "progress" is most often alerting). Early media never falls back to ringing.
          if (code !== 180 && code !== 183) return;
          const early = response.message.body !== undefined && response.message.body !== '';
          if (code === 180 || (!early && this.state !== 'early-media')) this.sdh?.startRingback();
          if (early) this.setState('early-media');
          else if (this.state !== 'early-media') this.setState('ringing');
        },
        onReject: (response) => this.onRejected(response),
        onRedirect: (response) => this.onRejected(response),
      },
    });
  }

  /** Incoming calls: tell the caller we are ringing (180). */
  async ring(): Promise<void> {
    if (this.session instanceof Invitation) await this.session.progress();
  }

  async answer(): Promise<void> {
    if (!(this.session instanceof Invitation)) throw new Error('Only incoming calls can be answered');
    if (this.state !== 'incoming') throw new Error(`The call cannot be answered: it is ${this.state}`);
    // sip.js answers a failed accept() with 480; check the offer first so the caller gets the
    // right 488 and the reason in a Warning header (RFC 3261 s. 20.43, code 399 = miscellaneous).
    const offer = this.session.body;
    const problem = offer ? remoteOfferCheckOf(this.account.userAgent.configuration.sessionDescriptionHandlerFactory)?.(offer) : undefined;
    if (problem) {
      this.hangupRequested = true;
      this.reason = `Incompatible call: ${problem.reason}`;
      this.sipCode = problem.statusCode;
      await this.session.reject({
        statusCode: problem.statusCode,
        reasonPhrase: problem.reasonPhrase,
        extraHeaders: [`Warning: 399 switchboard "${problem.reason.replace(/["\\]/g, "'")}"`],
      });
      return;
    }
    await this.session.accept();
  }

  /** Put the call on hold: re-INVITE with a=sendonly (a=inactive if the other side holds too). */
  async hold(): Promise<void> {
    await this.reinviteWithHold(true);
  }

  /** Take the call off hold: re-INVITE with a=sendrecv. */
  async resume(): Promise<void> {
    await this.reinviteWithHold(false);
  }

  /**
   * Transfer the other side of this call (RFC 5589): blind (section 6) to `target`, a URI, or
   * attended (section 7) to `target`, another call of ours, which the other side then takes over
   * (REFER with Replaces). Resolves once the transferee's call is answered (its NOTIFY says 2xx),
   * after which this call is hung up, its reason "Transferred to …" (and an attended transfer's other
   * call too, unless its far end ended it first, as RFC 3891 has it). Rejects with the reason when
   * the other side refuses the REFER, when its call fails, or when no final word comes within
   * TRANSFER_TIMEOUT_MS; the calls then stay as they were.
   */
  async transfer(target: URI | Call): Promise<void> {
    if (this.state !== 'connected') throw new Error(`Only a connected call can be transferred; it is ${this.state}`);
    if (target instanceof Call && (target === this || target.state !== 'connected')) throw new Error(`The call to transfer to must be another connected call; ${target.id} is ${target.state}`);
    if (this.transferring) throw new Error('This call is already being transferred');
    this.transferring = true;
    const where = target instanceof Call ? target.snapshot().remoteUri : target.toString();
    try {
      // 491: the other side has a request of its own open on the dialog (e.g. just after the answer).
      const outcome = await this.retryOn491(() => this.referOnce(target instanceof Call ? target.session : target, where));
      if (!outcome.ok) throw new Error(outcome.why);
    } finally {
      this.transferring = false;
    }
    await this.hangup(`Transferred to ${where}`);
    if (target instanceof Call) await target.hangup(`Transferred to ${this.snapshot().remoteUri}`);
  }

  /** One REFER to `target` and its NOTIFYs, until the transferee's final word (or the REFER's refusal). */
  private referOnce(target: URI | Session, where: string): Promise<RequestOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ ok: false, why: `No word on the transfer to ${where} within ${TRANSFER_TIMEOUT_MS / 1000} s` }), TRANSFER_TIMEOUT_MS);
      // A transferee that hangs up instead of reporting (no NOTIFY) leaves nothing to wait for.
      const ended = (state: SessionState): void => {
        if (state === SessionState.Terminated) settle({ ok: false, why: `The call ended before the other side said how the transfer to ${where} went` });
      };
      this.session.stateChange.addListener(ended);
      const settle = (outcome: RequestOutcome): void => {
        clearTimeout(timer);
        this.session.stateChange.removeListener(ended);
        resolve(outcome);
      };
      this.session
        .refer(target, {
          requestDelegate: {
            onReject: (response) =>
              settle({
                ok: false,
                code: response.message.statusCode,
                why: `The other side refused the transfer: ${response.message.statusCode} ${response.message.reasonPhrase}`,
              }),
          },
          onNotify: (notification) => {
            void notification.accept();
            const outcome = SIPFRAG_STATUS.exec(notification.request.body ?? '');
            if (!outcome) return;
            const status = Number(outcome[1]);
            if (status >= 300) settle({ ok: false, why: `The transfer to ${where} failed: ${status} ${outcome[2]!.trim()}` });
            else if (status >= 200) settle({ ok: true });
          },
        })
        .catch((error: unknown) => settle({ ok: false, why: error instanceof Error ? error.message : String(error) }));
    });
  }

  private transferring = false;

  /**
   * This call was taken over by `byCallId` (an INVITE with Replaces, RFC 3891, now answered): sip.js
   * ends it at once; the reason says so instead of "You hung up".
   */
  markReplaced(byCallId: string): void {
    this.hangupRequested = true;
    this.reason = `Replaced by the transferred call (${byCallId})`;
  }

  /** Send DTMF per the account's dtmfMode (see AccountConfig.dtmfMode). Resolves when all were sent. */
  async sendDtmf(text: string): Promise<void> {
    if (this.state !== 'connected' && this.state !== 'early-media') throw new Error(`DTMF needs a connected call; it is ${this.state}`);
    const digits: DtmfDigit[] = [...text].map(toDtmfDigit);
    const mode = this.account.config.dtmfMode ?? 'auto';
    const sdh = this.sdh;
    const rtp = mode === 'rfc4733' || (mode === 'auto' && sdh?.telephoneEventNegotiated === true);
    if (rtp) {
      if (!sdh) throw new Error('The call has no media yet');
      await sdh.sendRfc4733(digits);
      return;
    }
    if (this.state !== 'connected') throw new Error('DTMF by SIP INFO needs an answered call');
    for (const digit of digits) await this.sendInfoDigit(digit);
  }

  /**
   * Mute or unmute our microphone (call.mute): while muted the call sends silence and nothing is
   * signalled (see muting-source.ts). Any call not ended; a call muted before its media starts
   * starts muted.
   */
  mute(muted: boolean): void {
    if (this.state === 'ended' || this.state === 'ending') throw new Error(`The call has ended`);
    if (this.muted === muted) return;
    this.muted = muted;
    const sdh = this.sdh;
    if (sdh) sdh.muted = muted;
    this.onChange(this);
  }

  /** Start/stop recording the call to a stereo WAV (L = local, R = remote). */
  record(path: string, on: boolean): void {
    const sdh = this.sdh;
    if (!sdh || this.state === 'ended') throw new Error(`Call ${this.id} has no media to record`);
    sdh.setRecording(on ? path : undefined);
    this.onChange(this);
  }

  private async reinviteWithHold(hold: boolean): Promise<void> {
    if (this.state !== 'connected') throw new Error(`Only a connected call can be ${hold ? 'held' : 'resumed'}; it is ${this.state}`);
    const sdh = this.sdh;
    if (!sdh) throw new Error('The call has no media');
    if (sdh.localHold === hold) return;
    sdh.localHold = hold;
    const outcome = await this.retryOn491(() => this.offerWhenIdle());
    if (!outcome.ok) {
      sdh.localHold = !hold;
      throw new Error(`Could not ${hold ? 'hold' : 'resume'} the call: ${outcome.why}`);
    }
    this.onChange(this);
  }

  /**
   * `send` up to three times while the other side answers 491 Request Pending (its own request
   * open on the dialog). RFC 3261 14.1's glare rule: the Call-ID's owner (the caller) waits
   * 2.1-4 s, the other side 0-2 s, so the two retries do not collide again.
   */
  private async retryOn491(send: () => Promise<RequestOutcome>): Promise<RequestOutcome> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await send();
      if (outcome.ok || outcome.code !== 491 || attempt === 3) return outcome;
      await delay(this.direction === 'outgoing' ? 2100 + Math.random() * 1900 : Math.random() * 2000);
    }
  }

  /**
   * Send a re-INVITE once no other offer/answer is open on the dialog: one offer at a time
   * (RFC 3264 §4), and the far end's own re-INVITE (e.g. its hold) may still await our ACK.
   */
  private async offerWhenIdle(): Promise<RequestOutcome> {
    const deadline = Date.now() + 5000;
    // sip.js types the dialog by its core interface; its SessionDialog holds the open re-INVITEs.
    const dialog = () => this.session.dialog as { reinviteUserAgentClient?: unknown; reinviteUserAgentServer?: unknown } | undefined;
    while (dialog()?.reinviteUserAgentClient || dialog()?.reinviteUserAgentServer) {
      if (Date.now() > deadline) return { ok: false, why: 'another change to the call is still in progress; try again' };
      await delay(50);
    }
    return new Promise((resolve) => {
      this.session
        .invite({
          requestDelegate: {
            onAccept: () => resolve({ ok: true }),
            onReject: (response) =>
              resolve({
                ok: false,
                code: response.message.statusCode,
                why: `the other side answered ${response.message.statusCode} ${response.message.reasonPhrase}`,
              }),
          },
        })
        .catch((error: unknown) => resolve({ ok: false, why: error instanceof Error ? error.message : String(error) }));
    });
  }

  private sendInfoDigit(digit: DtmfDigit): Promise<void> {
    return new Promise((resolve, reject) => {
      this.session
        .info({
          requestDelegate: {
            onAccept: () => resolve(),
            onReject: (response) => reject(new Error(`DTMF ${digit} by SIP INFO was refused: ${response.message.statusCode} ${response.message.reasonPhrase}`)),
          },
          requestOptions: {
            body: { contentDisposition: 'render', contentType: DTMF_RELAY_CONTENT_TYPE, content: buildDtmfRelayBody(digit, DEFAULT_DTMF_DURATION_MS) },
          },
        })
        .catch(reject);
    });
  }

  private onInfo(info: Parameters<NonNullable<Session['delegate']>['onInfo'] & object>[0]): void {
    const request = info.request;
    const type = (request.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== DTMF_RELAY_CONTENT_TYPE) {
      // RFC 6086 s. 4.2.2 would have us answer 469 with Recv-Info; legacy INFO has no package, 415 says it.
      void info.reject({ statusCode: 415, reasonPhrase: 'Unsupported Media Type', extraHeaders: [`Accept: ${DTMF_RELAY_CONTENT_TYPE}`] });
      return;
    }
    try {
      const relay = parseDtmfRelayBody(request.body ?? '');
      void info.accept();
      this.onDtmf({ callId: this.id, digit: relay.digit, durationMs: relay.durationMs, method: 'info' });
    } catch (error) {
      void info.reject({ statusCode: 400, reasonPhrase: 'Bad Request', extraHeaders: [`Warning: 399 switchboard "${String((error as Error).message).replace(/["\\]/g, "'")}"`] });
    }
  }

  async reject(reason: 'busy' | 'decline'): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming')
      throw new Error('Only a ringing incoming call can be rejected');
    this.hangupRequested = true;
    this.reason = reason === 'busy' ? 'Rejected as busy' : 'Declined';
    await this.session.reject({ statusCode: reason === 'busy' ? 486 : 603 });
  }

  /**
   * A stall (nothing from the far end for RECEIVE_STALL_MS though it should be sending) that lasts
   * the account's media timeout ends the call, as a dead connection; media coming again, or the
   * call ending, cancels that.
   */
  private followMediaStall(): void {
    if (this.state !== 'connected' || !this.sdh?.receiveStalled) {
      clearTimeout(this.mediaTimeout);
      this.mediaTimeout = undefined;
      return;
    }
    const seconds = this.account.config.mediaTimeoutSeconds ?? DEFAULT_MEDIA_TIMEOUT_SECONDS;
    if (seconds === 0 || this.mediaTimeout) return;
    this.mediaTimeout = setTimeout(() => {
      this.mediaTimeout = undefined;
      this.hangup(`Nothing heard from the other side for ${seconds} s: the connection was lost, so the call was ended`).catch((error: unknown) =>
        this.log(`${this.id}: hanging up after the media timeout failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, Math.max(0, seconds * 1000 - RECEIVE_STALL_MS));
    this.mediaTimeout.unref();
  }

  /** The call's audio failed mid-call (SessionDescriptionHandler.mediaFault): a call without audio is ended, saying why. */
  private endForMediaFault(fault: string): void {
    this.hangup(`The call's audio failed (${fault}), so the call was ended`).catch((error: unknown) =>
      this.log(`${this.id}: hanging up for the failed audio did not work either: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  /** Hang up whatever the state: cancel, decline or BYE (`reason`: why, when it was not the user). */
  async hangup(reason?: string): Promise<void> {
    if (this.state === 'ended' || this.state === 'ending') return;
    this.hangupRequested = true;
    const session = this.session;
    this.setState('ending');
    switch (session.state) {
      case SessionState.Initial:
      case SessionState.Establishing:
        if (session instanceof Inviter) {
          this.reason = reason ?? 'Call cancelled';
          await session.cancel();
        } else if (session instanceof Invitation) {
          this.reason = reason ?? 'Declined';
          await session.reject({ statusCode: 486 });
        }
        return;
      case SessionState.Established:
        this.reason = reason ?? 'You hung up';
        await session.bye();
        return;
      default:
        return;
    }
  }

  private onRejected(response: Core.IncomingResponse): void {
    const code = response.message.statusCode ?? 0;
    const local = isLocallyGenerated(response);
    this.sipCode = local ? undefined : code;
    this.reason = callFailureReason(code, local && code === 408, local && code === 503);
    // A 488/606 may say why in a Warning header (e.g. another Switchboard refusing plain RTP).
    const warning = /^\s*\d{3}\s+\S+\s+"(.*)"\s*$/.exec(response.message.getHeader('warning') ?? '')?.[1];
    if ((code === 488 || code === 606) && warning) this.reason = `Incompatible call: ${warning}`;
    else if ((code === 488 || code === 606) && effectiveSrtpPolicy(this.account.config) === 'mandatory')
      // Our offer was RTP/SAVP: a peer without SRTP refuses exactly that.
      this.reason = 'The other side refused the call: it probably cannot encrypt media (SRTP), which this account requires';
  }

  private onSessionState(state: SessionState): void {
    switch (state) {
      case SessionState.Established:
        this.sdh?.stopRingback();
        this.setState('connected');
        if (this.direction === 'outgoing') this.onAnswered?.();
        return;
      case SessionState.Terminating:
        this.setState('ending');
        return;
      case SessionState.Terminated:
        // sip.js enters Terminated before it calls our request delegate's onReject, which carries
        // the final response; settle after it so the reason reaches the user.
        queueMicrotask(() => this.onTerminated());
        return;
      default:
        return;
    }
  }

  private onTerminated(): void {
    const mediaFailure = this.sdh?.negotiationFailure;
    if (!this.reason && mediaFailure) this.reason = `Call failed: ${mediaFailure}`;
    if (!this.reason) {
      if (this.state === 'connected' || this.state === 'ending') this.reason = this.hangupRequested ? 'You hung up' : 'The other side hung up';
      else if (this.direction === 'incoming') this.reason = this.hangupRequested ? 'Declined' : 'Missed call (caller hung up)';
      else this.reason = 'Call ended before it was answered';
    }
    this.setState('ended');
  }

  private setState(state: CallState): void {
    if (this.state === 'ended') return;
    this.state = state;
    this.followMediaStall();
    this.onChange(this);
  }
}
