/**
 * The benchmark's own measuring tools, so its figures can be trusted: the pcap reader reads what
 * dumpcap really writes, the capture analysis picks the right packets (not a look-alike of
 * another dialog), percentiles interpolate, and /proc readings follow a real process.
 * Run: node --import tsx --test tests/bench/bench-tools.test.ts   (needs root for dumpcap)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { makeTempDir, removeTempDir } from '../harness/temp-dir';
import { LOOPBACK } from '../harness/ports';
import { summarizeAb, type AbWindow } from './ab-bench';
import { callSetupTiming, registrationTiming, sipPackets } from './capture-analysis';
import { row } from './figures';
import { formatTable } from './report';
import { captureDuring, startLoopbackCapture } from './loopback-capture';
import type { UdpDatagram } from './pcap-reader';
import { cpuSeconds, findPid, machineBusyPercent, mainThreadCpuSeconds, rssKiB, wakeups } from './process-stats';
import { distribution, pairedMedians, percentile } from './stats';

function sipText(firstLine: string, headers: Record<string, string>, body = ''): Buffer {
  const lines = [firstLine, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${body.length}`, '', body];
  return Buffer.from(lines.join('\r\n'));
}

function datagram(timeMs: number, from: [string, number], to: [string, number], payload: Buffer): UdpDatagram {
  return { timeMs, src: from[0], srcPort: from[1], dst: to[0], dstPort: to[1], payload };
}

const PBX: [string, number] = ['127.0.0.1', 5060];
const PHONE: [string, number] = ['127.0.0.1', 40000];
const OTHER: [string, number] = ['127.0.0.1', 40002];

describe('capture analysis', () => {
  test('registration: first REGISTER of that user after the start, 200 OK of the same Call-ID', () => {
    const reg = (callId: string, user: string, cseq: number) =>
      sipText('REGISTER sip:127.0.0.1 SIP/2.0', { From: `<sip:${user}@127.0.0.1>;tag=1`, 'Call-ID': callId, CSeq: `${cseq} REGISTER` });
    const res = (code: string, callId: string, user: string, cseq: number) =>
      sipText(`SIP/2.0 ${code}`, { From: `<sip:${user}@127.0.0.1>;tag=1`, 'Call-ID': callId, CSeq: `${cseq} REGISTER` });
    const packets = sipPackets([
      datagram(900, PHONE, PBX, reg('old', 'alice', 1)), // before the start: ignored
      datagram(1010, PHONE, PBX, reg('a1', 'alice', 1)),
      datagram(1011, OTHER, PBX, reg('b1', 'bob', 1)),
      datagram(1012, PBX, PHONE, res('401 Unauthorized', 'a1', 'alice', 1)),
      datagram(1013, PBX, OTHER, res('200 OK', 'b1', 'bob', 1)), // someone else's 200
      datagram(1020, PHONE, PBX, reg('a1', 'alice', 2)),
      datagram(1025, PBX, PHONE, res('200 OK', 'a1', 'alice', 2)),
    ]);
    assert.deepEqual(registrationTiming(packets, 'alice', 5060, 1000), { startToRegisteredMs: 25, registerTo200Ms: 15, challengeToRetryMs: 8 });
    assert.throws(() => registrationTiming(packets, 'carol', 5060, 1000), /no REGISTER from carol/);
  });

  test('call setup: 200 OK to the INVITE, first RTP to and from the offered audio port', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
    const invite = sipText('INVITE sip:carol@127.0.0.1 SIP/2.0', { From: '<sip:alice@127.0.0.1>;tag=9', 'Call-ID': 'c1', CSeq: '1 INVITE' }, sdp);
    const challenge = sipText('SIP/2.0 407 Proxy Authentication Required', { From: '<sip:alice@127.0.0.1>;tag=9', 'Call-ID': 'c1', CSeq: '1 INVITE' });
    const retry = sipText('INVITE sip:carol@127.0.0.1 SIP/2.0', { From: '<sip:alice@127.0.0.1>;tag=9', 'Call-ID': 'c1', CSeq: '2 INVITE' }, sdp);
    const ok = sipText('SIP/2.0 200 OK', { From: '<sip:alice@127.0.0.1>;tag=9', 'Call-ID': 'c1', CSeq: '2 INVITE' });
    const okForBye = sipText('SIP/2.0 200 OK', { From: '<sip:alice@127.0.0.1>;tag=9', 'Call-ID': 'c1', CSeq: '3 BYE' });
    const rtp = Buffer.alloc(172);
    rtp[0] = 0x80;
    const rtcp = Buffer.alloc(32);
    rtcp[0] = 0x80;
    rtcp[1] = 200; // SR: RTCP, not RTP
    const datagrams = [
      datagram(2000, PHONE, PBX, invite),
      datagram(2001, PBX, PHONE, challenge),
      datagram(2001.5, PHONE, PBX, retry),
      datagram(2003, ['127.0.0.1', 20000], ['127.0.0.1', 30000], rtcp), // RTCP first: not RTP
      datagram(2004, ['127.0.0.1', 20000], ['127.0.0.1', 30002], rtp), // other port: not ours
      datagram(2005, PBX, PHONE, ok),
      datagram(2007, ['127.0.0.1', 20000], ['127.0.0.1', 30000], rtp),
      datagram(2009, ['127.0.0.1', 30000], ['127.0.0.1', 20000], rtp),
      datagram(2100, PBX, PHONE, okForBye),
    ];
    assert.deepEqual(callSetupTiming(datagrams, sipPackets(datagrams), 'alice', 5060, 1999), {
      inviteTo200Ms: 5,
      inviteToFirstRtpInMs: 7,
      inviteToFirstRtpOutMs: 9,
      challengeToRetryMs: 0.5,
    });
  });
});

describe('statistics', () => {
  test('percentiles interpolate between ranks; empty samples are refused', () => {
    assert.equal(percentile([2, 1], 50), 1.5);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9.1);
    assert.equal(distribution([5])?.p99, 5);
    assert.equal(distribution([]), undefined);
    assert.throws(() => percentile([], 50), /empty/);
  });
});

describe('repeated runs', () => {
  test('the ratio is the median of per-run ratios, and a failed side leaves only its own run out', () => {
    // Run 2 ran on a loaded moment (both sides high): pairing keeps its ratio at 2, where the
    // ratio of the two medians (3 / 1.5) would be 2 only by chance.
    const summary = pairedMedians([
      { ours: 2, theirs: 1 },
      { ours: 6, theirs: 3 },
      { ours: 3, theirs: 1 },
      { theirs: 1.5 }, // our call failed in this run
      { ours: Number.NaN, theirs: 2 },
    ]);
    assert.equal(summary.pairs, 3);
    assert.equal(summary.ratio, 2);
    assert.equal(summary.ratioMin, 2);
    assert.equal(summary.ratioMax, 3);
    assert.equal(summary.ours, 3);
    assert.equal(summary.theirs, 1.5);
  });

  test('no pair at all gives no ratio but keeps each side', () => {
    assert.deepEqual(pairedMedians([{ ours: 4 }, { theirs: 2 }]), { pairs: 0, ours: 4, theirs: 2, ratio: undefined, ratioMin: undefined, ratioMax: undefined });
  });
});

describe('A/B side by side (ab-bench.ts)', () => {
  const window = (set: number, call: number, thisCpuPercent: number, revCpuPercent: number): AbWindow => ({
    set,
    thisFirst: set % 2 === 1,
    call,
    window: 1,
    thisCpuPercent,
    revCpuPercent,
    thisWakeupsPerSecond: 60,
    revWakeupsPerSecond: 62,
  });

  test("a bias that favours whichever build started first cancels out of the sets' combined ratio", () => {
    // This tree really costs 0.9x; the first-started phone gets 1.1x more CPU from where it sits.
    const placement = 1.1;
    const summary = summarizeAb([
      window(1, 1, 0.9 * 2 * placement, 2),
      window(1, 1, 0.9 * 1.5 * placement, 1.5),
      window(1, 1, 0.9 * 1.8 * placement, 1.8),
      window(2, 1, 0.9 * 1.6, 1.6 * placement),
      window(2, 1, 0.9 * 1.7, 1.7 * placement),
      window(2, 2, 0.9 * 1.4, 1.4 * placement),
      window(1, 2, 0.9 * 1.4 * placement, 1.4),
    ]);
    assert.deepEqual(
      summary.map((s) => s.call),
      [1, 2],
    );
    const [first, second] = summary;
    assert.deepEqual(
      first!.setRatios.map((r) => [r.set, r.thisFirst]),
      [
        [1, true],
        [2, false],
      ],
    );
    assert.ok(Math.abs(first!.setRatios[0]!.ratio - 0.99) < 1e-9, `set 1 alone: ${first!.setRatios[0]!.ratio}`);
    assert.ok(Math.abs(first!.setRatios[1]!.ratio - 0.9 / 1.1) < 1e-9, `set 2 alone: ${first!.setRatios[1]!.ratio}`);
    assert.ok(Math.abs(first!.ratio - 0.9) < 1e-9, `both sets: ${first!.ratio}`);
    assert.ok(Math.abs(second!.ratio - 0.9) < 1e-9);
    assert.equal(first!.windows, 5);
    assert.equal(first!.thisWakeupsPerSecond, 60);
    assert.equal(first!.revWakeupsPerSecond, 62);
  });

  test("four sets, each with its own process's luck: the combined ratio is the sets' geometric mean", () => {
    // Identical builds; one process per set costs more for its whole life (×1.2, ×1/1.2, ×1.05, ×1/1.05).
    const luck = [1.2, 1 / 1.2, 1.05, 1 / 1.05];
    const [only] = summarizeAb(luck.flatMap((l, i) => [window(i + 1, 2, 1.3 * l, 1.3), window(i + 1, 2, 1.1 * l, 1.1)]));
    assert.equal(only!.setRatios.length, 4);
    assert.ok(Math.abs(only!.ratio - 1) < 1e-9, `${only!.ratio}`);
  });

  test('a set without a usable window is left out; no CPU on either side is refused', () => {
    const [only] = summarizeAb([window(2, 1, 1.2, 1.5), window(2, 1, 1.2, 0), window(3, 1, 1, 0)]);
    assert.deepEqual(
      only!.setRatios.map((r) => r.set),
      [2],
    );
    assert.ok(Math.abs(only!.ratio - 0.8) < 1e-9);
    assert.throws(() => summarizeAb([window(1, 1, 1, 0)]), /no window where REV's build used any CPU/);
  });

  test("the table names a section's own columns instead of Switchboard and baresip", () => {
    const text = formatTable([
      { ...row('7 A/B', 'call 2: CPU', '%', 1.5, 1.6), columns: ['this tree', 'abc123'] },
      row('5 CPU', 'call 2', '%', 1.5, 1.4),
    ]);
    const headers = text.split('\n').filter((line) => line.startsWith('figure'));
    assert.equal(headers.length, 2);
    assert.match(headers[0]!, /this tree\s+abc123\s+ratio/);
    assert.match(headers[1]!, /Switchboard\s+baresip\s+ratio/);
  });
});

describe('loopback capture', () => {
  test('reads back exactly the datagrams sent on lo, in order, with capture times', async () => {
    const dir = makeTempDir('bench-capture-');
    const receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, LOOPBACK, resolve));
    const port = receiver.address().port;
    const sender = createSocket('udp4');
    try {
      const capture = await startLoopbackCapture(dir, 'test', `udp and port ${port}`);
      const before = Date.now();
      const packets = await captureDuring(capture, async () => {
        for (const text of ['one', 'two', 'three']) {
          await new Promise<void>((resolve, reject) => sender.send(text, port, LOOPBACK, (e) => (e ? reject(e) : resolve())));
        }
      });
      assert.deepEqual(packets.map((p) => p.payload.toString()), ['one', 'two', 'three']);
      assert.ok(packets.every((p) => p.dstPort === port && p.dst === LOOPBACK && p.src === LOOPBACK));
      assert.ok(packets[0]!.timeMs >= before - 1000 && packets[0]!.timeMs <= Date.now(), 'capture times are on the wall clock');
    } finally {
      sender.close();
      receiver.close();
      removeTempDir(dir);
    }
  });
});

describe('process figures', () => {
  test('CPU time of a busy process grows; RSS is read; a PID is found by its arguments', async () => {
    const marker = `bench-test-${process.pid}-${Date.now()}`;
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);', marker], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const pid = findPid(['-e', marker]);
      assert.equal(pid, busy.pid);
      const start = cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, 800));
      assert.ok(cpuSeconds(pid) > start, 'a spinning process accumulates CPU time');
      assert.ok(rssKiB(pid) > 1000, 'a node process has more than 1 MiB resident');
    } finally {
      busy.kill();
    }
    assert.throws(() => findPid([`no-such-process-${marker}`]), /found 0/);
  });

  test("the main thread's run time alone leaves out what another thread of the process runs", async () => {
    // A worker thread spins; the main thread only waits for it.
    const script = "const { Worker } = require('node:worker_threads'); new Worker('const end = Date.now() + 2500; while (Date.now() < end);', { eval: true });";
    const busy = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const pid = busy.pid!;
      const start = { all: cpuSeconds(pid), main: mainThreadCpuSeconds(pid) };
      await new Promise((r) => setTimeout(r, 1000));
      const all = cpuSeconds(pid) - start.all;
      const main = mainThreadCpuSeconds(pid) - start.main;
      assert.ok(all > 0.5, `the spinning worker ran ${all.toFixed(2)} s of 1 s`);
      assert.ok(main < all / 5, `the waiting main thread ran ${main.toFixed(3)} s, all threads ${all.toFixed(2)} s`);
    } finally {
      busy.kill();
    }
  });

  test('wake-ups: a process sleeping on a 10 ms timer counts one per round, a spinning one next to none', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 10); setTimeout(() => process.exit(0), 3000);'], { stdio: 'ignore' });
    const spinner = spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const before = [wakeups(sleeper.pid!), wakeups(spinner.pid!)];
      await new Promise((r) => setTimeout(r, 1000));
      const woken = [wakeups(sleeper.pid!) - before[0]!, wakeups(spinner.pid!) - before[1]!];
      assert.ok(woken[0]! >= 50, `the sleeper woke ${woken[0]} times in 1 s (a 10 ms timer: ~100)`);
      assert.ok(woken[1]! < woken[0]! / 4, `the spinner woke ${woken[1]} times, the sleeper ${woken[0]}`);
    } finally {
      sleeper.kill();
      spinner.kill();
    }
  });

  test('a spinning process shows as machine load (what the benchmark checks before it starts)', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const percent = await machineBusyPercent(1000);
      // One core spinning is ~100 % of one core; tick sampling and the start-up leave some slack.
      assert.ok(percent >= 60, `one spinning process: machine busy ${percent.toFixed(0)} % of one core`);
    } finally {
      busy.kill();
    }
  });
});
