/**
 * RFC 3264 offer/answer edge cases against SIPp as caller (scenarios in tests/fixtures/sipp/),
 * with the headless Switchboard as auto-answering callee (serverless account):
 * - the far end moves its media (re-INVITE with a new m= port): our RTP follows at once, the old
 *   address gets nothing more; rtcp-mux offered → accepted in our answer;
 * - a malformed re-offer is refused with 488 and the call survives (SIPp then hangs up normally);
 * - an unacceptable initial offer (G.729 only) → 488 with a Warning: 399 naming why; a body
 *   that is not SDP → 400 with the parse problem; both reported in call.state, no crash;
 * - we hold (a=sendonly): what we send the held party is silence, never our microphone, until we
 *   resume (the RTP's decoded payload, per packet);
 * - a re-INVITE without an offer (a PBX's session refresh or media re-route): our 200 offers, the
 *   answer in the ACK switches the codec and moves the media, and our RTP follows;
 * - a second call answered while the first one's far end refuses to be held (488): the first is
 *   muted instead, so it overhears nothing of the second;
 * - a session refresh (a re-offer with the PBX's whole codec list) keeps the call's codec.
 * The media ports of the SIPp scenario are UDP sockets of this test, so we see where RTP goes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { toneWav } from '../harness/audio-analysis';
import type { HeadlessSwitchboard } from '../harness/headless-switchboard';
import { tail } from '../harness/child-processes';
import { startSippCallee, type SippCallee } from '../harness/sipp';
import { LOOPBACK } from '../harness/ports';
import { ulawToLinear } from '../../src-main/core/media/codecs/g711';

let sipp: SippCallee;
let callee: HeadlessSwitchboard;

before(async () => {
  sipp = await startSippCallee('sb-reoffer-', ['uac-reinvite-move.xml', 'uac-offer-g729.xml', 'uac-offer-garbage.xml', 'uac-held-by-callee.xml', 'uac-reinvite-without-offer.xml', 'uac-refuses-hold.xml', 'uac-talk.xml', 'uac-refresh-keeps-codec.xml'], (dir) => [
    '--audio-in',
    toneWav(join(dir, 'tone.wav'), { frequencyHz: 600, seconds: 60, sampleRate: 8000, amplitude: 0.3 }),
    '--trace',
  ]);
  callee = sipp.callee;
});

after(async () => {
  await sipp?.close();
});

interface Listener {
  socket: Socket;
  port: number;
  /** Arrival order numbers (shared counter across listeners) of RTP packets. */
  arrivals: number[];
  payloadTypes: Set<number>;
  /** Each PCMU packet's arrival time (Date.now()) and decoded level (RMS, full scale 1). */
  pcmu: { at: number; rms: number }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let arrivalCounter = 0;
async function listen(): Promise<Listener> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  const listener: Listener = { socket, port: socket.address().port, arrivals: [], payloadTypes: new Set(), pcmu: [] };
  socket.on('message', (data) => {
    if (data.length >= 12 && data[0]! >> 6 === 2 && !((data[1]! & 0x7f) >= 64 && (data[1]! & 0x7f) <= 95)) {
      listener.arrivals.push(arrivalCounter++);
      listener.payloadTypes.add(data[1]! & 0x7f);
      if ((data[1]! & 0x7f) === 0) {
        const payload = data.subarray(12); // no CSRCs or extension in ours
        let sum = 0;
        for (const code of payload) sum += (ulawToLinear(code) / 32768) ** 2;
        listener.pcmu.push({ at: Date.now(), rms: Math.sqrt(sum / Math.max(1, payload.length)) });
      }
    }
  });
  return listener;
}

describe('offer/answer edge cases with SIPp', () => {
  test('media follows a moved peer; rtcp-mux accepted; a malformed re-offer gets 488 and the call survives', async () => {
    const [a, b] = [await listen(), await listen()];
    try {
      const { code, logs } = await sipp.runUac('uac-reinvite-move.xml', ['-set', 'porta', String(a.port), '-set', 'portb', String(b.port)]);
      assert.equal(code, 0, `SIPp scenario completed (got every expected response, incl. the 488):\n${tail(logs)}`);
      assert.ok(a.arrivals.length > 40, `RTP went to the first address: ${a.arrivals.length} packets`);
      assert.ok(b.arrivals.length > 40, `RTP followed to the new address: ${b.arrivals.length} packets`);
      const firstAtB = b.arrivals[0]!;
      const lateAtA = a.arrivals.filter((n) => n > firstAtB).length;
      assert.ok(lateAtA <= 2, `nothing more to the old address once moved (${lateAtA} late packets)`);
      assert.deepEqual([...a.payloadTypes, ...b.payloadTypes], [0, 0], 'PCMU both times');
      const ended = await callee.waitForCall((c) => c.direction === 'incoming' && c.state === 'ended', 10000);
      assert.equal(ended.reason, 'The other side hung up', 'the malformed re-offer did not end the call; the BYE did');
      assert.match(callee.stderr(), /^a=rtcp-mux\r?$/m, 'rtcp-mux offered → accepted');
      assert.match(callee.stderr(), /^SIP\/2\.0 488 /m);
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  test('a re-INVITE without an offer: our 200 offers, the ACK answers PCMA at another port, and our RTP follows', async () => {
    const [a, b] = [await listen(), await listen()];
    try {
      const { code, logs } = await sipp.runUac('uac-reinvite-without-offer.xml', ['-set', 'porta', String(a.port), '-set', 'portb', String(b.port)]);
      assert.equal(code, 0, `SIPp got an offer (with PCMA) in our 200 to its offerless re-INVITE:\n${tail(logs)}`);
      assert.ok(a.arrivals.length > 40 && [...a.payloadTypes].every((pt) => pt === 0), `PCMU to the first address: ${a.arrivals.length} packets, PTs ${[...a.payloadTypes]}`);
      assert.ok(b.arrivals.length > 40, `RTP followed the answer to the new address: ${b.arrivals.length} packets`);
      assert.deepEqual([...b.payloadTypes], [8], 'in PCMA, as answered');
      const lateAtA = a.arrivals.filter((n) => n > b.arrivals[0]!).length;
      assert.ok(lateAtA <= 2, `nothing more to the old address once moved (${lateAtA} late packets)`);
      const ended = await callee.waitForCall((c) => c.direction === 'incoming' && c.state === 'ended' && c.media?.codec === 'PCMA', 10000);
      assert.equal(ended.reason, 'The other side hung up');
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  test("a session refresh offering the PBX's whole codec list keeps the call's codec (no switch, no glitch)", async () => {
    const a = await listen();
    try {
      const { code, logs } = await sipp.runUac('uac-refresh-keeps-codec.xml', ['-set', 'porta', String(a.port)]);
      assert.equal(code, 0, `SIPp's call with a refresh completed:\n${tail(logs)}`);
      assert.ok(a.arrivals.length > 100, `RTP throughout: ${a.arrivals.length} packets`);
      assert.deepEqual([...a.payloadTypes], [8], 'PCMA from start to end, though the refresh offered PCMU first');
      assert.match(callee.stderr(), /^m=audio \d+ RTP\/AVP 8 101\r?$/m, 'our answer to the refresh: PCMA, as in use');
    } finally {
      a.socket.close();
    }
  });

  test('we hold: the held party gets silence, never our microphone, until we resume', async () => {
    const a = await listen();
    try {
      const before = callee.events.length;
      const run = sipp.runUac('uac-held-by-callee.xml', ['-set', 'porta', String(a.port)]);
      const call = await callee.waitForCall((c) => c.state === 'connected' && callee.events.findIndex((e) => e.payload === c) >= before, 10000);
      await sleep(1000);
      const holdAt = Date.now();
      await callee.client.call('call.hold', { callId: call.callId });
      await sleep(2000);
      const resumeAt = Date.now();
      await callee.client.call('call.resume', { callId: call.callId });
      const resumed = Date.now();
      const { code, logs } = await run;
      assert.equal(code, 0, `SIPp took our hold and resume and hung up:\n${tail(logs)}`);
      const during = (from: number, to: number) => a.pcmu.filter((p) => p.at >= from && p.at < to);
      const talking = during(holdAt - 800, holdAt);
      const held = during(holdAt + 150, resumeAt);
      const back = during(resumed + 150, resumed + 1200);
      assert.ok(talking.length >= 30 && talking.every((p) => p.rms > 0.1), `our tone before the hold: ${talking.length} packets, levels ${talking.map((p) => p.rms.toFixed(2)).join(' ')}`);
      assert.ok(held.length >= 80, `RTP goes on while held (sendonly): ${held.length} packets`);
      const loud = held.filter((p) => p.rms > 0.001);
      assert.equal(loud.length, 0, `silence while held, not our microphone: ${loud.length} of ${held.length} packets had sound`);
      assert.ok(back.length >= 30 && back.every((p) => p.rms > 0.1), `our tone again once resumed: ${back.length} packets`);
    } finally {
      a.socket.close();
    }
  });

  test("answering a second call when the first one's far end refuses the hold: the first is muted instead", async () => {
    const [a, b] = [await listen(), await listen()];
    const runs: Promise<{ code: number | null; logs: string }>[] = [];
    try {
      const before = callee.events.length;
      runs.push(sipp.runUac('uac-refuses-hold.xml', ['-set', 'porta', String(a.port)]));
      const call = await callee.waitForCall((c) => c.state === 'connected' && callee.events.findIndex((e) => e.payload === c) >= before, 10000);
      await sleep(1000);
      runs.push(sipp.runUac('uac-talk.xml', ['-set', 'porta', String(b.port)])); // auto-answered: holds the first
      const muted = await callee.waitForCall((c) => c.callId === call.callId && c.muted, 10000);
      const mutedAt = Date.now();
      assert.equal(muted.hold, 'none', 'the hold was refused');
      await sleep(1500);
      const talking = a.pcmu.filter((p) => p.at < mutedAt - 300);
      const afterwards = a.pcmu.filter((p) => p.at > mutedAt + 150 && p.at < mutedAt + 1500);
      assert.ok(talking.length >= 25 && talking.every((p) => p.rms > 0.1), `the first call heard us before: ${talking.length} packets`);
      assert.ok(afterwards.length >= 40 && afterwards.every((p) => p.rms < 0.001), `then silence: ${afterwards.filter((p) => p.rms >= 0.001).length} of ${afterwards.length} packets had sound`);
      assert.ok(b.pcmu.filter((p) => p.at > mutedAt + 150).every((p) => p.rms > 0.1), 'the second call hears us');
      const [one, two] = await Promise.all(runs);
      assert.equal(one!.code, 0, `the first SIPp refused the hold and hung up:\n${tail(one!.logs)}`);
      assert.equal(two!.code, 0, `the second call went through:\n${tail(two!.logs)}`);
    } finally {
      await Promise.allSettled(runs); // no SIPp left running into the next test
      a.socket.close();
      b.socket.close();
    }
  });

  for (const [scenario, code, reason] of [
    ['uac-offer-g729.xml', 488, 'No common audio codec (offered: G729)'],
    ['uac-offer-garbage.xml', 400, 'Malformed SDP: Invalid SDP at line 2 ("this is not an SDP body"): expected "<type>=<value>"'],
  ] as const) {
    test(`initial offer ${scenario} → ${code} with a Warning naming why; reported in call.state`, async () => {
      const before = callee.events.length;
      const { code: exit, logs } = await sipp.runUac(scenario);
      assert.equal(exit, 0, `SIPp got ${code}:\n${tail(logs)}`);
      // Only calls that ended after this scenario started (earlier tests left ended calls).
      const ended = await callee.waitForCall((c) => c.state === 'ended' && callee.events.findIndex((e) => e.payload === c) >= before, 10000);
      assert.equal(ended.sipCode, code);
      assert.equal(ended.reason, `Incompatible call: ${reason}`);
      const escaped = reason.replace(/"/g, "'").replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(callee.stderr(), new RegExp(`^Warning: 399 switchboard "${escaped}"\\r?$`, 'm'));
    });
  }

  test('the callee is still alive and answering after all of that', async () => {
    const info = await callee.client.call('app.info', {});
    assert.equal(info.name, 'Switchboard');
  });
});
