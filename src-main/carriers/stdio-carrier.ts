/**
 * The contract as JSON lines on stdio: one JSON-RPC 2.0 message per line, requests on `input`,
 * responses and notifications on `output`. Nothing else may be written to `output` (logs go to
 * stderr), so that a script can parse every line. A line that is not JSON is answered with a
 * JSON-RPC parse error; an empty line is ignored.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { JsonRpcMessage, RpcChannel } from '../common/contract/json-rpc';

export function createStdioChannel(input: Readable, output: Writable): RpcChannel {
  const messageListeners: ((message: unknown) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      // Not JSON: the server answers with a JSON-RPC parse error (code -32700).
      message = undefined;
    }
    for (const l of messageListeners) l(message);
  });
  lines.on('close', () => {
    for (const l of closeListeners) l();
  });
  return {
    send(message: JsonRpcMessage) {
      output.write(`${JSON.stringify(message)}\n`);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  };
}
