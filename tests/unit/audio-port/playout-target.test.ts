// PlayoutTarget: how much audio the app keeps queued ahead of its audio device, learned from the
// device's reports (cumulative played / underrun samples at 48 kHz, one report per 20 ms here).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PlayoutTarget } from '../../../src-main/core/media/audio/playout-target';

const RATE = 48000;
const ms = (n: number): number => (n * RATE) / 1000;

/** A device reporting every 20 ms: `dryMs` of underrun in the report after `played` samples. */
class Device {
  played = 0;
  underrun = 0;
  constructor(readonly target: PlayoutTarget) {}
  play(seconds: number): void {
    for (let i = 0; i < seconds * 50; i++) {
      this.played += ms(20);
      this.target.observe(this.played, this.underrun);
    }
  }
  runDry(dryMs: number): void {
    this.underrun += ms(dryMs);
    this.target.observe(this.played, this.underrun);
  }
}

describe('PlayoutTarget', () => {
  test('starts at the floor; the start-up silence is no stall', () => {
    const target = new PlayoutTarget(RATE, ms(40), ms(140));
    target.observe(0, ms(25)); // waiting for the first frames
    target.observe(ms(20), ms(25));
    assert.equal(target.samples, ms(40));
    assert.equal(target.raises, 0);
  });

  test("running dry in the first 3 s of playout (a call's start: one-off set-up stalls) raises nothing; later it does", () => {
    const device = new Device(new PlayoutTarget(RATE, ms(40), ms(140)));
    device.play(0.5);
    device.runDry(30);
    device.play(2);
    device.runDry(30);
    assert.equal(device.target.samples, ms(40));
    device.play(0.6);
    device.runDry(30);
    assert.equal(device.target.samples, ms(70));
    assert.equal(device.target.raises, 1);
  });

  test('running dry raises it by what was lacking, in 10 ms steps, up to the ceiling', () => {
    const device = new Device(new PlayoutTarget(RATE, ms(40), ms(140)));
    device.play(4); // past the start's grace
    device.runDry(3);
    assert.equal(device.target.samples, ms(50), '3 ms lacking: one step');
    device.runDry(31);
    assert.equal(device.target.samples, ms(90), '31 ms lacking: four steps');
    device.runDry(500);
    assert.equal(device.target.samples, ms(140));
    assert.equal(device.target.raises, 3);
  });

  test('after 15 s without running dry it comes down a step at a time, not below the floor', () => {
    const device = new Device(new PlayoutTarget(RATE, ms(40), ms(140)));
    device.play(4); // past the start's grace
    device.runDry(40);
    assert.equal(device.target.samples, ms(80));
    device.play(14);
    assert.equal(device.target.samples, ms(80), 'not yet');
    device.play(1.02);
    assert.equal(device.target.samples, ms(70));
    device.play(15 * 10);
    assert.equal(device.target.samples, ms(40));
  });

  test('a pause in pulling (restart) is no stall: the learned target stays', () => {
    const device = new Device(new PlayoutTarget(RATE, ms(40), ms(140)));
    device.play(4); // past the start's grace
    device.runDry(15);
    assert.equal(device.target.samples, ms(60));
    device.target.restart(); // e.g. hold: nothing pulled, the device played silence meanwhile
    device.runDry(3000);
    device.play(1);
    device.runDry(20); // within the grace of the restarted playout
    assert.equal(device.target.samples, ms(60));
    assert.equal(device.target.raises, 1);
  });

  test('a ceiling below the floor is refused', () => {
    assert.throws(() => new PlayoutTarget(RATE, ms(60), ms(40)), /the ceiling \(1920\) must be at least the floor \(2880\)/);
  });
});
