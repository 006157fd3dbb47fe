/**
 * Codec registry: the set of audio codecs this process can negotiate, in preference order.
 *
 * Contract:
 * - `register(codec)` adds a codec and returns a function that removes it again (like baresip's
 *   module init/close pairs). Registering a second codec with the same encoding name, clock rate
 *   and channel count MUST fail: two implementations for one SDP format would be ambiguous.
 * - Lookup is by SDP encoding name (case-insensitive), RTP clock rate and channel count.
 * - Registration order is the default preference order (earlier = preferred).
 * - `preferred(names)` returns the codecs named, in that order; it throws on a name that is not
 *   registered so a typo in settings is reported instead of silently dropping a codec.
 *
 * Ownership: registries are mutated at startup (or when a codec module loads/unloads) on the
 * Node main thread; sessions read them when they build an offer or answer.
 */
import type { AudioCodec } from './audio-codec';

function formatKey(encodingName: string, clockRate: number, channels: number): string {
  return `${encodingName.toLowerCase()}/${clockRate}/${channels}`;
}

export class CodecRegistry {
  private readonly codecs: AudioCodec[] = [];

  register(codec: AudioCodec): () => void {
    const { encodingName, rtpClockRate, channels } = codec.info;
    if (this.find(encodingName, rtpClockRate, channels)) {
      throw new Error(`Codec ${encodingName}/${rtpClockRate}/${channels} is already registered`);
    }
    this.codecs.push(codec);
    return () => {
      const index = this.codecs.indexOf(codec);
      if (index >= 0) this.codecs.splice(index, 1);
    };
  }

  find(encodingName: string, clockRate: number, channels = 1): AudioCodec | undefined {
    const key = formatKey(encodingName, clockRate, channels);
    return this.codecs.find((c) => formatKey(c.info.encodingName, c.info.rtpClockRate, c.info.channels) === key);
  }

  /** All registered codecs in registration (= default preference) order. */
  list(): readonly AudioCodec[] {
    return [...this.codecs];
  }

  /**
   * Codecs in the given preference order (encoding names, optionally "name/clockrate"), or all
   * registered codecs when `names` is undefined.
   */
  preferred(names?: readonly string[]): AudioCodec[] {
    if (names === undefined) return this.list() as AudioCodec[];
    const result: AudioCodec[] = [];
    for (const name of names) {
      const [encodingName, rate] = name.split('/');
      const matches = this.codecs.filter(
        (c) =>
          c.info.encodingName.toLowerCase() === encodingName!.toLowerCase() &&
          (rate === undefined || c.info.rtpClockRate === Number(rate)),
      );
      if (matches.length === 0) {
        const known = this.codecs.map((c) => c.info.encodingName).join(', ') || 'none';
        throw new Error(`Unknown codec "${name}" in codec preference (registered: ${known})`);
      }
      for (const codec of matches) if (!result.includes(codec)) result.push(codec);
    }
    return result;
  }
}

/** The process-wide registry used by calls unless a test passes its own. */
export const codecRegistry = new CodecRegistry();

/** Register a codec in the process-wide registry; the returned function unregisters it. */
export function registerCodec(codec: AudioCodec): () => void {
  return codecRegistry.register(codec);
}

/** Look a codec up in the process-wide registry. */
export function findCodec(encodingName: string, clockRate: number, channels = 1): AudioCodec | undefined {
  return codecRegistry.find(encodingName, clockRate, channels);
}
