/**
 * One SIP account: a sip.js UserAgent over our own NodeSipTransport, plus its registration.
 *
 * Registration state machine (AccountState in the contract):
 *   unregistered --start--> registering --2xx--> registered
 *   registering --401/407/403/404--> failed        no automatic retry: the user must fix the account
 *   registering --408/5xx/transport error--> retrying --backoff--> registering
 *   registered --refresh fails / connection lost--> registering (once, at once) --fails--> retrying
 *   registered --public address learned differs--> registered (re-REGISTER with the new Contact)
 *   any --stop--> unregistering --> unregistered
 *   local account (register=false): unregistered --start--> ready
 *
 * Backoff doubles from 2 s to at most 5 min with ±20 % jitter, so that a PBX restart does not get a
 * synchronised storm from every phone in the office, and it is reset by each success.
 *
 * Ownership: an Account owns its UserAgent, transport and Registerer; everything runs on the Node
 * main thread; timers are cleared by stop().
 */
import {
  Registerer,
  RegistererState,
  SIPExtension,
  UserAgent,
  type Invitation,
  type SessionDescriptionHandlerFactory,
  type URI,
  type UserAgentOptions,
} from 'sip.js';
import { randomBytes } from 'node:crypto';
import type { AccountConfig, AccountSnapshot, AccountState } from '../../../common/contract/contract';
import { NodeSipTransport, type SipTransportConfig } from '../transport/node-sip-transport';
import { registrationFailure } from './failure-reasons';
import { mendAnswerTarget } from './sipjs-answer-target';

export interface AccountDeps {
  userAgentString: string;
  /** Builds the media handler factory for this account (it needs the account's local address). */
  sessionDescriptionHandlerFactory: (account: Account) => SessionDescriptionHandlerFactory;
  onInvite: (account: Account, invitation: Invitation) => void;
  onChange: (snapshot: AccountSnapshot) => void;
  log: (line: string) => void;
  trace?: SipTransportConfig['trace'];
  /** Backoff in seconds for retry `attempt` (1-based); replaceable in tests. */
  backoffSeconds?: (attempt: number) => number;
}

export function defaultBackoffSeconds(attempt: number): number {
  const base = Math.min(300, 2 ** attempt);
  return base * (0.8 + Math.random() * 0.4);
}

/** TLS trust failures need the user (trust a CA / pin a certificate); retrying cannot help. */
function isTrustError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /certificate|TLS/i.test(message) && !/ECONNREFUSED|ECONNRESET|timed out/i.test(message);
}

export class Account {
  readonly id: string;
  readonly config: AccountConfig;
  readonly userAgent: UserAgent;
  readonly aor: URI;
  private readonly registerer?: Registerer;
  private state: AccountState = 'unregistered';
  private reason?: string;
  private sipCode?: number;
  private retryInSeconds?: number;
  private retryAttempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private registering = false;
  private stopping = false;
  private readonly placeholderHost: string;

  constructor(
    id: string,
    config: AccountConfig,
    private readonly deps: AccountDeps,
  ) {
    this.id = id;
    this.config = config;
    const aor = UserAgent.makeURI(config.aor);
    if (!aor) throw new Error(`Not a valid SIP address: ${config.aor}`);
    this.aor = aor;
    this.placeholderHost = `sb-${randomBytes(6).toString('hex')}.invalid`;

    const server = config.register ? (config.outboundProxy ?? config.registrar ?? `sip:${this.hostPort()}`) : undefined;
    const transportConfig: SipTransportConfig = {
      protocol: config.transport,
      server,
      localAddress: config.localAddress,
      localPort: config.localPort,
      acceptDirect: config.acceptDirectCalls || !config.register,
      tls: config.tls,
      viaPlaceholderHost: this.placeholderHost,
      trace: deps.trace,
      onPublicAddressChanged: (address) => this.onPublicAddressChanged(address),
      onInvalidMessage: (info) =>
        deps.log(`[${this.id}] dropped/refused message from ${info.remote}: ${info.reason}${info.answered ? ` (answered ${info.answered})` : ''}`),
    };

    const options: UserAgentOptions = {
      uri: aor,
      displayName: config.displayName,
      authorizationUsername: config.authUsername ?? aor.user,
      authorizationPassword: config.password,
      transportConstructor: NodeSipTransport,
      transportOptions: transportConfig,
      viaHost: this.placeholderHost,
      // contactName stays empty on purpose: sip.js then matches the registrar's Contact by user part
      // only, which is what survives the transport's placeholder -> real address rewrite.
      contactParams: { transport: config.transport },
      forceRport: true,
      userAgentString: deps.userAgentString,
      logBuiltinEnabled: false,
      logLevel: 'warn',
      logConfiguration: false,
      // sip.js hands every level to the connector; keep the ones that mean trouble.
      logConnector: (level, category, _label, content) => {
        if (level === 'error' || level === 'warn') deps.log(`[${this.id}] sip.js ${level} ${category}: ${content}`);
      },
      sessionDescriptionHandlerFactory: deps.sessionDescriptionHandlerFactory(this),
      preloadedRouteSet: config.outboundProxy ? [`<${withLooseRouting(config.outboundProxy)}>`] : [],
      // RFC 3891: an INVITE with Replaces takes over one of our calls (the target of an attended
      // transfer); sip.js matches it to the call and ends that call once the new one is answered.
      sipExtensionReplaces: SIPExtension.Supported,
      delegate: {
        onInvite: (invitation) => deps.onInvite(this, invitation),
        onDisconnect: (error) => this.onTransportLost(error),
      },
    };
    mendAnswerTarget();
    this.userAgent = new UserAgent(options);

    if (config.register) {
      const registrar = UserAgent.makeURI(config.registrar ?? `sip:${this.hostPort()}`);
      if (!registrar) throw new Error(`Not a valid registrar address: ${config.registrar}`);
      this.registerer = new Registerer(this.userAgent, {
        expires: config.registerExpires,
        registrar,
        // Refresh at 85 % of the granted interval: room for UDP retransmissions before expiry.
        refreshFrequency: 85,
      });
      this.registerer.stateChange.addListener((s) => this.onRegistererState(s));
    }
  }

  get transport(): NodeSipTransport {
    return this.userAgent.transport as NodeSipTransport;
  }

  /** The SIP domain of the AOR, with its port if the AOR has one. */
  hostPort(): string {
    return this.aor.port ? `${this.aor.host}:${this.aor.port}` : this.aor.host;
  }

  snapshot(): AccountSnapshot {
    let contact: string | undefined;
    if (this.state === 'registered' || this.state === 'ready') {
      const address = this.transport.contactAddress();
      contact = `sip:${this.userAgent.contact.uri.user}@${address.host}:${address.port};transport=${this.config.transport}`;
    }
    return {
      accountId: this.id,
      aor: this.config.aor,
      displayName: this.config.displayName,
      transport: this.config.transport,
      state: this.state,
      reason: this.reason,
      sipCode: this.sipCode,
      contact,
      retryInSeconds: this.retryInSeconds,
    };
  }

  async start(): Promise<void> {
    try {
      await this.userAgent.start();
    } catch (error) {
      this.handleConnectFailure(error);
      return;
    }
    if (!this.registerer) {
      this.setState('ready');
      return;
    }
    await this.register();
  }

  /** Unregister (best effort, bounded) and release every socket and timer. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    if (this.registerer && this.state === 'registered') {
      this.setState('unregistering');
      await new Promise<void>((resolve) => {
        const done = setTimeout(resolve, 4000);
        this.registerer!
          .unregister({
            requestDelegate: {
              onAccept: () => (clearTimeout(done), resolve()),
              onReject: () => (clearTimeout(done), resolve()),
            },
          })
          .catch((error: unknown) => {
            this.deps.log(`[${this.id}] unregister failed: ${String(error)}`);
            clearTimeout(done);
            resolve();
          });
      });
    }
    await this.registerer?.dispose().catch((error: unknown) => this.deps.log(`[${this.id}] registerer dispose: ${String(error)}`));
    await this.userAgent.stop();
    this.setState('unregistered');
  }

  private async register(): Promise<void> {
    if (!this.registerer || this.stopping || this.registering) return;
    this.registering = true;
    this.setState('registering');
    try {
      await this.registerer.register({
        requestDelegate: {
          onAccept: () => {
            this.registering = false;
            this.retryAttempt = 0;
            this.setState('registered');
          },
          onReject: (response) => {
            this.registering = false;
            this.onRegisterRejected(response.message.statusCode ?? 0);
          },
        },
      });
    } catch (error) {
      this.registering = false;
      this.scheduleRetry(`Could not send the registration: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private onRegisterRejected(code: number): void {
    if (this.stopping) return;
    const failure = registrationFailure(code, Boolean(this.config.password));
    if (failure.retry) this.scheduleRetry(failure.reason, code);
    else this.setState('failed', failure.reason, code);
  }

  private onRegistererState(state: RegistererState): void {
    // An Unregistered we did not ask for comes from a failed refresh (sip.js refreshes on its own
    // and does not tell us the code): register again at once through our path, which does.
    if (state === RegistererState.Unregistered && this.state === 'registered' && !this.stopping) {
      setImmediate(() => void this.register());
    }
  }

  private onTransportLost(error?: Error): void {
    if (this.stopping) return;
    this.registering = false;
    this.scheduleRetry(`Lost connection to the phone system${error ? `: ${error.message}` : ''}`);
  }

  private onPublicAddressChanged(address: { host: string; port: number }): void {
    if (!this.registerer) return; // serverless: nothing registered to correct
    this.deps.log(`[${this.id}] public address is ${address.host}:${address.port}; refreshing registration`);
    if (this.state === 'registered') void this.register();
  }

  private handleConnectFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (isTrustError(error)) this.setState('failed', message);
    else this.scheduleRetry(`Cannot connect to the phone system: ${message}`);
  }

  private scheduleRetry(reason: string, code?: number): void {
    if (this.stopping || !this.registerer) return;
    clearTimeout(this.retryTimer);
    this.retryAttempt += 1;
    const delay = (this.deps.backoffSeconds ?? defaultBackoffSeconds)(this.retryAttempt);
    this.retryInSeconds = Math.round(delay);
    this.setState('retrying', reason, code);
    this.retryTimer = setTimeout(() => void this.retry(), delay * 1000);
  }

  private async retry(): Promise<void> {
    this.retryInSeconds = undefined;
    if (this.stopping) return;
    if (!this.userAgent.transport.isConnected()) {
      try {
        await this.userAgent.reconnect();
      } catch (error) {
        this.handleConnectFailure(error);
        return;
      }
    }
    await this.register();
  }

  private setState(state: AccountState, reason?: string, sipCode?: number): void {
    this.state = state;
    this.reason = reason;
    this.sipCode = sipCode;
    if (state !== 'retrying') this.retryInSeconds = undefined;
    this.deps.onChange(this.snapshot());
  }
}

function withLooseRouting(uri: string): string {
  return /;lr(\b|=|;|$)/.test(uri) ? uri : `${uri};lr`;
}
