import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ON_NODE_20_V8, packetHandlerWorkload, repoModule, runWithV8Natives, runWithV8NativesOutput } from '../harness/v8-natives';
import { CALL_INTERRUPT_BUDGET, CALL_V8_FLAGS, INLINED_BYTECODE_BUDGET, V8Tiering, callV8Flags, v8TieringOf } from '../../src-main/core/app/v8-tuning';

const flagLists = fileURLToPath(new URL('../fixtures/v8-flags', import.meta.url));

/** The flag names a V8 takes, from its list in tests/fixtures/v8-flags (see the README there). */
function knownFlags(majorMinor: string): Set<string> {
  return new Set(readFileSync(join(flagLists, `${majorMinor}.txt`), 'utf8').split('\n').filter((name) => name !== ''));
}

/** A flag as `--v8-options` names it: no leading dashes, no value, no `no-` of a negated boolean. */
function flagName(flag: string, known: ReadonlySet<string>): string {
  const name = flag.replace(/^--/, '').replace(/=.*$/, '');
  return name.startsWith('no-') && !known.has(name) ? name.slice(3) : name;
}

describe('V8 tuning: only flags the running V8 knows (it answers any other with an error line at every start)', () => {
  const versions = readdirSync(flagLists).filter((file) => file.endsWith('.txt')).map((file) => file.slice(0, -'.txt'.length));

  test('flag lists of V8 11.3 (Node 20) to 14.6 (Node 26) and 15.6 (Chromium 156) are there to check against', () => {
    for (const version of ['11.3', '12.4', '13.6', '14.6', '15.6']) assert.ok(versions.includes(version), `no flag list of V8 ${version}`);
  });

  for (const version of versions) {
    test(`V8 ${version}: every flag chosen for it is one it takes`, () => {
      const known = knownFlags(version);
      const unknown = callV8Flags(`${version}.0.0`).filter((flag) => !known.has(flagName(flag, known)));
      assert.deepEqual(unknown, []);
    });
  }

  test("the running V8's list is what it says itself (`--v8-options`)", (t) => {
    const majorMinor = process.versions.v8.split('.').slice(0, 2).join('.');
    if (!existsSync(join(flagLists, `${majorMinor}.txt`))) {
      t.skip(`SKIPPED: no flag list of this V8 (${process.versions.v8}) in tests/fixtures/v8-flags`);
      return;
    }
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const names = [...new Set(options.split('\n').flatMap((line) => /^ {2}--([a-z0-9_-]+)/.exec(line)?.[1] ?? []))].sort();
    assert.deepEqual([...knownFlags(majorMinor)].sort(), names);
  });

  test('in a fresh Node, tuneV8ForCalls() writes nothing to standard error', () => {
    const script = `const { tuneV8ForCalls } = await import(${repoModule('src-main/core/app/v8-tuning.ts')}); tuneV8ForCalls();`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.equal(run.stderr, '');
  });

  test('the tier-up flags follow the tiering scheme; the measured Node 20 set is unchanged', () => {
    assert.equal(v8TieringOf('11.3.244.8-node.38'), V8Tiering.InterruptBudget);
    assert.equal(v8TieringOf('12.4.254.21-node.57'), V8Tiering.InvocationCount);
    assert.equal(v8TieringOf('14.6.202.34-node.40'), V8Tiering.InvocationCount);
    assert.equal(v8TieringOf('15.6.75.95'), V8Tiering.InvocationCount);
    assert.equal(v8TieringOf('10.2.154.26-node.36'), V8Tiering.Unchecked);
    assert.equal(v8TieringOf('16.0.1.0'), V8Tiering.Unchecked);
    assert.equal(v8TieringOf('not a version'), V8Tiering.Unchecked);
    assert.deepEqual(callV8Flags('11.3.244.8-node.38'), [
      `--interrupt-budget=${CALL_INTERRUPT_BUDGET}`,
      '--no-lazy-feedback-allocation',
      `--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_BUDGET}`,
    ]);
    for (const version of ['12.4.254.21-node.57', '15.6.75.95', '10.2.154.26-node.36', '16.0.1.0']) {
      assert.ok(!callV8Flags(version).some((flag) => flag.startsWith('--interrupt-budget')), version);
    }
  });
});

/**
 * 10 s of packets at 50 a second. (This small handler reaches TurboFan after 800-1500 calls by
 * default, 100-200 tuned; the media code's bigger functions, whose inline caches change as a call
 * goes, took 30-70 s of calls.)
 */
const PACKETS = 500;

/** A script for a fresh Node: tuned by `tuneV8ForCalls()` or not, the packet handler workload. */
function packetHandlerScript(tuned: boolean, packets: number): string {
  return `
    const { tuneV8ForCalls } = await import(${repoModule('src-main/core/app/v8-tuning.ts')});
    if (${tuned}) tuneV8ForCalls();
    ${packetHandlerWorkload(packets)}
  `;
}

/**
 * In a fresh Node: the packet handler (packetHandlerScript) handles PACKETS packets; is it
 * TurboFan code afterwards? V8's own status bits (%GetOptimizationStatus,
 * bit 6 = TurboFan), optimizing on the main thread so the answer does not depend on timing.
 */
function optimizedAfterPackets(tuned: boolean): boolean {
  const script = `${packetHandlerScript(tuned, PACKETS)}
    process.stdout.write(JSON.stringify(turbofan(onPacket)));
  `;
  const optimized = runWithV8Natives<unknown>(script);
  assert.equal(typeof optimized, 'boolean', `unexpected output: ${JSON.stringify(optimized)}`);
  return optimized as boolean;
}

/**
 * In a fresh Node of V8 12-15: the packet handler (packetHandlerScript) handles `packets` packets;
 * did V8 mark it for Maglev meanwhile (its own `--trace-opt`)? (Whether, not when: V8's trace and
 * a script's own markers reach standard output through different buffers on Node 26.)
 */
function markedForMaglev(tuned: boolean, packets: number): boolean {
  return /JSFunction onPacket .* for optimization to MAGLEV/.test(runWithV8NativesOutput(packetHandlerScript(tuned, packets), ['--trace-opt']));
}

/** Whether this Node runs Maglev (V8 12-15 as Node 24 and later and Chromium build it; Node 22 does not). */
function maglevOn(): boolean {
  if (v8TieringOf(process.versions.v8) !== V8Tiering.InvocationCount) return false;
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return /^ {2}--maglev \(.*\n\s+type: bool\s+default: --maglev$/m.test(options);
}

const WITH_MAGLEV = {
  skip: maglevOn() ? false : `SKIPPED: about Maglev's tier-up on V8 12-15, which this Node (V8 ${process.versions.v8}) does not run`,
};

describe("V8 tuning for calls on V8 12-15 with Maglev, in Node: per-packet code reaches Maglev within ~2 s of packets", WITH_MAGLEV, () => {
  test("V8's default: the packet handler is not yet marked for Maglev after 300 packets (6 s at 50 a second)", () => {
    assert.equal(markedForMaglev(false, 300), false);
  });

  test('tuned: marked within 110 packets (~2 s)', () => {
    assert.equal(markedForMaglev(true, 110), true);
  });
});

describe('V8 tuning for calls (per-packet code optimized within seconds of the first call)', ON_NODE_20_V8, () => {
  test("V8's default leaves a packet handler on baseline code after 10 s of packets", () => {
    assert.equal(optimizedAfterPackets(false), false);
  });

  test('tuned, the same handler is optimized within those 10 s of packets', () => {
    assert.equal(optimizedAfterPackets(true), true);
  });
});

/**
 * In a fresh Node: a per-stream handler whose first packet latches the source (a path taken once
 * per call, as RtpStreamSocket's latch is) is optimized during one stream; does it stay TurboFan
 * code through the NEXT stream's first packet? By default V8 had no feedback for that path (it
 * ran before the function's feedback existed), so the new call's first packet throws the code away.
 */
function optimizedThroughNextStreamsFirstPacket(tuned: boolean): { optimized: boolean; afterNextStreamFirstPacket: boolean } {
  const script = `
    const { tuneV8ForCalls } = await import(${repoModule('src-main/core/app/v8-tuning.ts')});
    if (${tuned}) tuneV8ForCalls();
    class Stream {
      constructor() { this.latched = undefined; this.received = 0; }
      onPacket(packet, source) {
        if (this.latched === undefined) this.latched = { address: source.address, port: source.port };
        else if (this.latched.port !== source.port) return false;
        this.received += packet.length;
        return true;
      }
    }
    const source = { address: '127.0.0.1', port: 4000 };
    const packet = new Uint8Array(172);
    const onPacket = Stream.prototype.onPacket;
    const first = new Stream();
    for (let i = 0; i < 100; i++) first.onPacket(packet, source);
    %OptimizeFunctionOnNextCall(onPacket);
    first.onPacket(packet, source);
    const optimized = turbofan(onPacket);
    new Stream().onPacket(packet, source);
    process.stdout.write(JSON.stringify({ optimized, afterNextStreamFirstPacket: turbofan(onPacket) }));
  `;
  return runWithV8Natives(script);
}

describe("V8 tuning for calls: a call's first-packet paths keep the next call's code optimized", ON_NODE_20_V8, () => {
  test("V8's default: the next stream's first packet sends the optimized handler back to baseline code", () => {
    assert.deepEqual(optimizedThroughNextStreamsFirstPacket(false), { optimized: true, afterNextStreamFirstPacket: false });
  });

  test('tuned: the handler stays TurboFan code through the next stream\'s first packet', () => {
    assert.deepEqual(optimizedThroughNextStreamsFirstPacket(true), { optimized: true, afterNextStreamFirstPacket: true });
  });
});

/**
 * In a fresh plain Node (no TypeScript loader: its thread made TurboFan's choices vary from run
 * to run), started with `flags`: a media tick calling 8 helpers of ~120 bytes of bytecode each is
 * optimized; how many of them does TurboFan inline into it? (V8's own trace of its decisions.)
 */
function helpersInlinedIntoTick(flags: readonly string[]): number {
  const script = `
    const helper = (k) => new Function('x', 'let s = x; for (let i = 0; i < 3; i++) { s = (s * 31 + ' + k + ') | 0; s ^= s >>> 7; s = (s + i * ' + k + ') | 0; if (s > 1000000) s -= 999; else s += ' + k + '; s = Math.imul(s, 17) | 0; s ^= s << 3; } return s;');
    const [a, b, c, d, e, f, g, h] = Array.from({ length: 8 }, (_, k) => helper(k + 1));
    function tick(x) { return a(x) + b(x) + c(x) + d(x) + e(x) + f(x) + g(x) + h(x); }
    for (let i = 0; i < 200; i++) tick(i);
    %OptimizeFunctionOnNextCall(tick);
    tick(1);
  `;
  const trace = execFileSync(process.execPath, [...flags, '--allow-natives-syntax', '--no-concurrent-recompilation', '--trace-turbo-inlining', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return trace.split('\n').filter((line) => /^Inlining .* into .*<SharedFunctionInfo tick>/.test(line)).length;
}

describe('V8 tuning for calls: a smaller inlining budget (less code to compile, and to fetch again at every wake-up)', ON_NODE_20_V8, () => {
  test("V8's default inlines nearly all of the tick's helpers", () => {
    assert.ok(helpersInlinedIntoTick([]) >= 6);
  });

  test("with the call flags, at most half of them (the other flags alone: as many as V8's default)", () => {
    const inlined = helpersInlinedIntoTick(CALL_V8_FLAGS);
    assert.ok(inlined >= 1 && inlined <= 4, `${inlined} of 8 helpers inlined`);
    const withoutBudget = CALL_V8_FLAGS.filter((flag) => !flag.startsWith('--max-inlined-bytecode-size-cumulative='));
    assert.ok(helpersInlinedIntoTick(withoutBudget) >= 6);
  });
});
