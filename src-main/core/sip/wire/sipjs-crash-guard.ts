// Known failures of sip.js 0.21.2's parser on syntactically valid messages, guarded here because
// accepted messages go straight to it (lib/core/messages/parser.js). A crash:
//
//   case "cseq": parsed = message.parseHeader("cseq"); ...
//     if (message instanceof IncomingResponseMessage) message.method = parsed.method;  // parsed undefined → TypeError
//
// Its PEG grammar commits to a standard method name that prefixes a longer extension method
// ("INVITEX", "ACKED", "REGISTERx"; valid tokens per RFC 3261), so such a CSeq fails to parse,
// and in a response that failure throws. Requests with it are merely dropped by sip.js.
// Found by tests/unit/sip-wire/validator-fuzz.test.ts.
//
// A parse failure that loses a valid request: sip.js's grammar reads no tel: URI (and other
// schemes its absoluteURI rule misses) in Refer-To, and drops the whole REFER ("Failed to parse
// incoming message"), so a transferor sending `Refer-To: <tel:+...>` would get no answer at all and
// resend it for 32 s. Such a REFER is answered 603 here: we would decline it anyway, as the Phone
// follows transfers to sip:/sips: targets only (Phone.followTransfer).

import { Grammar } from 'sip.js';
import { SipSyntaxError, badRequest } from './sip-syntax-error';

/** Throws (→ the response is dropped) when sip.js cannot parse this response CSeq value. */
export function guardResponseCSeq(cseqValue: string): void {
  if (Grammar.parse(cseqValue, 'CSeq') === -1) badRequest('CSeq method the SIP stack cannot parse');
}

/** Throws (→ 603 Decline) when sip.js cannot parse this REFER's Refer-To value. */
export function guardReferTo(referToValue: string): void {
  if (Grammar.parse(referToValue, 'Refer_To') === -1) throw new SipSyntaxError(603, 'Transfer target not supported');
}
