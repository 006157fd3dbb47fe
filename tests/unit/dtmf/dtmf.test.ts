import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildDtmfPackets } from '../../../src-main/core/media/dtmf/rfc4733-sender';
import { DtmfReceiver } from '../../../src-main/core/media/dtmf/rfc4733-receiver';
import type { ReceivedDtmfDigit } from '../../../src-main/core/media/dtmf/rfc4733-receiver';
import { decodeTelephoneEvent, encodeTelephoneEvent } from '../../../src-main/core/media/dtmf/telephone-event';
import { dtmfEventCode, toDtmfDigit } from '../../../src-main/core/media/dtmf/dtmf-digit';
import { buildDtmfRelayBody, parseDtmfRelayBody } from '../../../src-main/core/media/dtmf/sip-info-dtmf';
import type { DtmfDigit } from '../../../src-main/core/media/dtmf/dtmf-digit';

function receiveAll(rx: DtmfReceiver, packets: ReturnType<typeof buildDtmfPackets>, t0 = 0): ReceivedDtmfDigit[] {
  return packets.flatMap((p) => rx.receive({ ...p, arrivalMs: t0 + p.sendAtMs }));
}

describe('RFC 4733 telephone-event payload', () => {
  test('wire layout: event, E bit, volume, 16-bit duration', () => {
    const bytes = encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 1280 });
    assert.deepEqual(Array.from(bytes), [11, 0x80 | 10, 0x05, 0x00]);
    assert.deepEqual(decodeTelephoneEvent(bytes), { event: 11, end: true, volume: 10, duration: 1280 });
    // R bit is ignored on receive.
    assert.equal(decodeTelephoneEvent(Uint8Array.of(5, 0x40 | 7, 0, 160)).volume, 7);
    assert.throws(() => encodeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 }), /volume/);
    assert.throws(() => decodeTelephoneEvent(Uint8Array.of(1, 2)), /too short/);
  });

  test('digit codes: 0-9, * = 10, # = 11, A-D = 12-15', () => {
    assert.equal(dtmfEventCode('0'), 0);
    assert.equal(dtmfEventCode('9'), 9);
    assert.equal(dtmfEventCode('*'), 10);
    assert.equal(dtmfEventCode('#'), 11);
    assert.equal(dtmfEventCode(toDtmfDigit('d')), 15);
    assert.throws(() => toDtmfDigit('x'), /not a DTMF digit/);
  });
});

describe('RFC 4733 sender', () => {
  test('marker first, 50 ms updates with growing duration, three end packets, one timestamp', () => {
    const packets = buildDtmfPackets({ digit: '5', durationMs: 160, timestamp: 123456 });
    const events = packets.map((p) => decodeTelephoneEvent(p.payload));
    assert.deepEqual(packets.map((p) => p.marker), [true, false, false, false, false, false, false]);
    assert.deepEqual(packets.map((p) => p.sendAtMs), [0, 50, 100, 150, 160, 160, 160]);
    assert.ok(packets.every((p) => p.timestamp === 123456), 'all packets share the event timestamp');
    assert.ok(events.every((e) => e.event === 5 && e.volume === 10));
    assert.deepEqual(events.map((e) => e.duration), [400, 800, 1200, 1280, 1280, 1280, 1280]);
    assert.deepEqual(events.map((e) => e.end), [false, false, false, false, true, true, true]);
  });

  test('honours clock rate, volume and rejects what cannot be sent', () => {
    const packets = buildDtmfPackets({ digit: '#', durationMs: 100, timestamp: 0, clockRate: 16000, volume: 20 });
    const last = decodeTelephoneEvent(packets.at(-1)!.payload);
    assert.equal(last.duration, 1600);
    assert.equal(last.volume, 20);
    assert.equal(last.event, 11);
    assert.throws(() => buildDtmfPackets({ digit: '1', durationMs: 0, timestamp: 0 }), /positive/);
    assert.throws(() => buildDtmfPackets({ digit: '1', durationMs: 10000, timestamp: 0 }), /exceeds one event segment/);
  });
});

describe('RFC 4733 receiver', () => {
  test('reports each digit once, with its duration, despite the redundant end packets', () => {
    const rx = new DtmfReceiver();
    const digits = receiveAll(rx, buildDtmfPackets({ digit: '7', durationMs: 120, timestamp: 1000 }));
    assert.deepEqual(digits, [{ digit: '7', durationMs: 120, timestamp: 1000, endSeen: true }]);
  });

  test('the same digit twice is two digits (told apart by timestamp)', () => {
    const rx = new DtmfReceiver();
    const a = receiveAll(rx, buildDtmfPackets({ digit: '1', durationMs: 100, timestamp: 8000 }));
    const b = receiveAll(rx, buildDtmfPackets({ digit: '1', durationMs: 100, timestamp: 8000 + 1600 }), 200);
    assert.deepEqual([...a, ...b].map((d) => d.digit), ['1', '1']);
  });

  test('survives loss: first packet (marker) lost, all end packets lost, updates lost', () => {
    const rx = new DtmfReceiver();
    const first = buildDtmfPackets({ digit: '3', durationMs: 200, timestamp: 5000 });
    // Lose the marker packet and one update: still one '3' with the full duration.
    const d1 = receiveAll(rx, first.filter((_, i) => i !== 0 && i !== 2));
    assert.deepEqual(d1.map((d) => [d.digit, d.durationMs, d.endSeen]), [['3', 200, true]]);
    // Lose all three end packets of '4': it is reported when '5' starts, with the last duration seen.
    const second = buildDtmfPackets({ digit: '4', durationMs: 200, timestamp: 9000 }).filter((p) => !decodeTelephoneEvent(p.payload).end);
    assert.deepEqual(receiveAll(rx, second, 1000), []);
    const third = buildDtmfPackets({ digit: '5', durationMs: 100, timestamp: 13000 });
    const d3 = receiveAll(rx, third, 2000);
    assert.deepEqual(d3.map((d) => [d.digit, d.durationMs, d.endSeen]), [['4', 200, false], ['5', 100, true]]);
  });

  test('an unfinished last digit is closed by expire() after the timeout, once', () => {
    const rx = new DtmfReceiver(8000, 1000);
    const packets = buildDtmfPackets({ digit: '9', durationMs: 160, timestamp: 0 }).slice(0, 2);
    receiveAll(rx, packets);
    assert.deepEqual(rx.expire(500), []);
    assert.deepEqual(rx.expire(1100).map((d) => [d.digit, d.durationMs]), [['9', 100]]);
    assert.deepEqual(rx.expire(5000), []);
    // Retransmitted end packets arriving after that do not report it again.
    const ends = buildDtmfPackets({ digit: '9', durationMs: 160, timestamp: 0 }).slice(-3);
    assert.deepEqual(receiveAll(rx, ends, 1200), []);
  });

  test('reordered and duplicated packets still give one digit', () => {
    const rx = new DtmfReceiver();
    const packets = buildDtmfPackets({ digit: 'A', durationMs: 250, timestamp: 77 });
    const shuffled = [packets[1]!, packets[0]!, packets[1]!, packets[3]!, packets[2]!, ...packets.slice(4), packets[5]!];
    const digits = receiveAll(rx, shuffled);
    assert.deepEqual(digits.map((d) => [d.digit, d.durationMs]), [['A', 250]]);
  });

  test('ignores non-DTMF events and strays from a past event', () => {
    const rx = new DtmfReceiver();
    assert.deepEqual(rx.receive({ timestamp: 1, marker: true, payload: encodeTelephoneEvent({ event: 16, end: true, volume: 0, duration: 800 }), arrivalMs: 0 }), []);
    const b = buildDtmfPackets({ digit: '2', durationMs: 100, timestamp: 4000 });
    receiveAll(rx, b.slice(0, 1));
    const stray = rx.receive({ timestamp: 3000, marker: false, payload: encodeTelephoneEvent({ event: 1, end: false, volume: 10, duration: 400 }), arrivalMs: 10 });
    assert.deepEqual(stray, []);
    assert.deepEqual(receiveAll(rx, b.slice(1)).map((d) => d.digit), ['2']);
  });
});

describe('SIP INFO application/dtmf-relay', () => {
  test('builds the de facto body', () => {
    assert.equal(buildDtmfRelayBody('5', 160), 'Signal=5\r\nDuration=160\r\n');
    assert.throws(() => buildDtmfRelayBody('5', 0), /positive/);
    assert.throws(() => buildDtmfRelayBody('x' as DtmfDigit, 100), /not a DTMF digit/);
  });

  test('parses what devices send: CRLF or LF, spacing, case, numeric * and #, missing duration', () => {
    assert.deepEqual(parseDtmfRelayBody('Signal=5\r\nDuration=160\r\n'), { digit: '5', durationMs: 160 });
    assert.deepEqual(parseDtmfRelayBody('signal= #\nduration = 250\n'), { digit: '#', durationMs: 250 });
    assert.deepEqual(parseDtmfRelayBody('Signal=10\r\nDuration=100'), { digit: '*', durationMs: 100 });
    assert.deepEqual(parseDtmfRelayBody('Signal=b'), { digit: 'B', durationMs: undefined });
    assert.throws(() => parseDtmfRelayBody('Duration=100'), /no Signal/);
    assert.throws(() => parseDtmfRelayBody('Signal=55'), /not a DTMF digit/);
    assert.throws(() => parseDtmfRelayBody('Signal=5\nDuration=abc'), /Duration/);
  });
});
