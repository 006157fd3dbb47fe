// sipjs-answer-target.ts: a 2xx that confirms an early dialog makes its Contact the dialog's remote
// target (RFC 3261 13.2.2.4 with 12.2.1.2), where sip.js 0.21.2 kept the 18x's. The method is run on
// a dialog-shaped object with sip.js's own parsed 200 OK; the end-to-end case (a BYE reaching
// Linphone after its Contact-less 180) is in tests/integration/interop-linphone.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Core, URI } from 'sip.js';
import { mendAnswerTarget } from '../../../src-main/core/sip/phone/sipjs-answer-target';

const quiet = { error: () => {}, warn: () => {}, log: () => {}, debug: () => {} } as unknown as Parameters<typeof Core.Parser.parseMessage>[1];

function answer(contact: string | undefined): Core.IncomingResponseMessage {
  const text = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP sb.invalid;branch=z9hG4bK1',
    'Record-Route: <sip:127.0.0.1:5070;lr>',
    'Record-Route: <sip:10.0.0.1;lr>',
    'From: <sip:alice@127.0.0.1>;tag=a',
    'To: <sip:erin@127.0.0.1>;tag=e',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    ...(contact ? [`Contact: ${contact}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const message = Core.Parser.parseMessage(text, quiet);
  assert.ok(message instanceof Core.IncomingResponseMessage);
  return message;
}

/** What confirming an early dialog whose 180 targeted `sip:erin@127.0.0.1` does with `response`. */
function confirmEarlyDialog(response: Core.IncomingResponseMessage): { remoteTarget: URI; routeSet: string[] } {
  const state = { remoteTarget: new URI('sip', 'erin', '127.0.0.1'), routeSet: [] as string[] };
  Core.Dialog.prototype.recomputeRouteSet.call({ dialogState: state } as unknown as Core.Dialog, response);
  return state;
}

test("the 2xx's Contact becomes the answered call's target, the route set is recomputed as before; once per process", () => {
  const unmended = confirmEarlyDialog(answer('<sip:erin@127.0.0.1:45015;transport=udp>'));
  assert.equal(unmended.remoteTarget.toString(), 'sip:erin@127.0.0.1', 'sip.js alone keeps the early target');
  mendAnswerTarget();
  const method = Core.Dialog.prototype.recomputeRouteSet;
  mendAnswerTarget();
  assert.equal(Core.Dialog.prototype.recomputeRouteSet, method, 'mended once, not wrapped again');
  const mended = confirmEarlyDialog(answer('<sip:erin@127.0.0.1:45015;transport=udp>'));
  assert.equal(mended.remoteTarget.toString(), 'sip:erin@127.0.0.1:45015;transport=udp');
  assert.deepEqual(mended.routeSet, ['<sip:10.0.0.1;lr>', '<sip:127.0.0.1:5070;lr>']);
  // A 2xx without a Contact never gets here through sip.js (dropped as malformed); if it did, the target stays.
  assert.equal(confirmEarlyDialog(answer(undefined)).remoteTarget.toString(), 'sip:erin@127.0.0.1');
});
