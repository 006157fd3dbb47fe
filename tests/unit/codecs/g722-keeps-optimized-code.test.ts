import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ON_NODE_20_V8, repoModule, runWithV8NativesOutput } from '../../harness/v8-natives';

/**
 * See g722-adpcm.ts (SubBand.updateScale, UPZERO's steps, the quantizers' magnitudes and tables,
 * the log-scale limits). A call's audio often starts silent (a muted or quiet microphone, a far
 * end's silence) and gets louder later. Code that V8 optimized on silence had no type feedback for
 * the paths only sound takes (a negative difference, a log scale factor above its floor, a scale
 * shifted left on loud audio, the -0 of a zero step negated): in V8's log, the first sound, and
 * again the first loud passage, threw the encoder and decoder away. In a Node that can ask V8
 * (%OptimizeFunctionOnNextCall, no concurrent recompilation, `--trace-deopt`): optimized on
 * silence, the codec must keep its code through quiet and then full-scale audio.
 */
describe('G.722 keeps its optimized code as the audio gets louder', ON_NODE_20_V8, () => {
  test('optimized on silence, no G.722 function is thrown away by quiet speech-band tones or full-scale ones', () => {
    const script = `(await import(${repoModule('src-main/core/app/v8-tuning.ts')})).tuneV8ForCalls();
      const { G722EncoderState, G722DecoderState } = await import(${repoModule('src-main/core/media/codecs/g722-adpcm.ts')});
      const tone = (amplitude, period) => Int16Array.from({ length: 320 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * i) / period)));
      const phases = { silence: new Int16Array(320), quiet: tone(200, 40), loud: tone(32000, 7) };
      const encoder = new G722EncoderState();
      const decoder = new G722DecoderState();
      const encode = G722EncoderState.prototype.encode;
      const decode = G722DecoderState.prototype.decode;
      const round = (pcm) => decoder.decode(encoder.encode(pcm));
      %PrepareFunctionForOptimization(encode);
      %PrepareFunctionForOptimization(decode);
      for (let i = 0; i < 20; i++) round(phases.silence);
      %OptimizeFunctionOnNextCall(encode);
      %OptimizeFunctionOnNextCall(decode);
      round(phases.silence);
      const optimized = { silence: [turbofan(encode), turbofan(decode)] };
      round(phases.quiet);
      optimized.quiet = [turbofan(encode), turbofan(decode)];
      for (let i = 0; i < 20; i++) round(phases.loud);
      optimized.loud = [turbofan(encode), turbofan(decode)];
      console.log('RESULT ' + JSON.stringify(optimized));
    `;
    const output = runWithV8NativesOutput(script, ['--trace-deopt']);
    const lines = output.split('\n');
    const result = lines.find((l) => l.startsWith('RESULT '));
    assert.ok(result, `no result in:\n${output.slice(-2000)}`);
    assert.deepEqual(JSON.parse(result.slice('RESULT '.length)), { silence: [true, true], quiet: [true, true], loud: [true, true] });
    // Nor any of the functions the codec is made of (optimized on their own, or inlined).
    const codecFunctions = /<JSFunction (encode|encodeLow|encodeHigh|decode|decodeLow|decodeHigh|adapt|updateScale|lowLogScale|highLogScale|qmf\w+|sat16) /;
    const thrownAway = lines.filter((l) => l.includes('bailout') && codecFunctions.test(l));
    assert.deepEqual(thrownAway.map((l) => l.replace(/0x[0-9a-f]+/g, '').slice(0, 160)), []);
  });
});
