// Interop with a real SRTP implementation: libre (baresip's SRTP, installed with baresip-core),
// driven through ctypes by libre-srtp-peer.py. Streams cross the 16-bit sequence wrap in both
// directions; SRTCP pins down which tag length libre uses for AES_CM_128_HMAC_SHA1_32.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSrtpContext } from '../../../src-main/core/media/srtp/srtp-context';
import { createSrtpSession } from '../../../src-main/core/media/srtp/srtp-session';
import type { SrtpSuiteName } from '../../../src-main/core/media/srtp/srtp-suite';

const PEER = fileURLToPath(new URL('./libre-srtp-peer.py', import.meta.url));
type PeerResult = { ok: string } | { error: number };

function libre(op: 'protect' | 'unprotect', kind: 'rtp' | 'rtcp', suite: SrtpSuiteName, key: Uint8Array, packets: Uint8Array[]): PeerResult[] {
  const run = spawnSync('python3', [PEER], {
    input: JSON.stringify({ op, kind, suite, key: Buffer.from(key).toString('hex'), packets: packets.map((p) => Buffer.from(p).toString('hex')) }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`libre peer failed (status ${run.status}): ${run.stderr || String(run.error)}`);
  return (JSON.parse(run.stdout) as { results: PeerResult[] }).results;
}

function okBytes(result: PeerResult | undefined, what: string): Uint8Array {
  assert.ok(result && 'ok' in result, `${what}: libre returned ${JSON.stringify(result)}`);
  return new Uint8Array(Buffer.from(result.ok, 'hex'));
}

function rtp(seq: number, ssrc: number): Uint8Array {
  const payload = randomBytes(160);
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = seq === 0 ? 0x80 : 0; // marker on one packet, PCMU
  view.setUint16(2, seq & 0xffff);
  view.setUint32(4, (seq * 160) >>> 0);
  view.setUint32(8, ssrc);
  out.set(payload, 12);
  return out;
}

/** RTCP RR with one report block (32 bytes). */
function rtcpRr(ssrc: number): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  out.set([0x81, 201, 0, 7]);
  view.setUint32(4, ssrc);
  view.setUint32(8, 0x01020304);
  view.setUint32(16, 0x00010005);
  return out;
}

const seqs = Array.from({ length: 300 }, (_, i) => (65400 + i) & 0xffff); // crosses the wrap at i = 136

for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const) {
  describe(`libre interop, ${suite}`, () => {
    const masterKey = new Uint8Array(randomBytes(16));
    const masterSalt = new Uint8Array(randomBytes(14));
    const key = new Uint8Array([...masterKey, ...masterSalt]);

    test('libre protects, we unprotect — 300 packets across the sequence wrap', () => {
      const plain = seqs.map((s) => rtp(s, 0x5eed0001));
      const wire = libre('protect', 'rtp', suite, key, plain).map((r, i) => okBytes(r, `packet ${i}`));
      const ours = createSrtpContext({ suite, masterKey, masterSalt });
      wire.forEach((packet, i) => assert.deepEqual(ours.unprotectRtp(packet), plain[i], `packet ${i} (seq ${seqs[i]})`));
      assert.equal(ours.rolloverCounter(0x5eed0001), 1);
    });

    test('we protect, libre unprotects — and rejects our packets once replayed and when tampered', () => {
      const ours = createSrtpContext({ suite, masterKey, masterSalt });
      const plain = seqs.map((s) => rtp(s, 0x5eed0002));
      const wire = plain.map((p) => ours.protectRtp(p));
      const tampered = Uint8Array.from(wire[10]!);
      tampered[20] ^= 1;
      const results = libre('unprotect', 'rtp', suite, key, [...wire, wire[299]!, tampered]);
      plain.forEach((p, i) => assert.deepEqual(okBytes(results[i], `packet ${i} (seq ${seqs[i]})`), p));
      assert.ok('error' in results[300]!, 'libre must refuse a replay of our packet');
      assert.ok('error' in results[301]!, 'libre must refuse a tampered packet');
    });

    test('SRTCP both ways; for SHA1_32 our session adopts libre’s SRTCP tag length', () => {
      const fromLibre = libre('protect', 'rtcp', suite, key, [rtcpRr(0x77), rtcpRr(0x77)]).map((r, i) => okBytes(r, `rtcp ${i}`));
      const session = createSrtpSession({ suite, local: { masterKey, masterSalt }, remote: { masterKey, masterSalt } });
      assert.deepEqual(session.unprotectRtcp(fromLibre[0]!), rtcpRr(0x77));
      const tagLength = fromLibre[0]!.length - 32 - 4;
      assert.equal(tagLength, suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4, 'libre reuses the SRTP tag length on SRTCP');
      const ourRtcp = [session.protectRtcp(rtcpRr(0x78)), session.protectRtcp(rtcpRr(0x78))];
      const back = libre('unprotect', 'rtcp', suite, key, ourRtcp);
      back.forEach((r, i) => assert.deepEqual(okBytes(r, `our rtcp ${i}`), rtcpRr(0x78)));
    });
  });
}
