// The negotiated audio of a plain PCMU call on 127.0.0.1 with rtcp-mux, for media tests that
// drive a MediaSession without SDP; `over` changes what a test is about.
import { pcmuCodec } from '../../src-main/core/media/codecs/g711';
import type { NegotiatedAudio } from '../../src-main/core/media/sdp/offer-answer';

export function pcmuNegotiation(over: Partial<NegotiatedAudio> & Pick<NegotiatedAudio, 'direction'>): NegotiatedAudio {
  return {
    send: { codec: pcmuCodec, payloadType: 0 },
    receive: [{ codec: pcmuCodec, payloadType: 0 }],
    ptime: 20,
    remoteRtp: { address: '127.0.0.1', port: 9 },
    rtcpMux: true,
    ...over,
  };
}
