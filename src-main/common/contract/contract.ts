/**
 * The Switchboard contract: every method and event between the core (main process or headless
 * process) and its clients (renderer, scripts, tests), declared once with a runtime schema.
 *
 * Rules every carrier and both sides MUST follow:
 * - The serving side (core) MUST validate every method's params with `methods[name].params` before
 *   acting on them, and answer a payload that fails with a JSON-RPC "invalid params" error that
 *   names the offending field. It MUST NOT act on a payload it could not validate.
 * - The serving side MUST emit events only in the shape of `events[name]`; clients MAY validate.
 * - Methods are request/response; events are fire-and-forget notifications from core to clients.
 *   A client subscribes to all events by connecting; there is no per-event subscription call.
 * - State-carrying events (`account.state`, `call.state`) carry the whole snapshot, never a delta,
 *   so a client that missed one event is correct again after the next.
 *
 * This file is in `common/`: it imports neither node nor electron and is shared by every process.
 */
import { z } from 'zod';

/** What the transport layer speaks to the PBX. */
export const SipTransportName = z.enum(['udp', 'tcp', 'tls']);
export type SipTransportName = z.infer<typeof SipTransportName>;

const sipUri = z
  .string()
  .trim()
  .regex(/^sips?:[^\s]+$/i, 'must be a SIP URI such as sip:alice@pbx.example.com');

export const TlsSettings = z.object({
  /** PEM file of a CA the user trusts in addition to the system store. */
  caFile: z.string().min(1).optional(),
  /** SHA-256 fingerprint (hex, colons allowed) of the one server certificate to accept. */
  pinnedCertSha256: z
    .string()
    .regex(/^([0-9a-f]{2}:?){31}[0-9a-f]{2}$/i, 'must be a SHA-256 fingerprint in hex')
    .optional(),
});
export type TlsSettings = z.infer<typeof TlsSettings>;

/** An account as the user configures it. `password` is never echoed back in any event. */
export const AccountConfig = z.object({
  /** Address of record, e.g. sip:201@pbx.example.com. */
  aor: sipUri,
  displayName: z.string().max(128).optional(),
  /** Digest username when it differs from the AOR's user part. */
  authUsername: z.string().min(1).optional(),
  password: z.string().optional(),
  transport: SipTransportName.default('udp'),
  /** Registrar URI; defaults to the AOR's domain (located by RFC 3263). */
  registrar: sipUri.optional(),
  /** Outbound proxy URI: every request is sent there first. */
  outboundProxy: sipUri.optional(),
  /** false = a local, serverless account: no REGISTER, direct sip:user@host:port calls only. */
  register: z.boolean().default(true),
  /** Accept requests that do not come from the registrar/outbound-proxy flow. */
  acceptDirectCalls: z.boolean().default(false),
  /** Local SIP port; 0 = random. */
  localPort: z.number().int().min(0).max(65535).default(0),
  /** Local address to bind; default: all interfaces. */
  localAddress: z.string().min(1).optional(),
  registerExpires: z.number().int().min(60).max(86400).default(600),
  tls: TlsSettings.optional(),
});
export type AccountConfigInput = z.input<typeof AccountConfig>;
export type AccountConfig = z.output<typeof AccountConfig>;

/**
 * Account registration state machine.
 *
 *   unregistered --add/enable--> registering --2xx--> registered --expiry refresh--> registered
 *   registering --401/407 w/ wrong credentials, 403--> failed      (no automatic retry: user must fix)
 *   registering --timeout / transport error / 5xx--> retrying --backoff elapsed--> registering
 *   registered --network loss / refresh failure--> retrying
 *   registered --remove/quit--> unregistering --> unregistered
 *   (local accounts, register=false) unregistered --add--> ready
 */
export const AccountState = z.enum([
  'unregistered',
  'registering',
  'registered',
  'retrying',
  'failed',
  'unregistering',
  'ready',
]);
export type AccountState = z.infer<typeof AccountState>;

export const AccountSnapshot = z.object({
  accountId: z.string(),
  aor: z.string(),
  displayName: z.string().optional(),
  transport: SipTransportName,
  state: AccountState,
  /** Human-readable reason for failed/retrying, e.g. "Wrong username or password". */
  reason: z.string().optional(),
  /** SIP status code behind `reason`, when there was one. */
  sipCode: z.number().int().optional(),
  /** Contact the registrar holds for us (our reachable address as the PBX sees it). */
  contact: z.string().optional(),
  /** Seconds until the next automatic retry, in state `retrying`. */
  retryInSeconds: z.number().optional(),
});
export type AccountSnapshot = z.infer<typeof AccountSnapshot>;

/**
 * Call state machine.
 *
 * Outgoing: dialing --180--> ringing --183+SDP--> early-media --2xx--> connected --BYE--> ended
 *           dialing/ringing/early-media --user cancels--> ended (reason "Cancelled")
 *           dialing/ringing/early-media --4xx/5xx/6xx/timeout--> ended (reason in words)
 * Incoming: incoming --answer--> connected;  incoming --reject/caller cancels--> ended
 * Any state but ended --hangup--> ending --> ended. `ended` is final; the call id is never reused.
 */
export const CallState = z.enum(['dialing', 'ringing', 'early-media', 'incoming', 'connected', 'ending', 'ended']);
export type CallState = z.infer<typeof CallState>;

export const CallDirection = z.enum(['outgoing', 'incoming']);
export type CallDirection = z.infer<typeof CallDirection>;

export const MediaSummary = z.object({
  codec: z.string(),
  localRtp: z.string(),
  remoteRtp: z.string(),
  packetsSent: z.number().int(),
  packetsReceived: z.number().int(),
});
export type MediaSummary = z.infer<typeof MediaSummary>;

export const CallSnapshot = z.object({
  callId: z.string(),
  accountId: z.string(),
  direction: CallDirection,
  remoteUri: z.string(),
  remoteName: z.string().optional(),
  state: CallState,
  /** Why the call ended or failed, in words a user understands. */
  reason: z.string().optional(),
  sipCode: z.number().int().optional(),
  media: MediaSummary.optional(),
});
export type CallSnapshot = z.infer<typeof CallSnapshot>;

const accountRef = z.object({ accountId: z.string().min(1) });
const callRef = z.object({ callId: z.string().min(1) });

/** Every method: params schema and result schema. */
export const methods = {
  'app.info': {
    params: z.object({}).strict(),
    result: z.object({
      name: z.string(),
      version: z.string(),
      sipUserAgent: z.string(),
      /** Things the user should know since start (e.g. a corrupt settings file kept aside). */
      notices: z.array(z.string()),
    }),
  },
  'account.add': {
    params: AccountConfig,
    result: z.object({ accountId: z.string() }),
  },
  'account.remove': {
    params: accountRef,
    result: z.object({}),
  },
  'account.list': {
    params: z.object({}).strict(),
    result: z.object({ accounts: z.array(AccountSnapshot) }),
  },
  'call.dial': {
    params: z.object({
      /** sip:/sips:/tel: URI, or a bare number/extension dialled on the account's domain. */
      target: z.string().trim().min(1, 'target must not be empty').max(512),
      accountId: z.string().min(1).optional(),
    }),
    result: z.object({ callId: z.string() }),
  },
  'call.answer': { params: callRef, result: z.object({}) },
  'call.reject': {
    params: callRef.extend({ reason: z.enum(['busy', 'decline']).default('busy') }),
    result: z.object({}),
  },
  'call.hangup': { params: callRef, result: z.object({}) },
  'call.list': {
    params: z.object({}).strict(),
    result: z.object({ calls: z.array(CallSnapshot) }),
  },
} as const;

/** Every event (core → clients). */
export const events = {
  'account.state': AccountSnapshot,
  'call.state': CallSnapshot,
  /** Something the user should know that is not an account or call state. */
  'app.notice': z.object({ level: z.enum(['info', 'warning', 'error']), message: z.string() }),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type EventName = keyof typeof events;
/** What a caller passes (defaults not yet applied). */
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>;
/** What a handler receives (validated, defaults applied). */
export type Params<M extends MethodName> = z.output<Methods[M]['params']>;
export type Result<M extends MethodName> = z.output<Methods[M]['result']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** The serving side implements this: one async function per method. */
export type ContractHandlers = { [M in MethodName]: (params: Params<M>) => Promise<Result<M>> };
