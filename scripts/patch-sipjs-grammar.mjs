#!/usr/bin/env node
// Patches sip.js's generated SIP grammar (node_modules/sip.js/lib/grammar/pegjs/dist/grammar.js)
// after every install (package.json "postinstall"), so that it decodes its parse tables once per
// process instead of once per parse.
//
// Why: sip.js 0.21.2 ships a PEG parser generated in "bytecode" form whose entry point, peg$parse,
// rebuilds its whole table of 235 rule programs (`peg$decode`: each a string split into characters
// and mapped to numbers) on EVERY call, before parsing a single character. sip.js calls it for each
// header it parses (first line, Via, From, To, Contact, CSeq, ... of every message), so a header
// cost ~180-320 µs on this machine; with the tables decoded once, 15-70 µs. The tables are pure
// data that peg$parseRule only reads; everything else peg$parse builds (constants, the actions that
// close over the parse's input and options) is left per call, as generated.
//
// The patch is a text edit at two anchors of the generated file. It is idempotent (a patched file
// is recognised and left alone) and refuses, with exit code 1, a grammar.js whose shape it does not
// know (a new sip.js): review the patch then, do not drop it silently. Without it sip.js still
// works, only slower; tests/unit/sip-wire/sipjs-grammar-patch.test.ts checks that it is in place.
//
//   node scripts/patch-sipjs-grammar.mjs      (run by npm ci / npm install)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const GRAMMAR_PATH = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules/sip.js/lib/grammar/pegjs/dist/grammar.js');

const MARKER = '// Switchboard: parse tables decoded once (scripts/patch-sipjs-grammar.mjs)';
const TABLE_START = '    const peg$bytecode = [\n';
const TABLE_END = '\n    ];\n';
const PARSE_FUNCTION = 'function peg$parse(input, options) {';

function exactlyOnce(source, anchor) {
  const at = source.indexOf(anchor);
  if (at < 0 || source.indexOf(anchor, at + 1) >= 0) {
    throw new Error(`sip.js grammar.js: expected exactly one ${JSON.stringify(anchor.trim())}; this sip.js is not the one the patch was written for (review scripts/patch-sipjs-grammar.mjs)`);
  }
  return at;
}

/**
 * The patched text of grammar.js, `source` itself when it is already patched. Throws when the
 * anchors are not where a sip.js 0.21.x grammar has them.
 */
export function patchSipjsGrammar(source) {
  if (isSipjsGrammarPatched(source)) return source;
  const parse = exactlyOnce(source, PARSE_FUNCTION);
  const start = exactlyOnce(source, TABLE_START);
  const end = source.indexOf(TABLE_END, start);
  if (start < parse || end < 0) throw new Error('sip.js grammar.js: the parse tables are not inside peg$parse as expected (review scripts/patch-sipjs-grammar.mjs)');
  return (
    source.slice(0, parse) +
    `${MARKER}\nlet peg$bytecodeDecoded;\n` +
    source.slice(parse, start) +
    '    const peg$bytecode = peg$bytecodeDecoded ?? (peg$bytecodeDecoded = [\n' +
    source.slice(start + TABLE_START.length, end) +
    '\n    ]);\n' +
    source.slice(end + TABLE_END.length)
  );
}

export function isSipjsGrammarPatched(source) {
  return source.includes(MARKER);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const source = readFileSync(GRAMMAR_PATH, 'utf8');
    const patched = patchSipjsGrammar(source);
    if (patched !== source) {
      writeFileSync(`${GRAMMAR_PATH}.tmp`, patched);
      renameSync(`${GRAMMAR_PATH}.tmp`, GRAMMAR_PATH);
      console.error('patch-sipjs-grammar: sip.js grammar patched (parse tables decoded once)');
    }
  } catch (error) {
    console.error(`patch-sipjs-grammar: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
