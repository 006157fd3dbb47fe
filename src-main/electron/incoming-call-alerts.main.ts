/**
 * Incoming-call alerts (incoming-call-alerts.ts) with Electron's Notification and the main window:
 * follows the core's call.state events through an in-process contract client, as the link
 * handler dials through one. Started once the core and window exist; lives as long as the app.
 */
import { Notification, type BrowserWindow } from 'electron';
import { ContractClient } from '../common/contract/contract-client';
import type { ContractServer } from '../common/contract/contract-server';
import { createInProcessChannelPair } from '../web/in-process-channel';
import { IncomingCallAlerts } from './incoming-call-alerts';

export function startIncomingCallAlerts(server: ContractServer, window: () => BrowserWindow | undefined, log: (line: string) => void): void {
  const notifications = Notification.isSupported();
  if (!notifications) log('incoming calls: this system shows no notifications; the window flashes only');
  const pair = createInProcessChannelPair();
  server.attach(pair.a);
  const alerts = new IncomingCallAlerts({
    windowFocused: () => window()?.isFocused() ?? false,
    flash: (on) => window()?.flashFrame(on),
    notify: (title, body, onClick) => {
      if (!notifications) return { close: () => undefined };
      // Silent: the window's ringer rings; a second sound would only be noise.
      const notification = new Notification({ title, body, silent: true, urgency: 'critical', timeoutType: 'never' });
      notification.on('click', onClick);
      notification.show();
      return notification;
    },
    showWindow: () => {
      const shown = window();
      if (!shown) return;
      if (shown.isMinimized()) shown.restore();
      shown.show();
      shown.focus();
    },
  });
  new ContractClient(pair.b).on('call.state', (call) => alerts.onCall(call));
}
