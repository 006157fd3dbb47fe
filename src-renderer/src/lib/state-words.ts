/** Account and call states in words a user understands. */
import type { AccountSnapshot, CallSnapshot, CallStats } from '@common/contract/contract';

export type Tone = 'good' | 'busy' | 'bad' | 'idle';

function sipCode(account: AccountSnapshot): string {
  return account.sipCode !== undefined ? ` (SIP ${account.sipCode})` : '';
}

export function accountStatus(account: AccountSnapshot): { label: string; detail?: string; tone: Tone } {
  switch (account.state) {
    case 'registered':
      return { label: 'Registered', tone: 'good' };
    case 'ready':
      return { label: 'Ready (no registration)', tone: 'good' };
    case 'registering':
      return { label: 'Registering…', tone: 'busy' };
    case 'unregistering':
      return { label: 'Signing out…', tone: 'busy' };
    case 'unregistered':
      return { label: 'Not registered', tone: 'idle' };
    case 'retrying': {
      const when = account.retryInSeconds !== undefined ? `retrying in ${Math.ceil(account.retryInSeconds)} s` : 'retrying';
      return { label: 'Retrying', detail: `${account.reason ?? 'Registration failed'}; ${when}${sipCode(account)}`, tone: 'busy' };
    }
    case 'failed':
      return { label: 'Failed', detail: `${account.reason ?? 'Registration failed'}${sipCode(account)}`, tone: 'bad' };
  }
}

export function callStatus(call: CallSnapshot): { label: string; tone: Tone } {
  switch (call.state) {
    case 'dialing':
      return { label: 'Calling…', tone: 'busy' };
    case 'ringing':
      return { label: 'Ringing', tone: 'busy' };
    case 'early-media':
      return { label: 'Ringing (early audio)', tone: 'busy' };
    case 'incoming':
      return { label: 'Incoming call', tone: 'busy' };
    case 'connected':
      switch (call.hold) {
        case 'local':
          return { label: 'On hold', tone: 'busy' };
        case 'remote':
          return { label: 'Held by the other side', tone: 'busy' };
        case 'both':
          return { label: 'On hold (both sides)', tone: 'busy' };
        default:
          // The far end's audio stopped coming: one-way audio, or the connection is gone.
          if (call.media?.stalled) return { label: 'No audio from the other side', tone: 'bad' };
          return { label: 'Connected', tone: 'good' };
      }
    case 'ending':
      return { label: 'Hanging up…', tone: 'busy' };
    case 'ended':
      return { label: call.reason ? `Ended: ${call.reason}` : 'Ended', tone: 'idle' };
  }
}

/** One line of call quality, e.g. "PCMU · quality 4.3/5 (high) · loss 0.4 % · jitter 3 ms · delay 41 ms". */
export function statsLine(stats: CallStats): string {
  const parts = [
    stats.codec,
    `quality ${stats.quality.mos.toFixed(1)}/5 (${stats.quality.rating}${stats.quality.approximate ? ', approx.' : ''})`,
    `loss ${stats.lossPercent.toFixed(1)} %`,
    `jitter ${Math.round(stats.jitterMs)} ms`,
  ];
  if (stats.roundTripTimeMs !== undefined) parts.push(`round trip ${Math.round(stats.roundTripTimeMs)} ms`);
  return parts.join(' · ');
}
