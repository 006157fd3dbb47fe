/**
 * Accounts as the core reports them. Snapshots only ever come from the core (`account.list`
 * and `account.state` events carry whole snapshots); the UI never invents a state.
 * Subscribes before listing so that no event between the two is lost; a listed snapshot never
 * overwrites one that an event already delivered (the event is newer). Once removed, an account
 * stays gone even if the core still reports its unregistration afterwards (ids are never reused).
 */
import type { AccountConfigInput, AccountSnapshot } from '@common/contract/contract';
import type { ContractClient } from '@common/contract/contract-client';
import { errorText } from './error-text';

export class AccountsState {
  private byId = $state<Record<string, AccountSnapshot>>({});
  /** Accounts in the order they were added. */
  readonly list = $derived(Object.values(this.byId));
  /** Why loading the list failed, if it did. */
  loadError = $state<string | undefined>(undefined);
  // Not rendered, only consulted when an event arrives: a plain Set is right here.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly removed = new Set<string>();

  constructor(private readonly client: ContractClient) {
    client.on('account.state', (snapshot) => {
      if (!this.removed.has(snapshot.accountId)) this.byId[snapshot.accountId] = snapshot;
    });
    client.call('account.list', {}).then(
      ({ accounts }) => {
        for (const account of accounts) if (!(account.accountId in this.byId)) this.byId[account.accountId] = account;
      },
      (error: unknown) => {
        this.loadError = `Could not load accounts: ${errorText(error)}`;
      },
    );
  }

  /** Adds an account; resolves with its id, rejects with the core's reason (e.g. invalid AOR). */
  async add(config: AccountConfigInput): Promise<string> {
    const { accountId } = await this.client.call('account.add', config);
    return accountId;
  }

  async remove(accountId: string): Promise<void> {
    await this.client.call('account.remove', { accountId });
    this.removed.add(accountId);
    delete this.byId[accountId];
  }
}
