/**
 * What the phone sounds like, given the state of every call it has (RingerState plays it):
 *   'ring'          a call is incoming and no other call is being set up or connected;
 *   'call-waiting'  a call is incoming while another is being set up or connected (the ring would
 *                   drown that call: soft beeps in its own audio device instead);
 *   'off'           no call is incoming.
 */
import type { CallState } from '@common/contract/contract';

export type RingerMode = 'off' | 'ring' | 'call-waiting';

/** States in which a call has the user's ear (a new call's ring would cut across it). */
const BUSY: ReadonlySet<CallState> = new Set(['dialing', 'ringing', 'early-media', 'connected']);

export function ringerModeOf(states: Iterable<CallState>): RingerMode {
  let incoming = false;
  let busy = false;
  for (const state of states) {
    if (state === 'incoming') incoming = true;
    else if (BUSY.has(state)) busy = true;
  }
  if (!incoming) return 'off';
  return busy ? 'call-waiting' : 'ring';
}
