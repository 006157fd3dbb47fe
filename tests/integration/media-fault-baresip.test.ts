/**
 * A call whose media work throws mid-call (a bug of ours or a codec failing: here an encoder made to
 * fail after a second), with a real baresip through Kamailio: the call is hung up (baresip gets the
 * BYE) with a reason that says the audio failed and why, and the process goes on (a second call
 * with a sound encoder works). Before, the exception reached the event loop from the media timer:
 * the process hosting every call ended.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startKamailio, type TestPbx } from '../harness/kamailio';
import { startBaresip, type TestBaresip } from '../harness/baresip';
import { toneWav } from '../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { brokenPcmuRegistry, type CodecDefect } from '../harness/broken-codec';
import { Phone } from '../../src-main/core/sip/phone/phone';
import { createSessionDescriptionHandlerFactory } from '../../src-main/core/media/session-description-handler';
import { SilenceSource } from '../../src-main/core/media/audio/silence-source';
import { NullSink } from '../../src-main/core/media/audio/null-sink';
import { AccountConfig, type CallSnapshot } from '../../src-main/common/contract/contract';

let pbx: TestPbx;
let dir: string;
let bob: TestBaresip;

before(async () => {
  dir = makeTempDir('sb-fault-');
  const tone = toneWav(join(dir, 'tone.wav'), { frequencyHz: 700, seconds: 30, sampleRate: 8000, amplitude: 0.3 });
  pbx = await startKamailio({ users: ['alice', 'bob'] });
  bob = await startBaresip({ pbx, user: 'bob', autoAnswer: true, toneWav: tone, codecs: ['PCMU'] });
});

after(async () => {
  await bob?.stop();
  await pbx?.stop();
  if (dir) removeTempDir(dir);
});

describe("a fault in a call's media (an exception in its work)", () => {
  test('the call is hung up with the reason, the far end gets its BYE, and the next call works', async () => {
    // Read at every frame: the factory (and its registry) is made once per account.
    const defect: CodecDefect = { encoderFailsAfter: 50 };
    let registered = false;
    const calls: CallSnapshot[] = [];
    const log: string[] = [];
    const phone = new Phone({
      userAgentString: 'Switchboard test',
      version: '0',
      sessionDescriptionHandlerFactory: (account) =>
        createSessionDescriptionHandlerFactory({
          localAddress: () => account.transport.localAddress().host,
          codecPreference: ['PCMU'],
          codecRegistry: brokenPcmuRegistry(defect),
          openAudio: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }),
          log: (line) => log.push(line),
        }),
      onAccountChange: (snapshot) => (registered ||= snapshot.state === 'registered'),
      onCallChange: (snapshot) => calls.push(snapshot),
      log: (line) => log.push(line),
    });
    const until = async (what: string, probe: () => CallSnapshot | undefined, timeoutMs = 15_000): Promise<CallSnapshot> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = probe();
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; calls: ${JSON.stringify(calls.map((c) => [c.callId, c.state, c.reason]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await phone.handlers['account.add'](AccountConfig.parse({ aor: pbx.aor('alice'), password: pbx.password('alice'), outboundProxy: pbx.proxyUri('udp') }));
      for (let waited = 0; !registered; waited += 50) {
        if (waited > 15_000) throw new Error(`alice did not register: ${log.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const first = await phone.handlers['call.dial']({ target: 'bob' });
      await until('the first call to connect', () => calls.find((c) => c.callId === first.callId && c.state === 'connected'));
      const ended = await until('the first call to end', () => calls.find((c) => c.callId === first.callId && c.state === 'ended'));
      assert.equal(ended.reason, "The call's audio failed (the encoder failed), so the call was ended");
      await bob.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, { includePast: true });
      assert.ok(log.some((line) => /Media failed, stopping this call's audio: Error: the encoder failed\n\s+at /.test(line)), `the log has the error with its stack: ${log.join(' | ')}`);

      delete defect.encoderFailsAfter;
      const second = await phone.handlers['call.dial']({ target: 'bob' });
      await until('the second call to connect', () => calls.find((c) => c.callId === second.callId && c.state === 'connected'));
      await new Promise((r) => setTimeout(r, 1500)); // past the first call's failure point
      const snapshot = calls.filter((c) => c.callId === second.callId).at(-1)!;
      assert.equal(snapshot.state, 'connected', `the second call goes on: ${JSON.stringify(snapshot)}`);
      await phone.handlers['call.hangup']({ callId: second.callId });
    } finally {
      await phone.stop();
    }
  });
});
