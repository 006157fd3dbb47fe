/**
 * Test-only network + device simulation for the jitter buffer: a far end sends one RTP packet per
 * frame on its own (possibly drifting) clock, the network delays / drops / duplicates / reorders
 * them, and the local device pulls fixed-size blocks on the local clock. Deterministic (seeded PRNG).
 */
import type { AudioCodec } from '../../../src-main/core/media/codecs/audio-codec';
import { JitterBuffer } from '../../../src-main/core/media/jitter/jitter-buffer';
import type { JitterBufferOptions, JitterBufferStats, RtpAudioPacket } from '../../../src-main/core/media/jitter/jitter-buffer';
import { seededRandom } from '../../harness/seeded-random';

/** Linear 16-bit PCM "codec" so tests can check output sample by sample (the far end's samples). */
export function pcmCodec(sampleRate = 8000, conceal?: (samples: number) => Int16Array): AudioCodec {
  return {
    info: { encodingName: 'L16-test', rtpClockRate: sampleRate, sampleRate, channels: 1 },
    createEncoder: () => ({
      encode: (pcm) => new Uint8Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)),
      close: () => undefined,
    }),
    createDecoder: () => ({
      decode: (payload) => new Int16Array(payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength)),
      ...(conceal ? { conceal } : {}),
      close: () => undefined,
    }),
  };
}

/** Mulberry32: small deterministic PRNG (the harness's, under the name these tests use). */
export const rng = seededRandom;

export interface SentPacket extends RtpAudioPacket {
  index: number;
  /** A telephone-event packet (Scenario.eventFrames): given to noteTelephoneEvent, not pushed. */
  event?: { durationTs: number; ended: boolean };
}

export interface Scenario {
  codec: AudioCodec;
  /** Far-end signal: sample n at codec.info.sampleRate. */
  signal: (n: number) => number;
  durationMs: number;
  frameMs?: number;
  pullMs?: number;
  seed?: number;
  baseDelayMs?: number;
  /** Extra network delay per packet (ms), on top of baseDelayMs. */
  jitterMs?: (random: () => number, index: number) => number;
  lossRate?: number;
  /** Far-end clock error: +500 means the far end produces media 500 ppm faster than we play it. */
  driftPpm?: number;
  seqStart?: number;
  tsStart?: number;
  ssrc?: number;
  /** Packets with index in this set are not sent at all (sender silence, e.g. DTX / VAD). */
  silentFrames?: (index: number) => boolean;
  /**
   * Frames for which the far end sends RFC 4733 telephone-event packets instead of audio (a run of
   * such frames is one event: each packet carries the event's start timestamp and its duration so
   * far, the last one the end bit); they take sequence numbers like audio packets.
   */
  eventFrames?: (index: number) => boolean;
  /** Let the test rewrite the packet list (reorder, duplicate, change SSRC...). */
  mutate?: (packets: SentPacket[]) => SentPacket[];
  options?: JitterBufferOptions;
}

export interface SimulationResult {
  output: Int16Array;
  /** Stats after each pull. */
  trace: JitterBufferStats[];
  stats: JitterBufferStats;
  /** Index of the first output sample after the buffer started playing. */
  playStart: number;
  sent: SentPacket[];
  lostInNetwork: number;
}

export function simulate(s: Scenario): SimulationResult {
  const random = rng(s.seed ?? 1);
  const frameMs = s.frameMs ?? 20;
  const pullMs = s.pullMs ?? 20;
  const { sampleRate, rtpClockRate } = s.codec.info;
  const frameSamples = (sampleRate * frameMs) / 1000;
  const frameTs = (rtpClockRate * frameMs) / 1000;
  const encoder = s.codec.createEncoder();
  const drift = 1 + (s.driftPpm ?? 0) * 1e-6;
  const frames = Math.floor(s.durationMs / frameMs);
  let packets: SentPacket[] = [];
  let lostInNetwork = 0;
  let sentCount = 0;
  let eventStart = -1;
  for (let i = 0; i < frames; i++) {
    if (s.silentFrames?.(i)) continue;
    if (s.eventFrames?.(i)) {
      if (eventStart < 0) eventStart = i;
      packets.push({
        index: i,
        seq: ((s.seqStart ?? 1000) + sentCount++) & 0xffff,
        timestamp: ((s.tsStart ?? 5000) + eventStart * frameTs) % 2 ** 32,
        ssrc: s.ssrc ?? 0x1234,
        marker: i === eventStart,
        payload: new Uint8Array(4),
        arrivalMs: (i * frameMs) / drift + (s.baseDelayMs ?? 30) + (s.jitterMs ? s.jitterMs(random, i) : 0),
        event: { durationTs: (i - eventStart + 1) * frameTs, ended: !s.eventFrames(i + 1) },
      });
      continue;
    }
    eventStart = -1;
    const pcm = new Int16Array(frameSamples);
    for (let k = 0; k < frameSamples; k++) pcm[k] = s.signal(i * frameSamples + k);
    const sendMs = (i * frameMs) / drift;
    const delay = (s.baseDelayMs ?? 30) + (s.jitterMs ? s.jitterMs(random, i) : 0);
    const prevSent = i > 0 && !s.silentFrames?.(i - 1);
    const packet: SentPacket = {
      index: i,
      seq: ((s.seqStart ?? 1000) + sentCount) & 0xffff,
      timestamp: ((s.tsStart ?? 5000) + i * frameTs) % 2 ** 32,
      ssrc: s.ssrc ?? 0x1234,
      marker: i === 0 || !prevSent,
      payload: encoder.encode(pcm),
      arrivalMs: sendMs + delay,
    };
    sentCount++;
    if (s.lossRate && random() < s.lossRate) {
      lostInNetwork++;
      continue;
    }
    packets.push(packet);
  }
  if (s.mutate) packets = s.mutate(packets);
  packets.sort((a, b) => a.arrivalMs - b.arrivalMs);

  const jb = new JitterBuffer(s.codec, s.options);
  const pullSamples = (sampleRate * pullMs) / 1000;
  // Stop when the far end stops: what is still buffered then would only show up as a final underrun.
  const pulls = Math.floor(s.durationMs / pullMs);
  const output = new Int16Array(pulls * pullSamples);
  const trace: JitterBufferStats[] = [];
  let next = 0;
  let playStart = -1;
  for (let p = 0; p < pulls; p++) {
    const now = p * pullMs;
    while (next < packets.length && packets[next]!.arrivalMs <= now) {
      const packet = packets[next++]!;
      if (packet.event) jb.noteTelephoneEvent(packet.ssrc, packet.timestamp, packet.event.durationTs, packet.event.ended);
      else jb.push(packet);
    }
    output.set(jb.pull(pullSamples, now), p * pullSamples);
    const st = jb.stats();
    trace.push(st);
    if (playStart < 0 && st.state === 'playing') playStart = p * pullSamples;
  }
  const stats = jb.stats();
  jb.close();
  return { output, trace, stats, playStart, sent: packets, lostInNetwork };
}

/** Largest |x[n] - x[n-1]| over [start, end). */
export function maxStep(x: Int16Array, start: number, end: number): number {
  let m = 0;
  for (let i = Math.max(1, start); i < end; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
}
