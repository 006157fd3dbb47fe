// The app's microphone as the send clock, on a virtual clock: PortAudioDevice gets 10 ms capture
// frames at 48 kHz from a "sound card" whose clock runs off ours, and the media session sends
// PCMU over real UDP to a socket of the test. Capture paces sending, so nothing piles up or runs
// dry between the two clocks, and a capture stall does not stop the stream.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { FramePort } from '../../../src-main/common/audio/frame-protocol';
import type { AudioSink } from '../../../src-main/core/media/audio/audio-port';
import { PortAudioDevice } from '../../../src-main/core/media/audio/port-audio-device';
import { ulawToLinear } from '../../../src-main/core/media/codecs/g711';
import { MediaSession } from '../../../src-main/core/media/media-session';
import { parseRtpPacket, type RtpPacket } from '../../../src-main/core/media/rtp/rtp-packet';
import { RtpSession } from '../../../src-main/core/media/rtp/rtp-session';
import { RtpStreamSocket } from '../../../src-main/core/media/rtp/rtp-stream-socket';
import { detectTone } from '../../harness/audio-analysis';
import { pcmuNegotiation } from '../../harness/pcmu-negotiation';
import { VirtualMediaClock, waitForIo } from '../../harness/virtual-media-clock';

const RATE = 48000;
const CAPTURE_MS = 10;
const TONE_HZ = 400;

/** The sound card's playout side: pulls on its own clock, which this test does not need to run. */
const idleDeviceSink: AudioSink = {
  sampleRate: RATE,
  write: () => {
    throw new Error('a device-clocked sink is never pushed to');
  },
  setPuller: () => undefined,
  close: async () => undefined,
};

interface CaptureRun {
  packets: RtpPacket[];
  device: PortAudioDevice;
  media: MediaSession;
  capturedSamples: number;
  /** Most samples the device's capture FIFO held after a capture frame was handled. */
  maxBuffered: number;
  /** Longest stretch of our clock (ms) without a packet sent, after the first. */
  longestSilenceMs: number;
}

/** `durationMs` of a call whose capture clock runs `speed` times ours, with capture missing in `gap`. */
async function captureCall(speed: number, durationMs: number, gap?: { atMs: number; forMs: number }): Promise<CaptureRun> {
  const clock = new VirtualMediaClock();
  const port: FramePort = { postMessage: () => undefined, onmessage: null };
  const device = new PortAudioDevice(port, { sampleRate: RATE });
  const receiver = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const packets: RtpPacket[] = [];
  receiver.on('message', (data) => {
    if (data[1]! >= 200 && data[1]! <= 204) return; // RTCP (muxed): SR, SDES
    packets.push(parseRtpPacket(new Uint8Array(data)));
  });
  const rtp = new RtpSession(await RtpStreamSocket.open('127.0.0.1'), undefined, clock);
  const media = new MediaSession({
    rtp,
    negotiated: pcmuNegotiation({ direction: 'sendonly', remoteRtp: { address: '127.0.0.1', port: receiver.address().port } }),
    source: device,
    sink: idleDeviceSink,
  });
  const frame = (RATE * CAPTURE_MS) / 1000;
  let position = 0;
  let maxBuffered = 0;
  let longestSilenceMs = 0;
  let lastSent = { count: 0, at: 0 };
  const start = clock.now();
  /** Real time passes (virtual time stands still) until what was sent has arrived. */
  const drain = () =>
    waitForIo(
      () => packets.length >= rtp.counters.packetsSent,
      () => `only ${packets.length} of ${rtp.counters.packetsSent} datagrams arrived on 127.0.0.1`,
    );
  const watchSends = () => {
    const sent = rtp.counters.packetsSent;
    if (sent !== lastSent.count) {
      if (lastSent.count > 0) longestSilenceMs = Math.max(longestSilenceMs, clock.now() - lastSent.at);
      lastSent = { count: sent, at: clock.now() };
    }
  };
  try {
    media.start();
    for (let n = 0; ; n++) {
      const at = start + ((n + 1) * CAPTURE_MS) / speed;
      if (at > start + durationMs) break;
      // The timer's wake-ups in between (a stall's silence) count as sends too.
      for (let t = clock.now() + 5; t < at; t += 5) {
        clock.advanceTo(t);
        watchSends();
      }
      clock.advanceTo(at);
      if (gap && at - start >= gap.atMs && at - start < gap.atMs + gap.forMs) {
        position += frame; // captured by the card, lost on the way (a hung renderer)
        continue;
      }
      const samples = new Int16Array(frame);
      for (let i = 0; i < frame; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * position++) / RATE));
      port.onmessage?.({ data: { type: 'capture', seq: n, sampleRate: RATE, samples } });
      maxBuffered = Math.max(maxBuffered, device.stats().capture.buffered);
      watchSends();
      await drain();
    }
    await drain();
    const capturedSamples = device.stats().capture.framesReceived * frame;
    return { packets, device, media, capturedSamples, maxBuffered, longestSilenceMs };
  } finally {
    media.stop();
    receiver.close();
    await rtp.close();
  }
}

function assertContinuousRtp(packets: RtpPacket[]): void {
  for (let i = 1; i < packets.length; i++) {
    assert.equal(packets[i]!.sequenceNumber, (packets[i - 1]!.sequenceNumber + 1) & 0xffff, `sequence continues at packet ${i}`);
    assert.equal(packets[i]!.timestamp, (packets[i - 1]!.timestamp + 160) >>> 0, `timestamp advances one 20 ms frame at packet ${i}`);
  }
}

describe('capture as the send clock (virtual clock)', () => {
  for (const speed of [1.003, 0.997]) {
    test(`a sound card ${speed > 1 ? 'fast' : 'slow'} by 0.3 % against our clock: every captured frame is sent once, at once, over a minute`, async () => {
      // Read on our timer, a FIFO between the two clocks grew 3 ms a second (latency, then 200 ms
      // cap and drops) or emptied (a refill gap every ~13 s at 40 ms of buffer).
      const run = await captureCall(speed, 60000);
      const { packets, device, media } = run;
      const stats = device.stats().capture;
      assert.equal(stats.overflowDropped, 0, 'nothing dropped from the capture FIFO');
      assert.equal(stats.underruns, 0, 'no read ran dry');
      assert.ok(run.maxBuffered < 480, `at most part of a capture frame waits in the FIFO (${run.maxBuffered} samples)`);
      // Every 20 ms of capture is one packet: the device's clock paces the stream.
      const expected = run.capturedSamples / (RATE / 50);
      assert.ok(Math.abs(media.stats().packetsSent - expected) <= 2, `${media.stats().packetsSent} packets for ${expected.toFixed(1)} frames of capture`);
      assertContinuousRtp(packets);
      // The audio is the captured sine without a skip or a gap (after the first two packets: the
      // resampler's filter delay).
      const heard = packets.slice(2).flatMap((p) => Array.from(p.payload, ulawToLinear));
      const tone = detectTone(heard, 8000, TONE_HZ, { minFraction: 1, minSnrDb: 25 });
      assert.ok(tone.present, `the sine arrives whole: ${(tone.fraction * 100).toFixed(1)} % of windows at SNR >= 25 dB (lowest ${tone.snrDb.toFixed(1)} dB)`);
      // The timer only looks for a stall: a wake-up every ~60 ms, not one per frame.
      assert.ok(media.counters.timerWakeups < media.stats().packetsSent / 2, `${media.counters.timerWakeups} timer wake-ups for ${media.stats().packetsSent} packets`);
    });
  }

  test('capture stalls for 300 ms (a hung renderer): the stream goes on with silence and picks the capture up again', async () => {
    const run = await captureCall(1, 3000, { atMs: 1000, forMs: 300 });
    assertContinuousRtp(run.packets);
    assert.ok(run.longestSilenceMs <= 60 + 20 + 5, `the far end never waits more than the stall check and a frame: longest ${run.longestSilenceMs.toFixed(1)} ms`);
    // 3 s of stream: the capture before and after, silence in between.
    assert.ok(Math.abs(run.packets.length - 150) <= 3, `${run.packets.length} packets in 3 s`);
    const level = (p: RtpPacket) => Math.max(...Array.from(p.payload, (b) => Math.abs(ulawToLinear(b))));
    const silent = run.packets.filter((p) => level(p) < 100).length;
    assert.ok(silent >= 12 && silent <= 17, `${silent} packets of silence for the 300 ms stall (and the start)`);
    assert.ok(level(run.packets.at(-1)!) > 4000, 'the capture after the stall is sent again');
  });
});
