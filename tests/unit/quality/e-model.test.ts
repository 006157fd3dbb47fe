// E-model and MOS. Oracles: baresip's test/mos.c vectors (same 0.001 tolerance) for the simplified
// formula; ITU-T G.107/G.109 reference points (R 93.2 → 4.41; R 90/80/70/60/50 → MOS 4.34/4.03/
// 3.60/3.10/2.58) for the MOS mapping; G.113 Appendix I Ie/Bpl values for Ie,eff.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  delayImpairment,
  eModelRFactor,
  effectiveEquipmentImpairment,
  estimateCallQuality,
  lossPercentFromRtcpFraction,
  simplifiedRFactor,
} from '../../../src-main/core/media/quality/e-model';
import { mosFromRFactor, ratingFromRFactor } from '../../../src-main/core/media/quality/mos';
import { G711_WITHOUT_PLC, codecImpairment } from '../../../src-main/core/media/quality/codec-impairment';

const close = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (±${tolerance})`);

describe('baresip test/mos.c vectors (simplified formula)', () => {
  // rtt, jitter, loss% → R, MOS
  const vectors: [number, number, number, number, number][] = [
    [0, 0, 0, 92.95, 4.404],
    [500, 0, 0, 54.2, 2.796],
    [1000, 0, 0, 4.2, 0.99],
    [0, 100, 0, 84.2, 4.172],
    [0, 200, 0, 64.2, 3.315],
    [0, 0, 1, 90.45, 4.35],
    [0, 0, 10, 67.95, 3.499],
    [10, 10, 10, 67.2, 3.463],
  ];
  for (const [delayMs, jitterMs, packetLossPercent, r, mos] of vectors)
    test(`delay ${delayMs} ms, jitter ${jitterMs} ms, loss ${packetLossPercent} % → R ${r}, MOS ${mos}`, () => {
      const rFactor = simplifiedRFactor({ delayMs, jitterMs, packetLossPercent });
      close(rFactor, r, 0.001, 'R');
      close(mosFromRFactor(rFactor), mos, 0.001, 'MOS');
    });
});

describe('MOS from R (G.107 Annex B)', () => {
  test('G.109 reference points', () => {
    for (const [r, mos] of [[93.2, 4.41], [90, 4.34], [80, 4.03], [70, 3.6], [60, 3.1], [50, 2.58]] as const)
      close(mosFromRFactor(r), mos, 0.01, `MOS(${r})`); // the published figures are rounded (80 → 4.024 ≈ "4.03")
  });

  test('clamps outside 0..100', () => {
    assert.equal(mosFromRFactor(-20), 1);
    assert.equal(mosFromRFactor(100), 4.5);
    assert.equal(mosFromRFactor(130), 4.5);
    assert.throws(() => mosFromRFactor(Number.NaN), /finite/);
  });

  test('G.109 ratings', () => {
    assert.deepEqual([93, 85, 75, 65, 40].map(ratingFromRFactor), ['best', 'high', 'medium', 'low', 'poor']);
  });
});

describe('G.107 E-model with codec impairment', () => {
  test('G.711, no impairments → G.107 default R = 93.2, MOS 4.41', () => {
    const r = eModelRFactor({ oneWayDelayMs: 0, jitterMs: 0, packetLossPercent: 0, codec: 'PCMU' });
    close(r, 93.2, 1e-9, 'R');
    close(mosFromRFactor(r), 4.41, 0.005, 'MOS');
  });

  test('Ie,eff uses the codec’s Bpl: G.711+PLC 1 % → 3.64, G.711 without PLC 1 % → 17.6, G.729A 2 % → 19', () => {
    close(effectiveEquipmentImpairment(codecImpairment('PCMA'), 1), 95 / 26.1, 1e-9, 'G.711 PLC');
    close(effectiveEquipmentImpairment(G711_WITHOUT_PLC, 1), 95 / 5.3, 1e-9, 'G.711 no PLC');
    close(effectiveEquipmentImpairment(codecImpairment('G729'), 2), 19, 1e-9, 'G.729A');
    close(effectiveEquipmentImpairment(codecImpairment('PCMU'), 100), 95 * 100 / 125.1, 1e-9, 'total loss');
  });

  test('bursty loss hurts more than random loss at the same rate', () => {
    const random = effectiveEquipmentImpairment(codecImpairment('PCMU'), 5, 1);
    const bursty = effectiveEquipmentImpairment(codecImpairment('PCMU'), 5, 3);
    close(bursty, 95 * 5 / (5 / 3 + 25.1), 1e-9, 'BurstR 3');
    assert.ok(bursty > random);
  });

  test('delay impairment has its knee at 177.3 ms', () => {
    close(delayImpairment(150), 3.6, 1e-9, 'Id(150)');
    close(delayImpairment(177.3), 0.024 * 177.3, 1e-9, 'Id(177.3)');
    close(delayImpairment(300), 7.2 + 0.11 * 122.7, 1e-9, 'Id(300)');
    // 150 ms one-way on G.711 is the classic "R ≈ 89.6" planning point
    close(eModelRFactor({ oneWayDelayMs: 150, jitterMs: 0, packetLossPercent: 0, codec: 'PCMU' }), 89.6, 1e-9, 'R');
  });

  test('jitter counts twice as delay (jitter buffer)', () => {
    const withJitter = eModelRFactor({ oneWayDelayMs: 100, jitterMs: 40, packetLossPercent: 0, codec: 'PCMU' });
    const asDelay = eModelRFactor({ oneWayDelayMs: 180, jitterMs: 0, packetLossPercent: 0, codec: 'PCMU' });
    close(withJitter, asDelay, 1e-9, 'R');
  });

  test('rejects impossible inputs with a clear message', () => {
    assert.throws(() => eModelRFactor({ oneWayDelayMs: -1, jitterMs: 0, packetLossPercent: 0, codec: 'PCMU' }), /one-way delay/);
    assert.throws(() => eModelRFactor({ oneWayDelayMs: 0, jitterMs: 0, packetLossPercent: 101, codec: 'PCMU' }), /packet loss/);
  });
});

describe('estimateCallQuality (what the UI shows)', () => {
  test('a clean LAN call on G.711 is "best"', () => {
    const q = estimateCallQuality({ roundTripTimeMs: 2, jitterMs: 0.5, packetLossPercent: 0, codec: 'PCMU' });
    assert.equal(q.rating, 'best');
    assert.ok(q.mos > 4.4);
    assert.equal(q.approximate, false);
  });

  test('RTT 300 ms, 20 ms jitter, 5 % loss on G.729 is clearly worse', () => {
    const q = estimateCallQuality({ roundTripTimeMs: 300, jitterMs: 20, packetLossPercent: 5, codec: 'G729' });
    // d = 150 + 2·20 = 190 → Id = 4.56 + 0.11·12.7 = 5.957; Ie,eff = 11 + 84·5/24 = 28.5
    close(q.rFactor, 93.2 - 5.957 - (11 + 420 / 24), 1e-9, 'R');
    assert.equal(q.rating, 'poor');
  });

  test('a measured jitter-buffer delay stands for the jitter: not counted twice', () => {
    // Our buffer holds 40 ms for a 20 ms jitter: d = 150 + 40 (not 150 + 40 + 2·20).
    const measured = estimateCallQuality({ roundTripTimeMs: 300, localDelayMs: 40, jitterMs: 20, packetLossPercent: 0, codec: 'PCMU' });
    close(measured.rFactor, eModelRFactor({ oneWayDelayMs: 190, jitterMs: 0, packetLossPercent: 0, codec: 'PCMU' }), 1e-9, 'R');
    const modelled = estimateCallQuality({ roundTripTimeMs: 300, jitterMs: 20, packetLossPercent: 0, codec: 'PCMU' });
    close(measured.rFactor, modelled.rFactor, 1e-9, 'the same as the model when the buffer holds 2 · jitter');
  });

  test('wideband codecs are flagged as approximate', () => {
    assert.equal(estimateCallQuality({ jitterMs: 0, packetLossPercent: 0, codec: 'opus' }).approximate, true);
  });

  test('RTCP fraction lost converts to percent', () => {
    assert.equal(lossPercentFromRtcpFraction(64), 25);
    assert.equal(lossPercentFromRtcpFraction(0), 0);
    assert.throws(() => lossPercentFromRtcpFraction(256), /0\.\.255/);
  });
});
