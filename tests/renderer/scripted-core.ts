// A scripted stand-in for the core, for renderer tests that need situations a PBX cannot be told
// to produce on demand (an incoming call at a chosen moment). It speaks the real contract through
// the real ContractServer, so schemas and carriers are exercised unchanged; only the phone behind
// the handlers is scripted. The real-core path is covered by smoke.test.ts.
import { ContractServer } from '../../src-main/common/contract/contract-server';
import { RpcError, RpcErrorCode } from '../../src-main/common/contract/json-rpc';
import type { AccountSnapshot, CallSnapshot, CallStats, ContractHandlers } from '../../src-main/common/contract/contract';

export interface ScriptedCore {
  readonly server: ContractServer;
  /** Methods the renderer called, in order, with their params. */
  readonly calls: Array<{ method: string; params: unknown }>;
  /** Internal errors the server saw (handler bugs); a test asserts there are none. */
  readonly internalErrors: string[];
  /** Settles once the last account.remove has sent its late "unregistered" event. */
  readonly lastRemoval: Promise<void>;
  /** Tell the user something through an app.notice event. */
  notice(level: 'info' | 'warning' | 'error', message: string): void;
  /** The other side of `callId` presses a key. */
  pressKey(callId: string, digit: string): void;
  /** Make a call arrive from `remoteUri` on the first account. */
  ring(remoteUri: string, remoteName?: string): CallSnapshot;
  /** The far end's media of connected `callId` stops coming (true) or comes again (false). */
  setMediaStalled(callId: string, stalled: boolean): void;
  /** The other side of `callId` transfers us to `targetUri`: the new call connects, `callId` ends. */
  transfer(callId: string, targetUri: string): CallSnapshot;
  /** What call.stats reports for `callId` from now on, over the default (a good call). */
  setStats(callId: string, stats: Partial<CallStats>): void;
  /** The other side of `callId` gives up or hangs up: the call ends with `reason`. */
  hangUpFarEnd(callId: string, reason: string): void;
}

export function createScriptedCore(): ScriptedCore {
  const accounts = new Map<string, AccountSnapshot>();
  const callsById = new Map<string, CallSnapshot>();
  const log: Array<{ method: string; params: unknown }> = [];
  const internalErrors: string[] = [];
  const statsOverrides = new Map<string, Partial<CallStats>>();
  let nextId = 1;
  let lastRemoval: Promise<void> = Promise.resolve();

  const setAccount = (snapshot: AccountSnapshot): void => {
    accounts.set(snapshot.accountId, snapshot);
    server.emit('account.state', snapshot);
  };
  const setCall = (snapshot: CallSnapshot): CallSnapshot => {
    callsById.set(snapshot.callId, snapshot);
    server.emit('call.state', snapshot);
    return snapshot;
  };
  const callOrThrow = (callId: string): CallSnapshot => {
    const call = callsById.get(callId);
    if (!call) throw new RpcError(RpcErrorCode.ApplicationError, `No call ${callId}`);
    return call;
  };

  const notScripted = (method: string) => async (): Promise<never> => {
    throw new RpcError(RpcErrorCode.ApplicationError, `${method} is not scripted in this test core`);
  };
  const handlers: ContractHandlers = {
    'app.info': async () => ({
      name: 'Switchboard',
      version: '0.0.0-scripted',
      sipUserAgent: 'Switchboard/scripted',
      notices: ['Settings file was unreadable and was kept aside as settings.json.bad'],
    }),
    'account.add': async (params) => {
      log.push({ method: 'account.add', params });
      const accountId = `acc-${nextId++}`;
      const base = { accountId, aor: params.aor, transport: params.transport };
      setAccount({ ...base, state: 'registering' });
      setTimeout(() => {
        if (params.password === 'right') setAccount({ ...base, state: 'registered' });
        else setAccount({ ...base, state: 'failed', reason: 'Wrong username or password', sipCode: 401 });
      }, 20);
      return { accountId };
    },
    'account.remove': async ({ accountId }) => {
      log.push({ method: 'account.remove', params: { accountId } });
      const account = accounts.get(accountId);
      if (!account) throw new RpcError(RpcErrorCode.ApplicationError, `No account ${accountId}`);
      setAccount({ ...account, state: 'unregistering' });
      accounts.delete(accountId);
      // Like a real core, the final state arrives after the answer (the un-REGISTER completes later).
      lastRemoval = new Promise((resolve) =>
        setTimeout(() => {
          server.emit('account.state', { ...account, state: 'unregistered' });
          resolve();
        }, 20),
      );
      return {};
    },
    'account.list': async () => ({ accounts: [...accounts.values()] }),
    'call.dial': async (params) => {
      log.push({ method: 'call.dial', params });
      const [accountId] = accounts.keys();
      if (!accountId) throw new RpcError(RpcErrorCode.ApplicationError, 'No account to call from: add an account first');
      const call = setCall({
        callId: `call-${nextId++}`,
        accountId,
        direction: 'outgoing',
        remoteUri: params.target.includes(':') ? params.target : `sip:${params.target}@pbx.test`,
        state: 'dialing',
        muted: false,
      });
      setTimeout(() => setCall({ ...call, state: 'ringing' }), 20);
      return { callId: call.callId };
    },
    'call.answer': async ({ callId }) => {
      log.push({ method: 'call.answer', params: { callId } });
      const media = { codec: 'PCMU', localRtp: '127.0.0.1:40000', remoteRtp: '127.0.0.1:40002', packetsSent: 0, packetsReceived: 0 };
      setCall({ ...callOrThrow(callId), state: 'connected', media });
      return {};
    },
    'call.reject': async ({ callId, reason }) => {
      log.push({ method: 'call.reject', params: { callId, reason } });
      setCall({ ...callOrThrow(callId), state: 'ended', reason: 'Declined', sipCode: 603 });
      return {};
    },
    'call.hangup': async ({ callId }) => {
      log.push({ method: 'call.hangup', params: { callId } });
      const call = setCall({ ...callOrThrow(callId), state: 'ending' });
      setTimeout(() => setCall({ ...call, state: 'ended', reason: 'You hung up' }), 20);
      return {};
    },
    'call.list': async () => ({ calls: [...callsById.values()] }),
    'call.dtmf': async ({ callId, digits }) => {
      log.push({ method: 'call.dtmf', params: { callId, digits } });
      if (callOrThrow(callId).state !== 'connected') throw new RpcError(RpcErrorCode.ApplicationError, 'The call is not connected');
      return {};
    },
    'call.hold': async ({ callId }) => {
      log.push({ method: 'call.hold', params: { callId } });
      setCall({ ...callOrThrow(callId), hold: 'local' });
      return {};
    },
    'call.resume': async ({ callId }) => {
      log.push({ method: 'call.resume', params: { callId } });
      setCall({ ...callOrThrow(callId), hold: 'none' });
      return {};
    },
    'call.mute': async ({ callId, muted }) => {
      log.push({ method: 'call.mute', params: { callId, muted } });
      setCall({ ...callOrThrow(callId), muted });
      return {};
    },
    'call.stats': async ({ callId }) => {
      const call = callOrThrow(callId);
      if (call.state !== 'connected') throw new RpcError(RpcErrorCode.ApplicationError, 'No media yet');
      return {
        codec: 'PCMU',
        sampleRate: 8000,
        direction: 'sendrecv',
        rtcpMux: false,
        packetsSent: 500,
        packetsReceived: 498,
        bytesSent: 80000,
        bytesReceived: 79680,
        packetsLost: 2,
        lossPercent: 0.4,
        jitterMs: 3.2,
        roundTripTimeMs: 41,
        rtcpSent: 2,
        rtcpReceived: 2,
        quality: { rFactor: 90.1, mos: 4.3, rating: 'high', approximate: false },
        ...statsOverrides.get(callId),
      };
    },
    'call.transfer': async (params) => {
      log.push({ method: 'call.transfer', params });
      const call = callOrThrow(params.callId);
      if (params.target === 'busy') throw new RpcError(RpcErrorCode.ApplicationError, 'The transfer to sip:busy@pbx.test failed: 486 Busy Here');
      setCall({ ...call, state: 'ended', reason: `Transferred to sip:${params.target}@pbx.test` });
      return {};
    },
    'call.transferToCall': async (params) => {
      log.push({ method: 'call.transferToCall', params });
      const call = callOrThrow(params.callId);
      const to = callOrThrow(params.toCallId);
      setCall({ ...call, state: 'ended', reason: `Transferred to ${to.remoteUri}` });
      setCall({ ...to, state: 'ended', reason: `Transferred to ${call.remoteUri}` });
      return {};
    },
    // Not scripted (yet): a UI test that needs it should script it here.
    'call.record': notScripted('call.record'),
  };
  // Declared after the handlers that use it; they only run once requests arrive.
  const server = new ContractServer(handlers, {
    onInternalError: (method, error) => internalErrors.push(`${method}: ${String(error)}`),
  });

  return {
    server,
    calls: log,
    internalErrors,
    get lastRemoval() {
      return lastRemoval;
    },
    pressKey(callId, digit) {
      server.emit('call.dtmf', { callId, digit, method: 'rfc4733', durationMs: 100 });
    },
    notice(level, message) {
      server.emit('app.notice', { level, message });
    },
    ring(remoteUri, remoteName) {
      const [accountId] = accounts.keys();
      if (!accountId) throw new Error('scripted core: ring() needs an account');
      return setCall({ callId: `call-${nextId++}`, accountId, direction: 'incoming', remoteUri, remoteName, state: 'incoming', muted: false });
    },
    transfer(callId, targetUri) {
      const from = callOrThrow(callId);
      const next = setCall({
        callId: `call-${nextId++}`,
        accountId: from.accountId,
        direction: 'outgoing',
        remoteUri: targetUri,
        state: 'connected',
        muted: false,
        transferredFrom: callId,
        referredBy: from.remoteUri,
      });
      setCall({ ...from, state: 'ended', reason: 'The other side hung up' });
      return next;
    },
    setStats(callId, stats) {
      statsOverrides.set(callId, stats);
    },
    hangUpFarEnd(callId, reason) {
      setCall({ ...callOrThrow(callId), state: 'ended', reason });
    },
    setMediaStalled(callId, stalled) {
      const call = callOrThrow(callId);
      if (!call.media) throw new Error(`scripted core: call ${callId} has no media`);
      setCall({ ...call, media: { ...call.media, stalled } });
    },
  };
}
