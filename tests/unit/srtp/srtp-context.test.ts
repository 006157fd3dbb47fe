// Behaviour of one SRTP/SRTCP context beyond the fixed vectors: rollover across the 16-bit
// sequence wrap, reordering, replay, tampering, header handling, MKI, SRTCP E-bit and index.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSrtpContext, type SrtpContext } from '../../../src-main/core/media/srtp/srtp-context';
import { SrtpError } from '../../../src-main/core/media/srtp/srtp-error';
import { createSrtpSession } from '../../../src-main/core/media/srtp/srtp-session';
import { SrtpKeyLabel, deriveSessionKey } from '../../../src-main/core/media/srtp/srtp-key-derivation';

const masterKey = new Uint8Array(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
const masterSalt = new Uint8Array(Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacad', 'hex'));
const SSRC = 0x11223344;

function rtp(seq: number, opts: { ssrc?: number; payload?: Uint8Array; csrcs?: number[]; extension?: Uint8Array } = {}): Uint8Array {
  const csrcs = opts.csrcs ?? [];
  const ext = opts.extension;
  const payload = opts.payload ?? new Uint8Array(Buffer.from(`payload ${seq}`.padEnd(40, '.')));
  const header = 12 + csrcs.length * 4 + (ext ? 4 + ext.length : 0);
  const out = new Uint8Array(header + payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (ext ? 0x10 : 0) | csrcs.length;
  out[1] = 0;
  view.setUint16(2, seq & 0xffff);
  view.setUint32(4, (seq * 160) >>> 0);
  view.setUint32(8, opts.ssrc ?? SSRC);
  csrcs.forEach((c, i) => view.setUint32(12 + i * 4, c));
  if (ext) {
    const at = 12 + csrcs.length * 4;
    view.setUint16(at, 0xbede);
    view.setUint16(at + 2, ext.length / 4);
    out.set(ext, at + 4);
  }
  out.set(payload, header);
  return out;
}

function pair(suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' = 'AES_CM_128_HMAC_SHA1_80'): [SrtpContext, SrtpContext] {
  return [createSrtpContext({ suite, masterKey, masterSalt }), createSrtpContext({ suite, masterKey, masterSalt })];
}

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SrtpError, `expected SrtpError, got ${String(error)}`);
    return error.reason;
  }
  assert.fail('expected the packet to be rejected');
}

describe('SRTP round trips', () => {
  test('encrypts the payload only, keeps the header clear, adds a 10-byte tag', () => {
    const [tx] = pair();
    const plain = rtp(7);
    const wire = tx.protectRtp(plain);
    assert.equal(wire.length, plain.length + 10);
    assert.deepEqual(wire.subarray(0, 12), plain.subarray(0, 12));
    assert.notDeepEqual(wire.subarray(12, plain.length), plain.subarray(12));
  });

  test('a 1000-packet stream across the sequence wrap decrypts and the ROC becomes 1', () => {
    const [tx, rx] = pair();
    for (let n = 0; n < 1000; n++) {
      const seq = (65000 + n) & 0xffff;
      const plain = rtp(seq);
      assert.deepEqual(rx.unprotectRtp(tx.protectRtp(plain)), plain, `packet ${n} (seq ${seq})`);
    }
    assert.equal(tx.rolloverCounter(SSRC), 1);
    assert.equal(rx.rolloverCounter(SSRC), 1);
  });

  test('the same seq after a wrap encrypts differently (ROC is part of the IV)', () => {
    const [tx] = pair();
    const before = tx.protectRtp(rtp(100));
    for (let n = 101; n < 65536 + 100; n += 1000) tx.protectRtp(rtp(n & 0xffff));
    tx.protectRtp(rtp(65535));
    const after = tx.protectRtp(rtp(100)); // seq 100 again, now with ROC 1
    assert.notDeepEqual(after.subarray(12), before.subarray(12));
  });

  test('reordering around the wrap: 65535 arriving after 0 and 1 still decrypts (ROC-1 estimate)', () => {
    const [tx, rx] = pair();
    const wire = [65533, 65534, 65535, 0, 1].map((s) => tx.protectRtp(rtp(s)));
    rx.unprotectRtp(wire[0]!);
    rx.unprotectRtp(wire[1]!);
    assert.deepEqual(rx.unprotectRtp(wire[3]!), rtp(0));
    assert.deepEqual(rx.unprotectRtp(wire[4]!), rtp(1));
    assert.deepEqual(rx.unprotectRtp(wire[2]!), rtp(65535));
    assert.equal(rx.rolloverCounter(SSRC), 1);
  });

  test('CSRCs and header extension stay clear and authenticated', () => {
    const [tx, rx] = pair();
    const plain = rtp(5, { csrcs: [0xaaaaaaaa, 0xbbbbbbbb], extension: new Uint8Array([0x10, 0x42, 0, 0]) });
    const wire = tx.protectRtp(plain);
    assert.deepEqual(wire.subarray(0, 24), plain.subarray(0, 24));
    const tampered = Uint8Array.from(wire);
    tampered[21] ^= 1; // inside the extension
    assert.equal(rejection(() => rx.unprotectRtp(tampered)), 'auth-failed');
    assert.deepEqual(rx.unprotectRtp(wire), plain);
  });

  test('each SSRC has its own ROC and replay state', () => {
    const [tx, rx] = pair();
    const a = tx.protectRtp(rtp(10, { ssrc: 1 }));
    const b = tx.protectRtp(rtp(10, { ssrc: 2 }));
    assert.deepEqual(rx.unprotectRtp(a), rtp(10, { ssrc: 1 }));
    assert.deepEqual(rx.unprotectRtp(b), rtp(10, { ssrc: 2 }));
  });

  test('32-bit tag suite round trip adds exactly 4 bytes', () => {
    const [tx, rx] = pair('AES_CM_128_HMAC_SHA1_32');
    const wire = tx.protectRtp(rtp(3));
    assert.equal(wire.length, rtp(3).length + 4);
    assert.deepEqual(rx.unprotectRtp(wire), rtp(3));
  });
});

describe('SRTP rejections', () => {
  test('every single-bit flip anywhere in the packet is rejected as auth-failed', () => {
    const [tx, rx] = pair();
    const wire = tx.protectRtp(rtp(1));
    for (let byte = 0; byte < wire.length; byte++) {
      const tampered = Uint8Array.from(wire);
      tampered[byte] ^= 0x04;
      const reason = rejection(() => rx.unprotectRtp(tampered));
      // flipping version bits makes the header unparsable; everything else must fail the tag
      assert.ok(reason === 'auth-failed' || (byte === 0 && reason === 'malformed'), `byte ${byte}: ${reason}`);
    }
    assert.deepEqual(rx.unprotectRtp(wire), rtp(1), 'the genuine packet is still accepted afterwards');
  });

  test('a packet keyed with another master key is rejected', () => {
    const tx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt: new Uint8Array(14) });
    const [, rx] = pair();
    assert.equal(rejection(() => rx.unprotectRtp(tx.protectRtp(rtp(1)))), 'auth-failed');
  });

  test('a replayed packet is rejected, also after newer packets arrived', () => {
    const [tx, rx] = pair();
    const first = tx.protectRtp(rtp(500));
    rx.unprotectRtp(first);
    assert.equal(rejection(() => rx.unprotectRtp(first)), 'replayed');
    for (let s = 501; s < 520; s++) rx.unprotectRtp(tx.protectRtp(rtp(s)));
    assert.equal(rejection(() => rx.unprotectRtp(first)), 'replayed');
  });

  test('late packets inside the 64-packet window are accepted once; older ones are too-old', () => {
    const [tx, rx] = pair();
    const wire = new Map<number, Uint8Array>();
    for (let s = 1000; s < 1100; s++) wire.set(s, tx.protectRtp(rtp(s)));
    rx.unprotectRtp(wire.get(1000)!);
    rx.unprotectRtp(wire.get(1099)!); // jump ahead by 99
    assert.equal(rejection(() => rx.unprotectRtp(wire.get(1035)!)), 'too-old'); // 64 behind
    assert.deepEqual(rx.unprotectRtp(wire.get(1036)!), rtp(1036)); // 63 behind: still in window
    assert.equal(rejection(() => rx.unprotectRtp(wire.get(1036)!)), 'replayed');
    assert.equal(rejection(() => rx.unprotectRtp(wire.get(1099)!)), 'replayed');
  });

  test('a forged packet with a far-ahead sequence number does not move the window or ROC', () => {
    const [tx, rx] = pair();
    rx.unprotectRtp(tx.protectRtp(rtp(10)));
    const [attacker] = pair();
    const forged = attacker.protectRtp(rtp(30000));
    forged[forged.length - 1] ^= 0xff;
    assert.equal(rejection(() => rx.unprotectRtp(forged)), 'auth-failed');
    // If the forged seq 30000 had been committed, seq 11 would now be far behind the window (too-old).
    assert.deepEqual(rx.unprotectRtp(tx.protectRtp(rtp(11))), rtp(11));
    assert.equal(rx.rolloverCounter(SSRC), 0);
  });

  test('truncated and non-RTP packets are malformed, not crashes', () => {
    const [tx, rx] = pair();
    const wire = tx.protectRtp(rtp(1));
    assert.equal(rejection(() => rx.unprotectRtp(wire.subarray(0, 20))), 'malformed');
    const csrcOverrun = Uint8Array.from(wire);
    csrcOverrun[0] = 0x8f; // 15 CSRCs = 72-byte header, longer than the packet
    assert.equal(rejection(() => rx.unprotectRtp(csrcOverrun)), 'malformed');
    assert.equal(rejection(() => tx.protectRtp(new Uint8Array([0x80, 0, 0]))), 'malformed');
  });

  test('bad key lengths are refused at creation', () => {
    assert.throws(
      () => createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(15), masterSalt }),
      (e: unknown) => e instanceof SrtpError && e.reason === 'bad-key' && /16-byte master key/.test(e.message),
    );
  });
});

describe('MKI', () => {
  test('MKI is carried between payload and tag and must match on receive', () => {
    const mki = new Uint8Array([0, 0, 0, 7]);
    const tx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt, mki });
    const rx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt, mki });
    const plain = rtp(1);
    const wire = tx.protectRtp(plain);
    assert.equal(wire.length, plain.length + 4 + 10);
    assert.deepEqual(wire.subarray(plain.length, plain.length + 4), mki);
    assert.deepEqual(rx.unprotectRtp(wire), plain);
    assert.deepEqual(rx.unprotectRtcp(tx.protectRtcp(rtcpSr())), rtcpSr());
    const other = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt, mki: new Uint8Array([0, 0, 0, 8]) });
    assert.equal(rejection(() => other.unprotectRtp(tx.protectRtp(rtp(2)))), 'unknown-mki');
  });
});

function rtcpSr(ssrc = SSRC): Uint8Array {
  const out = new Uint8Array(28);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = 200;
  view.setUint16(2, 6);
  view.setUint32(4, ssrc);
  view.setUint32(8, 0xdeadbeef);
  view.setUint32(20, 42);
  return out;
}

describe('SRTCP', () => {
  test('index counts up from 1 with the E bit set; first 8 bytes clear; rest encrypted', () => {
    const [tx, rx] = pair();
    for (let i = 1; i <= 3; i++) {
      const wire = tx.protectRtcp(rtcpSr());
      assert.equal(wire.length, 28 + 4 + 10);
      assert.deepEqual(wire.subarray(0, 8), rtcpSr().subarray(0, 8));
      assert.notDeepEqual(wire.subarray(8, 28), rtcpSr().subarray(8));
      assert.equal(new DataView(wire.buffer, wire.byteOffset).getUint32(28), (0x80000000 | i) >>> 0);
      assert.deepEqual(rx.unprotectRtcp(wire), rtcpSr());
    }
  });

  test('replayed and tampered SRTCP are rejected', () => {
    const [tx, rx] = pair();
    const wire = tx.protectRtcp(rtcpSr());
    const tampered = Uint8Array.from(wire);
    tampered[10] ^= 1;
    assert.equal(rejection(() => rx.unprotectRtcp(tampered)), 'auth-failed');
    rx.unprotectRtcp(wire);
    assert.equal(rejection(() => rx.unprotectRtcp(wire)), 'replayed');
  });

  test('flipping the E bit breaks authentication (the E bit is authenticated)', () => {
    const [tx, rx] = pair();
    const wire = tx.protectRtcp(rtcpSr());
    wire[28] ^= 0x80;
    assert.equal(rejection(() => rx.unprotectRtcp(wire)), 'auth-failed');
  });

  test('E=0 packets (authenticated, not encrypted) are accepted in the clear', () => {
    // Build an unencrypted SRTCP packet by hand: body clear, E=0, index 5, HMAC with the SRTCP auth key.
    const authKey = deriveSessionKey(masterKey, masterSalt, SrtpKeyLabel.rtcpAuthentication, 20);
    const plain = rtcpSr();
    const body = new Uint8Array(plain.length + 4);
    body.set(plain);
    new DataView(body.buffer).setUint32(plain.length, 5);
    const tag = createHmac('sha1', authKey).update(body).digest().subarray(0, 10);
    const wire = new Uint8Array([...body, ...tag]);
    const [, rx] = pair();
    assert.deepEqual(rx.unprotectRtcp(wire), plain);
  });
});

describe('SRTP session (two keys, one per direction)', () => {
  test('each side unprotects what the other protects; SHA1_32 SRTCP tag length mirrors the peer', () => {
    const keyA = { masterKey, masterSalt };
    const keyB = { masterKey: new Uint8Array(16).fill(9), masterSalt: new Uint8Array(14).fill(3) };
    const alice = createSrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_32', local: keyA, remote: keyB });
    const bobPeer = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', ...keyB, rtcpTagLength: 4 });
    const bobRx = createSrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_32', ...keyA });

    assert.deepEqual(bobRx.unprotectRtp(alice.protectRtp(rtp(1))), rtp(1));
    assert.deepEqual(alice.unprotectRtp(bobPeer.protectRtp(rtp(9, { ssrc: 99 }))), rtp(9, { ssrc: 99 }));

    assert.equal(alice.protectRtcp(rtcpSr()).length, 28 + 4 + 10, 'RFC default before hearing the peer');
    assert.deepEqual(alice.unprotectRtcp(bobPeer.protectRtcp(rtcpSr(99))), rtcpSr(99));
    const mirrored = alice.protectRtcp(rtcpSr());
    assert.equal(mirrored.length, 28 + 4 + 4, 'follows the peer’s 4-byte SRTCP tag');
    assert.deepEqual(bobRx.unprotectRtcp(mirrored), rtcpSr());
  });
});
