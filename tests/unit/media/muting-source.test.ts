import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioSource } from '../../../src-main/core/media/audio/audio-port';
import { MutingSource } from '../../../src-main/core/media/audio/muting-source';

/** A device that counts what was read from it and fills each frame with its read number. */
function countingDevice(withClock: boolean): AudioSource & { reads: number; listener: ((readable: number) => void) | undefined; closed: boolean } {
  const device = {
    sampleRate: 48000,
    reads: 0,
    closed: false,
    listener: undefined as ((readable: number) => void) | undefined,
    read(frame: Int16Array) {
      frame.fill(++device.reads);
    },
    close: async () => void (device.closed = true),
    ...(withClock ? { setCaptureListener: (listener: ((readable: number) => void) | undefined) => void (device.listener = listener) } : {}),
  };
  return device;
}

describe('the microphone with a mute switch (call.mute)', () => {
  test('muted frames are silence, yet the device is read for each (no backlog at unmute); unmuted frames pass', () => {
    const device = countingDevice(false);
    const mic = new MutingSource(device);
    const frame = new Int16Array(960);
    mic.read(frame);
    assert.equal(frame[0], 1);
    mic.muted = true;
    mic.read(frame);
    mic.read(frame);
    assert.ok(frame.every((s) => s === 0), 'silence while muted');
    assert.equal(device.reads, 3, 'the device was read while muted');
    mic.muted = false;
    mic.read(frame);
    assert.equal(frame[0], 4, 'unmuted: the frame captured now, not one from before the mute');
    assert.equal(mic.sampleRate, 48000);
  });

  test("the device's capture clock is kept exactly when it has one (the media session paces by it), and close reaches the device", async () => {
    assert.equal(new MutingSource(countingDevice(false)).setCaptureListener, undefined);
    const device = countingDevice(true);
    const mic = new MutingSource(device);
    const heard: number[] = [];
    mic.setCaptureListener!((readable) => heard.push(readable));
    mic.muted = true;
    device.listener!(480);
    assert.deepEqual(heard, [480], 'capture still paces the call while muted');
    mic.setCaptureListener!(undefined);
    assert.equal(device.listener, undefined);
    await mic.close();
    assert.ok(device.closed);
  });
});
