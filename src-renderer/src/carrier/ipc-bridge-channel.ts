/** RpcChannel over the Electron preload bridge. The bridge lives as long as the window, so it never closes. */
import type { JsonRpcMessage, RpcChannel } from '@common/contract/json-rpc';
import type { SwitchboardBridge } from './switchboard-bridge';

export function createIpcBridgeChannel(bridge: SwitchboardBridge): RpcChannel {
  return {
    send(message: JsonRpcMessage) {
      bridge.send(message);
    },
    onMessage(listener) {
      bridge.onMessage(listener);
    },
    onClose() {
      // The main process outlives the window; there is no close to report.
    },
  };
}
