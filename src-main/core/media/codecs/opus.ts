/**
 * Opus (RFC 6716, RTP mapping RFC 7587) as an AudioCodec, on libopus compiled to WebAssembly
 * (libopus-wasm.ts: no native addon, runs in plain Node and Electron).
 *
 * Contract:
 * - PCM in and out is mono 16-bit at 48 kHz; one encode() call takes one frame of 2.5/5/10/20/40/60 ms
 *   (20 ms = 960 samples is what we send). The RTP clock is always 48000 (RFC 7587 §4.1).
 * - SDP: RFC 7587 §7 REQUIRES "a=rtpmap:<pt> opus/48000/2" whatever is actually sent, hence
 *   info.channels = 2; the streams themselves are mono (no "stereo=1" offered).
 * - fmtp offered: "minptime=10;useinbandfec=1" (+ ";usedtx=1" when DTX is enabled).
 * - DTX: with `dtx: true` the encoder runs OPUS_SET_DTX; for silent frames libopus returns a packet of
 *   at most 2 bytes that need not be sent. encode() then returns an EMPTY Uint8Array, meaning "send no
 *   RTP packet for this frame" (timestamps still advance by the frame). On receive, DTX needs nothing
 *   special: the gap is played out as concealment/comfort noise by conceal(), and 1-byte TOC-only
 *   packets decode to silence.
 * - PLC: conceal(samples) runs libopus' own concealment (decode with no packet) for exactly that
 *   many samples, rounded up to libopus' 2.5 ms grain (the rest is handed out by the next call).
 *   When a packet follows, libopus joins its concealment to it; only that unplayed rest, if any, is
 *   crossfaded into the decoded (or recovered) audio, since libopus ran ahead of what was played.
 * - FEC: the encoder embeds in-band FEC (OPUS_SET_INBAND_FEC, in proportion to the expected loss:
 *   10 % until the far end reports its loss) so peers can recover our lost frames, when the peer's
 *   fmtp says its decoder uses it (useinbandfec=1; see encoderSettings for what else of the peer's
 *   fmtp the encoder follows); recover(nextPayload, samples) rebuilds the frame lost before a received
 *   packet from that packet's FEC (opus_decode(..., decode_fec=1)); libopus conceals instead when the
 *   packet carries none (CELT-only packets, or a sender without FEC). `samples` must be a multiple of
 *   2.5 ms (every Opus frame is) and at most 120 ms, else RangeError.
 *
 * Ownership: encoder/decoder instances belong to one RTP stream; Node main thread only. All instances
 * share one wasm heap, so close() MUST be called to free their memory.
 */
import {
  MAX_FRAME_SAMPLES,
  OPUS_APPLICATION_VOIP,
  SAMPLE_RATE,
  SAMPLES_PER_2_5_MS,
  checkSamples,
  conceal as libopusConceal,
  createDecoder,
  createEncoder,
  decode as libopusDecode,
  destroyDecoder,
  destroyEncoder,
  encode as libopusEncode,
  encoderCtl,
  type OpusDecoderHandle,
  type OpusEncoderHandle,
} from './libopus-wasm';
import type { AudioCodec, AudioDecoder, AudioEncoder } from './audio-codec';
import { parseFmtpParameters } from '../sdp/fmtp-parameters';
import { frameSamples } from '../frame-memory';

/** libopus CTL request numbers (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_SET_VBR = 4006;
const OPUS_SET_COMPLEXITY = 4010;
/**
 * Encoder complexity (0-10). libopus' default is 10; 9 is what WebRTC uses on desktops. 10 adds a
 * signal-analysis pass that changed not one byte of our test signals (voice-like glides, chords,
 * noise, sweeps) and cost ~15 % more encoding CPU on some of them (a gliding tone with noise:
 * 1.95 -> 1.66 % of a core per second of audio), nothing measurable on the bench's speech-like one.
 */
const DEFAULT_COMPLEXITY = 9;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
/** OPUS_SET_MAX_BANDWIDTH values, by the highest audio frequency x2 they carry (opus_defines.h). */
const BANDWIDTH_BY_PLAYBACK_RATE: readonly (readonly [maxRate: number, bandwidth: number])[] = [
  [8000, 1101], // narrowband
  [12000, 1102], // mediumband
  [16000, 1103], // wideband
  [24000, 1104], // super-wideband
];
/** RFC 7587 section 6.1: maxaveragebitrate is 6000..510000. */
const MIN_BITRATE = 6000;
const MAX_BITRATE = 510000;
/**
 * libopus' own bitrate for what we send (OPUS_AUTO: 60 * frames per second + sample rate * channels,
 * opus_encoder.c), which a peer's maxaveragebitrate above it leaves alone.
 */
const AUTO_BITRATE_20MS_MONO = 60 * 50 + SAMPLE_RATE;
/** Packets this short carry no audio and are not sent when DTX is on (RFC 7587 §3.1.3). */
const DTX_MAX_PACKET_BYTES = 2;
/** Crossfade from concealment back into decoded audio (2.5 ms) to avoid a click at the join. */
const RECOVERY_CROSSFADE = 120;
/** Frame sizes we encode at 48 kHz. */
const VALID_FRAME_SIZES = new Set([120, 240, 480, 960, 1920, 2880]);

/**
 * Whether our Opus decoder rebuilds lost frames from the next packet's in-band FEC (decoder.recover).
 * Always true since we bind libopus ourselves; kept for callers from when opusscript could not.
 */
export const opusDecoderSupportsFec = true;

export interface OpusCodecOptions {
  /** Enable discontinuous transmission (fewer packets in silence). Default false. */
  dtx?: boolean;
  /** Target bitrate in bit/s; default is libopus' own (51 kbit/s for 20 ms mono at 48 kHz). */
  bitrate?: number;
  /** Encoder complexity 0-10 (CPU against quality); default DEFAULT_COMPLEXITY. */
  complexity?: number;
  /**
   * Expected packet loss in percent, tunes in-band FEC redundancy, until the far end reports the
   * real loss (setExpectedLoss). Default 10.
   */
  expectedLossPercent?: number;
  /**
   * Embed in-band FEC in what we send. Default true. The fmtp stays "useinbandfec=1" either way:
   * it says what OUR decoder can use (RFC 7587 §6.1).
   */
  fec?: boolean;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * What the far end's decoder asks of our encoder in its fmtp (RFC 7587 section 6.1), applied over
 * our own options:
 * - useinbandfec: FEC only for a peer that says useinbandfec=1 (absent means 0: it would discard
 *   it, so the bits and the encoding CPU go to the audio). Undefined peer (no SDP): our option.
 * - maxaveragebitrate: the sender SHOULD NOT exceed it; our bitrate is capped to it (6000..510000).
 * - maxplaybackrate: no audio coded above what it renders (OPUS_SET_MAX_BANDWIDTH).
 * - cbr=1: constant bitrate.
 * Not followed: usedtx (a preference; DTX stays our own option), stereo (we always send mono,
 * which every Opus receiver decodes). Values that are not numbers are ignored.
 */
function encoderSettings(options: OpusCodecOptions, peerFmtp: string | undefined) {
  const peer = peerFmtp === undefined ? undefined : parseFmtpParameters(peerFmtp);
  const number = (name: string) => {
    const value = peer?.get(name);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  const fec = options.fec !== false && (peer === undefined || peer.get('useinbandfec') === '1');
  const peerMaxBitrate = number('maxaveragebitrate');
  let bitrate = options.bitrate;
  if (peerMaxBitrate !== undefined) {
    const cap = Math.min(MAX_BITRATE, Math.max(MIN_BITRATE, peerMaxBitrate));
    if (cap < (bitrate ?? AUTO_BITRATE_20MS_MONO)) bitrate = cap;
  }
  const playbackRate = number('maxplaybackrate');
  const maxBandwidth = playbackRate === undefined ? undefined : BANDWIDTH_BY_PLAYBACK_RATE.find(([rate]) => playbackRate <= rate)?.[1];
  return { fec, bitrate, maxBandwidth, cbr: peer?.get('cbr') === '1' };
}

class OpusEncoderImpl implements AudioEncoder {
  private handle: OpusEncoderHandle | undefined;
  private expectedLoss: number;

  constructor(
    private readonly options: OpusCodecOptions,
    peerFmtp: string | undefined,
  ) {
    const handle = createEncoder(OPUS_APPLICATION_VOIP);
    const settings = encoderSettings(options, peerFmtp);
    this.expectedLoss = options.expectedLossPercent ?? 10;
    try {
      encoderCtl(handle, OPUS_SET_INBAND_FEC, settings.fec ? 1 : 0);
      encoderCtl(handle, OPUS_SET_PACKET_LOSS_PERC, this.expectedLoss);
      encoderCtl(handle, OPUS_SET_COMPLEXITY, options.complexity ?? DEFAULT_COMPLEXITY);
      if (options.dtx) encoderCtl(handle, OPUS_SET_DTX, 1);
      if (settings.bitrate !== undefined) encoderCtl(handle, OPUS_SET_BITRATE, settings.bitrate);
      if (settings.maxBandwidth !== undefined) encoderCtl(handle, OPUS_SET_MAX_BANDWIDTH, settings.maxBandwidth);
      if (settings.cbr) encoderCtl(handle, OPUS_SET_VBR, 0);
    } catch (error) {
      destroyEncoder(handle);
      throw new Error(`Opus encoder setup failed: ${messageOf(error)}`, { cause: error });
    }
    this.handle = handle;
  }

  encode(pcm: Int16Array): Uint8Array {
    if (this.handle === undefined) throw new Error('Opus encoder used after close()');
    if (!VALID_FRAME_SIZES.has(pcm.length)) {
      throw new RangeError(`Opus frame must be 2.5/5/10/20/40/60 ms at 48 kHz, got ${pcm.length} samples`);
    }
    const packet = libopusEncode(this.handle, pcm);
    if (this.options.dtx && packet.length <= DTX_MAX_PACKET_BYTES) return new Uint8Array(0);
    return packet;
  }

  /**
   * libopus spends in-band FEC (a second, coarser encoding of each frame inside the next packet)
   * in proportion to this: at 0 it sends none, so a clean link gets all the bitrate for the
   * audio itself, and encoding costs half the CPU (measured here: 2.4 -> 1.1 % of a core).
   */
  setExpectedLoss(percent: number): void {
    if (this.handle === undefined) throw new Error('Opus encoder used after close()');
    const value = Math.min(100, Math.max(0, Math.ceil(percent)));
    if (value === this.expectedLoss) return;
    encoderCtl(this.handle, OPUS_SET_PACKET_LOSS_PERC, value);
    this.expectedLoss = value;
  }

  close(): void {
    if (this.handle !== undefined) destroyEncoder(this.handle);
    this.handle = undefined;
  }
}

class OpusDecoderImpl implements AudioDecoder {
  private handle: OpusDecoderHandle | undefined = createDecoder();
  /**
   * Concealment libopus produced beyond what conceal() was asked for (its 2.5 ms grain), handed out
   * first by the next conceal(). When a packet comes instead, it is the natural continuation of the
   * played concealment, and the decoded audio is crossfaded from it.
   */
  private pendingConcealment: Int16Array = new Int16Array(0);

  decode(payload: Uint8Array): Int16Array {
    const handle = this.live();
    if (payload.length === 0) throw new RangeError('Opus payload is empty (a lost frame is conceal(), not decode())');
    let pcm: Int16Array;
    try {
      pcm = libopusDecode(handle, payload, MAX_FRAME_SAMPLES, false);
    } catch (error) {
      throw new Error(`Opus decode of ${payload.length}-byte packet failed: ${messageOf(error)}`, { cause: error });
    }
    return this.afterConcealment(pcm);
  }

  recover(nextPayload: Uint8Array, samples: number): Int16Array {
    const handle = this.live();
    if (nextPayload.length === 0) throw new RangeError('Opus FEC recovery needs the next packet, but it is empty');
    // FEC rebuilds one whole Opus frame: a multiple of 2.5 ms up to 120 ms.
    checkSamples(samples, 'Opus FEC recovery', true);
    let pcm: Int16Array;
    try {
      pcm = libopusDecode(handle, nextPayload, samples, true);
    } catch (error) {
      throw new Error(`Opus FEC recovery from a ${nextPayload.length}-byte packet failed: ${messageOf(error)}`, { cause: error });
    }
    if (pcm.length !== samples) throw new Error(`Opus FEC recovery produced ${pcm.length} samples, asked for ${samples}`);
    return this.afterConcealment(pcm);
  }

  conceal(samples: number): Int16Array {
    const handle = this.live();
    if (!Number.isInteger(samples) || samples < 0) throw new RangeError(`Opus concealment of ${samples} samples`);
    const out = frameSamples(samples);
    let filled = Math.min(samples, this.pendingConcealment.length);
    out.set(this.pendingConcealment.subarray(0, filled));
    this.pendingConcealment = this.pendingConcealment.subarray(filled);
    while (filled < samples) {
      const missing = samples - filled;
      const ask = Math.min(MAX_FRAME_SAMPLES, Math.ceil(missing / SAMPLES_PER_2_5_MS) * SAMPLES_PER_2_5_MS);
      let more: Int16Array;
      try {
        more = libopusConceal(handle, ask);
      } catch (error) {
        throw new Error(`Opus concealment of ${ask} samples failed: ${messageOf(error)}`, { cause: error });
      }
      if (more.length === 0) throw new Error('Opus concealment produced no audio');
      const used = Math.min(missing, more.length);
      out.set(more.subarray(0, used), filled);
      filled += used;
      this.pendingConcealment = more.subarray(used);
    }
    return out;
  }

  close(): void {
    if (this.handle !== undefined) destroyDecoder(this.handle);
    this.handle = undefined;
  }

  private live(): OpusDecoderHandle {
    if (this.handle === undefined) throw new Error('Opus decoder used after close()');
    return this.handle;
  }

  /** Real (decoded or recovered) audio: crossfade from concealment libopus made but we did not play. */
  private afterConcealment(pcm: Int16Array): Int16Array {
    const n = Math.min(RECOVERY_CROSSFADE, pcm.length, this.pendingConcealment.length);
    for (let i = 0; i < n; i++) {
      const w = (i + 1) / (n + 1);
      pcm[i] = Math.round(this.pendingConcealment[i]! * (1 - w) + pcm[i]! * w);
    }
    this.pendingConcealment = new Int16Array(0);
    return pcm;
  }
}

export function createOpusCodec(options: OpusCodecOptions = {}): AudioCodec {
  return {
    info: {
      encodingName: 'opus',
      rtpClockRate: SAMPLE_RATE,
      sampleRate: SAMPLE_RATE,
      channels: 2,
      fmtp: options.dtx ? 'minptime=10;useinbandfec=1;usedtx=1' : 'minptime=10;useinbandfec=1',
      // Whatever we offer: usedtx is the receiver's preference, and a far end may use DTX anyway.
      discontinuous: true,
      frameDurationsMs: [10, 20, 40, 60],
    },
    createEncoder: (peerFmtp) => new OpusEncoderImpl(options, peerFmtp),
    createDecoder: () => new OpusDecoderImpl(),
  };
}

/** Default Opus codec: 20 ms mono VoIP, in-band FEC on, DTX off. */
export const opusCodec: AudioCodec = createOpusCodec();
