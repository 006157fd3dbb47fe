import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { libopusHeapBytes } from '../../../src-main/core/media/codecs/libopus-wasm';
import { createOpusCodec, opusCodec, opusDecoderSupportsFec } from '../../../src-main/core/media/codecs/opus';
import { dominantFrequency, rmsOf, sine } from './signal';
import { opusCodedBandwidthHz } from '../../harness/opus-toc';

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

describe('Opus codec (libopus wasm)', () => {
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

  test('the decoder reports that it can use in-band FEC', () => {
    assert.equal(opusDecoderSupportsFec, true);
    const dec = opusCodec.createDecoder();
    assert.equal(typeof dec.recover, 'function');
    dec.close();
  });

  /**
   * A gliding two-tone signal (voice-like: SILK, where libopus puts its FEC), 60 frames encoded by
   * an encoder `setUp` may configure; frame 40 is lost and repaired from frame 41 (FEC) or by
   * concealment: how close each comes (dB) to what a decoder without loss made of it.
   */
  const repairOfALostFrame = (setUp: (enc: ReturnType<typeof opusCodec.createEncoder>) => void = () => undefined, peerFmtp?: string) => {
    const frames = 60;
    const x = new Int16Array(FRAME * frames);
    for (let i = 0; i < x.length; i++) {
      const t = i / 48000;
      x[i] = Math.round(7000 * Math.sin(2 * Math.PI * (300 + 80 * Math.sin(2 * Math.PI * 3 * t)) * t) + 3000 * Math.sin(2 * Math.PI * 900 * t));
    }
    const enc = opusCodec.createEncoder(peerFmtp);
    setUp(enc);
    const packets = Array.from({ length: frames }, (_, k) => enc.encode(x.subarray(k * FRAME, (k + 1) * FRAME)));
    enc.close();
    const lost = 40;
    const clean = opusCodec.createDecoder();
    let reference: Int16Array = new Int16Array(0);
    for (let k = 0; k <= lost; k++) reference = clean.decode(packets[k]!);
    clean.close();
    const errorDb = (y: Int16Array) => {
      let e = 0;
      let p = 0;
      for (let i = 0; i < FRAME; i++) {
        e += (y[i]! - reference[i]!) ** 2;
        p += reference[i]! ** 2;
      }
      return 10 * Math.log10(p / Math.max(1, e));
    };
    const run = (repair: (dec: ReturnType<typeof opusCodec.createDecoder>) => Int16Array) => {
      const dec = opusCodec.createDecoder();
      for (let k = 0; k < lost; k++) dec.decode(packets[k]!);
      const repaired = repair(dec);
      const after = dec.decode(packets[lost + 1]!);
      dec.close();
      return { repaired, after };
    };
    const fec = run((dec) => dec.recover!(packets[lost + 1]!, FRAME));
    const plc = run((dec) => dec.conceal!(FRAME));
    return { fec, fecSnr: errorDb(fec.repaired), plcSnr: errorDb(plc.repaired) };
  };

  test('in-band FEC: a lost frame is rebuilt from the next packet, far closer to it than concealment', () => {
    const { fec, fecSnr, plcSnr } = repairOfALostFrame();
    assert.equal(fec.repaired.length, FRAME);
    assert.ok(fecSnr > 6 && fecSnr > plcSnr + 6, `FEC ${fecSnr.toFixed(1)} dB vs concealment ${plcSnr.toFixed(1)} dB against the lost frame`);
    // The frame after the rebuilt one follows on without a click.
    const maxSlope = (10000 * 2 * Math.PI * 1000) / 48000;
    assert.ok(Math.abs(fec.after[0]! - fec.repaired[FRAME - 1]!) < 2 * maxSlope, 'no click after the rebuilt frame');
  });

  test('the far end reporting no loss turns the FEC off (the bits go to the audio); reported loss turns it back on', () => {
    const clean = repairOfALostFrame((enc) => enc.setExpectedLoss!(0));
    assert.ok(clean.fecSnr < clean.plcSnr + 1, `no loss reported: "FEC" ${clean.fecSnr.toFixed(1)} dB, concealment ${clean.plcSnr.toFixed(1)} dB`);
    const lossy = repairOfALostFrame((enc) => {
      enc.setExpectedLoss!(0);
      enc.setExpectedLoss!(15);
    });
    assert.ok(lossy.fecSnr > lossy.plcSnr + 6, `15 % reported: FEC ${lossy.fecSnr.toFixed(1)} dB, concealment ${lossy.plcSnr.toFixed(1)} dB`);
  });

  test("in-band FEC only for a far end whose fmtp says its decoder uses it (useinbandfec=1; RFC 7587: absent means 0)", () => {
    const lossy = (enc: ReturnType<typeof opusCodec.createEncoder>) => enc.setExpectedLoss!(15);
    const silent = repairOfALostFrame(lossy, 'stereo=1;sprop-stereo=1');
    assert.ok(silent.fecSnr < silent.plcSnr + 1, `no useinbandfec: "FEC" ${silent.fecSnr.toFixed(1)} dB, concealment ${silent.plcSnr.toFixed(1)} dB`);
    const zero = repairOfALostFrame(lossy, 'useinbandfec=0');
    assert.ok(zero.fecSnr < zero.plcSnr + 1, `useinbandfec=0: "FEC" ${zero.fecSnr.toFixed(1)} dB, concealment ${zero.plcSnr.toFixed(1)} dB`);
    const asked = repairOfALostFrame(lossy, 'minptime=10; UseInbandFec=1');
    assert.ok(asked.fecSnr > asked.plcSnr + 6, `useinbandfec=1: FEC ${asked.fecSnr.toFixed(1)} dB, concealment ${asked.plcSnr.toFixed(1)} dB`);
  });

  /** 2 s of a voice-like glide with a 9 kHz component, encoded for a far end with `peerFmtp`. */
  const packetsFor = (peerFmtp?: string) => {
    const enc = opusCodec.createEncoder(peerFmtp);
    const packets: Uint8Array[] = [];
    for (let k = 0; k < 100; k++) {
      const frame = new Int16Array(FRAME);
      for (let i = 0; i < FRAME; i++) {
        const t = (k * FRAME + i) / 48000;
        frame[i] = Math.round(6000 * Math.sin(2 * Math.PI * (300 + 80 * Math.sin(2 * Math.PI * 3 * t)) * t) + 2000 * Math.sin(2 * Math.PI * 9000 * t));
      }
      packets.push(enc.encode(frame));
    }
    enc.close();
    return packets;
  };
  const codedBandwidthHz = (packet: Uint8Array) => opusCodedBandwidthHz(packet[0]!);
  const meanBytes = (packets: Uint8Array[]) => packets.reduce((sum, p) => sum + p.length, 0) / packets.length;

  test("the far end's maxaveragebitrate sets our target; one above libopus' own choice changes nothing", () => {
    const kbps = (peerFmtp: string) => (meanBytes(packetsFor(peerFmtp)) * 8 * 50) / 1000;
    const own = kbps('');
    const capped = kbps('maxaveragebitrate=12000');
    // libopus' constrained VBR lands near its target over a few seconds (above it on this tonal signal).
    assert.ok(own > 40, `uncapped: ${own.toFixed(1)} kbit/s`);
    assert.ok(capped <= 12 * 1.35 && capped < own / 3, `capped at 12 kbit/s: ${capped.toFixed(1)} kbit/s`);
    assert.deepEqual(packetsFor('maxaveragebitrate=256000').map((p) => p.length), packetsFor('').map((p) => p.length));
    // Below RFC 7587's range: clamped to its 6000 floor rather than refused.
    assert.ok(kbps('maxaveragebitrate=100') < capped, 'the lowest bitrate');
  });

  test("the far end's maxplaybackrate: nothing coded above what it renders; cbr=1: every packet the same size", () => {
    const own = packetsFor('');
    assert.ok(own.some((p) => codedBandwidthHz(p) > 8000), 'fullband or super-wideband by default');
    const wideband = packetsFor('maxplaybackrate=16000');
    assert.ok(wideband.every((p) => codedBandwidthHz(p) <= 8000), `coded bandwidths ${[...new Set(wideband.map(codedBandwidthHz))].join(', ')} Hz`);
    assert.ok(packetsFor('maxplaybackrate=8000').every((p) => codedBandwidthHz(p) <= 4000), 'narrowband');
    assert.ok(new Set(own.map((p) => p.length)).size > 1, 'variable bitrate by default');
    const cbr = packetsFor('cbr=1');
    assert.equal(new Set(cbr.slice(1).map((p) => p.length)).size, 1, `sizes ${[...new Set(cbr.map((p) => p.length))].join(', ')}`);
  });

  test('recover() after an off-grain concealment crossfades into the rebuilt frame; the next decode is not crossfaded', () => {
    const packets = encodeTone(400, 30, 8000);
    // a: conceal(1000) makes libopus conceal 1080 (2.5 ms grain), 80 left unplayed. b: conceal(1080),
    // nothing left. Same libopus state, so they may differ only by a's crossfade from those 80.
    const a = opusCodec.createDecoder();
    const b = opusCodec.createDecoder();
    for (let k = 0; k < 20; k++) assert.deepEqual(a.decode(packets[k]!), b.decode(packets[k]!));
    a.conceal!(1000);
    b.conceal!(1080);
    const ra = a.recover!(packets[22]!, FRAME);
    const rb = b.recover!(packets[22]!, FRAME);
    assert.notDeepEqual(ra.subarray(0, 80), rb.subarray(0, 80), 'crossfaded from the unplayed concealment');
    assert.deepEqual(ra.subarray(80), rb.subarray(80));
    // Recovered audio is real audio: decoding the packet it came from has nothing to crossfade.
    assert.deepEqual(a.decode(packets[22]!), b.decode(packets[22]!));
    a.close();
    b.close();
  });

  test('recover() from a packet without FEC conceals instead (no throw); an encoder can be told not to send FEC', () => {
    const enc = createOpusCodec({ fec: false }).createEncoder();
    const packets = Array.from({ length: 12 }, (_, k) => enc.encode(sine(400, 48000, FRAME, 8000, k * FRAME)));
    enc.close();
    const dec = opusCodec.createDecoder();
    for (let k = 0; k < 10; k++) dec.decode(packets[k]!);
    const rebuilt = dec.recover!(packets[11]!, FRAME);
    assert.equal(rebuilt.length, FRAME);
    assert.ok(rmsOf(rebuilt) > 1000, 'concealment continues the tone');
    dec.close();
    // Nothing decoded yet (the first packet of a stream was lost): still `samples` of audio.
    const fresh = opusCodec.createDecoder();
    assert.equal(fresh.recover!(packets[0]!, FRAME).length, FRAME);
    fresh.close();
  });

  test('concealment comes in exactly the sizes asked for, also off libopus\' 2.5 ms grain', () => {
    const packets = encodeTone(400, 10, 8000);
    const dec = opusCodec.createDecoder();
    for (const p of packets) dec.decode(p);
    for (const n of [480, 1000, 960, 7, 7000]) assert.equal(dec.conceal!(n).length, n);
    dec.close();
  });

  test('closing encoders and decoders gives their wasm memory back', () => {
    for (let i = 0; i < 50; i++) opusCodec.createDecoder().close();
    const before = libopusHeapBytes();
    for (let i = 0; i < 10000; i++) {
      opusCodec.createEncoder().close();
      opusCodec.createDecoder().close();
    }
    assert.equal(libopusHeapBytes(), before);
  });

  test('the encoder complexity is ours to set (default 9, as WebRTC on desktops); out of 0-10 it is refused', () => {
    const encodeWith = (codec: ReturnType<typeof createOpusCodec>) => {
      const enc = codec.createEncoder();
      let seed = 1;
      const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 800;
      const packets = Array.from({ length: 50 }, (_, k) => {
        const frame = new Int16Array(FRAME);
        for (let i = 0; i < FRAME; i++) {
          const t = (k * FRAME + i) / 48000;
          frame[i] = Math.round(6000 * Math.sin(2 * Math.PI * (300 + 80 * Math.sin(2 * Math.PI * 3 * t)) * t) + noise());
        }
        return Array.from(enc.encode(frame)).join();
      });
      enc.close();
      return packets;
    };
    const ours = encodeWith(createOpusCodec());
    assert.deepEqual(ours, encodeWith(createOpusCodec({ complexity: 9 })));
    // (9 and 10 code these signals alike; 10 adds an analysis pass that can cost more CPU, see opus.ts.)
    assert.notDeepEqual(ours, encodeWith(createOpusCodec({ complexity: 5 })), 'the option reaches libopus');
    assert.throws(() => createOpusCodec({ complexity: 11 }).createEncoder(), /Opus encoder setup failed: .*invalid argument/);
  });

  test('bad input is rejected with a clear error', () => {
    const enc = opusCodec.createEncoder();
    assert.throws(() => enc.encode(new Int16Array(1000)), /2\.5\/5\/10\/20\/40\/60 ms/);
    enc.close();
    assert.throws(() => enc.encode(new Int16Array(FRAME)), /after close/);
    const dec = opusCodec.createDecoder();
    assert.throws(() => dec.decode(new Uint8Array(0)), /empty/);
    // libopus' own words for it, after what we were doing.
    assert.throws(() => dec.decode(Uint8Array.of(0xff, 0xff, 0xff)), /Opus decode of 3-byte packet failed: .*corrupted stream/);
    assert.throws(() => dec.recover!(Uint8Array.of(0xff, 0xff, 0xff), FRAME), /Opus FEC recovery from a 3-byte packet failed: .*corrupted stream/);
    assert.throws(() => dec.recover!(new Uint8Array(0), FRAME), /empty/);
    // FEC rebuilds whole Opus frames (multiples of 2.5 ms); anything else is the caller's mistake.
    assert.throws(() => dec.recover!(Uint8Array.of(0x40), 1000), RangeError);
    dec.close();
    assert.throws(() => dec.decode(Uint8Array.of(0x40)), /after close/);
    assert.throws(() => dec.conceal!(FRAME), /after close/);
    assert.throws(() => dec.recover!(Uint8Array.of(0x40), FRAME), /after close/);
    dec.close(); // closing twice is harmless
  });
});
