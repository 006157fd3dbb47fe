// Randomized robustness: whatever bytes arrive, the validator returns a well-formed verdict and
// never throws; a 'reject' is always answerable; and whatever it accepts, sip.js's parser can
// take without throwing (the transport hands accepted messages straight to it).
// Deterministic: seeded PRNG; set SIP_FUZZ_SEED to explore other inputs.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Core } from 'sip.js';
import { buildStatelessErrorResponse, validateSipMessage } from '../../../src-main/core/sip/wire/message-validator';
import { loadTortureCorpus } from './rfc4475-corpus';
import { seededRandom } from '../../harness/seeded-random';

const SEED = Number(process.env.SIP_FUZZ_SEED ?? 0x5eed4475);
const REASON_PHRASE = /^[A-Za-z0-9\-_.!~*'() \t;/?:@&=+$,]+$/;
const corpus = loadTortureCorpus();


const sipLogger = (() => {
  const ignore = (): void => undefined;
  return { error: ignore, warn: ignore, log: ignore, debug: ignore } as unknown as Parameters<typeof Core.Parser.parseMessage>[1];
})();

/** Checks every property on one input; returns the verdict kind for coverage accounting. */
function checkInput(raw: Buffer, label: string): string {
  let verdict;
  try {
    verdict = validateSipMessage(raw);
  } catch (error) {
    assert.fail(`${label}: validateSipMessage threw ${String(error)}`);
  }
  const context = () => `${label}: ${JSON.stringify(verdict)} for ${JSON.stringify(raw.toString('latin1').slice(0, 300))}`;
  assert.ok(['accept', 'reject', 'drop'].includes(verdict.kind), context());
  if (verdict.kind !== 'accept') {
    assert.ok(!verdict.reason.startsWith('Validator internal error'), context());
    assert.match(verdict.reason, REASON_PHRASE, context());
  }
  if (verdict.kind === 'reject') {
    assert.ok([400, 416, 505].includes(verdict.status), context());
    const response = buildStatelessErrorResponse(raw, verdict.status, verdict.reason);
    assert.ok(response?.startsWith(`SIP/2.0 ${verdict.status} `) && response.endsWith('\r\n\r\n'), context());
  } else {
    assert.doesNotThrow(() => buildStatelessErrorResponse(raw, 400, 'Bad Request'), context());
  }
  if (verdict.kind === 'accept') {
    try {
      Core.Parser.parseMessage(raw.toString('latin1'), sipLogger);
    } catch (error) {
      assert.fail(`${context()}: accepted, but sip.js's parser threw ${String(error)}`);
    }
  }
  return verdict.kind;
}

/** Octets that matter to SIP syntax, to make random bytes hit interesting paths. */
const ALPHABET = Buffer.from('\r\n\r\n\r\n \t:;,<>"\\@/=?%[]*.-_+~0123456789abcxyzSIP/2.0 INVITE sip:a@b Via v To t CSeq ACK \x00\x7f\xff\xc3\xa9');

function mutate(bytes: Buffer, random: () => number): Buffer {
  let out = Buffer.from(bytes);
  const operations = 1 + Math.floor(random() * 4);
  for (let i = 0; i < operations; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const pick = random();
    if (pick < 0.3 && out.length > 0) {
      out[Math.min(at, out.length - 1)] = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    } else if (pick < 0.55) {
      const insert = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 6) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]!));
      out = Buffer.concat([out.subarray(0, at), insert, out.subarray(at)]);
    } else if (pick < 0.8) {
      out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + Math.floor(random() * 12)))]);
    } else {
      const from = Math.floor(random() * out.length);
      const span = out.subarray(from, from + Math.floor(random() * 40));
      out = Buffer.concat([out.subarray(0, at), span, out.subarray(at)]);
    }
  }
  return out;
}

describe('validator fuzzing', () => {
  test('random octets', (t) => {
    t.diagnostic(`seed ${SEED}`);
    const random = seededRandom(SEED);
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 400);
      const fromAlphabet = random() < 0.7;
      const bytes = Buffer.from(
        Array.from({ length }, () => (fromAlphabet ? ALPHABET[Math.floor(random() * ALPHABET.length)]! : Math.floor(random() * 256))),
      );
      checkInput(bytes, `random #${i}`);
    }
  });

  test('every truncation of every torture message', () => {
    for (const c of corpus) {
      for (let end = 0; end <= c.bytes.length; end++) checkInput(c.bytes.subarray(0, end), `${c.file}[0,${end})`);
    }
  });

  test('mutated torture messages reach all three verdicts', (t) => {
    t.diagnostic(`seed ${SEED}`);
    const random = seededRandom(SEED ^ 0x1234567);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const c = corpus[Math.floor(random() * corpus.length)]!;
      const kind = checkInput(mutate(c.bytes, random), `mutation #${i} of ${c.file}`);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(kinds)));
    for (const kind of ['accept', 'reject', 'drop']) assert.ok((kinds.get(kind) ?? 0) > 100, `${kind}: ${kinds.get(kind)}`);
  });

  test('pathological sizes stay linear enough to finish (safety timeout only)', { timeout: 20_000 }, () => {
    const head = 'OPTIONS sip:a@example.com SIP/2.0\r\n';
    const common = 'From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\n';
    const manyVias = 'Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n'.repeat(3000);
    const longValue = `Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nSubject: ${'"\\'.repeat(30000)}\r\n`;
    const longHost = `Via: SIP/2.0/UDP ${'a-'.repeat(30000)}!\r\n`;
    const manyParams = `Via: SIP/2.0/UDP h.example.com${';p'.repeat(30000)}\r\n`;
    const manyBrackets = `Via: SIP/2.0/UDP h.example.com\r\nContact: ${'<'.repeat(60000)}\r\n`;
    const deepFold = `Via: SIP/2.0/UDP h.example.com\r\nSubject: x${'\r\n y'.repeat(20000)}\r\n`;
    const manyContacts = `Via: SIP/2.0/UDP h.example.com\r\nContact: ${'sip:a@b, '.repeat(8000)}<sip:c@d>\r\n`;
    const manyDisplayNames = `Via: SIP/2.0/UDP h.example.com\r\nContact: ${'A <sip:a@b>, '.repeat(6000)}<sip:c@d>\r\n`;
    for (const headers of [manyVias, longValue, longHost, manyParams, manyBrackets, deepFold, manyContacts, manyDisplayNames]) {
      checkInput(Buffer.from(head + headers + common + '\r\n', 'latin1'), 'pathological');
    }
  });
});
