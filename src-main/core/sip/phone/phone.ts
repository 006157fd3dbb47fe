/**
 * The Phone: every account and call, served as the contract's handlers. It is the one place that
 * turns user intent (dial, answer, hang up) into sip.js operations and sip.js happenings into
 * contract events.
 *
 * Contract rules it keeps: params arrive validated (ContractServer); each state change of an
 * account or call is emitted as a whole snapshot; errors a user caused come back as RpcError with
 * a sentence that says what to do.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Inviter, SessionState, UserAgent, type Invitation, type Referral, type Session, type SessionDescriptionHandlerFactory, type URI } from 'sip.js';
import type { AccountConfig, AccountSnapshot, CallSnapshot, ContractHandlers, EventPayload, Params } from '../../../common/contract/contract';
import { RpcError, RpcErrorCode } from '../../../common/contract/json-rpc';
import { mediaStatsOf } from '../../media/media-stats';
import { Account, type AccountDeps } from './account';
import { Call } from './call';

export interface PhoneOptions {
  userAgentString: string;
  version: string;
  sessionDescriptionHandlerFactory: (account: Account) => SessionDescriptionHandlerFactory;
  onAccountChange: (snapshot: AccountSnapshot) => void;
  onCallChange: (snapshot: CallSnapshot) => void;
  /** A DTMF digit received on a call. */
  onCallDtmf?: (event: EventPayload<'call.dtmf'>) => void;
  log: (line: string) => void;
  trace?: AccountDeps['trace'];
  backoffSeconds?: AccountDeps['backoffSeconds'];
  /** Answer incoming calls at once instead of ringing. */
  autoAnswer?: boolean;
  /** Called after an account is added or removed by the user (to persist the list). */
  onAccountsChanged?: (accounts: AccountConfig[]) => void;
  /**
   * Where call recordings go when the client is not trusted with the file system (the app's
   * renderer): call.record then takes a file name, never a path. Unset (headless): any path.
   */
  recordingsDir?: string;
  /** Notices for app.info (e.g. from loading settings). */
  notices?: () => string[];
}

/** Who transferred: the URI of a Referred-By header (RFC 3892), else the other side of `call`. */
function referrer(referredBy: string | undefined, call: Call): string {
  if (referredBy === undefined) return call.snapshot().remoteUri;
  return /<([^>]*)>/.exec(referredBy)?.[1] ?? referredBy.trim();
}

/** How long an ended call stays listed (so a UI can show why it ended). */
const ENDED_CALL_RETENTION_MS = 60_000;

export class Phone {
  private readonly accounts = new Map<string, Account>();
  private readonly calls = new Map<string, Call>();
  private nextAccount = 1;
  private nextCall = 1;

  constructor(private readonly options: PhoneOptions) {}

  /** Our call id for a sip.js session (the audio provider names a call's device by it). */
  callIdOf(session: Session): string | undefined {
    for (const call of this.calls.values()) if (call.session === session) return call.id;
    return undefined;
  }

  readonly handlers: ContractHandlers = {
    'app.info': async () => ({
      name: 'Switchboard',
      version: this.options.version,
      sipUserAgent: this.options.userAgentString,
      notices: this.options.notices?.() ?? [],
    }),
    'account.add': async (config) => {
      const added = await this.addAccount(config);
      this.options.onAccountsChanged?.(this.accountConfigs());
      return added;
    },
    'account.remove': async ({ accountId }) => {
      const account = this.account(accountId);
      this.accounts.delete(accountId);
      this.options.onAccountsChanged?.(this.accountConfigs());
      for (const call of this.calls.values()) if (call.account === account) await call.hangup().catch((e: unknown) => this.logError('hangup', e));
      await account.stop();
      return {};
    },
    'account.list': async () => ({ accounts: [...this.accounts.values()].map((a) => a.snapshot()) }),
    'call.dial': async (params) => this.dial(params),
    'call.answer': async ({ callId }) => {
      const call = this.call(callId);
      await this.holdOthers(call);
      await this.wrap(() => call.answer());
      return {};
    },
    'call.reject': async ({ callId, reason }) => {
      await this.wrap(() => this.call(callId).reject(reason));
      return {};
    },
    'call.hangup': async ({ callId }) => {
      await this.wrap(() => this.call(callId).hangup());
      return {};
    },
    'call.list': async () => ({ calls: [...this.calls.values()].map((c) => c.snapshot()) }),
    'call.dtmf': async ({ callId, digits }) => {
      await this.wrap(() => this.call(callId).sendDtmf(digits));
      return {};
    },
    'call.hold': async ({ callId }) => {
      await this.wrap(() => this.call(callId).hold());
      return {};
    },
    'call.resume': async ({ callId }) => {
      const call = this.call(callId);
      await this.holdOthers(call);
      await this.wrap(() => call.resume());
      return {};
    },
    'call.mute': async ({ callId, muted }) => {
      await this.wrap(async () => this.call(callId).mute(muted));
      return {};
    },
    'call.transfer': async ({ callId, target }) => {
      const call = this.call(callId);
      const uri = this.targetUri(call.account, target);
      await this.wrap(() => call.transfer(uri));
      return {};
    },
    'call.transferToCall': async ({ callId, toCallId }) => {
      const call = this.call(callId);
      const to = this.call(toCallId);
      if (to.account !== call.account) throw new RpcError(RpcErrorCode.ApplicationError, 'Both calls must be on the same account to be joined by a transfer');
      await this.wrap(() => call.transfer(to));
      return {};
    },
    'call.record': async ({ callId, path, on }) => {
      const target = on ? this.recordingPath(path) : path;
      await this.wrap(async () => this.call(callId).record(target, on));
      return {};
    },
    'call.stats': async ({ callId }) => {
      const stats = mediaStatsOf(this.call(callId).session.sessionDescriptionHandler);
      if (!stats) throw new RpcError(RpcErrorCode.ApplicationError, `Call ${callId} has no media yet (not answered, or no audio negotiated)`);
      return stats;
    },
  };

  async addAccount(config: AccountConfig): Promise<{ accountId: string }> {
    const id = `acc-${this.nextAccount++}`;
    let account: Account;
    try {
      account = new Account(id, config, {
        userAgentString: this.options.userAgentString,
        sessionDescriptionHandlerFactory: this.options.sessionDescriptionHandlerFactory,
        onInvite: (a, invitation) => this.onInvite(a, invitation),
        onChange: (snapshot) => this.options.onAccountChange(snapshot),
        log: this.options.log,
        trace: this.options.trace,
        backoffSeconds: this.options.backoffSeconds,
      });
    } catch (error) {
      throw new RpcError(RpcErrorCode.ApplicationError, error instanceof Error ? error.message : String(error));
    }
    this.accounts.set(id, account);
    // Registration proceeds in the background; its progress arrives as account.state events.
    void account.start().catch((error: unknown) => this.logError(`start ${id}`, error));
    return { accountId: id };
  }

  /** A recording's file: inside recordingsDir when one is set (a name, not a path, is accepted). */
  private recordingPath(requested: string): string {
    const dir = this.options.recordingsDir;
    if (dir === undefined) return requested;
    if (requested !== basename(requested) || requested === '.' || requested === '..' || requested.startsWith('.'))
      throw new RpcError(RpcErrorCode.ApplicationError, `Recordings are saved in ${dir}: give a file name such as call-with-bob.wav, not a path`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return join(dir, /\.wav$/i.test(requested) ? requested : `${requested}.wav`);
  }

  accountConfigs(): AccountConfig[] {
    return [...this.accounts.values()].map((a) => a.config);
  }

  /** Hang up every call and unregister every account (app quit, headless stdin closed). */
  async stop(): Promise<void> {
    const calls = [...this.calls.values()];
    await Promise.all(calls.map((c) => c.hangup().catch((e: unknown) => this.logError('hangup', e))));
    // Let each call's media close its socket and finish its recording before the process goes.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(calls.map((c) => c.mediaClosed())),
      new Promise<void>((resolve) => (timer = setTimeout(() => (this.options.log('media did not close within 3 s at shutdown'), resolve()), 3000))),
    ]);
    clearTimeout(timer);
    await Promise.all([...this.accounts.values()].map((a) => a.stop().catch((e: unknown) => this.logError('stop', e))));
  }

  private async dial({ target, accountId }: Params<'call.dial'>): Promise<{ callId: string }> {
    const account = accountId ? this.account(accountId) : this.defaultAccount();
    const uri = this.targetUri(account, target);
    await this.holdOthers();
    // earlyMedia: an SDP in a 18x is applied at once (RFC 3261 s. 13.2.1: the first SDP is the
    // answer), so the caller hears announcements/ringback from the far end before the answer.
    const inviter = new Inviter(account.userAgent, uri, { earlyMedia: true });
    const call = this.track(account, inviter);
    try {
      await call.dial();
    } catch (error) {
      throw new RpcError(RpcErrorCode.ApplicationError, `Could not place the call: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { callId: call.id };
  }

  /**
   * One conversation at a time, as on a desk phone: before the user answers, dials or resumes a
   * call, every other call in conversation (connected, not held by us) is put on hold, so neither
   * side overhears the other conversation (nor do both hear us). A hold that fails (the far end
   * refuses the re-INVITE, or never answers it) leaves that call muted instead, which the user sees,
   * and is logged; the user's action goes ahead either way. Auto-answer counts as the user's
   * answer. Not for a transfer's new call or an attended transfer's INVITE with Replaces, whose
   * other call is about to end.
   */
  private async holdOthers(except?: Call): Promise<void> {
    const others = [...this.calls.values()].filter((c) => c !== except && c.inConversation);
    await Promise.all(others.map((other) => this.holdOrMute(other, 'for another call')));
  }

  /** Hold `call`; if the hold fails, mute it instead (and log why), unless it ended meanwhile: then there is nothing to overhear. */
  private async holdOrMute(call: Call, why: string): Promise<void> {
    try {
      await call.hold();
    } catch (error) {
      this.options.log(`${call.id}: could not be held ${why}, muted instead: ${error instanceof Error ? error.message : String(error)}`);
      if (call.inConversation) call.mute(true);
    }
  }

  /**
   * A call we placed was answered while the user is in another conversation (they answered
   * someone else while it rang): it goes on hold at once, so its far end does not overhear that
   * conversation, and the user takes it with Resume (a swap). Muted instead if the hold fails.
   * A transfer's new call is exempt: the call it follows from is about to end.
   */
  private holdIfAnotherConversation(call: Call): void {
    if (call.transferOrigin || ![...this.calls.values()].some((c) => c !== call && c.inConversation)) return;
    void this.holdOrMute(call, 'when answered during another conversation');
  }

  private onInvite(account: Account, invitation: Invitation): void {
    // An attended transfer's new leg (INVITE with Replaces, RFC 3891): it takes over a call of
    // ours, so it is answered at once, without ringing, and that call ends when it is.
    const replaced = invitation.replacee ? [...this.calls.values()].find((c) => c.session === invitation.replacee) : undefined;
    if (replaced) {
      const referredBy = referrer(invitation.request.getHeader('referred-by'), replaced);
      const call = this.track(account, invitation, { fromCallId: replaced.id, referredBy });
      // Told before sip.js sends the replaced call its BYE (right after this state change).
      invitation.stateChange.addListener((state) => state === SessionState.Established && replaced.markReplaced(call.id));
      this.options.log(`${call.id}: replaces ${replaced.id} (attended transfer by ${referredBy})`);
      call.answer().catch((error: unknown) => this.logError(`answer ${call.id}, which replaces ${replaced.id}`, error));
      return;
    }
    const call = this.track(account, invitation);
    if (this.options.autoAnswer)
      this.holdOthers(call)
        .then(() => call.answer())
        .catch((error: unknown) => this.logError(`auto-answer ${call.id}`, error));
    else call.ring().catch((error: unknown) => this.logError(`ring ${call.id}`, error));
  }

  /**
   * The other side of `call` transfers us (REFER, RFC 3515; blind transfer, RFC 5589): we call the
   * Refer-To target at once, as desk phones do, as a new call tracked and shown like any other (its
   * snapshot says `transferredFrom` and `referredBy`); sip.js's referral Inviter tells the
   * transferor how it goes (NOTIFY message/sipfrag), and the transferor then ends `call`. Only an
   * INVITE to a sip:/sips: target is followed; anything else (another method, a tel: or http: URI)
   * is declined (603) and logged, so a far end cannot make the phone send arbitrary requests.
   */
  private followTransfer(call: Call, referral: Referral): void {
    let target: URI;
    try {
      target = referral.referTo.uri;
    } catch (error) {
      this.options.log(`${call.id}: REFER with an unreadable Refer-To declined: ${error instanceof Error ? error.message : String(error)}`);
      void referral.reject({ statusCode: 400, reasonPhrase: 'Bad Refer-To' });
      return;
    }
    const method = target.getParam('method');
    if (!/^sips?$/i.test(target.scheme) || (typeof method === 'string' && method.toUpperCase() !== 'INVITE')) {
      this.options.log(`${call.id}: transfer to ${target.toString()} declined (only calls, INVITE, to sip: or sips: addresses are followed)`);
      void referral.reject({ statusCode: 603, reasonPhrase: 'Decline' });
      return;
    }
    const referredBy = referrer(referral.referredBy, call);
    this.options.log(`${call.id}: transferred by ${referredBy} to ${target.toString()}`);
    void referral
      .accept()
      .then(() => {
        const next = this.track(call.account, referral.makeInviter({ earlyMedia: true }), { fromCallId: call.id, referredBy });
        return next.dial();
      })
      .catch((error: unknown) => this.logError(`transfer of ${call.id}`, error));
  }

  private track(account: Account, session: Inviter | Invitation, transferOrigin?: Call['transferOrigin']): Call {
    const call = new Call(
      `call-${this.nextCall++}`,
      account,
      session,
      (c) => {
        this.options.onCallChange(c.snapshot());
        if (c.ended) setTimeout(() => this.calls.delete(c.id), ENDED_CALL_RETENTION_MS).unref();
      },
      (event) => this.options.onCallDtmf?.(event),
      (line) => this.options.log(line),
    );
    call.transferOrigin = transferOrigin;
    call.onTransferRequest = (referral) => this.followTransfer(call, referral);
    call.onAnswered = () => this.holdIfAnotherConversation(call);
    this.calls.set(call.id, call);
    this.options.onCallChange(call.snapshot());
    return call;
  }

  /** What the user typed → a SIP URI on the account's domain. */
  private targetUri(account: Account, target: string): URI {
    const fail = (message: string): never => {
      throw new RpcError(RpcErrorCode.ApplicationError, message);
    };
    let text = target.trim();
    if (/^tel:/i.test(text)) text = `${text.slice(4).replace(/[\s().-]/g, '')}`;
    if (!/^sips?:/i.test(text)) {
      if (text.includes('@')) text = `sip:${text}`;
      else {
        const user = text.replace(/[\s().-]/g, '');
        if (!/^[\w+*#.!~'-]+$/.test(user)) fail(`"${target}" is not a number or SIP address`);
        if (!account.config.register)
          fail(`Direct calls need a full address such as sip:${user}@192.0.2.10:5060 (this account has no phone system)`);
        text = `sip:${user}@${account.hostPort()}${/^\+?[\d*#]+$/.test(user) && user.startsWith('+') ? ';user=phone' : ''}`;
      }
    }
    const uri = UserAgent.makeURI(text);
    return uri ?? fail(`"${target}" is not a valid SIP address`);
  }

  private defaultAccount(): Account {
    const first = this.accounts.values().next();
    if (first.done) throw new RpcError(RpcErrorCode.ApplicationError, 'Add an account before calling');
    return first.value;
  }

  private account(id: string): Account {
    const account = this.accounts.get(id);
    if (!account) throw new RpcError(RpcErrorCode.ApplicationError, `No account ${id}`);
    return account;
  }

  private call(id: string): Call {
    const call = this.calls.get(id);
    if (!call) throw new RpcError(RpcErrorCode.ApplicationError, `No call ${id} (it may have ended)`);
    return call;
  }

  private async wrap(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (error instanceof RpcError) throw error;
      throw new RpcError(RpcErrorCode.ApplicationError, error instanceof Error ? error.message : String(error));
    }
  }

  private logError(what: string, error: unknown): void {
    this.options.log(`error in ${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
