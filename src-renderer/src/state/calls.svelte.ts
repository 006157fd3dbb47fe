/**
 * Calls as the core reports them (whole snapshots from `call.list` and `call.state`), plus what
 * the UI shows next to them: media statistics (polled from `call.stats` while a call is
 * connected) and the DTMF digits the other side sent (`call.dtmf` events).
 * Ended calls stay listed, with their reason, until the user dismisses them; at most
 * MAX_ENDED are kept so the list cannot grow without bound.
 */
import type { CallSnapshot, CallStats } from '@common/contract/contract';
import type { ContractClient } from '@common/contract/contract-client';
import { errorText } from './error-text';

const MAX_ENDED = 5;
/** Often enough to watch quality change, rarely enough to cost nothing. */
const STATS_INTERVAL_MS = 2000;

export class CallsState {
  private byId = $state<Record<string, CallSnapshot>>({});
  /** Newest first. */
  readonly list = $derived(Object.values(this.byId).reverse());
  loadError = $state<string | undefined>(undefined);
  /** Latest media statistics per connected call. */
  stats = $state<Record<string, CallStats>>({});
  /** Digits received from the other side, per call, in order. */
  receivedDigits = $state<Record<string, string>>({});

  constructor(private readonly client: ContractClient) {
    client.on('call.state', (snapshot) => this.apply(snapshot));
    client.on('call.dtmf', ({ callId, digit }) => {
      this.receivedDigits[callId] = (this.receivedDigits[callId] ?? '') + digit;
    });
    client.call('call.list', {}).then(
      ({ calls }) => {
        for (const call of calls) if (!(call.callId in this.byId)) this.apply(call);
      },
      (error: unknown) => {
        this.loadError = `Could not load calls: ${errorText(error)}`;
      },
    );
    // Lives as long as the page, like this state object.
    setInterval(() => void this.refreshStats(), STATS_INTERVAL_MS);
  }

  dial(target: string, accountId?: string): Promise<{ callId: string }> {
    return this.client.call('call.dial', accountId ? { target, accountId } : { target });
  }

  async answer(callId: string): Promise<void> {
    await this.client.call('call.answer', { callId });
  }

  async decline(callId: string): Promise<void> {
    await this.client.call('call.reject', { callId, reason: 'decline' });
  }

  async hangUp(callId: string): Promise<void> {
    await this.client.call('call.hangup', { callId });
  }

  async hold(callId: string): Promise<void> {
    await this.client.call('call.hold', { callId });
  }

  async resume(callId: string): Promise<void> {
    await this.client.call('call.resume', { callId });
  }

  /** Mute or unmute our microphone on a call: the other side hears silence while muted. */
  async setMuted(callId: string, muted: boolean): Promise<void> {
    await this.client.call('call.mute', { callId, muted });
  }

  /** Blind transfer: resolves once the target answered (the call then ends), rejects with why not. */
  async transfer(callId: string, target: string): Promise<void> {
    await this.client.call('call.transfer', { callId, target });
  }

  /** Attended transfer: the other side of `callId` takes over our call `toCallId`; both end when done. */
  async transferToCall(callId: string, toCallId: string): Promise<void> {
    await this.client.call('call.transferToCall', { callId, toCallId });
  }

  /** Send DTMF digits (0-9, *, #, A-D) into a connected call. */
  async sendDigits(callId: string, digits: string): Promise<void> {
    await this.client.call('call.dtmf', { callId, digits });
  }

  dismiss(callId: string): void {
    if (this.byId[callId]?.state !== 'ended') return;
    delete this.byId[callId];
    delete this.receivedDigits[callId];
  }

  private apply(snapshot: CallSnapshot): void {
    // A snapshot replaces the old one; an existing key keeps its place, so order = creation order.
    this.byId[snapshot.callId] = snapshot;
    if (snapshot.state !== 'connected') delete this.stats[snapshot.callId];
    const ended = Object.values(this.byId).filter((c) => c.state === 'ended');
    for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) {
      delete this.byId[old.callId];
      delete this.receivedDigits[old.callId];
    }
  }

  private async refreshStats(): Promise<void> {
    for (const call of Object.values(this.byId)) {
      if (call.state !== 'connected') continue;
      try {
        const stats = await this.client.call('call.stats', { callId: call.callId });
        // The call may have ended while we asked.
        if (this.byId[call.callId]?.state === 'connected') this.stats[call.callId] = stats;
      } catch (error) {
        // Media may not have started yet; the next poll tries again. Keep a trace for debugging.
        console.debug(`Switchboard: call.stats for ${call.callId} failed: ${errorText(error)}`);
        delete this.stats[call.callId];
      }
    }
  }
}
