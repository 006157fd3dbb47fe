/**
 * Serves the contract over any number of channels: validates every incoming payload against the
 * method's schema before calling the handler, and broadcasts events to every connected channel.
 */
import { z } from 'zod';
import {
  events,
  methods,
  type ContractHandlers,
  type EventName,
  type EventPayload,
  type MethodName,
} from './contract';
import { RpcError, RpcErrorCode, type JsonRpcError, type JsonRpcId, type RpcChannel } from './json-rpc';

export interface ContractServerOptions {
  /** Called for handler failures that are not RpcErrors (bugs), so they are never silent. */
  onInternalError?: (method: string, error: unknown) => void;
}

function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'params'}: ${issue.message}`)
    .join('; ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ContractServer {
  private readonly channels = new Set<RpcChannel>();

  constructor(
    private readonly handlers: ContractHandlers,
    private readonly options: ContractServerOptions = {},
  ) {}

  /** Serve one channel until it closes. */
  attach(channel: RpcChannel): void {
    this.channels.add(channel);
    channel.onClose(() => this.channels.delete(channel));
    channel.onMessage((message) => {
      void this.handle(channel, message);
    });
  }

  /** Broadcast an event to every attached channel. The payload is checked against its schema. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = events[event].parse(payload);
    for (const channel of this.channels) channel.send({ jsonrpc: '2.0', method: event, params: checked });
  }

  private async handle(channel: RpcChannel, message: unknown): Promise<void> {
    if (message === undefined) {
      this.replyError(channel, null, { code: RpcErrorCode.ParseError, message: 'Parse error: not valid JSON' });
      return;
    }
    if (!isObject(message) || message.jsonrpc !== '2.0' || typeof message.method !== 'string') {
      const id = isObject(message) && (typeof message.id === 'string' || typeof message.id === 'number') ? message.id : null;
      this.replyError(channel, id, {
        code: RpcErrorCode.InvalidRequest,
        message: 'Invalid request: expected a JSON-RPC 2.0 object with "jsonrpc":"2.0" and a string "method"',
      });
      return;
    }
    const hasId = typeof message.id === 'string' || typeof message.id === 'number';
    const id = hasId ? (message.id as JsonRpcId) : null;
    const name = message.method;
    if (!Object.hasOwn(methods, name)) {
      if (hasId) this.replyError(channel, id, { code: RpcErrorCode.MethodNotFound, message: `Unknown method "${name}"` });
      return;
    }
    const method = name as MethodName;
    const parsed = methods[method].params.safeParse(message.params ?? {});
    if (!parsed.success) {
      if (hasId)
        this.replyError(channel, id, {
          code: RpcErrorCode.InvalidParams,
          message: `Invalid params for ${method}: ${describeZodError(parsed.error)}`,
        });
      return;
    }
    try {
      const handler = this.handlers[method] as (params: unknown) => Promise<unknown>;
      const result = await handler(parsed.data);
      if (hasId) channel.send({ jsonrpc: '2.0', id, result: methods[method].result.parse(result) });
    } catch (error) {
      if (error instanceof RpcError) {
        if (hasId) this.replyError(channel, id, { code: error.code, message: error.message, data: error.data });
        return;
      }
      this.options.onInternalError?.(method, error);
      if (hasId)
        this.replyError(channel, id, {
          code: RpcErrorCode.InternalError,
          message: `Internal error in ${method}: ${error instanceof Error ? error.message : String(error)}`,
        });
    }
  }

  private replyError(channel: RpcChannel, id: JsonRpcId | null, error: JsonRpcError): void {
    channel.send({ jsonrpc: '2.0', id, error });
  }
}
