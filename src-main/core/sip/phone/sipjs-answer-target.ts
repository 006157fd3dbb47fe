// A gap in sip.js 0.21.2, mended at start-up: an answered call's dialog must target the answer's
// Contact.
//
// RFC 3261 13.2.2.4: a 2xx to our INVITE that matches an early dialog (a 180/183 with the same To
// tag) confirms it, its route set "recomputed based on the 2xx response using the procedures of
// Section 12.2.1.2"; 12.2.1.2 also makes the 2xx's Contact the dialog's remote target (the INVITE is
// a target refresh request). sip.js's Dialog.recomputeRouteSet, called there, sets only the route
// set, so the call keeps the 18x's Contact as its target: the ACK, re-INVITEs (hold) and the BYE go
// where the ringing came from, not to the phone that answered. They differ when an SBC or a B2BUA
// rings from one contact and answers from another, and when the 18x had none (Linphone: our
// transport gives its Contact-less 180 the Request-URI, ../transport/provisional-contact.ts).
//
// `mendAnswerTarget()` wraps the method once per process (idempotent): the route set as before,
// then the 2xx's Contact URI as remote target. It throws if sip.js's Dialog no longer has the
// method or the state this relies on, so an upgrade cannot drop the mend silently.
import { Core, NameAddrHeader } from 'sip.js';

const MENDED = Symbol.for('switchboard.sipjs.answerTarget');

type RecomputeRouteSet = (this: Core.Dialog, message: Core.IncomingResponseMessage) => void;

/** The dialog's state, which sip.js keeps protected (the remote target has a getter only). */
function stateOf(dialog: Core.Dialog): Core.DialogState {
  const state = (dialog as unknown as { dialogState?: Core.DialogState }).dialogState;
  if (state === undefined || !('remoteTarget' in state)) throw new Error('sip.js Dialog has no dialogState.remoteTarget: review sipjs-answer-target.ts for this sip.js');
  return state;
}

export function mendAnswerTarget(): void {
  const prototype = Core.Dialog.prototype as unknown as Record<PropertyKey, unknown> & { recomputeRouteSet: RecomputeRouteSet };
  if (prototype[MENDED]) return;
  const original = prototype.recomputeRouteSet;
  if (typeof original !== 'function') throw new Error('sip.js Dialog has no recomputeRouteSet: review sipjs-answer-target.ts for this sip.js');
  prototype.recomputeRouteSet = function recomputeRouteSetAndTarget(this: Core.Dialog, message: Core.IncomingResponseMessage): void {
    original.call(this, message);
    const contact = message.parseHeader('contact');
    if (contact instanceof NameAddrHeader) stateOf(this).remoteTarget = contact.uri;
  };
  prototype[MENDED] = true;
}
