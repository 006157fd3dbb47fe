/**
 * Typed client for the contract over any RpcChannel. Used by the renderer (IPC or WebSocket
 * carrier), by tests (stdio carrier to a headless process) and by scripts.
 */
import {
  events,
  type EventName,
  type EventPayload,
  type MethodName,
  type ParamsIn,
  type Result,
} from './contract';
import { RpcError, type JsonRpcId, type RpcChannel } from './json-rpc';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class ContractClient {
  private nextId = 1;
  private readonly pending = new Map<JsonRpcId, Pending>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private closed = false;

  constructor(private readonly channel: RpcChannel) {
    channel.onMessage((message) => this.receive(message));
    channel.onClose(() => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error('Connection to the Switchboard core closed'));
      this.pending.clear();
    });
  }

  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> {
    if (this.closed) return Promise.reject(new Error('Connection to the Switchboard core closed'));
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.channel.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const wrapped = listener as (payload: unknown) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  private receive(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if ('id' in m && m.id !== null && ('result' in m || 'error' in m)) {
      const pending = this.pending.get(m.id as JsonRpcId);
      if (!pending) return;
      this.pending.delete(m.id as JsonRpcId);
      if ('error' in m) {
        const e = m.error as { code: number; message: string; data?: unknown };
        pending.reject(new RpcError(e.code, e.message, e.data));
      } else pending.resolve(m.result);
      return;
    }
    if (typeof m.method === 'string' && !('id' in m) && Object.hasOwn(events, m.method)) {
      const parsed = events[m.method as EventName].safeParse(m.params);
      if (!parsed.success) return;
      for (const l of this.listeners.get(m.method) ?? []) l(parsed.data);
    }
  }
}
