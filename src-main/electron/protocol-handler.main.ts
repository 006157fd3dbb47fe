/**
 * sip:/sips:/tel: links: the app registers as their handler and dials what it is handed.
 * Links arrive on the command line (first start, Windows/Linux), through 'second-instance'
 * (app already running) or 'open-url' (macOS, possibly before the app is ready); links that
 * arrive before the core is up wait in a queue.
 */
import { app, dialog, type BrowserWindow } from 'electron';
import { ContractClient } from '../common/contract/contract-client';
import type { ContractServer } from '../common/contract/contract-server';
import { createInProcessChannelPair } from '../web/in-process-channel';
import { dialLinkInArgv, dialTargetFromLink } from './dial-target';

export const DIAL_SCHEMES = ['sip', 'sips', 'tel'] as const;

export interface ProtocolHandler {
  /** Start dialing: called once the core and window exist. Queued links are dialled now. */
  connect(server: ContractServer, window: () => BrowserWindow | undefined): void;
}

/** Must be called before app 'ready' (open-url can fire that early on macOS). */
export function installProtocolHandler(log: (line: string) => void): ProtocolHandler {
  // In development the registered command would be the bare electron binary; only the packaged app registers.
  if (app.isPackaged) for (const scheme of DIAL_SCHEMES) app.setAsDefaultProtocolClient(scheme);

  const queued: string[] = [];
  let dial: ((link: string) => void) | undefined;
  const handle = (link: string): void => (dial ? dial(link) : void queued.push(link));

  const first = dialLinkInArgv(process.argv.slice(1));
  if (first) handle(first);
  app.on('open-url', (event, url) => {
    event.preventDefault();
    handle(url);
  });
  app.on('second-instance', (_event, argv) => {
    const link = dialLinkInArgv(argv.slice(1));
    if (link) handle(link);
  });

  return {
    connect(server, window) {
      const pair = createInProcessChannelPair();
      server.attach(pair.a);
      const client = new ContractClient(pair.b);
      dial = (link) => {
        const target = dialTargetFromLink(link);
        const shown = window();
        if (shown) {
          if (shown.isMinimized()) shown.restore();
          shown.focus();
        }
        if (target instanceof Error) {
          log(`protocol handler: ${target.message}`);
          void dialog.showMessageBox({ type: 'warning', message: 'Cannot dial this link', detail: target.message });
          return;
        }
        client.call('call.dial', { target }).then(
          ({ callId }) => log(`protocol handler: dialing ${target} (call ${callId})`),
          (error: unknown) => {
            const why = error instanceof Error ? error.message : String(error);
            log(`protocol handler: dialing ${target} failed: ${why}`);
            void dialog.showMessageBox({ type: 'warning', message: `Cannot call ${target}`, detail: why });
          },
        );
      };
      for (const link of queued.splice(0)) dial(link);
    },
  };
}
