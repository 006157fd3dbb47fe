import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Grammar } from 'sip.js';

interface GrammarPatch {
  GRAMMAR_PATH: string;
  isSipjsGrammarPatched(source: string): boolean;
  patchSipjsGrammar(source: string): string;
}
const { GRAMMAR_PATH, isSipjsGrammarPatched, patchSipjsGrammar } = (await import(new URL('../../../scripts/patch-sipjs-grammar.mjs', import.meta.url).href)) as GrammarPatch;

/** String.prototype.split calls with the '' separator (how the grammar decodes its tables) during `work`. */
function characterSplitsDuring(work: () => void): number {
  const split = String.prototype.split as (this: string, separator: string | RegExp, limit?: number) => string[];
  let count = 0;
  // Counting, not changing: every call goes to the real split with the same arguments.
  String.prototype.split = function (this: string, separator: string | RegExp, limit?: number) {
    if (separator === '') count++;
    return split.call(this, separator, limit);
  } as typeof String.prototype.split;
  try {
    work();
  } finally {
    String.prototype.split = split as typeof String.prototype.split;
  }
  return count;
}

describe('sip.js grammar patch (scripts/patch-sipjs-grammar.mjs, run at install)', () => {
  test('the installed sip.js grammar is patched', () => {
    assert.ok(
      isSipjsGrammarPatched(readFileSync(GRAMMAR_PATH, 'utf8')),
      `${GRAMMAR_PATH} is not patched: run \`node scripts/patch-sipjs-grammar.mjs\` (npm ci runs it, unless --ignore-scripts)`,
    );
  });

  test('parsing a header no longer decodes the whole grammar each time', () => {
    const via = 'SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds;rport';
    Grammar.parse(via, 'Via'); // the first parse of the process may decode the tables
    let parsed: unknown;
    const splits = characterSplitsDuring(() => {
      parsed = Grammar.parse('<sip:alice@192.0.2.4:5070;transport=udp>;expires=600', 'Contact');
      parsed = Grammar.parse(via, 'Via');
    });
    // Unpatched, every parse decodes 235 rule programs (235 splits); patched, none.
    assert.equal(splits, 0);
    assert.notEqual(parsed, -1);
    assert.equal((parsed as { branch?: string }).branch, 'z9hG4bK776asdhds');
  });

  test('the patch is idempotent and refuses a grammar it does not know', () => {
    const installed = readFileSync(GRAMMAR_PATH, 'utf8');
    assert.equal(patchSipjsGrammar(installed), installed);
    assert.throws(() => patchSipjsGrammar('function peg$parse(input, options) {\n  return 1;\n}\n'), /not the one the patch was written for/);
  });

  test('a grammar shaped like sip.js 0.21 gets its tables hoisted out of peg$parse, nothing else changed', () => {
    const generated = [
      'function peg$parse(input, options) {',
      '    const peg$consts = [() => input];',
      '    const peg$bytecode = [',
      '        peg$decode("%;q"),',
      '        peg$decode("2 ")',
      '    ];',
      '    function peg$decode(s) {',
      '        return s.split("").map((ch) => ch.charCodeAt(0) - 32);',
      '    }',
      '    return [peg$bytecode, peg$consts[0]()];',
      '}',
      'export { peg$parse as parse };',
      '',
    ].join('\n');
    const patched = patchSipjsGrammar(generated);
    const parse = new Function(`${patched.replace('export { peg$parse as parse };', '')}\nreturn peg$parse;`)() as (input: string) => [number[][], string];
    const [first, input1] = parse('a');
    const [second, input2] = parse('b');
    assert.deepEqual(first, [
      [5, 27, 81],
      [18, 0],
    ]);
    assert.equal(second, first, 'the second parse reuses the decoded tables');
    assert.deepEqual([input1, input2], ['a', 'b'], 'the per-parse constants still see their own input');
    assert.equal(patchSipjsGrammar(patched), patched);
  });
});
