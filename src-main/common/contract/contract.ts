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

/** At least one PEM certificate block (text around the blocks, as openssl writes, is allowed). */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/;

export const TlsSettings = z.object({
  /** PEM file of a CA the user trusts in addition to the system store (headless, scripts). */
  caFile: z.string().min(1).optional(),
  /**
   * The same as PEM text: the CA certificate(s) that signed the PBX's certificate (a company's
   * private CA not in the system store). The app's form reads it from the file the user picks and
   * it is kept with the account, so moving or deleting that file later changes nothing.
   */
  caPem: z
    .string()
    .max(256 * 1024, 'must be at most 256 KiB of PEM text')
    .regex(PEM_CERTIFICATE, 'must be a PEM certificate ("-----BEGIN CERTIFICATE-----" …)')
    .optional(),
  /** SHA-256 fingerprint (hex, colons allowed) of the one server certificate to accept. */
  pinnedCertSha256: z
    .string()
    .regex(/^([0-9a-f]{2}:?){31}[0-9a-f]{2}$/i, 'must be a SHA-256 fingerprint in hex')
    .optional(),
});
export type TlsSettings = z.infer<typeof TlsSettings>;

export const SrtpPolicyName = z.enum(['off', 'optional', 'mandatory']);
export type SrtpPolicyName = z.infer<typeof SrtpPolicyName>;
export const DtmfModeName = z.enum(['rfc4733', 'info', 'auto']);
export type DtmfModeName = z.infer<typeof DtmfModeName>;

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
  /**
   * Media encryption (SRTP keyed with SDES, RFC 4568): 'off' never encrypts; 'optional' offers
   * RTP/AVP with keys and encrypts when the peer takes them; 'mandatory' offers RTP/SAVP and
   * refuses unencrypted calls (488). Absent: 'optional' on TLS accounts (the keys travel in SDP,
   * so they are only protected when signalling is), 'off' otherwise. See effectiveSrtpPolicy.
   */
  srtp: SrtpPolicyName.optional(),
  /**
   * How call.dtmf sends digits: 'rfc4733' telephone-events in RTP, 'info' SIP INFO with
   * application/dtmf-relay, 'auto' (default when absent) RFC 4733 when the call negotiated
   * telephone-event, else INFO.
   */
  dtmfMode: DtmfModeName.optional(),
  /**
   * Audio codecs in preference order (SDP encoding names: opus, G722, PCMU, PCMA), used for the
   * offer order and the answer choice. Absent: the built-in order opus, G722, PCMU, PCMA.
   * An unknown name fails account.add.
   */
  codecs: z.array(z.string().min(1)).min(1, 'codecs must name at least one codec').optional(),
  /**
   * Packet time (ms) we ask the far end to send (a=ptime in our offers and answers; RFC 4566).
   * Some PBXs and gateways want 30 or 40. Absent: 20. What we send follows the far end's a=ptime.
   */
  ptime: z.number().int().min(10, 'ptime must be 10 to 60 ms').max(60, 'ptime must be 10 to 60 ms').multipleOf(10, 'ptime must be a multiple of 10 ms').optional(),
  /**
   * Hang up a call from which nothing has come for this many seconds though the far end should be
   * sending (not on hold): a dead connection, as Linphone's and baresip's RTP timeouts do. 0 =
   * never. Absent: DEFAULT_MEDIA_TIMEOUT_SECONDS. The call's snapshot says `media.stalled` after 5 s.
   */
  mediaTimeoutSeconds: z
    .number()
    .int()
    .refine((s) => s === 0 || (s >= 10 && s <= 3600), 'mediaTimeoutSeconds must be 0 (never) or 10 to 3600')
    .optional(),
});

/** Seconds without media after which a call is hung up when the account does not say (mediaTimeoutSeconds). */
export const DEFAULT_MEDIA_TIMEOUT_SECONDS = 60;
export type AccountConfigInput = z.input<typeof AccountConfig>;
export type AccountConfig = z.output<typeof AccountConfig>;

/** The SRTP policy an account uses: its setting, else 'optional' on TLS and 'off' otherwise. */
export function effectiveSrtpPolicy(config: Pick<AccountConfig, 'srtp' | 'transport'>): SrtpPolicyName {
  return config.srtp ?? (config.transport === 'tls' ? 'optional' : 'off');
}

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
 * The core itself hangs up (reason in words) when the far end is silent past the account's media
 * timeout, and when the call's audio failed (an error in its media: "The call's audio failed (…)").
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
  /** SRTP crypto suite when the media is encrypted, e.g. AES_CM_128_HMAC_SHA1_80; absent = plain RTP. */
  srtp: z.string().optional(),
  /** Estimated listening quality (E-model MOS 1..4.5) of what we receive, see CallStats.quality. */
  mos: z.number().optional(),
  /**
   * In a connected call: true once nothing has come from the far end for 5 s though it should be
   * sending (the call is not on hold), i.e. one-way audio or a lost connection; false again at its
   * next packet. The account's `mediaTimeoutSeconds` may end such a call.
   */
  stalled: z.boolean().optional(),
});
export type MediaSummary = z.infer<typeof MediaSummary>;

/**
 * Media statistics of one call (`call.stats`). "Received" numbers are about the peer's stream as
 * it reaches us; `remote` is what the peer reported (RTCP) about ours.
 */
export const CallStats = z.object({
  codec: z.string(),
  /** PCM sample rate of the codec (8000 G.711, 16000 G.722, 48000 Opus). */
  sampleRate: z.number().int(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']),
  rtcpMux: z.boolean(),
  packetsSent: z.number().int(),
  packetsReceived: z.number().int(),
  bytesSent: z.number().int(),
  bytesReceived: z.number().int(),
  /** Packets of the peer that never arrived (RFC 3550 cumulative lost, >= 0). */
  packetsLost: z.number().int(),
  /** (lost + arrived too late to play) / expected, in percent. */
  lossPercent: z.number(),
  /** RFC 3550 interarrival jitter of what we receive, ms. */
  jitterMs: z.number(),
  /** Round-trip time from RTCP (absent until the peer reported on one of our SRs). */
  roundTripTimeMs: z.number().optional(),
  /**
   * The peer's last RTCP report on our stream: `fractionLost` 0..1 of our packets lost in its
   * last report interval, `cumulativeLost` since the start, `jitterMs` as it measures ours.
   */
  remote: z.object({ fractionLost: z.number(), cumulativeLost: z.number().int(), jitterMs: z.number() }).optional(),
  rtcpSent: z.number().int(),
  rtcpReceived: z.number().int(),
  /** Receive jitter buffer (absent until a packet arrived). */
  jitterBuffer: z
    .object({
      state: z.enum(['idle', 'buffering', 'playing']),
      currentDelayMs: z.number(),
      /**
       * What the listener gets: from a packet's fastest-path arrival until its audio is handed to
       * the device, measured at each device pull, so it includes the wait for the device's next
       * pull (absent until the device clock has pulled while playing).
       */
      playoutDelayMs: z.number().optional(),
      /** What the buffer steers toward: with device pull times, the slack a pull keeps (arrival of the newest packet it needs -> pull). */
      targetDelayMs: z.number(),
      received: z.number().int(),
      late: z.number().int(),
      lost: z.number().int(),
      /** Frames played from concealment (loss, underrun, decode error). */
      concealed: z.number().int(),
      /** Lost frames rebuilt from the redundancy in the next packet (Opus in-band FEC); also counted in `lost`. */
      fecRecovered: z.number().int(),
      /** Share of played audio that was concealment or time-stretch insertion, 0..1. */
      expandRate: z.number(),
      acceleratedSamples: z.number().int(),
      expandedSamples: z.number().int(),
      duplicates: z.number().int(),
      reordered: z.number().int(),
      underruns: z.number().int(),
      discarded: z.number().int(),
      ssrcChanges: z.number().int(),
      decodeErrors: z.number().int(),
      /**
       * Audio played for the far end's silence, ms: RFC 3389 comfort noise, or a gap its sender left
       * (Opus DTX, a VAD that does not mark its talkspurts: the next packet's sequence number
       * follows); not loss, not concealment.
       */
      comfortNoiseMs: z.number().int(),
    })
    .optional(),
  /** ITU-T G.107 E-model estimate; `approximate` for wideband codecs (narrowband model). */
  quality: z.object({
    rFactor: z.number(),
    mos: z.number(),
    rating: z.enum(['best', 'high', 'medium', 'low', 'poor']),
    approximate: z.boolean(),
  }),
});
export type CallStats = z.infer<typeof CallStats>;

export const CallHold = z.enum(['none', 'local', 'remote', 'both']);
export type CallHold = z.infer<typeof CallHold>;

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
  /**
   * Who holds the call: 'local' (we did, call.hold), 'remote' (the other side sent sendonly/
   * inactive/c=0.0.0.0), 'both'. Absent before media starts.
   */
  hold: CallHold.optional(),
  /**
   * Our microphone is muted on this call (call.mute): the other side hears silence. Defaults to
   * false where absent: a core from before call.mute (e.g. an older build in the A/B benchmark)
   * does not send it.
   */
  muted: z.boolean().default(false),
  /** WAV file being recorded (call.record), while recording. */
  recordingPath: z.string().optional(),
  /**
   * Set on a call we placed because the other side of `transferredFrom` (our call id) transferred
   * us (a REFER, RFC 3515): the phone follows a transfer at once, as desk phones do, and that call
   * ends when the transferring side hangs up; and on an incoming call that took `transferredFrom`
   * over (an INVITE with Replaces, RFC 3891: we were an attended transfer's target), that call then
   * ending. `referredBy`: who transferred (Referred-By, else that call's remote party).
   */
  transferredFrom: z.string().optional(),
  referredBy: z.string().optional(),
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
  /**
   * Answer an incoming call. Like call.dial and call.resume, it first puts every other call in
   * conversation on hold (one conversation at a time, as on a desk phone; a call that cannot be
   * held is muted instead).
   */
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
  /** Send DTMF digits in order (per the account's dtmfMode); resolves when all were sent. */
  'call.dtmf': {
    params: callRef.extend({
      digits: z
        .string()
        .min(1, 'digits must not be empty')
        .max(64)
        .regex(/^[0-9*#A-Da-d]+$/, 'digits may only contain 0-9, *, # and A-D'),
    }),
    result: z.object({}),
  },
  /** Media statistics of a call whose media has started (error before that). */
  'call.stats': { params: callRef, result: CallStats },
  /** Put a connected call on hold (re-INVITE a=sendonly, or a=inactive if the other side holds too). */
  'call.hold': { params: callRef, result: z.object({}) },
  /** Take a held call off hold (re-INVITE a=sendrecv). */
  'call.resume': { params: callRef, result: z.object({}) },
  /**
   * Mute (muted: true) or unmute our microphone on a call that has not ended. While muted the call
   * sends silence: RTP keeps flowing (the far end and any NAT on the way see a live call), nothing
   * is signalled (no re-INVITE: the far end hears silence, unlike hold), DTMF still goes, and a
   * recording has silence on our side. A call muted before its media starts starts muted; mute
   * and hold are independent. Setting what already is changes nothing.
   */
  'call.mute': {
    params: callRef.extend({ muted: z.boolean() }),
    result: z.object({}),
  },
  /**
   * Blind transfer of a connected call to `target` (a number or SIP address, as call.dial takes):
   * the other side is asked to call it (REFER). Resolves once that call is answered, and this call
   * then ends ("Transferred to …"); an error says why not (refused, busy, no answer), the call then
   * stays as it was.
   */
  'call.transfer': {
    params: callRef.extend({ target: z.string().trim().min(1, 'target must not be empty').max(512) }),
    result: z.object({}),
  },
  /**
   * Attended transfer: the other side of `callId` takes over our connected call `toCallId` (e.g.
   * the colleague we asked first), by REFER with Replaces. Resolves once done; both our calls then
   * end ("Transferred to …"); an error says why not, the calls then stay as they were.
   */
  'call.transferToCall': {
    params: callRef.extend({ toCallId: z.string().min(1) }),
    result: z.object({}),
  },
  /**
   * Start (on: true) or stop recording a call to a 16-bit STEREO WAV at the call's codec rate (8 kHz
   * for G.711, 16 kHz for G.722 and Opus): left channel = what we send (local), right channel =
   * what we receive (remote). Stopping finalizes the file.
   */
  'call.record': {
    params: callRef.extend({ path: z.string().min(1, 'path must not be empty'), on: z.boolean() }),
    result: z.object({}),
  },
} as const;

/** Every event (core → clients). */
export const events = {
  'account.state': AccountSnapshot,
  'call.state': CallSnapshot,
  /** A DTMF digit the other side sent (RFC 4733 telephone-event or SIP INFO), once per key press. */
  'call.dtmf': z.object({
    callId: z.string(),
    digit: z.string(),
    durationMs: z.number().int().nonnegative().optional(),
    method: z.enum(['rfc4733', 'info']),
  }),
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
