/**
 * What the phone sounds like, given every call it has (RingerState plays it):
 *   'ring'          a call is incoming and no other call has the user's ear;
 *   'call-waiting'  a call is incoming while another has the user's ear: being set up, or
 *                   connected and not held by us (the ring would drown that call: soft beeps in
 *                   its own audio device instead);
 *   'off'           no call is incoming.
 */
import type { CallSnapshot, CallState } from '@common/contract/contract';

export type RingerMode = 'off' | 'ring' | 'call-waiting';

/** States in which a call has the user's ear (a new call's ring would cut across it). */
const BUSY: ReadonlySet<CallState> = new Set(['dialing', 'ringing', 'early-media', 'connected']);

export function ringerModeOf(calls: Iterable<Pick<CallSnapshot, 'state' | 'hold'>>): RingerMode {
  let incoming = false;
  let busy = false;
  for (const { state, hold } of calls) {
    if (state === 'incoming') incoming = true;
    else if (BUSY.has(state) && hold !== 'local' && hold !== 'both') busy = true;
  }
  if (!incoming) return 'off';
  return busy ? 'call-waiting' : 'ring';
}
