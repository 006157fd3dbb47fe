/**
 * REFER with plain SIP peers (SIPp). Being transferred (REFER) follows only a call to a sip:/sips: address (Phone.followTransfer; a
 * real blind transfer by Linphone is in interop-linphone.test.ts). SIPp, in a call with us, asks us
 * to call a tel: number, to send a BYE to a sip: URI (method=BYE in the Refer-To) and to call an
 * http: URI: each is declined with 603, no call appears, and the call goes on until SIPp hangs up. Before,
 * sip.js's default accepted any REFER and sent whatever it asked, as a call the user could not see.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { startSippCallee, type SippCallee } from '../harness/sipp';
import { tail } from '../harness/child-processes';
import { LOOPBACK } from '../harness/ports';
import type { CallSnapshot } from '../../src-main/common/contract/contract';

let sipp: SippCallee;

before(async () => {
  sipp = await startSippCallee('sb-refer-', ['uac-refer-declined.xml', 'uac-refer-bye.xml'], () => ['--trace']);
});

after(async () => {
  await sipp?.close();
});

test('a REFER to a tel: URI or to another method is declined (603) and no call is placed', async () => {
  const media = createSocket('udp4'); // where our RTP goes; it only needs to exist
  await new Promise<void>((resolve) => media.bind(0, LOOPBACK, resolve));
  try {
    const { code, logs } = await sipp.runUac('uac-refer-declined.xml', ['-set', 'porta', String(media.address().port)]);
    assert.equal(code, 0, `SIPp got 603 for each of its REFERs and 200 for its BYE:\n${tail(logs)}`);
    const ended = await sipp.callee.waitForCall((c) => c.state === 'ended', 10000);
    assert.equal(ended.reason, 'The other side hung up');
    const calls = (await sipp.callee.client.call('call.list', {})).calls;
    assert.deepEqual(calls.map((c) => c.callId), [ended.callId], `no call placed for the REFERs: ${JSON.stringify(calls)}`);
    // tel: never reaches the phone: sip.js cannot read it in a Refer-To, the wire validator answers.
    assert.match(sipp.callee.stderr(), /refused message from 127\.0\.0\.1:\d+: Transfer target not supported \(answered 603\)/);
    assert.match(sipp.callee.stderr(), /transfer to sip:premium@127\.0\.0\.1:\d+;method=BYE declined/);
    assert.match(sipp.callee.stderr(), /transfer to http:\/\/premium\.example\S* declined/);
  } finally {
    media.close();
  }
});

test('a transfer whose transferee hangs up without reporting (no NOTIFY) fails at once with that reason', async () => {
  const media = createSocket('udp4');
  await new Promise<void>((resolve) => media.bind(0, LOOPBACK, resolve));
  try {
    const mark = sipp.callee.events.length;
    const run = sipp.runUac('uac-refer-bye.xml', ['-set', 'porta', String(media.address().port)]);
    const connected = await sipp.callee.waitForCall((c) => c.state === 'connected' && !seenBefore(mark, c.callId), 10000);
    await assert.rejects(
      sipp.callee.client.call('call.transfer', { callId: connected.callId, target: 'sip:carol@127.0.0.1' }),
      /The call ended before the other side said how the transfer to sip:carol@127\.0\.0\.1 went/,
    );
    const { code, logs } = await run;
    assert.equal(code, 0, `SIPp got our REFER and the 200 to its BYE:\n${tail(logs)}`);
  } finally {
    media.close();
  }
});

/** Whether the callee had reported call `callId` before its `mark`-th event. */
function seenBefore(mark: number, callId: string): boolean {
  return sipp.callee.events.slice(0, mark).some((e) => e.event === 'call.state' && (e.payload as CallSnapshot).callId === callId);
}
