/**
 * G.722 (ITU-T, 64 kbit/s mode) as an AudioCodec.
 *
 * The famous quirk (RFC 3551 §4.5.2): the codec samples at 16 kHz but SDP and RTP timestamps use an
 * 8000 Hz clock, so a 20 ms frame is 320 PCM samples, 160 payload bytes and +160 RTP timestamp units.
 *
 * No codec-specific concealment: G.722 has none; the jitter buffer's generic PLC covers lost frames.
 */
import type { AudioCodec, AudioDecoder, AudioEncoder } from './audio-codec';
import { G722DecoderState, G722EncoderState } from './g722-adpcm';

export const g722Codec: AudioCodec = {
  info: {
    encodingName: 'G722',
    rtpClockRate: 8000,
    sampleRate: 16000,
    channels: 1,
    staticPayloadType: 9,
  },
  createEncoder(): AudioEncoder {
    let state: G722EncoderState | undefined = new G722EncoderState();
    return {
      encode(pcm: Int16Array): Uint8Array {
        if (!state) throw new Error('G.722 encoder used after close()');
        return state.encode(pcm);
      },
      close(): void {
        state = undefined;
      },
    };
  },
  createDecoder(): AudioDecoder {
    let state: G722DecoderState | undefined = new G722DecoderState();
    return {
      decode(payload: Uint8Array): Int16Array {
        if (!state) throw new Error('G.722 decoder used after close()');
        return state.decode(payload);
      },
      close(): void {
        state = undefined;
      },
    };
  },
};
