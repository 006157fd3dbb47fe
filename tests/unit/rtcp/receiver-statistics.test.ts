// RFC 3550 A.1/A.3/A.8 receiver statistics on constructed packet sequences, LSR/DLSR and RTT,
// sender info for SRs, and the compound report we send.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpReceiverStatistics } from '../../../src-main/core/media/rtcp/receiver-statistics';
import { RtpSenderStatistics } from '../../../src-main/core/media/rtcp/sender-statistics';
import { roundTripTimeMs } from '../../../src-main/core/media/rtcp/round-trip-time';
import { compactNtp, ntpFromUnixMs, unixMsFromNtp } from '../../../src-main/core/media/rtcp/ntp-time';
import { buildCompoundReport } from '../../../src-main/core/media/rtcp/rtcp-report';
import { decodeRtcpCompound } from '../../../src-main/core/media/rtcp/rtcp-packet';

const CLOCK = 8000;

/** Feed sequence numbers as a 20 ms G.711 stream arriving with constant delay. */
function feed(stats: RtpReceiverStatistics, seqs: readonly number[], firstMs = 0): boolean[] {
  return seqs.map((seq, i) => stats.onRtpPacket({ seq: seq & 0xffff, rtpTimestamp: (seq * 160) >>> 0, arrivalMs: firstMs + i * 20 }));
}
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const fresh = (minSequential?: number): RtpReceiverStatistics =>
  new RtpReceiverStatistics({ ssrc: 42, clockRate: CLOCK, ...(minSequential ? { minSequential } : {}) });

describe('sequence tracking and loss (A.1, A.3)', () => {
  test('probation: the first packet only starts validation, counting begins at the second', () => {
    const stats = fresh();
    assert.deepEqual(feed(stats, [1000, 1001, 1002]), [false, true, true]);
    const s = stats.snapshot();
    assert.equal(s.received, 2);
    assert.equal(s.expected, 2);
    assert.equal(s.extendedHighestSeq, 1002);
  });

  test('with minSequential 1 the first packet counts', () => {
    const stats = fresh(1);
    feed(stats, range(10, 19));
    assert.deepEqual([stats.snapshot().received, stats.snapshot().expected, stats.snapshot().cumulativeLost], [10, 10, 0]);
  });

  test('out-of-order start packets restart probation', () => {
    const stats = fresh();
    assert.deepEqual(feed(stats, [50, 60, 61, 62]), [false, false, true, true]);
    assert.equal(stats.snapshot().expected, 2);
  });

  test('gaps are losses: 10 of 100 missing', () => {
    const stats = fresh(1);
    const missing = new Set([5, 6, 7, 30, 31, 50, 70, 71, 72, 73]);
    feed(stats, range(0, 99).filter((s) => !missing.has(s)));
    const s = stats.snapshot();
    assert.equal(s.expected, 100);
    assert.equal(s.received, 90);
    assert.equal(s.cumulativeLost, 10);
    const block = stats.reportBlock(2000);
    assert.equal(block.cumulativeLost, 10);
    assert.equal(block.fractionLost, Math.floor((10 * 256) / 100)); // 25
    assert.equal(block.extendedHighestSeq, 99);
  });

  test('telephone-event packets (onRtpSequence) fill their sequence numbers without touching jitter', () => {
    const stats = fresh(1);
    feed(stats, range(0, 49));
    // A 200 ms digit: 10 event packets, all with the event's start timestamp, 20 ms apart.
    for (let k = 0; k < 10; k++) assert.equal(stats.onRtpSequence(50 + k), true);
    const jitterBefore = stats.snapshot().jitter;
    feed(stats, range(60, 99), 1200);
    const s = stats.snapshot();
    assert.deepEqual([s.expected, s.received, s.cumulativeLost], [100, 100, 0]);
    assert.equal(jitterBefore, 0, 'the events counted no jitter');
  });

  test('wrap-around: cycles extend the highest sequence number', () => {
    const stats = fresh(1);
    feed(stats, range(65500, 65536 + 100)); // 65500..65535, 0..100
    const s = stats.snapshot();
    assert.equal(s.extendedHighestSeq, 65536 + 100);
    assert.equal(s.expected, 137);
    assert.equal(s.cumulativeLost, 0);
    assert.equal(stats.reportBlock(0).extendedHighestSeq, 0x10064);
  });

  test('loss across the wrap', () => {
    const stats = fresh(1);
    feed(stats, [65533, 65534, 2, 3]); // 65535, 0, 1 lost
    assert.deepEqual([stats.snapshot().expected, stats.snapshot().cumulativeLost], [7, 3]);
  });

  test('reordering: late packets fill the gap and do not move the maximum', () => {
    const stats = fresh(1);
    feed(stats, [1, 2, 4, 5, 3, 6]);
    const s = stats.snapshot();
    assert.deepEqual([s.extendedHighestSeq, s.expected, s.received, s.cumulativeLost], [6, 6, 6, 0]);
  });

  test('reordering across the wrap does not add a spurious cycle', () => {
    const stats = fresh(1);
    feed(stats, [65534, 0, 65535, 1]);
    const s = stats.snapshot();
    assert.deepEqual([s.extendedHighestSeq, s.expected, s.cumulativeLost], [65536 + 1, 4, 0]);
  });

  test('duplicates count as received (RFC 3550 §6.4.1), so lost can go negative, fraction clamps to 0', () => {
    const stats = fresh(1);
    feed(stats, [1, 2, 2, 3, 3, 4]);
    const s = stats.snapshot();
    assert.deepEqual([s.expected, s.received, s.cumulativeLost], [4, 6, -2]);
    const block = stats.reportBlock(0);
    assert.equal(block.cumulativeLost, -2);
    assert.equal(block.fractionLost, 0);
  });

  test('fraction lost is per interval between reports', () => {
    const stats = fresh(1);
    feed(stats, range(0, 99));
    assert.equal(stats.reportBlock(2000).fractionLost, 0);
    feed(stats, range(100, 199).filter((s) => s % 4 !== 0), 2000); // lose every 4th → 25 %
    const second = stats.reportBlock(4000);
    assert.equal(second.fractionLost, 64);
    assert.equal(second.cumulativeLost, 25);
    feed(stats, range(200, 299), 4000);
    const third = stats.reportBlock(6000);
    assert.equal(third.fractionLost, 0, 'a clean interval reports 0 even though cumulative loss stays');
    assert.equal(third.cumulativeLost, 25);
  });

  test('a single huge jump is ignored; two sequential packets after it restart the count', () => {
    const stats = fresh(1);
    feed(stats, range(0, 9));
    assert.equal(stats.onRtpPacket({ seq: 20000, rtpTimestamp: 0, arrivalMs: 300 }), false);
    assert.equal(stats.snapshot().extendedHighestSeq, 9, 'the stray packet does not count');
    assert.equal(stats.onRtpPacket({ seq: 10, rtpTimestamp: 1600, arrivalMs: 320 }), true);
    assert.equal(stats.onRtpPacket({ seq: 30000, rtpTimestamp: 0, arrivalMs: 340 }), false);
    assert.equal(stats.onRtpPacket({ seq: 30001, rtpTimestamp: 160, arrivalMs: 360 }), true, 'peer restarted');
    const s = stats.snapshot();
    assert.deepEqual([s.extendedHighestSeq, s.expected, s.received], [30001, 1, 1]);
  });
});

describe('interarrival jitter (A.8)', () => {
  test('constant network delay → zero jitter', () => {
    const stats = fresh(1);
    feed(stats, range(0, 200));
    assert.equal(stats.snapshot().jitter, 0);
  });

  test('arrivals alternating ±5 ms converge to |D| = 10 ms = 80 ticks, with the 1/16 gain', () => {
    const stats = fresh(1);
    const n = 300;
    for (let i = 0; i < n; i++)
      stats.onRtpPacket({ seq: i, rtpTimestamp: i * 160, arrivalMs: i * 20 + (i % 2 === 0 ? 0 : 10) });
    // Every packet after the first has |D| = 80 ticks: J_k = 80 · (1 − (15/16)^k)
    const expected = 80 * (1 - (15 / 16) ** (n - 1));
    assert.ok(Math.abs(stats.snapshot().jitter - expected) < 1e-9, `${stats.snapshot().jitter} vs ${expected}`);
    assert.ok(Math.abs(stats.snapshot().jitterMs - 10) < 1e-6);
    assert.equal(stats.reportBlock(0).jitter, 79, 'reported as an integer number of ticks');
  });

  test('one late packet: exact A.8 values step by step', () => {
    const stats = fresh(1);
    // ts step 160 (20 ms); packet 2 arrives 8 ms late
    const arrivals = [0, 20, 48, 60, 80];
    arrivals.forEach((a, i) => stats.onRtpPacket({ seq: i, rtpTimestamp: i * 160, arrivalMs: a }));
    // D: p1 0; p2 +64 ticks; p3 −64; p4 0 → J = 0, 4, 7.75, 7.265625
    assert.equal(stats.snapshot().jitter, 7.265625);
  });

  test('RTP timestamp wrap does not spike jitter', () => {
    const stats = fresh(1);
    const start = 2 ** 32 - 160 * 5;
    for (let i = 0; i < 10; i++) stats.onRtpPacket({ seq: i, rtpTimestamp: (start + i * 160) >>> 0, arrivalMs: i * 20 });
    assert.equal(stats.snapshot().jitter, 0);
  });

  test('48 kHz clock converts to milliseconds with its own rate', () => {
    const stats = new RtpReceiverStatistics({ ssrc: 1, clockRate: 48000, minSequential: 1 });
    for (let i = 0; i < 400; i++) stats.onRtpPacket({ seq: i, rtpTimestamp: i * 960, arrivalMs: i * 20 + (i % 2) * 4 });
    assert.ok(Math.abs(stats.snapshot().jitterMs - 4) < 1e-6);
  });
});

describe('LSR, DLSR and round-trip time', () => {
  test('report block carries the SR’s middle 32 NTP bits and the delay since it in 1/65536 s', () => {
    const stats = fresh(1);
    feed(stats, [1, 2, 3]);
    const ntp = 0xe1b2c3d4_a0b0c0d0n;
    stats.onSenderReport(ntp, 10_000);
    const block = stats.reportBlock(10_500);
    assert.equal(block.lastSenderReport, 0xc3d4a0b0);
    assert.equal(block.delaySinceLastSenderReport, 32768);
  });

  test('before any SR, LSR and DLSR are 0 and no RTT can be computed', () => {
    const block = fresh(1).reportBlock(1000);
    assert.deepEqual([block.lastSenderReport, block.delaySinceLastSenderReport], [0, 0]);
    assert.equal(roundTripTimeMs(block, 5000), undefined);
  });

  test('RTT = A − LSR − DLSR: our SR at T, peer holds it 250 ms, its RR arrives at T+400 → 150 ms', () => {
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
    const ourSrNtp = ntpFromUnixMs(t0);
    // The peer's receiver statistics for our stream (peer clock is irrelevant: only the delay counts).
    const peer = fresh(1);
    feed(peer, [1, 2, 3]);
    peer.onSenderReport(ourSrNtp, 777_000);
    const rr = peer.reportBlock(777_250);
    const rtt = roundTripTimeMs(rr, t0 + 400);
    assert.ok(rtt !== undefined && Math.abs(rtt - 150) < 0.05, `rtt ${rtt}`);
  });

  test('a DLSR larger than the elapsed time gives no RTT rather than a huge one', () => {
    const t0 = 1_700_000_000_000;
    const block = {
      ssrc: 1,
      fractionLost: 0,
      cumulativeLost: 0,
      extendedHighestSeq: 0,
      jitter: 0,
      lastSenderReport: compactNtp(ntpFromUnixMs(t0)),
      delaySinceLastSenderReport: 65536,
    };
    assert.equal(roundTripTimeMs(block, t0 + 500), undefined);
  });

  test('NTP conversion round-trips and starts in 1900', () => {
    assert.equal(ntpFromUnixMs(0) >> 32n, 2_208_988_800n);
    assert.equal(ntpFromUnixMs(1500) & 0xffffffffn, 0x80000000n);
    assert.ok(Math.abs(unixMsFromNtp(ntpFromUnixMs(1_700_000_000_123)) - 1_700_000_000_123) < 0.001);
  });
});

describe('sender info and the compound report', () => {
  test('SR RTP timestamp advances with wall time since the last packet; counts accumulate', () => {
    const sender = new RtpSenderStatistics(9, CLOCK);
    assert.equal(sender.senderReport(0), undefined);
    for (let i = 0; i < 50; i++) sender.onRtpSent(160, 1000 + i * 160, 1_000_000 + i * 20);
    const sr = sender.senderReport(1_000_980 + 500)!;
    assert.equal(sr.packetCount, 50);
    assert.equal(sr.octetCount, 8000);
    assert.equal(sr.rtpTimestamp, 1000 + 49 * 160 + 4000);
    assert.equal(sr.ntpTimestamp, ntpFromUnixMs(1_001_480));
  });

  test("SR on a monotonic clock: the RTP timestamp advances by that clock, the NTP timestamp is the wall time given", () => {
    const sender = new RtpSenderStatistics(9, CLOCK);
    sender.onRtpSent(160, 5000, 250.5); // ms on the media clock (e.g. performance.now())
    const sr = sender.senderReport(270.5, [], 1_700_000_000_000)!;
    assert.equal(sr.rtpTimestamp, 5000 + 160, '20 ms of the media clock later: 160 samples at 8 kHz');
    assert.equal(sr.ntpTimestamp, ntpFromUnixMs(1_700_000_000_000));
    // The compound report passes both clocks through.
    const compound = decodeRtcpCompound(buildCompoundReport({ ssrc: 9, cname: 'me@host', sender, reports: [], nowMs: 290.5, nowUnixMs: 1_700_000_000_020 }));
    assert.equal(compound[0]!.type === 'sr' && compound[0]!.rtpTimestamp, 5000 + 320);
    assert.equal(compound[0]!.type === 'sr' && compound[0]!.ntpTimestamp, ntpFromUnixMs(1_700_000_000_020));
  });

  test('compound: RR + SDES CNAME when we have not sent; SR + SDES + BYE when leaving', () => {
    const rx = fresh(1);
    feed(rx, [1, 2, 4]);
    const rrOnly = decodeRtcpCompound(buildCompoundReport({ ssrc: 9, cname: 'me@host', reports: [rx.reportBlock(100)], nowUnixMs: 1000 }));
    assert.deepEqual(rrOnly.map((p) => p.type), ['rr', 'sdes']);
    assert.equal(rrOnly[0]!.type === 'rr' && rrOnly[0]!.reports[0]!.cumulativeLost, 1);
    assert.deepEqual(rrOnly[1], { type: 'sdes', chunks: [{ ssrc: 9, items: [{ type: 1, text: 'me@host' }] }] });

    const sender = new RtpSenderStatistics(9, CLOCK);
    sender.onRtpSent(160, 0, 1000);
    const leaving = decodeRtcpCompound(
      buildCompoundReport({ ssrc: 9, cname: 'me@host', sender, reports: [], nowUnixMs: 1020, bye: { reason: 'call ended' } }),
    );
    assert.deepEqual(leaving.map((p) => p.type), ['sr', 'sdes', 'bye']);
    assert.deepEqual(leaving[2], { type: 'bye', ssrcs: [9], reason: 'call ended' });
  });
});
