// Configuration of NodeSipTransport, passed by sip.js as `UserAgentOptions.transportOptions`.
import type { ServerLocator } from '../dns/server-locator';
import type { Verdict } from '../wire/message-validator';
import type { RetransmitTiming } from './udp-retransmitter';

export interface SipTransportConfig {
  protocol: 'udp' | 'tcp' | 'tls';
  /** Next hop for requests: outbound proxy if configured, else the registrar. SIP URI.
   *  undefined = serverless: each request goes to its top Route, else its Request-URI (RFC 3263). */
  server?: string;
  localAddress?: string; // bind address, default '0.0.0.0'
  localPort?: number; // 0/undefined = random
  /** false (default): drop requests whose source is not one of the resolved server addresses
   *  (defence against SIP scanners / ghost calls). Always true when server is undefined. */
  acceptDirect?: boolean;
  tls?: { caFile?: string; caPem?: string; pinnedCertSha256?: string; rejectUnauthorized?: never };
  keepAliveSeconds?: number; // default 25 for UDP (CRLFCRLF datagram), 30 for TCP/TLS (RFC 5626 CRLFCRLF ping)
  viaPlaceholderHost: string;
  locator?: ServerLocator; // injected in tests; default real DNS
  /** Every message in/out, for the SIP trace. Authorization/Proxy-Authorization MUST be redacted. */
  trace?: (event: { direction: 'in' | 'out'; remote: string; text: string }) => void;
  /** Called when received/rport in a response to us shows our public address differs from
   *  the one in our Contact (NAT). The transport already uses it for Contact from then on. */
  onPublicAddressChanged?: (address: { host: string; port: number }) => void;
  /** Called for every dropped/rejected incoming message with a reason (for logs/tests). */
  onInvalidMessage?: (info: { remote: string; reason: string; answered?: number }) => void;

  // ---- additions beyond the agreed API (all optional) ----
  /** UDP retransmission timers; tests shorten them. Default T1 500 ms, T2 4000 ms. */
  timers?: Partial<RetransmitTiming>;
  /** UDP: move to the next resolved server when a request has no response for this long. Default 4000. */
  failoverTimeoutMs?: number;
  /** TCP/TLS connect timeout per target. Default 10000. */
  connectTimeoutMs?: number;
  /** Incoming message validation; default ../wire/message-validator. Tests inject rejecting validators. */
  validator?: MessageValidator;
}

export interface MessageValidator {
  validateSipMessage(raw: Buffer): Verdict;
  buildStatelessErrorResponse(raw: Buffer, status: number, reason: string): string | undefined;
}
