import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav, parseWav, readWavFile, WavFormatError } from '../../../src-main/core/media/audio/wav-file';
import { WavFileSink } from '../../../src-main/core/media/audio/wav-file-sink';
import { WavFileSource } from '../../../src-main/core/media/audio/wav-file-source';
import { SilenceSource } from '../../../src-main/core/media/audio/silence-source';
import { NullSink } from '../../../src-main/core/media/audio/null-sink';
import { dominantFrequency, readWav, toneWav } from '../../harness/audio-analysis';
import { makeTempDir, removeTempDir } from '../../harness/temp-dir';

const dir = makeTempDir('wav');
after(() => removeTempDir(dir));

function wavWithFormat(tag: number, bits: number, extra?: (b: Buffer) => void): Buffer {
  const b = Buffer.from(encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(4) }));
  b.writeUInt16LE(tag, 20);
  b.writeUInt16LE(bits, 34);
  extra?.(b);
  return b;
}

describe('WAV files', () => {
  test('write then read returns the same samples, rate and channels', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const parsed = parseWav(encodeWav({ sampleRate: 44100, channels: 2, samples }));
    assert.deepEqual(parsed, { sampleRate: 44100, channels: 2, samples });
  });

  test('reads files written by other tools (harness writer), skipping unknown chunks', () => {
    const path = toneWav(join(dir, 'tone.wav'), { frequencyHz: 440, seconds: 0.1, sampleRate: 16000 });
    const bytes = readFileSync(path);
    // Insert a LIST chunk with an odd size (padded) between fmt and data.
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const patched = Buffer.concat([bytes.subarray(0, 36), list, bytes.subarray(36)]);
    const wav = parseWav(patched);
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.samples.length, 1600);
  });

  test('rejects other formats saying what was found', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('OggS\0\0\0\0\0\0\0\0\0\0'), /not a RIFF WAVE file \(found "OggS" at the start\)/],
      [wavWithFormat(3, 32), /IEEE float 32-bit/],
      [wavWithFormat(1, 8), /PCM 8-bit/],
      [wavWithFormat(1, 24), /PCM 24-bit/],
      [wavWithFormat(7, 8), /µ-law 8-bit/],
      [wavWithFormat(0xfffe, 32, (b) => void b), /extensible 32-bit/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(() => parseWav(bytes, 'x.wav'), (e: unknown) => e instanceof WavFormatError && message.test(e.message), String(message));
    }
    assert.throws(() => readWavFile(join(dir, 'missing.wav')), /Cannot read WAV file .*missing\.wav/);
  });

  test('WavFileSink writes a WAV whose header is finalized on close', async () => {
    const path = join(dir, 'sink.wav');
    const sink = new WavFileSink(path, 8000);
    const frames = 200; // 4 s of 20 ms frames: more than one async flush
    for (let f = 0; f < frames; f++) sink.write(new Int16Array(160).fill(f));
    await sink.close();
    const bytes = readFileSync(path);
    assert.equal(bytes.readUInt32LE(40), frames * 160 * 2, 'data size in header');
    assert.equal(bytes.readUInt32LE(4), 36 + frames * 160 * 2, 'RIFF size in header');
    const wav = readWavFile(path);
    assert.equal(wav.samples.length, frames * 160);
    assert.equal(wav.samples[160 * 57], 57);
    assert.throws(() => new WavFileSink(join(dir, 'no/such/dir.wav'), 8000), /Cannot create WAV file/);
  });

  test('WavFileSink can switch rate mid-file: what was written is converted, the file stays one timeline', async () => {
    // Ringback at 48 kHz, then a narrowband call: the recording ends up at 8 kHz throughout.
    const path = join(dir, 'follow.wav');
    const sink = new WavFileSink(path, 48000);
    const tone = (hz: number, rate: number, frameIndex: number, samples: number) =>
      Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * (frameIndex * samples + i)) / rate)));
    for (let f = 0; f < 100; f++) sink.write(tone(425, 48000, f, 960)); // 2 s at 48 kHz (3 flushes)
    sink.followSampleRate(8000);
    assert.equal(sink.sampleRate, 8000);
    for (let f = 0; f < 100; f++) sink.write(tone(1000, 8000, f, 160)); // 2 s at 8 kHz
    await sink.close();
    const wav = readWav(path);
    assert.equal(wav.sampleRate, 8000);
    assert.equal(wav.samples.length, 32000, 'both parts at 8 kHz: 4 s, nothing stale past the end');
    const first = dominantFrequency(wav.samples, 8000, { start: 2000, length: 12000 });
    const second = dominantFrequency(wav.samples, 8000, { start: 18000, length: 12000 });
    assert.ok(Math.abs(first.hz - 425) <= 2, `first part: ${first.hz} Hz`);
    assert.ok(Math.abs(second.hz - 1000) <= 2, `second part: ${second.hz} Hz`);
    assert.equal(sink.samplesWritten, 32000);
    assert.throws(() => sink.followSampleRate(16000), /closed/);
    const other = new WavFileSink(join(dir, 'follow-invalid.wav'), 8000);
    assert.throws(() => other.followSampleRate(0), /Invalid sample rate/);
    await other.close();
  });

  test('WavFileSink after a rate change reads right even if never closed (process killed)', async () => {
    const path = join(dir, 'follow-unclosed.wav');
    const sink = new WavFileSink(path, 48000);
    for (let f = 0; f < 50; f++) sink.write(new Int16Array(960).fill(1000)); // 1 s at 48 kHz
    sink.followSampleRate(8000);
    // The conversion runs in the background; poll the file as a reader would (safety net: 10 s).
    const deadline = Date.now() + 10_000;
    let wav = readWav(path);
    while (wav.sampleRate !== 8000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      wav = readWav(path);
    }
    assert.equal(wav.sampleRate, 8000, 'the unfinalized header names the new rate');
    assert.equal(wav.samples.length, 8000, 'exactly the converted second, nothing stale after it');
    await sink.close();
  });

  test('WavFileSource converts rate and channels and loops at the end', () => {
    const path = join(dir, 'stereo-48k.wav');
    const frames = 4800; // 100 ms
    const samples = new Int16Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
      samples[2 * i] = v;
      samples[2 * i + 1] = v;
    }
    writeFileSync(path, encodeWav({ sampleRate: 48000, channels: 2, samples }));
    const source = new WavFileSource(path, 8000);
    assert.equal(source.length, 800);
    const out = new Int16Array(2400); // 3 passes through the file
    source.read(out.subarray(0, 1000));
    source.read(out.subarray(1000));
    assert.deepEqual([...out.subarray(800, 1600)], [...out.subarray(0, 800)], 'second pass repeats the first');
    const floats = Float32Array.from(out.subarray(0, 800), (v) => v / 32768);
    assert.ok(Math.abs(dominantFrequency(floats, 8000).hz - 1000) <= 2);
    assert.throws(() => new WavFileSource(join(dir, 'missing.wav'), 8000), /Cannot read WAV file/);
  });

  test('silence source and null sink', async () => {
    const frame = new Int16Array(160).fill(7);
    new SilenceSource(8000).read(frame);
    assert.ok(frame.every((v) => v === 0));
    const sink = new NullSink(16000);
    sink.write(new Int16Array(320));
    assert.equal(sink.samplesWritten, 320);
    assert.throws(() => new SilenceSource(0), /Invalid sample rate/);
  });

  test('harness reader agrees with our writer', async () => {
    const path = join(dir, 'agree.wav');
    const sink = new WavFileSink(path, 16000);
    sink.write(Int16Array.from([16384, -16384]));
    await sink.close();
    const wav = readWav(path);
    assert.equal(wav.sampleRate, 16000);
    assert.deepEqual([...wav.samples], [0.5, -0.5]);
  });
});
