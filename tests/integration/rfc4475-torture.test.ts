// Black-box RFC 4475 run against a real headless Switchboard on UDP: every torture message as
// one datagram, each followed by a valid OPTIONS as a barrier (the UA handles datagrams in
// order, so once the barrier is answered, any answer to the torture message has been sent).
// Required per message: the RFC's verdict on the wire (400/505/416 answered, or silence), and
// at the end a UA that is alive, still answers OPTIONS, and has not grown its memory unboundedly.
//
// The test sockets are bound to 127.0.0.77:5060 and :5050: most torture Vias name hosts without
// ports, so RFC 3261 18.2.2 answers go to the source IP at port 5060; TC_QUOTBAL_I's Via names
// port 5050. Only one run of this file at a time.
//
// Final responses to INVITE are retransmitted until ACKed (RFC 3261 17.2.1) and the torture
// senders never ACK, so copies of earlier answers keep arriving; they are recognised by Call-ID.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startHeadless, type HeadlessSwitchboard } from '../harness/headless-switchboard';
import { validateSipMessage } from '../../src-main/core/sip/wire/message-validator';
import { callIdOf, isResponse, loadTortureCorpus } from '../unit/sip-wire/rfc4475-corpus';
import { optionsRequest } from '../harness/sip-probe';

const PEER_HOST = '127.0.0.77';
const PEER_PORT = 5060;
const EXTRA_VIA_PORTS = [5050];

/** What arrives for one torture message before its barrier OPTIONS is answered. */
interface Answer {
  status: number;
  reason: string;
  callId: string | undefined;
  text: string;
}

/**
 * Accepted torture requests that the UA answers with silence, and why. Everything else that the
 * validator accepts and that is a request must be answered by the application (404/405/...).
 */
const SILENT_WHEN_ACCEPTED: Record<string, string> = {
  'TC_INSUF_I.dat': 'no To/From/Call-ID: unanswerable, sip.js drops it (RFC 4475 3.3.1)',
  'TC_UNKSM2_V.dat': "sip.js's To grammar rejects isbn: URIs and drops the request (needs a sip.js fix)",
};

function parseAnswer(data: Buffer): Answer {
  const text = data.toString('utf8');
  const m = /^SIP\/2\.0 (\d{3}) (.*)\r\n/.exec(text);
  return {
    status: m ? Number(m[1]) : -1,
    reason: m ? m[2]! : '',
    callId: /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1],
    text,
  };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`No VmRSS for pid ${pid}`);
  return Number(m[1]);
}

describe('RFC 4475 torture messages against a headless Switchboard on UDP', () => {
  let ua: HeadlessSwitchboard;
  let socket: Socket;
  const sockets: Socket[] = [];
  let uaPort: number;
  const inbox: Answer[] = [];
  const waiters = new Set<() => void>();

  before(async () => {
    ua = startHeadless(['--account', 'sip:alice@127.0.0.1', '--no-register', '--accept-direct', '--listen', '127.0.0.1:0']);
    const account = await ua.waitFor('account.state', (a) => a.state === 'ready' && a.contact !== undefined, 30_000);
    const port = /@127\.0\.0\.1:(\d+)/.exec(account.contact!)?.[1];
    assert.ok(port, `contact without a 127.0.0.1 port: ${account.contact}`);
    uaPort = Number(port);
    for (const port of [PEER_PORT, ...EXTRA_VIA_PORTS]) {
      const s = createSocket('udp4');
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', (error) => reject(new Error(`Cannot bind ${PEER_HOST}:${port} (another run of this test?): ${error.message}`)));
        s.bind(port, PEER_HOST, () => resolve());
      });
      s.on('message', (data) => {
        inbox.push(parseAnswer(data));
        for (const w of [...waiters]) w();
      });
    }
    socket = sockets[0]!;
  });

  after(async () => {
    for (const s of sockets) s.close();
    await ua?.stop();
  });

  function send(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => socket.send(bytes, uaPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  /** Resolves with (and removes from the inbox) the first answer for `callId`. */
  function answerFor(callId: string, what: string, timeoutMs = 10_000): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = inbox.findIndex((a) => a.callId === callId);
        if (i < 0) return false;
        const [answer] = inbox.splice(i, 1);
        clearTimeout(timer);
        waiters.delete(check);
        resolve(answer!);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`No answer to ${what} within ${timeoutMs} ms; UA alive: ${ua.process.exitCode === null}\n${ua.stderr().slice(-3000)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  }

  /**
   * The barrier's answer comes in on the 5060 socket, but an answer to a Via naming port 5050
   * (TC_QUOTBAL_I) comes in on the other socket: sent before the barrier's, so already in that
   * socket's queue, but libuv may hand it to us after the barrier's (e.g. when the 5060 socket is
   * already marked ready from a retransmission, it comes first in the poll), and the test went on
   * before it: "late new answer" in the next message's window, ~1 run in 30 alone, in two CI runs
   * in a row. Two turns of the event loop run a full poll phase after the barrier's.
   */
  function datagramsOnOtherSockets(): Promise<void> {
    return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  }

  /** A valid OPTIONS to alice; returns its answer. */
  async function options(what: string): Promise<Answer> {
    const callId = `probe-${randomBytes(6).toString('hex')}`;
    const request = optionsRequest({ requestUri: `sip:alice@127.0.0.1:${uaPort}`, via: `${PEER_HOST}:${PEER_PORT}`, fromHost: PEER_HOST, callId });
    await send(Buffer.from(request));
    return answerFor(callId, what);
  }

  test('the UA answers a valid OPTIONS, delivers the RFC verdict for all 50 messages, and survives', async (t) => {
    const first = await options('the first OPTIONS');
    assert.equal(first.status, 200, first.text);
    const baselineKiB = rssKiB(ua.process.pid!);

    const failures: string[] = [];
    /** Answer texts seen per earlier Call-ID: later copies must be retransmissions of these. */
    const earlier = new Map<string, Set<string>>();
    for (const c of loadTortureCorpus()) {
      await send(c.bytes);
      await options(`the barrier OPTIONS after ${c.file}`);
      await datagramsOnOtherSockets();
      const callId = callIdOf(c.bytes);
      const answers: Answer[] = [];
      for (const a of inbox.splice(0)) {
        const seen = a.callId === undefined || a.callId === callId ? undefined : earlier.get(a.callId);
        if (seen?.has(a.text)) continue; // retransmission of an earlier answer
        if (seen) failures.push(`${c.file}: late new answer to an earlier message: ${a.status} ${a.reason}`);
        else if (!answers.some((b) => b.text === a.text)) answers.push(a);
      }
      if (callId !== undefined) earlier.set(callId, new Set([...(earlier.get(callId) ?? []), ...answers.map((a) => a.text)]));
      const verdict = validateSipMessage(c.bytes);
      const got = answers.map((a) => `${a.status} ${a.reason}`).join(' | ') || 'silence';
      t.diagnostic(`${c.file} (${c.verdict}): validator ${verdict.kind}${verdict.kind === 'reject' ? ` ${verdict.status}` : ''}; UA: ${got}`);
      const problem = (() => {
        if (answers.some((a) => a.callId !== callId)) return `answer with a foreign Call-ID: ${answers.map((a) => a.text).join('\n---\n')}`;
        if (verdict.kind === 'reject') {
          if (answers.length !== 1) return `expected exactly one ${verdict.status}, got ${got}`;
          if (answers[0]!.status !== verdict.status || answers[0]!.reason !== verdict.reason) return `expected ${verdict.status} ${verdict.reason}, got ${got}`;
          return undefined;
        }
        if (verdict.kind === 'drop' || isResponse(c.bytes) || SILENT_WHEN_ACCEPTED[c.file]) {
          return answers.length === 0 ? undefined : `expected silence, got ${got}`;
        }
        // Accepted request: the application answers it, and never with a wire-syntax 400.
        if (answers.length === 0) return 'accepted request got no answer';
        if (answers.some((a) => a.status < 200 && a.status !== 100)) return `unexpected provisional: ${got}`;
        return undefined;
      })();
      // The RFC verdict itself, independent of how the validator got there.
      const rfcProblem = (() => {
        if (c.verdict === 'reject' && !isResponse(c.bytes)) {
          const ok = answers.some((a) => a.status === (c.file === 'TC_BADVERS_V.dat' ? 505 : 400)) || verdict.kind === 'drop';
          return ok ? undefined : `RFC says reject, UA answered ${got}`;
        }
        if (c.verdict === 'reject') return answers.length === 0 ? undefined : `a malformed response was answered: ${got}`;
        return undefined;
      })();
      for (const p of [problem, rfcProblem]) if (p) failures.push(`${c.file}: ${p}`);
      assert.equal(ua.process.exitCode, null, `UA exited after ${c.file}\n${ua.stderr().slice(-3000)}`);
    }
    assert.deepEqual(failures, []);

    const last = await options('the final OPTIONS');
    assert.equal(last.status, 200, last.text);
    assert.equal(ua.process.exitCode, null);
    assert.equal(ua.process.signalCode, null);
    const finalKiB = rssKiB(ua.process.pid!);
    t.diagnostic(`UA RSS ${baselineKiB} KiB after the first OPTIONS, ${finalKiB} KiB after the corpus`);
    assert.ok(finalKiB - baselineKiB < 64 * 1024, `RSS grew by ${finalKiB - baselineKiB} KiB over 50 small messages`);
    assert.doesNotMatch(ua.stderr(), /Validator internal error|sip\.js failed to handle a message/);
  });
});
