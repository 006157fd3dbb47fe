/**
 * The far end's Opus fmtp (RFC 7587 6.1) shapes what we send, seen on the wire: SIPp calls the
 * headless Switchboard (auto-answering, serverless account) offering only Opus with given fmtp
 * parameters and media at this test's UDP socket, which reads every Opus packet we send: its
 * TOC byte says which audio bandwidth it codes (RFC 6716 3.1), its size what bitrate we spend.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { toneWav } from '../harness/audio-analysis';
import { tail } from '../harness/child-processes';
import { startSippCallee, type SippCallee } from '../harness/sipp';
import { LOOPBACK } from '../harness/ports';
import { opusCodedBandwidthHz } from '../harness/opus-toc';

const SCENARIO = 'uac-offer-opus-fmtp.xml';

let sipp: SippCallee;

before(async () => {
  sipp = await startSippCallee('sb-opus-fmtp-', [SCENARIO], (dir) => [
    '--audio-in',
    toneWav(join(dir, 'tone.wav'), { frequencyHz: 440, seconds: 30, sampleRate: 48000, amplitude: 0.3 }),
    '--codecs',
    'opus,PCMU',
  ]);
});

after(async () => {
  await sipp?.close();
});

/** One SIPp call offering Opus with `fmtp` and `ptime`; the Opus payloads we sent to its media address. */
async function callWith(fmtp: string, ptime = 20): Promise<Uint8Array[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  const payloads: Uint8Array[] = [];
  socket.on('message', (data) => {
    // RTP (not RTCP) with payload type 96, fixed 12-byte header (we send no CSRCs or extensions).
    if (data.length > 12 && data[0]! >> 6 === 2 && (data[1]! & 0x7f) === 96) payloads.push(new Uint8Array(data.subarray(12)));
  });
  try {
    const { code, logs } = await sipp.runUac(SCENARIO, ['-set', 'porta', String(socket.address().port), '-set', 'fmtp', fmtp, '-set', 'ptime', String(ptime)]);
    assert.equal(code, 0, `SIPp call with fmtp ${fmtp}, ptime ${ptime} completed:\n${tail(logs)}`);
  } finally {
    socket.close();
  }
  assert.ok(payloads.length > (150 * 20) / Math.max(ptime, 20), `about 4 s of Opus came: ${payloads.length} packets`);
  return payloads;
}

/** Audio per Opus packet (ms), from its TOC byte (RFC 6716 section 3.1: frame size and count). */
function packetMs(payload: Uint8Array): number {
  const config = payload[0]! >> 3;
  const frameMs = config < 12 ? [10, 20, 40, 60][config % 4]! : config < 16 ? [10, 20][config % 2]! : [2.5, 5, 10, 20][config % 4]!;
  const code = payload[0]! & 3;
  const frames = code === 0 ? 1 : code === 3 ? payload[1]! & 0x3f : 2;
  return frameMs * frames;
}

const kbps = (payloads: Uint8Array[]) => (payloads.reduce((sum, p) => sum + p.length, 0) * 8 * 50) / payloads.length / 1000;
const bandwidths = (payloads: Uint8Array[]) => [...new Set(payloads.map((p) => opusCodedBandwidthHz(p[0]!)))].sort((a, b) => a - b);

describe("the far end's Opus fmtp, on the wire (SIPp offers, the headless answers)", () => {
  test('a ptime Opus cannot code (30 ms, which some PBXs ask for) gets 20 ms packets, and the call goes on', async () => {
    const payloads = await callWith('useinbandfec=1', 30);
    const durations = [...new Set(payloads.map(packetMs))];
    assert.deepEqual(durations, [20], `packet durations: ${durations.join(', ')} ms`);
  });

  test('a ptime Opus can code (40 ms) is followed', async () => {
    const payloads = await callWith('useinbandfec=1', 40);
    const durations = [...new Set(payloads.map(packetMs))];
    assert.deepEqual(durations, [40], `packet durations: ${durations.join(', ')} ms`);
  });

  test('maxaveragebitrate and maxplaybackrate cap what we send; without them we send libopus\' own fullband rate', async () => {
    const free = await callWith('useinbandfec=1');
    assert.ok(bandwidths(free).some((hz) => hz > 8000), `uncapped: coded bandwidths ${bandwidths(free).join(', ')} Hz`);
    assert.ok(kbps(free) > 30, `uncapped: ${kbps(free).toFixed(1)} kbit/s`);

    const capped = await callWith('maxaveragebitrate=12000;maxplaybackrate=16000');
    assert.deepEqual(bandwidths(capped).filter((hz) => hz > 8000), [], `wideband at most: coded bandwidths ${bandwidths(capped).join(', ')} Hz`);
    // libopus' constrained VBR lands near its target over a few seconds; the first packets may run over.
    assert.ok(kbps(capped.slice(25)) <= 12 * 1.35, `capped at 12 kbit/s: ${kbps(capped.slice(25)).toFixed(1)} kbit/s`);
  });
});
