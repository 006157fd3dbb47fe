import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ON_NODE_20_V8, repoModule, runWithV8Natives } from '../../harness/v8-natives';

/**
 * See double-fields.ts, DOUBLE_ZERO. The jitter buffer's time-scaling and concealment measure a
 * frame's energy and its pitch correlation with sums of squared samples. Optimized while a call's
 * audio was quiet, those sums were compiled as small-integer arithmetic, and the first loud frame
 * (a sum of 2^31 or more) threw the code away ("overflow", in V8's log of a headless's first call)
 * and left it on slower code until compiled again. In a Node that can ask V8 (%GetOptimizationStatus,
 * without concurrent recompilation): optimized on quiet frames, they must still be TurboFan code
 * after a loud one, and compute the same values as before.
 */
describe('loud audio keeps the optimized energy and pitch code', ON_NODE_20_V8, () => {
  test('rms and the pitch search stay TurboFan code at the first loud frame', () => {
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { rms, findPitch } = await import(${repoModule('src-main/core/media/jitter/pitch.ts')});
      const tone = (amplitude) => Int16Array.from({ length: 160 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * i) / 40)));
      const quiet = tone(200);
      const loud = tone(30000); // 160 squares of up to 9e8: far past 2^31
      const pitch = (x) => findPitch(x, 160, 80, 20, 80, 8000);
      const result = {};
      for (const [name, f, run] of [['rms', rms, (x) => rms(x)], ['findPitch', findPitch, pitch]]) {
        %PrepareFunctionForOptimization(f);
        for (let i = 0; i < 20; i++) run(quiet);
        %OptimizeFunctionOnNextCall(f);
        run(quiet);
        const optimized = turbofan(f);
        const value = run(loud);
        result[name] = { optimized, afterLoud: turbofan(f), value };
      }
      process.stdout.write(JSON.stringify(result));
    `;
    const result = runWithV8Natives<Record<string, { optimized: boolean; afterLoud: boolean; value: unknown }>>(script);
    assert.deepEqual(
      Object.fromEntries(Object.entries(result).map(([name, r]) => [name, [r.optimized, r.afterLoud]])),
      { rms: [true, true], findPitch: [true, true] },
    );
    assert.ok(Math.abs((result.rms!.value as number) - 30000 / Math.SQRT2) < 1, `rms of a 30000 sine: ${String(result.rms!.value)}`);
    assert.deepEqual(result.findPitch!.value, { lag: 40, correlation: 1 });
  });

  // pitch.ts, correlationAt: on silence every product of the cross-correlation is 0 x 0, a small
  // integer, and the normalization was never reached (an early return for zero energy); the first
  // sound brought 0 x a negative sample, which is -0, and the division: both threw the search away
  // ("minus zero", "insufficient type feedback" in V8's log of a jitter buffer optimized on silence).
  test('the pitch search stays TurboFan code at the first sound after silence', () => {
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { findPitch } = await import(${repoModule('src-main/core/media/jitter/pitch.ts')});
      const silence = new Int16Array(160);
      const tone = Int16Array.from({ length: 160 }, (_, i) => Math.round(3000 * Math.sin((2 * Math.PI * i) / 40)));
      const pitch = (x) => findPitch(x, 160, 80, 20, 80, 8000);
      %PrepareFunctionForOptimization(findPitch);
      for (let i = 0; i < 20; i++) pitch(silence);
      %OptimizeFunctionOnNextCall(findPitch);
      pitch(silence);
      const optimized = turbofan(findPitch);
      const value = pitch(tone);
      process.stdout.write(JSON.stringify({ optimized, afterSound: turbofan(findPitch), value }));
    `;
    const result = runWithV8Natives<{ optimized: boolean; afterSound: boolean; value: unknown }>(script);
    assert.deepEqual([result.optimized, result.afterSound], [true, true]);
    assert.deepEqual(result.value, { lag: 40, correlation: 1 });
  });
});
