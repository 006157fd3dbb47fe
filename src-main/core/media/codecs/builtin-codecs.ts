/**
 * The codecs compiled into Switchboard, in default preference order: Opus (wideband, robust to
 * loss), G.722 (wideband, cheap), then G.711 mu-law and A-law (what every peer speaks).
 * The order is the offer order and the answer choice unless an account or the CLI sets its own
 * preference (`AccountConfig.codecs`, headless `--codecs opus,G722,PCMU,PCMA`), see codec-registry.ts.
 */
import type { AudioCodec } from './audio-codec';
import { codecRegistry, type CodecRegistry } from './codec-registry';
import { pcmaCodec, pcmuCodec } from './g711';
import { g722Codec } from './g722';
import { opusCodec } from './opus';

export const builtinCodecs: readonly AudioCodec[] = [opusCodec, g722Codec, pcmuCodec, pcmaCodec];

/** Register all built-in codecs in `registry`; returns one function that unregisters them all. */
export function registerBuiltinCodecs(registry: CodecRegistry): () => void {
  const unregister: Array<() => void> = [];
  try {
    for (const codec of builtinCodecs) unregister.push(registry.register(codec));
  } catch (error) {
    for (const undo of unregister) undo();
    throw error;
  }
  return () => {
    for (const undo of unregister.reverse()) undo();
  };
}

let installedInDefaultRegistry = false;

/**
 * Make sure the process-wide registry holds the built-in codecs. Idempotent, so every entry point
 * (app, headless, tests) can call it without coordinating.
 */
export function ensureBuiltinCodecs(): CodecRegistry {
  if (!installedInDefaultRegistry) {
    registerBuiltinCodecs(codecRegistry);
    installedInDefaultRegistry = true;
  }
  return codecRegistry;
}
