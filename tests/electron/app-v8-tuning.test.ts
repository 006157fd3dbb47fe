// The V8 tuning the app's main process sets (tuneV8ForCalls: src-main/core/app/v8-tuning.ts),
// checked on the app's V8 generation. Electron embeds Chromium's V8 (Electron 45: 15.4), newer than
// any Node here, and no Electron binary can be had here; Debian's Chromium (156: V8 15.6) runs that
// generation, so the flags go to its V8 by `--js-flags`, as `v8.setFlagsFromString` hands them to
// Electron's. (In Node, tests/unit/v8-tuning.test.ts checks the same on V8 11.3 to 14.6.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumV8Version, runInChromiumV8 } from '../harness/chromium-v8';
import { packetHandlerWorkload } from '../harness/v8-natives';
import { V8Tiering, callV8Flags, v8TieringOf } from '../../src-main/core/app/v8-tuning';

const v8Version = await chromiumV8Version();
const tuning = callV8Flags(v8Version);

/** `%GetOptimizationStatus` bits of V8 15 (src/runtime/runtime.h, OptimizationStatus). */
const STATUS = {
  optimized: 1 << 3,
  maglevved: 1 << 4,
  turboFanned: 1 << 5,
  interpreted: 1 << 6,
  markedForMaglev: 1 << 21,
  markedForConcurrentMaglev: 1 << 22,
};

type HandlerTier = 'unoptimized' | 'marked for Maglev' | 'Maglev' | 'TurboFan';

/**
 * In a fresh Chromium whose V8 has the tuning or not: where is the packet handler after `packets`
 * packets? Optimizing on the main thread (`--no-concurrent-recompilation`), so a function marked
 * for Maglev is compiled at its next call and the answer does not depend on timing. The page also
 * forces a probe function to Maglev, to check that the status bits mean here what STATUS says.
 */
function handlerTierAfter(tuned: boolean, packets: number): HandlerTier {
  const { result } = runInChromiumV8<{ handler: number; probe: number }>(
    `${packetHandlerWorkload(packets)}
    function probe(x) { return x * 2 + 1; }
    %PrepareFunctionForOptimization(probe);
    probe(1); probe(2);
    %OptimizeMaglevOnNextCall(probe);
    probe(3);
    return { handler: %GetOptimizationStatus(onPacket), probe: %GetOptimizationStatus(probe) };`,
    ['--allow-natives-syntax', '--no-concurrent-recompilation', ...(tuned ? tuning : [])],
  );
  assert.equal(result.probe & (STATUS.optimized | STATUS.maglevved | STATUS.interpreted), STATUS.optimized | STATUS.maglevved, `V8 ${v8Version}'s status bits are not V8 15's: probe ${result.probe.toString(2)}`);
  if (result.handler & STATUS.turboFanned) return 'TurboFan';
  if (result.handler & STATUS.maglevved) return 'Maglev';
  if (result.handler & (STATUS.markedForMaglev | STATUS.markedForConcurrentMaglev)) return 'marked for Maglev';
  return 'unoptimized';
}

describe(`the app's V8 tuning on Chromium's V8 (${v8Version}, the generation Electron embeds)`, () => {
  test('the flags chosen for this V8 are ones it takes: no "unrecognized flag" on standard error (the old tuning\'s flag gets one)', () => {
    const body = 'return 1;';
    assert.doesNotMatch(runInChromiumV8(body, tuning).stderr, /unrecognized flag/);
    assert.match(runInChromiumV8(body, ['--interrupt-budget=8192']).stderr, /Error: unrecognized flag --interrupt-budget=8192/);
  });

  const withMaglev = { skip: Number(v8Version.split('.')[0]) >= 12 ? false : `SKIPPED: Chromium's V8 ${v8Version} predates Maglev (V8 12)` };

  test("V8's default: the packet handler is not yet marked for Maglev after 300 packets (6 s at 50 a second)", withMaglev, () => {
    assert.equal(handlerTierAfter(false, 300), 'unoptimized');
  });

  test('tuned as the app is: marked for Maglev within 110 packets (~2 s), Maglev code from the next packets', withMaglev, () => {
    assert.equal(v8TieringOf(v8Version), V8Tiering.InvocationCount, `the tuning does not know V8 ${v8Version}'s tier-up: check its flags (tests/fixtures/v8-flags) and extend V8Tiering`);
    assert.equal(handlerTierAfter(true, 110), 'marked for Maglev');
    assert.equal(handlerTierAfter(true, 130), 'Maglev');
  });
});
