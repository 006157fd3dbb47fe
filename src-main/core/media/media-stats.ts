/**
 * Media statistics of a sip.js session, for the contract's `call.stats`: the running
 * MediaSession's stats() when the session's description handler is ours and media has started.
 */
import type { MediaStats } from './media-session';
import { SwitchboardSessionDescriptionHandler } from './session-description-handler';

export function mediaStatsOf(sdh: unknown): MediaStats | undefined {
  return sdh instanceof SwitchboardSessionDescriptionHandler ? sdh.mediaSession?.stats() : undefined;
}
