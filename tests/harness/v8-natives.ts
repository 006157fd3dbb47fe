// Asking V8 about its own code and objects from a test (is a function TurboFan code, does an
// object have fast properties): a script run in a fresh Node with --allow-natives-syntax, so
// the test process itself keeps V8's defaults.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `%GetOptimizationStatus` bit 6: the function runs as TurboFan code (V8 11, Node 20). */
export const TURBOFAN_STATUS_BIT = 64;

/**
 * Options for a test that asks V8's optimizer what it did with our code: such a test was written
 * against Node 20's V8 11.3 (CI's and the bench's), whose tier-up and deoptimizations it pins
 * down; on another V8 (Maglev in between since V8 12, other heuristics) it is skipped, saying so.
 */
export const ON_NODE_20_V8: { skip: string | false } = {
  skip: process.versions.v8.startsWith('11.3.') ? false : `SKIPPED: asks V8 11.3's optimizer (Node 20's), this is V8 ${process.versions.v8}`,
};

/** A module of this repository (`path` from its root) as a JS string literal for the script's `import(...)`. */
export function repoModule(path: string): string {
  return JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));
}

/**
 * A script's body (any JS engine, no imports) in which a packet handler the size of ours (header
 * parse, sequence bookkeeping), `onPacket`, handles `packets` RTP packets, as a V8 tier-up test's
 * workload.
 */
export function packetHandlerWorkload(packets: number): string {
  return `
    const stream = { expected: 0, lost: 0, jitter: 0, last: 0, bytes: 0 };
    function onPacket(packet, arrivalMs) {
      if (packet.length < 12 || packet[0] >> 6 !== 2) return false;
      const seq = (packet[2] << 8) | packet[3];
      const timestamp = ((packet[4] << 24) | (packet[5] << 16) | (packet[6] << 8) | packet[7]) >>> 0;
      const gap = (seq - stream.expected) & 0xffff;
      if (gap !== 0 && gap < 0x8000) stream.lost += gap;
      stream.expected = (seq + 1) & 0xffff;
      const transit = arrivalMs - timestamp / 8;
      const d = Math.abs(transit - stream.last);
      stream.last = transit;
      stream.jitter += (d - stream.jitter) / 16;
      stream.bytes += packet.length - 12;
      return true;
    }
    const packet = new Uint8Array(172);
    packet[0] = 0x80;
    for (let i = 0; i < ${packets}; i++) {
      packet[2] = i >> 8; packet[3] = i & 0xff;
      const ts = i * 160; packet[4] = ts >>> 24; packet[5] = (ts >> 16) & 0xff; packet[6] = (ts >> 8) & 0xff; packet[7] = ts & 0xff;
      onPacket(packet, i * 20 + (i % 3));
    }
  `;
}

/**
 * Defines `call(name)` in a script: two SessionDescriptionHandlers (PCMU, silence in, nothing
 * out) do offer/answer over 127.0.0.1; it resolves to `{ a, b, media }`, `media` being a's
 * started MediaSession. The caller closes `a` and `b`.
 */
export function handlerCallScript(): string {
  return `
    const { createSessionDescriptionHandlerFactory } = await import(${repoModule('src-main/core/media/session-description-handler.ts')});
    const { SilenceSource } = await import(${repoModule('src-main/core/media/audio/silence-source.ts')});
    const { NullSink } = await import(${repoModule('src-main/core/media/audio/null-sink.ts')});
    const callEnv = { localAddress: () => '127.0.0.1', codecPreference: ['PCMU'], openAudio: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }) };
    const call = async (name) => {
      const a = createSessionDescriptionHandlerFactory(callEnv)({ id: name + '-a' });
      const b = createSessionDescriptionHandlerFactory(callEnv)({ id: name + '-b' });
      await b.setDescription((await a.getDescription()).body);
      await a.setDescription((await b.getDescription()).body);
      return { a, b, media: await a.mediaStarted };
    };
  `;
}

/**
 * Runs `script` (an ES module that may use V8 natives, and `turbofan(f)`: is `f` TurboFan code)
 * in a fresh Node with --allow-natives-syntax and without concurrent recompilation, so an
 * optimization asked for or earned happens at once, whatever else the machine is doing. The
 * script writes one JSON value to standard output; that value is returned.
 */
export function runWithV8Natives<T>(script: string): T {
  return JSON.parse(runWithV8NativesOutput(script)) as T;
}

/**
 * The same, with more V8 flags (e.g. `--trace-deopt-verbose`, whose lines V8 writes to the same
 * standard output), returning all of standard output.
 */
export function runWithV8NativesOutput(script: string, v8Flags: readonly string[] = []): string {
  const prelude = `const turbofan = (f) => (%GetOptimizationStatus(f) & ${TURBOFAN_STATUS_BIT}) !== 0;\n`;
  return execFileSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', ...v8Flags, '--import', 'tsx', '--input-type=module', '-e', prelude + script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}
