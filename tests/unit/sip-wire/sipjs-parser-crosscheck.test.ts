// What sip.js 0.21.2's own parser (Core.Parser.parseMessage, which the UA runs on everything we
// accept) does with the torture corpus. Pins the gaps that made the validator answer some valid
// messages itself, so a sip.js upgrade that changes them shows up here.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Core } from 'sip.js';
import { validateSipMessage } from '../../../src-main/core/sip/wire/message-validator';
import { callIdOf, loadTortureCorpus } from './rfc4475-corpus';

const corpus = loadTortureCorpus();
const byFile = new Map(corpus.map((c) => [c.file, c]));

interface SipJsOutcome {
  message?: Core.IncomingRequestMessage | Core.IncomingResponseMessage;
  thrown?: string;
  logs: string[];
}

function parseWithSipJs(bytes: Buffer): SipJsOutcome {
  const logs: string[] = [];
  const record = (m: string): void => void logs.push(m);
  const logger = { error: record, warn: record, log: record, debug: record } as unknown as Parameters<typeof Core.Parser.parseMessage>[1];
  try {
    return { message: Core.Parser.parseMessage(bytes.toString('latin1'), logger), logs };
  } catch (error) {
    return { thrown: error instanceof Error ? error.message : String(error), logs };
  }
}

describe('sip.js parser on messages the validator accepts', () => {
  test('sip.js parses every accepted torture message except TC_UNKSM2_V, with the same Call-ID', () => {
    const failures: string[] = [];
    for (const c of corpus) {
      if (validateSipMessage(c.bytes).kind !== 'accept') continue;
      const outcome = parseWithSipJs(c.bytes);
      assert.equal(outcome.thrown, undefined, c.file);
      if (!outcome.message) {
        failures.push(c.file);
        continue;
      }
      assert.equal(outcome.message.callId, callIdOf(c.bytes), c.file);
    }
    assert.deepEqual(failures, ['TC_UNKSM2_V.dat']);
  });

  test('TC_UNKSM2_V (RFC 4475 3.3.4) is dropped by sip.js: its To grammar rejects non-SIP URIs', () => {
    const outcome = parseWithSipJs(byFile.get('TC_UNKSM2_V.dat')!.bytes);
    assert.equal(outcome.message, undefined);
    assert.deepEqual(outcome.logs, ["error parsing header 'To'"]);
  });

  test('TC_INSUF_I (RFC 4475 3.3.1) parses but lacks To/From/Call-ID: sip.js drops it, nothing to answer with', () => {
    const outcome = parseWithSipJs(byFile.get('TC_INSUF_I.dat')!.bytes);
    assert.ok(outcome.message);
    assert.equal(outcome.message.hasHeader('To'), false);
    assert.equal(outcome.message.hasHeader('Call-ID'), false);
  });

  test('TC_MPART01: sip.js counts Content-Length in chars, so the binary body survives only latin1 decoding', () => {
    const bytes = byFile.get('TC_MPART01.dat')!.bytes;
    const latin1 = parseWithSipJs(bytes).message;
    assert.equal(latin1?.body.length, 553);
    const utf8 = Core.Parser.parseMessage(bytes.toString('utf8'), parseWithSipJsLogger());
    assert.notEqual(utf8?.body.length, 553);
  });
});

describe('why the validator answers some syntactically valid messages itself', () => {
  test('TC_UNKSCM_V / TC_NOVELSC_V: sip.js leaves ruri undefined, which its UA core turns into a throw', () => {
    for (const file of ['TC_UNKSCM_V.dat', 'TC_NOVELSC_V.dat']) {
      const message = parseWithSipJs(byFile.get(file)!.bytes).message;
      assert.ok(message instanceof Core.IncomingRequestMessage, file);
      // UserAgentCore.receiveRequest: `if (!message.ruri) throw new Error("Request-URI undefined.")`
      assert.equal(message.ruri, undefined, file);
      assert.deepEqual(validateSipMessage(byFile.get(file)!.bytes), { kind: 'reject', status: 416, reason: 'Unsupported URI Scheme' });
    }
  });

  test('TC_MULTI01_I: sip.js silently keeps the last Call-ID and CSeq', () => {
    const message = parseWithSipJs(byFile.get('TC_MULTI01_I.dat')!.bytes).message;
    assert.equal(message?.callId, 'multi01.98asdh@192.0.2.2');
    assert.equal(message?.cseq, 59);
  });

  test('TC_MCL01_I: sip.js silently takes the last Content-Length and truncates the body', () => {
    const message = parseWithSipJs(byFile.get('TC_MCL01_I.dat')!.bytes).message;
    assert.equal(message?.body, 'There');
  });

  test('a response with a malformed CSeq makes sip.js throw; the validator drops it', () => {
    const response = Buffer.from(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nCall-ID: a@b\r\nCSeq: x INVITE\r\n' +
        'From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n',
    );
    assert.match(parseWithSipJs(response).thrown ?? '', /Cannot read properties of undefined/);
    assert.equal(validateSipMessage(response).kind, 'drop');
  });

  test('sip.js accepts SIP/7.0, CSeq mismatches, Request-URI headers, non-GMT dates, overlarge CSeq', () => {
    const badvers = byFile.get('TC_BADVERS_V.dat')!.bytes;
    assert.ok(parseWithSipJs(badvers).message, 'sip.js takes SIP/7.0 as a request');
    assert.deepEqual(validateSipMessage(badvers), { kind: 'reject', status: 505, reason: 'Version Not Supported' });
    for (const file of ['TC_MISMATCH01_V.dat', 'TC_ESCRURI_V.dat', 'TC_BADDATE_V.dat', 'TC_SCALAR02_V.dat']) {
      assert.ok(parseWithSipJs(byFile.get(file)!.bytes).message, `sip.js parses ${file}`);
      assert.equal(validateSipMessage(byFile.get(file)!.bytes).kind, 'reject', file);
    }
  });
});

function parseWithSipJsLogger() {
  const ignore = (): void => undefined;
  return { error: ignore, warn: ignore, log: ignore, debug: ignore } as unknown as Parameters<typeof Core.Parser.parseMessage>[1];
}

describe('sip.js crash guard', () => {
  const responseWithCSeq = (cseq: string) =>
    Buffer.from(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nCall-ID: a@b\r\n' +
        `CSeq: ${cseq}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n`,
    );

  test('a valid extension-method CSeq that sip.js cannot parse would crash it; such responses are dropped', () => {
    // "INVITEX" is a token, so RFC 3261-valid; sip.js's PEG grammar commits to "INVITE" and fails.
    assert.match(parseWithSipJs(responseWithCSeq('35 INVITEX')).thrown ?? '', /Cannot read properties of undefined/);
    assert.deepEqual(validateSipMessage(responseWithCSeq('35 INVITEX')), {
      kind: 'drop',
      reason: 'Malformed response: CSeq method the SIP stack cannot parse',
    });
  });

  test('ordinary and extension methods sip.js handles still pass', () => {
    for (const cseq of ['35 INVITE', '1 MESSAGE', '1 FOO', '2 NEWMETHOD']) {
      assert.ok(parseWithSipJs(responseWithCSeq(cseq)).message, cseq);
      assert.deepEqual(validateSipMessage(responseWithCSeq(cseq)), { kind: 'accept' }, cseq);
    }
  });
});
