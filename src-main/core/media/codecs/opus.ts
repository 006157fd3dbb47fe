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
 * - FEC: the encoder embeds in-band FEC (OPUS_SET_INBAND_FEC, expected loss 10 %) so peers can
 *   recover our lost frames; recover(nextPayload, samples) rebuilds OUR lost frame from the next
 *   packet's FEC (opus_decode(..., decode_fec=1)); a packet without FEC gives libopus' concealment.
 *
 * Ownership: encoder/decoder instances belong to one RTP stream; Node main thread only. All instances
 * share one wasm heap, so close() MUST be called to free their memory.
 */
import { OPUS_MAX_FRAME_SAMPLES, OpusDecoderState, OpusEncoderState } from './libopus-wasm';
import type { AudioCodec, AudioDecoder, AudioEncoder } from './audio-codec';

const SAMPLE_RATE = 48000;
/** libopus CTL request numbers (opus_defines.h). */
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_SET_BITRATE = 4002;
/** Packets this short carry no audio and are not sent when DTX is on (RFC 7587 §3.1.3). */
const DTX_MAX_PACKET_BYTES = 2;
/** Crossfade from concealment back into decoded audio (2.5 ms) to avoid a click at the join. */
const RECOVERY_CROSSFADE = 120;
/** Frame sizes libopus accepts at 48 kHz. */
const VALID_FRAME_SIZES = new Set([120, 240, 480, 960, 1920, 2880]);

/** libopus conceals in multiples of 2.5 ms at 48 kHz. */
const CONCEAL_GRAIN = 120;

export interface OpusCodecOptions {
  /** Enable discontinuous transmission (fewer packets in silence). Default false. */
  dtx?: boolean;
  /** Target bitrate in bit/s; default lets libopus choose (about 24-32 kbit/s for 20 ms mono VoIP). */
  bitrate?: number;
  /** Expected packet loss in percent, tunes in-band FEC redundancy. Default 10. */
  expectedLossPercent?: number;
  /** Embed in-band FEC in what we send. Default true (our fmtp says useinbandfec=1). */
  fec?: boolean;
}

class OpusEncoderImpl implements AudioEncoder {
  private readonly opus: OpusEncoderState;

  constructor(private readonly options: OpusCodecOptions) {
    const opus = new OpusEncoderState();
    try {
      opus.ctl(OPUS_SET_INBAND_FEC, options.fec === false ? 0 : 1);
      opus.ctl(OPUS_SET_PACKET_LOSS_PERC, options.expectedLossPercent ?? 10);
      if (options.dtx) opus.ctl(OPUS_SET_DTX, 1);
      if (options.bitrate !== undefined) opus.ctl(OPUS_SET_BITRATE, options.bitrate);
    } catch (error) {
      opus.destroy();
      throw new Error(`Opus encoder setup failed: ${(error as Error).message}`, { cause: error });
    }
    this.opus = opus;
  }

  encode(pcm: Int16Array): Uint8Array {
    if (!VALID_FRAME_SIZES.has(pcm.length)) {
      throw new RangeError(`Opus frame must be 2.5/5/10/20/40/60 ms at 48 kHz, got ${pcm.length} samples`);
    }
    const packet = this.opus.encode(pcm);
    if (this.options.dtx && packet.length <= DTX_MAX_PACKET_BYTES) return new Uint8Array(0);
    return packet;
  }

  close(): void {
    this.opus.destroy();
  }
}

class OpusDecoderImpl implements AudioDecoder {
  private readonly opus = new OpusDecoderState();
  /**
   * Concealment libopus produced beyond what conceal() was asked for (its 2.5 ms grain), handed out
   * first by the next conceal(). When a packet comes instead, it is the natural continuation of the
   * played concealment and the decoded audio is crossfaded from it.
   */
  private pendingConcealment: Int16Array = new Int16Array(0);

  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0) throw new RangeError('Opus payload is empty (a lost frame is conceal(), not decode())');
    return this.joinConcealment(this.run(payload, OPUS_MAX_FRAME_SAMPLES, false, `Opus decode of ${payload.length}-byte packet failed`));
  }

  recover(nextPayload: Uint8Array, samples: number): Int16Array {
    if (nextPayload.length === 0) throw new RangeError('Opus FEC needs the next packet; it is empty');
    return this.joinConcealment(this.run(nextPayload, samples, true, `Opus FEC decode from a ${nextPayload.length}-byte packet failed`));
  }

  conceal(samples: number): Int16Array {
    const out = new Int16Array(samples);
    const fromPending = Math.min(samples, this.pendingConcealment.length);
    out.set(this.pendingConcealment.subarray(0, fromPending));
    this.pendingConcealment = this.pendingConcealment.subarray(fromPending);
    if (fromPending < samples) {
      const missing = samples - fromPending;
      const more = this.run(undefined, Math.ceil(missing / CONCEAL_GRAIN) * CONCEAL_GRAIN, false, 'Opus concealment failed');
      if (more.length < missing) throw new Error(`Opus concealment produced ${more.length} samples, needed ${missing}`);
      out.set(more.subarray(0, missing), fromPending);
      this.pendingConcealment = more.subarray(missing);
    }
    return out;
  }

  close(): void {
    this.opus.destroy();
  }

  private run(payload: Uint8Array | undefined, frameSize: number, fec: boolean, doing: string): Int16Array {
    return this.opus.decode(payload, frameSize, fec, doing);
  }

  /** Real audio after concealment: crossfade from the concealment's unplayed continuation, if any. */
  private joinConcealment(pcm: Int16Array): Int16Array {
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
    },
    createEncoder: () => new OpusEncoderImpl(options),
    createDecoder: () => new OpusDecoderImpl(),
  };
}

/** Default Opus codec: 20 ms mono VoIP, in-band FEC on, DTX off. */
export const opusCodec: AudioCodec = createOpusCodec();
