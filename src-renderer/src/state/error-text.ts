/** The message to show a user for a failed call into the core. */
import { RpcError, RpcErrorCode } from '@common/contract/json-rpc';

export function errorText(error: unknown): string {
  if (error instanceof RpcError && error.code === RpcErrorCode.InvalidParams)
    // "Invalid params for account.add: aor: must be …" → "aor: must be …": the method name means nothing to a user.
    return error.message.replace(/^Invalid params for [\w.]+: /, '');
  if (error instanceof Error) return error.message;
  return String(error);
}
