/**
 * Opus (RFC 6716, RTP mapping RFC 7587) as an AudioCodec, using libopus 1.4 compiled to
 * WebAssembly by the npm package `opusscript` (no native addon, runs in plain Node and Electron).
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
 * - PLC: conceal(samples) runs libopus' own concealment (decode with no packet).
 * - FEC: the encoder embeds in-band FEC (OPUS_SET_INBAND_FEC, expected loss 10 %) so peers can
 *   recover our lost frames. Decoding FEC from the *next* packet (opus_decode(..., decode_fec=1)) is
 *   NOT possible with opusscript: its wasm wrapper hard-codes decode_fec=0 and exposes no other decode
 *   entry point. `opusDecoderSupportsFec` says so to callers.
 *
 * Ownership: encoder/decoder instances belong to one RTP stream; Node main thread only. All instances
 * share one wasm heap (opusscript's module), so close() MUST be called to free their memory.
 */
import OpusScript from 'opusscript';
import type { AudioCodec, AudioDecoder, AudioEncoder } from './audio-codec';

const SAMPLE_RATE = 48000;
/** libopus CTL request numbers (opus_defines.h). */
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
/** Packets this short carry no audio and are not sent when DTX is on (RFC 7587 §3.1.3). */
const DTX_MAX_PACKET_BYTES = 2;
/** Crossfade from concealment back into decoded audio (2.5 ms) to avoid a click at the join. */
const RECOVERY_CROSSFADE = 120;
/** Frame sizes libopus accepts at 48 kHz. */
const VALID_FRAME_SIZES = new Set([120, 240, 480, 960, 1920, 2880]);

/** Whether our Opus decoder can decode in-band FEC from the next packet (see module comment). */
export const opusDecoderSupportsFec = false;

export interface OpusCodecOptions {
  /** Enable discontinuous transmission (fewer packets in silence). Default false. */
  dtx?: boolean;
  /** Target bitrate in bit/s; default lets libopus choose (about 24-32 kbit/s for 20 ms mono VoIP). */
  bitrate?: number;
  /** Expected packet loss in percent, tunes in-band FEC redundancy. Default 10. */
  expectedLossPercent?: number;
}

function toBuffer(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

/** opusscript returns a Buffer that may be unaligned for Int16Array; copy into a fresh array. */
function toInt16(bytes: Buffer): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 2));
  return out;
}

class OpusEncoderImpl implements AudioEncoder {
  private opus: OpusScript | undefined;

  constructor(private readonly options: OpusCodecOptions) {
    const opus = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
    try {
      opus.encoderCTL(OPUS_SET_INBAND_FEC, 1);
      opus.encoderCTL(OPUS_SET_PACKET_LOSS_PERC, options.expectedLossPercent ?? 10);
      if (options.dtx) opus.encoderCTL(OPUS_SET_DTX, 1);
      if (options.bitrate !== undefined) opus.setBitrate(options.bitrate);
    } catch (error) {
      opus.delete();
      throw new Error(`Opus encoder setup failed: ${(error as Error).message}`, { cause: error });
    }
    this.opus = opus;
  }

  encode(pcm: Int16Array): Uint8Array {
    if (!this.opus) throw new Error('Opus encoder used after close()');
    if (!VALID_FRAME_SIZES.has(pcm.length)) {
      throw new RangeError(`Opus frame must be 2.5/5/10/20/40/60 ms at 48 kHz, got ${pcm.length} samples`);
    }
    const packet = this.opus.encode(toBuffer(pcm), pcm.length);
    if (this.options.dtx && packet.length <= DTX_MAX_PACKET_BYTES) return new Uint8Array(0);
    return new Uint8Array(packet);
  }

  close(): void {
    this.opus?.delete();
    this.opus = undefined;
  }
}

class OpusDecoderImpl implements AudioDecoder {
  private opus: OpusScript | undefined = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
  /**
   * libopus (through opusscript) conceals in fixed 60 ms blocks; what conceal() has not handed out
   * yet waits here. It is also the natural continuation of the played concealment, used to crossfade
   * into the next real frame.
   */
  private pendingConcealment: Int16Array = new Int16Array(0);
  private concealedSinceLastPacket = false;

  decode(payload: Uint8Array): Int16Array {
    if (!this.opus) throw new Error('Opus decoder used after close()');
    if (payload.length === 0) throw new RangeError('Opus payload is empty (a lost frame is conceal(), not decode())');
    let pcm: Int16Array;
    try {
      pcm = toInt16(this.opus.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
    } catch (error) {
      throw new Error(`Opus decode of ${payload.length}-byte packet failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.concealedSinceLastPacket) {
      const n = Math.min(RECOVERY_CROSSFADE, pcm.length, this.pendingConcealment.length);
      for (let i = 0; i < n; i++) {
        const w = (i + 1) / (n + 1);
        pcm[i] = Math.round(this.pendingConcealment[i]! * (1 - w) + pcm[i]! * w);
      }
    }
    this.pendingConcealment = new Int16Array(0);
    this.concealedSinceLastPacket = false;
    return pcm;
  }

  conceal(samples: number): Int16Array {
    if (!this.opus) throw new Error('Opus decoder used after close()');
    while (this.pendingConcealment.length < samples) {
      const more = toInt16(this.opus.decode(Buffer.alloc(0)));
      if (more.length === 0) throw new Error('Opus concealment produced no audio');
      const joined = new Int16Array(this.pendingConcealment.length + more.length);
      joined.set(this.pendingConcealment);
      joined.set(more, this.pendingConcealment.length);
      this.pendingConcealment = joined;
    }
    const out = this.pendingConcealment.slice(0, samples);
    this.pendingConcealment = this.pendingConcealment.subarray(samples);
    this.concealedSinceLastPacket = true;
    return out;
  }

  close(): void {
    this.opus?.delete();
    this.opus = undefined;
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
