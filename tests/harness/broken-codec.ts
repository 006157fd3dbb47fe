// PCMU with a defect, in a registry of its own: for tests of what a call does when its media work
// throws (an encoder failing mid-call, a decoder that cannot be made). Nothing in the product
// fails this way on purpose; this is how such a bug is made to happen.
import { CodecRegistry } from '../../src-main/core/media/codecs/codec-registry';
import { pcmuCodec } from '../../src-main/core/media/codecs/g711';

export interface CodecDefect {
  /** The encoder throws "the encoder failed" from this many frames on. */
  encoderFailsAfter?: number;
  /** createDecoder throws "no decoder for you" (at the far end's first packet). */
  noDecoder?: boolean;
}

/** `defect` is read as the codec works: a test may change it between calls. */
export function brokenPcmuRegistry(defect: CodecDefect): CodecRegistry {
  const registry = new CodecRegistry();
  registry.register({
    ...pcmuCodec,
    createEncoder: (peerFmtp) => {
      const encoder = pcmuCodec.createEncoder(peerFmtp);
      let frames = 0;
      return {
        encode: (pcm) => {
          if (defect.encoderFailsAfter !== undefined && ++frames > defect.encoderFailsAfter) throw new Error('the encoder failed');
          return encoder.encode(pcm);
        },
        close: () => encoder.close(),
      };
    },
    createDecoder: () => {
      if (defect.noDecoder) throw new Error('no decoder for you');
      return pcmuCodec.createDecoder();
    },
  });
  return registry;
}
