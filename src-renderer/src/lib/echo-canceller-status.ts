/**
 * The line a call's audio card shows while the built-in echo canceller runs, from its meter.
 * The echo path's delay is named only once the canceller takes a few dB off: with no echo to
 * cancel (a headset, a quiet room) the strongest part of its filter is noise, and "echo path
 * 24 ms, 0 dB less echo" would send the user looking for an echo that is not there.
 */

/** What is read of the worklet's EchoCancellerMeter (audio-device-messages.ts). */
export interface EchoCancellerState {
  adapted: boolean;
  echoDelayMs: number | undefined;
  echoReductionDb: number;
}

/** Below this reduction (mic over output while the far end talks) no echo is said to be heard. */
const HEARD_DB = 3;

export function echoCancellerStatus(meter: EchoCancellerState): string {
  if (!meter.adapted || meter.echoDelayMs === undefined) return 'Built-in echo canceller: listening for echo';
  if (meter.echoReductionDb < HEARD_DB) return 'Built-in echo canceller: no echo heard';
  return `Built-in echo canceller: echo path ${Math.round(meter.echoDelayMs)} ms, ${Math.round(meter.echoReductionDb)} dB less echo`;
}
