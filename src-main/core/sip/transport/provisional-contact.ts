// Ringing from a callee whose provisional responses carry no Contact.
//
// RFC 3261 12.1.1 says a UAS MUST put a Contact in a response that creates a dialog, and a 180 with
// a To tag creates an early one. Linphone (5.x) sends its 180 Ringing without one, and sip.js's
// INVITE client drops such a response as malformed ("Non-100 1xx INVITE response received without
// a Contact header field, dropping."), so the caller never learns that the far end rings: no
// "ringing" state, no ringback, only silence until the answer. So before sip.js sees it, a 101-199
// response to one of our INVITEs with a To tag and no Contact gets `Contact: <Request-URI of that
// INVITE>`: the early dialog's remote target is where the INVITE went (through the route set), the
// best target there is for a PRACK or UPDATE in it, and the 2xx's own Contact replaces it when the
// call is answered (RFC 3261 12.2.1.2, which sip.js leaves out: ../phone/sipjs-answer-target.ts).
//
// Ownership: one per transport, on its thread; it remembers the Request-URI of each INVITE it sent
// until that INVITE's final response (bounded, oldest forgotten first).
import { cseqMethod, findHeader, hasToTag, requestMethod, requestUri, statusCode, type SipHead } from './sip-message-text';

const MAX_REMEMBERED_INVITES = 500;

export class ProvisionalContactRepair {
  /** Request-URI of each INVITE we sent, by its transaction key (branch + method). */
  private readonly requestUris = new Map<string, string>();

  /** An outgoing request: remember an INVITE's Request-URI under `key`. */
  sent(key: string, head: SipHead): void {
    if (requestMethod(head) !== 'INVITE') return;
    this.requestUris.delete(key);
    this.requestUris.set(key, requestUri(head));
    if (this.requestUris.size > MAX_REMEMBERED_INVITES) this.requestUris.delete(this.requestUris.keys().next().value!);
  }

  /**
   * An incoming response of transaction `key`: a dialog-creating provisional response to our
   * INVITE without a Contact gets the INVITE's Request-URI as Contact. Returns true when it did.
   */
  received(key: string, head: SipHead): boolean {
    if (cseqMethod(head) !== 'INVITE') return false;
    const status = statusCode(head);
    const uri = this.requestUris.get(key);
    if (status >= 200) {
      this.requestUris.delete(key);
      return false;
    }
    if (status <= 100 || uri === undefined || !hasToTag(head) || findHeader(head, 'contact') !== undefined) return false;
    head.headers.push(`Contact: <${uri}>`);
    return true;
  }
}
