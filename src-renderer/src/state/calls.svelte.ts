/**
 * Calls as the core reports them (whole snapshots from `call.list` and `call.state`).
 * Ended calls stay listed, with their reason, until the user dismisses them; at most
 * MAX_ENDED are kept so the list cannot grow without bound.
 */
import type { CallSnapshot } from '@common/contract/contract';
import type { ContractClient } from '@common/contract/contract-client';
import { errorText } from './error-text';

const MAX_ENDED = 5;

export class CallsState {
  private byId = $state<Record<string, CallSnapshot>>({});
  /** Newest first. */
  readonly list = $derived(Object.values(this.byId).reverse());
  loadError = $state<string | undefined>(undefined);

  constructor(private readonly client: ContractClient) {
    client.on('call.state', (snapshot) => this.apply(snapshot));
    client.call('call.list', {}).then(
      ({ calls }) => {
        for (const call of calls) if (!(call.callId in this.byId)) this.apply(call);
      },
      (error: unknown) => {
        this.loadError = `Could not load calls: ${errorText(error)}`;
      },
    );
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

  dismiss(callId: string): void {
    if (this.byId[callId]?.state === 'ended') delete this.byId[callId];
  }

  private apply(snapshot: CallSnapshot): void {
    // A snapshot replaces the old one; an existing key keeps its place, so order = creation order.
    this.byId[snapshot.callId] = snapshot;
    const ended = Object.values(this.byId).filter((c) => c.state === 'ended');
    for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) delete this.byId[old.callId];
  }
}
