/**
 * Connection to the core as the UI sees it.
 *   connecting --carrier ready--> connected --carrier closed--> disconnected
 *   connecting --carrier failed--> disconnected
 * `disconnected` is final for this page; the user reloads to reconnect.
 */
import { ContractClient } from '@common/contract/contract-client';
import type { EventPayload } from '@common/contract/contract';
import type { CoreConnection } from '../carrier/connect-to-core';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface Notice {
  readonly id: number;
  readonly level: EventPayload<'app.notice'>['level'];
  readonly message: string;
}

export class ConnectionState {
  status = $state<ConnectionStatus>('connecting');
  /** Why we are disconnected, in words. */
  problem = $state<string | undefined>(undefined);
  /** e.g. "Switchboard 0.1.0", once app.info answered. */
  appTitle = $state<string | undefined>(undefined);
  /** What the core wants the user to know (app.info notices, app.notice events), until dismissed. */
  notices = $state<Notice[]>([]);
  private nextNoticeId = 1;
  readonly carrier: CoreConnection['carrier'];
  readonly client: ContractClient;

  constructor(connection: CoreConnection) {
    this.carrier = connection.carrier;
    this.client = new ContractClient(connection.channel);
    this.client.on('app.notice', ({ level, message }) => this.addNotice(level, message));
    connection.channel.onClose(() => {
      // Before `ready`, the rejected `ready` says why in more detail (could not connect to URL).
      if (this.status === 'connected') this.lose('The connection to the Switchboard core was closed.');
    });
    connection.ready.then(
      async () => {
        if (this.status === 'disconnected') return;
        this.status = 'connected';
        try {
          const info = await this.client.call('app.info', {});
          this.appTitle = `${info.name} ${info.version}`;
          for (const message of info.notices) this.addNotice('warning', message);
        } catch (error) {
          console.error('Switchboard: app.info failed', error);
        }
      },
      (error: unknown) => this.lose(error instanceof Error ? error.message : String(error)),
    );
  }

  dismissNotice(id: number): void {
    this.notices = this.notices.filter((notice) => notice.id !== id);
  }

  private addNotice(level: Notice['level'], message: string): void {
    this.notices.push({ id: this.nextNoticeId++, level, message });
  }

  private lose(problem: string): void {
    if (this.status === 'disconnected') return;
    this.status = 'disconnected';
    this.problem = problem;
  }
}
