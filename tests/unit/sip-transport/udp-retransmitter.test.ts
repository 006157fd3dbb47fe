import { test, describe, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { UdpRetransmitter } from '../../../src-main/core/sip/transport/udp-retransmitter';

const T1 = 500;
const T2 = 4000;

/** Advances mocked time in small steps so chained timers fire in order. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i += 10) mock.timers.tick(10);
}

describe('UdpRetransmitter (Timers A, E, G)', () => {
  afterEach(() => mock.timers.reset());

  test('Timer A: INVITE resent at T1, 2T1, 4T1... and stopped by a provisional', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const r = new UdpRetransmitter({ t1Ms: T1, t2Ms: T2 });
    let sends = 0;
    r.trackRequest('b1 INVITE', 'INVITE', () => sends++);
    advance(T1); // t=500
    assert.equal(sends, 1);
    advance(2 * T1); // t=1500
    assert.equal(sends, 2);
    advance(4 * T1); // t=3500
    assert.equal(sends, 3);
    r.onResponse('b1 INVITE', 100);
    advance(20 * T1);
    assert.equal(sends, 3);
  });

  test('Timer A gives up at 64*T1 without a response', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const r = new UdpRetransmitter({ t1Ms: T1, t2Ms: T2 });
    let sends = 0;
    r.trackRequest('b1 INVITE', 'INVITE', () => sends++);
    advance(200 * T1);
    // 0.5,1.5,3.5,7.5,15.5,31.5 s -> 6 resends before 32 s
    assert.equal(sends, 6);
    assert.equal(r.isTrackingRequest('b1 INVITE'), false);
  });

  test('Timer E: capped at T2, every T2 after a provisional, stopped by a final response', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const r = new UdpRetransmitter({ t1Ms: T1, t2Ms: T2 });
    let sends = 0;
    r.trackRequest('b2 REGISTER', 'REGISTER', () => sends++);
    advance(T1 + 2 * T1 + 4 * T1 + 8 * T1); // 0.5, 1.5, 3.5, 7.5 s
    assert.equal(sends, 4);
    advance(T2); // capped: next at 11.5 s
    assert.equal(sends, 5);
    r.onResponse('b2 REGISTER', 100);
    assert.equal(r.isTrackingRequest('b2 REGISTER'), true, 'a provisional does not stop non-INVITE retransmission');
    advance(T2);
    assert.equal(sends, 6);
    r.onResponse('b2 REGISTER', 200);
    advance(10 * T2);
    assert.equal(sends, 6);
  });

  test('Timer G: non-2xx final response to INVITE resent until the ACK', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const r = new UdpRetransmitter({ t1Ms: T1, t2Ms: T2 });
    let sends = 0;
    r.trackInviteFinalResponse('b3 INVITE', () => sends++);
    advance(T1 + 2 * T1 + 4 * T1 + 8 * T1 + T2); // capped at T2 like Timer E
    assert.equal(sends, 5);
    r.onAck('b3 INVITE');
    advance(10 * T2);
    assert.equal(sends, 5);
  });

  test('ACK is never tracked; stopAll cancels everything', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const r = new UdpRetransmitter({ t1Ms: T1, t2Ms: T2 });
    let sends = 0;
    r.trackRequest('b4 ACK', 'ACK', () => sends++);
    r.trackRequest('b5 OPTIONS', 'OPTIONS', () => sends++);
    r.trackInviteFinalResponse('b6 INVITE', () => sends++);
    r.stopAll();
    advance(100 * T1);
    assert.equal(sends, 0);
  });
});
