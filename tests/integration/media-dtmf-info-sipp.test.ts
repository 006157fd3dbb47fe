/**
 * Receiving DTMF as SIP INFO (application/dtmf-relay), which baresip 1.0 cannot send: SIPp calls
 * the auto-answering headless Switchboard (tests/fixtures/sipp/uac-info-dtmf.xml) and sends two
 * INFO digits and one INFO of another type. Each digit becomes one call.dtmf event
 * {digit, durationMs, method 'info'}; the foreign INFO gets 415 and changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { tail } from '../harness/child-processes';
import { startSippCallee, type SippCallee } from '../harness/sipp';
import { LOOPBACK } from '../harness/ports';
import type { EventPayload } from '../../src-main/common/contract/contract';

let sipp: SippCallee;

before(async () => {
  sipp = await startSippCallee('sb-info-', ['uac-info-dtmf.xml'], () => ['--trace']);
});

after(async () => {
  await sipp?.close();
});

test('INFO dtmf-relay digits arrive as call.dtmf events; other INFO bodies get 415', async () => {
  const received: EventPayload<'call.dtmf'>[] = [];
  sipp.callee.client.on('call.dtmf', (e) => received.push(e));
  const media = createSocket('udp4'); // where our RTP goes; we only need it to exist
  await new Promise<void>((resolve) => media.bind(0, LOOPBACK, resolve));
  try {
    const { code, logs } = await sipp.runUac('uac-info-dtmf.xml', ['-set', 'porta', String(media.address().port)]);
    assert.equal(code, 0, `SIPp got 200, 200, 415 for its INFOs:\n${tail(logs)}`);
    const ended = await sipp.callee.waitForCall((c) => c.state === 'ended', 10000);
    assert.deepEqual(
      received.map((e) => ({ ...e })),
      [
        { callId: ended.callId, digit: '5', durationMs: 200, method: 'info' },
        { callId: ended.callId, digit: '#', method: 'info' },
      ],
    );
  } finally {
    media.close();
  }
});
