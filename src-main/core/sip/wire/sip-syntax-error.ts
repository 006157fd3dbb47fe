// The one exception type of the wire validator: a received message breaks the SIP grammar
// (RFC 3261 section 25) or a framing rule, and the peer is owed `status` (400, 416 or 505), or it
// is valid but sip.js cannot read it and it is declined (603, sipjs-crash-guard.ts).
//
// `reason` becomes the Reason-Phrase of the stateless answer, so it MUST be printable ASCII and
// MUST NOT quote the peer's bytes: a phrase built from received text could carry CR/LF (response
// splitting) or credentials (Authorization values) into our answer and our logs.

export class SipSyntaxError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SipSyntaxError';
  }
}

/** Throws a 400 with `reason`; typed `never` so scanners can use it in expressions. */
export function badRequest(reason: string): never {
  throw new SipSyntaxError(400, reason);
}
