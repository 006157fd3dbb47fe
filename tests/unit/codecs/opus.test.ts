import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusCodec, opusCodec, opusDecoderSupportsFec } from '../../../src-main/core/media/codecs/opus';
import { dominantFrequency, rmsOf, sine } from './signal';

const FRAME = 960; // 20 ms at 48 kHz

function encodeTone(freq: number, frames: number, amplitude: number): Uint8Array[] {
  const enc = opusCodec.createEncoder();
  const x = sine(freq, 48000, FRAME * frames, amplitude);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) packets.push(enc.encode(x.subarray(i * FRAME, (i + 1) * FRAME)));
  enc.close();
  return packets;
}

const db = (a: number, b: number) => 20 * Math.log10(a / b);

describe('Opus codec (opusscript wasm)', () => {
  test('SDP info per RFC 7587: opus/48000/2, fmtp minptime=10;useinbandfec=1, usedtx only with DTX', () => {
    assert.equal(opusCodec.info.encodingName, 'opus');
    assert.equal(opusCodec.info.rtpClockRate, 48000);
    assert.equal(opusCodec.info.sampleRate, 48000);
    assert.equal(opusCodec.info.channels, 2);
    assert.equal(opusCodec.info.staticPayloadType, undefined);
    assert.equal(opusCodec.info.fmtp, 'minptime=10;useinbandfec=1');
    assert.equal(createOpusCodec({ dtx: true }).info.fmtp, 'minptime=10;useinbandfec=1;usedtx=1');
  });

  test('1 kHz tone round trip keeps its frequency and its level within 1 dB', () => {
    const packets = encodeTone(1000, 50, 8000);
    const dec = opusCodec.createDecoder();
    const out: Int16Array[] = packets.map((p) => dec.decode(p));
    assert.ok(out.every((f) => f.length === FRAME), 'every packet decodes to 20 ms');
    const steady = Int16Array.from(out.slice(10).flatMap((f) => Array.from(f)));
    const freq = dominantFrequency(steady, 48000, 200, 4000, 5);
    assert.ok(Math.abs(freq - 1000) <= 5, `dominant frequency ${freq} Hz`);
    const level = db(rmsOf(steady), 8000 / Math.SQRT2);
    assert.ok(Math.abs(level) <= 1, `level off by ${level.toFixed(2)} dB`);
    // 20 ms mono VoIP should be well under 64 kbit/s.
    const bytes = packets.reduce((n, p) => n + p.length, 0);
    assert.ok((bytes * 8) / 1 < 64000, `bitrate ${(bytes * 8) / 1} bit/s`);
    dec.close();
  });

  test('packet loss concealment continues the tone, then fades; recovery joins without a click', () => {
    const packets = encodeTone(1000, 30, 8000);
    const dec = opusCodec.createDecoder();
    assert.ok(dec.conceal, 'Opus decoder offers concealment');
    const conceal = dec.conceal.bind(dec);
    let last: Int16Array = new Int16Array(0);
    for (let i = 0; i < 20; i++) last = dec.decode(packets[i]!);
    const concealed = conceal(FRAME);
    assert.equal(concealed.length, FRAME);
    assert.ok(db(rmsOf(concealed), rmsOf(last)) > -12, `concealment level ${db(rmsOf(concealed), rmsOf(last)).toFixed(1)} dB`);
    const freq = dominantFrequency(concealed, 48000, 200, 4000, 10);
    assert.ok(Math.abs(freq - 1000) <= 60, `concealment frequency ${freq} Hz`);
    // The join from the last good frame into concealment is continuous (no step).
    const maxSlope = (8000 * 2 * Math.PI * 1000) / 48000;
    assert.ok(Math.abs(concealed[0]! - last[FRAME - 1]!) < 2 * maxSlope, 'no click entering concealment');
    // Long losses do not keep a loud tone going.
    let tail = concealed;
    for (let i = 0; i < 4; i++) tail = conceal(FRAME);
    assert.ok(rmsOf(tail) < rmsOf(concealed) / 2, 'concealment decays over 100 ms');
    // Packets 20..24 were lost; packet 25 decodes with the crossfade back into real audio.
    const recovered = dec.decode(packets[25]!);
    assert.equal(recovered.length, FRAME);
    assert.ok(Math.abs(recovered[0]! - tail[FRAME - 1]!) < 2 * maxSlope + 2000, 'no click leaving concealment');
    // Odd sizes work too (the device may ask for 10 ms).
    assert.equal(conceal(480).length, 480);
    dec.close();
  });

  test('DTX: silent frames produce no packet to send; a 1-byte TOC-only packet decodes to silence', () => {
    const enc = createOpusCodec({ dtx: true }).createEncoder();
    const lengths: number[] = [];
    for (let i = 0; i < 50; i++) lengths.push(enc.encode(new Int16Array(FRAME)).length);
    enc.close();
    assert.ok(lengths.slice(0, 3).every((n) => n > 2), 'first frames are sent');
    assert.ok(lengths.filter((n) => n === 0).length >= 30, `most silent frames suppressed: ${lengths.join(',')}`);
    const withoutDtx = opusCodec.createEncoder();
    for (let i = 0; i < 50; i++) assert.ok(withoutDtx.encode(new Int16Array(FRAME)).length > 0);
    withoutDtx.close();
    const dec = opusCodec.createDecoder();
    const pcm = dec.decode(Uint8Array.of(0x40)); // TOC only: config 8 (SILK WB 10 ms), code 0, no frame data
    assert.ok(pcm.length > 0 && rmsOf(pcm) < 50, 'TOC-only packet is silence');
    dec.close();
  });

  test('FEC decode is reported unavailable (opusscript hard-codes decode_fec=0)', () => {
    assert.equal(opusDecoderSupportsFec, false);
  });

  test('bad input is rejected with a clear error', () => {
    const enc = opusCodec.createEncoder();
    assert.throws(() => enc.encode(new Int16Array(1000)), /2\.5\/5\/10\/20\/40\/60 ms/);
    enc.close();
    assert.throws(() => enc.encode(new Int16Array(FRAME)), /after close/);
    const dec = opusCodec.createDecoder();
    assert.throws(() => dec.decode(new Uint8Array(0)), /empty/);
    assert.throws(() => dec.decode(Uint8Array.of(0xff, 0xff, 0xff)), /Opus decode of 3-byte packet failed/);
    dec.close();
  });
});
