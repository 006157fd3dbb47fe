// CallRecorder file format and timeline: stereo 16-bit WAV (8 kHz unless told),  L = local, R = remote,
// driven by local frames; remote audio padded with silence when missing and trimmed when it
// runs ahead; input at other rates resampled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecorder, recordingRateFor } from '../../../src-main/core/media/call-recorder';

function channels(path: string): { rate: number; left: Int16Array; right: Int16Array } {
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('ascii', 0, 4), 'RIFF');
  assert.equal(bytes.readUInt16LE(22), 2);
  assert.equal(bytes.readUInt32LE(40), bytes.length - 44, 'data size finalized');
  assert.equal(bytes.readUInt32LE(4), bytes.length - 8, 'RIFF size finalized');
  const frames = (bytes.length - 44) / 4;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = bytes.readInt16LE(44 + 4 * i);
    right[i] = bytes.readInt16LE(46 + 4 * i);
  }
  return { rate: bytes.readUInt32LE(24), left, right };
}

test('local drives the timeline; remote fills R, silence where it is missing, backlog trimmed to 1 s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const path = join(dir, 'call.wav');
    const rec = new CallRecorder(path);
    // 2 local frames of 160 with only one remote frame → second half of R is silence.
    rec.remoteFrame(new Int16Array(160).fill(-200), 8000);
    rec.local(new Int16Array(160).fill(100), 8000);
    rec.local(new Int16Array(160).fill(101), 8000);
    // Remote runs 2 s ahead: only the last second is kept.
    const ahead = new Int16Array(16000);
    for (let i = 0; i < ahead.length; i++) ahead[i] = i < 8000 ? 1 : 2;
    rec.remoteFrame(ahead, 8000);
    rec.local(new Int16Array(160).fill(102), 8000);
    rec.stop();
    rec.stop(); // idempotent
    const { rate, left, right } = channels(path);
    assert.equal(rate, 8000);
    assert.equal(left.length, 480);
    assert.deepEqual([left[0], left[159], left[160], left[479]], [100, 100, 101, 102]);
    assert.deepEqual([right[0], right[159], right[160], right[319], right[320], right[479]], [-200, -200, 0, 0, 2, 2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('16 kHz input is resampled to the 8 kHz file; a bad path fails at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const path = join(dir, 'wide.wav');
    const rec = new CallRecorder(path);
    for (let i = 0; i < 50; i++) rec.local(new Int16Array(320).fill(1000), 16000);
    rec.stop();
    const { left } = channels(path);
    assert.ok(Math.abs(left.length - 8000) <= 64, `≈1 s at 8 kHz, got ${left.length} samples`);
    assert.throws(() => new CallRecorder(join(dir, 'missing-dir', 'x.wav')), /Cannot create the recording .*missing-dir/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wideband call is recorded at 16 kHz: 48 kHz audio resampled to it, a 16 kHz codec kept as is', () => {
  assert.equal(recordingRateFor([8000]), 8000);
  assert.equal(recordingRateFor([16000]), 16000);
  assert.equal(recordingRateFor([48000]), 16000);
  assert.equal(recordingRateFor([8000, 48000]), 16000);
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  try {
    const path = join(dir, 'wide.wav');
    const rec = new CallRecorder(path, 16000);
    for (let i = 0; i < 50; i++) {
      rec.remoteFrame(new Int16Array(960).fill(-500), 48000);
      rec.local(new Int16Array(320).fill(700), 16000);
    }
    rec.stop();
    const { rate, left, right } = channels(path);
    assert.equal(rate, 16000);
    assert.equal(left.length, 16000, '1 s at 16 kHz');
    assert.ok(left.every((v) => v === 700), 'the 16 kHz side as it was');
    assert.ok(Math.abs(right[8000]! + 500) <= 2, `the 48 kHz side resampled: ${right[8000]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
