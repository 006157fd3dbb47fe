/**
 * Draws the user to an incoming call when the window is not in front of them (behind other
 * windows, minimized, on another desktop): a system notification saying who calls, silent because
 * the window's ringer makes the sound (RingerState), and the window's taskbar button flashing
 * (Windows, Linux) or its dock icon bouncing (macOS), both through the AlertSurface. Clicking the
 * notification brings the window up. A call's notification closes once it is no longer incoming
 * (answered, declined, the caller gave up); the flashing stops once no call is.
 * With the window focused there is neither: the window itself shows the call.
 *
 * Logic only (no electron import, unit-tested); incoming-call-alerts.main.ts gives it Electron's
 * Notification and BrowserWindow. Main thread.
 */
import type { CallSnapshot } from '../common/contract/contract';
import { displayUri } from '../common/display-uri';

export interface AlertSurface {
  /** Whether the window has the user's focus (then it shows the call itself). */
  windowFocused(): boolean;
  /** Flash the window's taskbar button / bounce its dock icon, or stop. */
  flash(on: boolean): void;
  /** Show a notification; `onClick` brings the window up. Returns how to close it. */
  notify(title: string, body: string, onClick: () => void): { close(): void };
  /** Bring the window up (restored, shown, focused). */
  showWindow(): void;
}

export class IncomingCallAlerts {
  /** Incoming calls, with their notification if one was shown. */
  private readonly incoming = new Map<string, { close(): void } | undefined>();
  private flashing = false;

  constructor(private readonly surface: AlertSurface) {}

  /** Follow one call.state event. */
  onCall(call: CallSnapshot): void {
    if (call.state === 'incoming') {
      if (this.incoming.has(call.callId)) return;
      const notification = this.surface.windowFocused()
        ? undefined
        : this.surface.notify('Incoming call', this.caller(call), () => this.surface.showWindow());
      this.incoming.set(call.callId, notification);
    } else if (this.incoming.has(call.callId)) {
      this.incoming.get(call.callId)?.close();
      this.incoming.delete(call.callId);
    }
    this.updateFlash();
  }

  private caller(call: CallSnapshot): string {
    const address = displayUri(call.remoteUri);
    return call.remoteName ? `${call.remoteName} · ${address}` : address;
  }

  private updateFlash(): void {
    const wanted = this.incoming.size > 0 && !this.surface.windowFocused();
    if (wanted === this.flashing) return;
    this.flashing = wanted;
    this.surface.flash(wanted);
  }
}
