/**
 * JSON-RPC 2.0 framing for the contract. Every carrier (Electron IPC, WebSocket, stdio JSON
 * lines) moves these objects unchanged; only the way bytes move differs.
 *
 * - A request has an `id`; the server MUST answer it exactly once, with `result` or `error`.
 * - A notification has no `id` and is never answered; the core uses notifications for events.
 */
export const JSON_RPC_VERSION = '2.0';

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: unknown;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
}

export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId | null; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId | null; error: JsonRpcError };

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC error codes, plus the application range we use. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** The method ran and refused: the message says why in user terms. */
  ApplicationError: -32000,
} as const;

/** Thrown by handlers to answer with a specific application error. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/**
 * A bidirectional message pipe a carrier provides. Messages are already-parsed objects for
 * in-process and IPC carriers; text carriers parse before calling `onMessage` and report text
 * that is not JSON through `onMessage(undefined, text)` so that the server can answer ParseError.
 */
export interface RpcChannel {
  send(message: JsonRpcMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: () => void): void;
}
