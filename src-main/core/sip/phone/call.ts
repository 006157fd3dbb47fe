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
  type Session,
} from 'sip.js';
import type { CallDirection, CallSnapshot, CallState } from '../../../common/contract/contract';
import { mediaSummaryOf } from '../../media/session-description-handler';
import type { Account } from './account';
import { callFailureReason } from './failure-reasons';

/** sip.js synthesises 408/503 responses for timeouts and transport errors; those carry no Via. */
function isLocallyGenerated(response: Core.IncomingResponse): boolean {
  return !response.message.hasHeader('via');
}

export class Call {
  private state: CallState;
  private reason?: string;
  private sipCode?: number;
  private hangupRequested = false;

  constructor(
    readonly id: string,
    readonly account: Account,
    readonly session: Session,
    private readonly onChange: (call: Call) => void,
  ) {
    this.state = session instanceof Invitation ? 'incoming' : 'dialing';
    session.stateChange.addListener((s) => this.onSessionState(s));
  }

  get direction(): CallDirection {
    return this.session instanceof Invitation ? 'incoming' : 'outgoing';
  }

  get ended(): boolean {
    return this.state === 'ended';
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
      media: mediaSummaryOf(this.session.sessionDescriptionHandler),
    };
  }

  /** Send the INVITE (outgoing calls). */
  async dial(): Promise<void> {
    if (!(this.session instanceof Inviter)) throw new Error('Only outgoing calls can be dialled');
    await this.session.invite({
      requestDelegate: {
        onProgress: (response) => {
          const code = response.message.statusCode ?? 0;
          if (code === 183 && response.message.body) this.setState('early-media');
          else if (code === 180 || code === 183) this.setState('ringing');
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
    await this.session.accept();
  }

  async reject(reason: 'busy' | 'decline'): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming')
      throw new Error('Only a ringing incoming call can be rejected');
    this.hangupRequested = true;
    this.reason = reason === 'busy' ? 'Rejected as busy' : 'Declined';
    await this.session.reject({ statusCode: reason === 'busy' ? 486 : 603 });
  }

  /** Hang up whatever the state: cancel, decline or BYE. */
  async hangup(): Promise<void> {
    if (this.state === 'ended' || this.state === 'ending') return;
    this.hangupRequested = true;
    const session = this.session;
    this.setState('ending');
    switch (session.state) {
      case SessionState.Initial:
      case SessionState.Establishing:
        if (session instanceof Inviter) {
          this.reason = 'Call cancelled';
          await session.cancel();
        } else if (session instanceof Invitation) {
          this.reason = 'Declined';
          await session.reject({ statusCode: 486 });
        }
        return;
      case SessionState.Established:
        this.reason = 'You hung up';
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
  }

  private onSessionState(state: SessionState): void {
    switch (state) {
      case SessionState.Established:
        this.setState('connected');
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
    this.onChange(this);
  }
}
