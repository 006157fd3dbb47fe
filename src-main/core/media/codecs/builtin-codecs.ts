/**
 * The codecs compiled into Switchboard, in default preference order. New codec modules (G.722,
 * Opus) add themselves to `builtinCodecs` here, at the position that reflects their preference.
 */
import type { AudioCodec } from './audio-codec';
import { codecRegistry, type CodecRegistry } from './codec-registry';
import { pcmaCodec, pcmuCodec } from './g711';

export const builtinCodecs: readonly AudioCodec[] = [pcmuCodec, pcmaCodec];

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
