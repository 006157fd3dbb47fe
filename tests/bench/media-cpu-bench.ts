/**
 * Issue "media engine" figure (4): CPU cost of the media engine per second of audio, in-process,
 * for each codec module: encode, decode, and jitter buffer (push + pull, which includes decoding
 * and concealment bookkeeping). process.cpuUsage() (user+system of this process) over many 20 ms
 * frames of the speech-like signal; the median of `repetitions` passes is reported, after one
 * warm-up pass so V8 has optimised the code (as it has in a long call).
 *
 * Unit: % of one core while processing audio in real time (CPU ms per second of audio / 10).
 * baresip's counterpart is not separable from its process, so its column shows its WHOLE-process
 * CPU per second of a call with the same codec (figure 5): an upper bound of its media cost.
 */
import { JitterBuffer } from '../../src-main/core/media/jitter/jitter-buffer';
import type { BenchCodec } from './bench-codecs';
import { percentile } from './stats';
import { speechLikeSamples } from './test-signal';

export interface CodecCpu {
  codec: string;
  /** % of one core per second of audio (= CPU ms per s / 10). */
  encodePercent: number;
  decodePercent: number;
  jitterBufferPercent: number;
  /** encode + jitter buffer (which decodes): the receive+send media cost of one call. */
  totalPercent: number;
  audioSeconds: number;
}

const FRAME_MS = 20;

function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function frames(sampleRate: number, seconds: number): Int16Array[] {
  const signal = speechLikeSamples(sampleRate, seconds);
  const size = (sampleRate * FRAME_MS) / 1000;
  const out: Int16Array[] = [];
  for (let i = 0; i + size <= signal.length; i += size) out.push(signal.slice(i, i + size));
  return out;
}

function onePass(c: BenchCodec, input: Int16Array[]): { encode: number; decode: number; jitter: number } {
  const info = c.codec.info;
  const encoder = c.codec.createEncoder();
  const payloads: Uint8Array[] = [];
  const encode = cpuMs(() => {
    for (const frame of input) payloads.push(encoder.encode(frame));
  });
  encoder.close();
  const decoder = c.codec.createDecoder();
  const decode = cpuMs(() => {
    for (const payload of payloads) decoder.decode(payload);
  });
  decoder.close();
  const buffer = new JitterBuffer(c.codec, { onDecodeError: (error) => { throw error; } });
  const tsPerFrame = (info.rtpClockRate * FRAME_MS) / 1000;
  const samplesPerFrame = (info.sampleRate * FRAME_MS) / 1000;
  const jitter = cpuMs(() => {
    // A clean link: packet k arrives at k*20 ms, the device pulls one frame right after.
    for (let k = 0; k < payloads.length; k++) {
      buffer.push({ seq: k & 0xffff, timestamp: (k * tsPerFrame) >>> 0, ssrc: 0x1234, marker: k === 0, payload: payloads[k]!, arrivalMs: k * FRAME_MS });
      buffer.pull(samplesPerFrame);
    }
  });
  buffer.close();
  return { encode, decode, jitter };
}

export function benchMediaCpu(codecs: BenchCodec[], audioSeconds: number, repetitions: number): CodecCpu[] {
  const results: CodecCpu[] = [];
  for (const c of codecs) {
    const input = frames(c.codec.info.sampleRate, audioSeconds);
    const seconds = (input.length * FRAME_MS) / 1000;
    onePass(c, frames(c.codec.info.sampleRate, Math.min(2, audioSeconds))); // warm-up
    const passes = Array.from({ length: repetitions }, () => onePass(c, input));
    const perSecond = (key: 'encode' | 'decode' | 'jitter') => percentile(passes.map((p) => p[key]), 50) / seconds / 10;
    const encodePercent = perSecond('encode');
    const jitterBufferPercent = perSecond('jitter');
    results.push({
      codec: c.name,
      encodePercent,
      decodePercent: perSecond('decode'),
      jitterBufferPercent,
      totalPercent: encodePercent + jitterBufferPercent,
      audioSeconds: seconds,
    });
  }
  return results;
}
