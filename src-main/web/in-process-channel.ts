/**
 * Two connected RpcChannels in one process: what one side sends, the other receives. Lets
 * in-process code (dev:web's --account pre-add, Electron's sip:/tel: handler) use a
 * ContractClient against the core's ContractServer exactly like a remote client would, so it
 * goes through the same validation. Delivery is asynchronous (microtask) like a real carrier, and
 * messages are JSON round-tripped so nothing can share object identity across the pair.
 */
import type { JsonRpcMessage, RpcChannel } from '../common/contract/json-rpc';

export interface InProcessChannelPair {
  readonly a: RpcChannel;
  readonly b: RpcChannel;
  close(): void;
}

export function createInProcessChannelPair(): InProcessChannelPair {
  const listeners = { a: [] as Array<(m: unknown) => void>, b: [] as Array<(m: unknown) => void> };
  const closeListeners: Array<() => void> = [];
  let closed = false;

  const side = (peer: 'a' | 'b', self: 'a' | 'b'): RpcChannel => ({
    send(message: JsonRpcMessage) {
      if (closed) return;
      const copy: unknown = JSON.parse(JSON.stringify(message));
      queueMicrotask(() => {
        for (const listener of listeners[peer]) listener(copy);
      });
    },
    onMessage(listener) {
      listeners[self].push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  });

  return {
    a: side('b', 'a'),
    b: side('a', 'b'),
    close() {
      if (closed) return;
      closed = true;
      for (const listener of closeListeners) listener();
    },
  };
}
