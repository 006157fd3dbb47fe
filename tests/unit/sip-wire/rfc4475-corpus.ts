// Loads the RFC 4475 torture corpus shared beside the repository (../shared/rfc4475, see its
// README.md): 50 byte-exact messages and the verdict RFC 4475 assigns each ('parse' / 'reject').

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const corpusDir = path.resolve(repoRoot, '..', 'shared', 'rfc4475');

export interface TortureCase {
  file: string;
  section: string;
  title: string;
  verdict: 'parse' | 'reject';
  bytes: Buffer;
}

export function loadTortureCorpus(): TortureCase[] {
  const tsv = readFileSync(path.join(corpusDir, 'verdicts.tsv'), 'utf8');
  const cases = tsv
    .trim()
    .split('\n')
    .slice(1)
    .map((line): TortureCase => {
      const [file, section, title, verdict] = line.split('\t');
      if (!file || !section || !title || (verdict !== 'parse' && verdict !== 'reject')) {
        throw new Error(`Malformed verdicts.tsv line in ${corpusDir}: ${JSON.stringify(line)}`);
      }
      return { file, section, title, verdict, bytes: readFileSync(path.join(corpusDir, file)) };
    });
  if (cases.length !== 50) throw new Error(`Expected 50 torture cases in ${corpusDir}, found ${cases.length}`);
  return cases;
}

/** Whether the message is a response (its start line is a Status-Line). */
export function isResponse(bytes: Buffer): boolean {
  return bytes.subarray(0, 4).toString('latin1') === 'SIP/';
}

/** Call-ID value as received (first one; compact "i" included), or undefined. */
export function callIdOf(bytes: Buffer): string | undefined {
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(bytes.toString('latin1'))?.[1];
}
