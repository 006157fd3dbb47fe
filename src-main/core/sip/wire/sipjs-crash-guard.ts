// Known crash of sip.js 0.21.2's parser on a syntactically valid message, guarded here because
// accepted messages go straight to it (lib/core/messages/parser.js):
//
//   case "cseq": parsed = message.parseHeader("cseq"); ...
//     if (message instanceof IncomingResponseMessage) message.method = parsed.method;  // parsed undefined → TypeError
//
// Its PEG grammar commits to a standard method name that prefixes a longer extension method
// ("INVITEX", "ACKED", "REGISTERx"; valid tokens per RFC 3261), so such a CSeq fails to parse,
// and in a response that failure throws. Requests with it are merely dropped by sip.js.
// Found by tests/unit/sip-wire/validator-fuzz.test.ts.

import { Grammar } from 'sip.js';
import { badRequest } from './sip-syntax-error';

/** Throws (→ the response is dropped) when sip.js cannot parse this response CSeq value. */
export function guardResponseCSeq(cseqValue: string): void {
  if (Grammar.parse(cseqValue, 'CSeq') === -1) badRequest('CSeq method the SIP stack cannot parse');
}
