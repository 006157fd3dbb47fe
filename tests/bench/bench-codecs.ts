/**
 * The codecs the media benchmarks cover: every module in src-main/core/media/codecs, with the
 * goal the issue states for it, and whether Switchboard's calls offer it today (it is then in
 * `builtinCodecs`, which the SDP offer/answer takes its codecs from).
 */
import type { AudioCodec } from '../../src-main/core/media/codecs/audio-codec';
import { builtinCodecs } from '../../src-main/core/media/codecs/builtin-codecs';
import { pcmaCodec, pcmuCodec } from '../../src-main/core/media/codecs/g711';
import { g722Codec } from '../../src-main/core/media/codecs/g722';
import { opusCodec } from '../../src-main/core/media/codecs/opus';

export interface BenchCodec {
  /** Name as written in SDP and as baresip's harness takes it. */
  name: string;
  codec: AudioCodec;
  wiredInCalls: boolean;
  /** Goal from the issue for whole-process CPU vs baresip. */
  goal?: string;
}

function wired(codec: AudioCodec): boolean {
  const key = (c: AudioCodec) => `${c.info.encodingName.toLowerCase()}/${c.info.rtpClockRate}`;
  return builtinCodecs.some((b) => key(b) === key(codec));
}

/** All of them, or those named in `only` (case-insensitive; an unknown name is an error). */
export function benchCodecs(only?: string[]): BenchCodec[] {
  const all: BenchCodec[] = [
    { name: 'PCMU', codec: pcmuCodec, wiredInCalls: wired(pcmuCodec), goal: '≤ 1.0x (G.711)' },
    { name: 'PCMA', codec: pcmaCodec, wiredInCalls: wired(pcmaCodec), goal: '≤ 1.0x (G.711)' },
    { name: 'G722', codec: g722Codec, wiredInCalls: wired(g722Codec) },
    { name: 'opus', codec: opusCodec, wiredInCalls: wired(opusCodec), goal: '≤ 1.5x (Opus)' },
  ];
  if (!only) return all;
  return only.map((name) => {
    const found = all.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new Error(`--codecs: unknown codec ${JSON.stringify(name)} (have ${all.map((c) => c.name).join(', ')})`);
    return found;
  });
}
