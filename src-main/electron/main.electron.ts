/**
 * Electron main entry: wires modules, holds no logic of its own.
 *   core (createSwitchboardCore, settings in userData, passwords via safeStorage)
 *   → main window (window.main.ts, page served from app://switchboard, app-scheme.main.ts)
 *   → IPC carrier (ipc-carrier.main.ts) → sip:/tel: links (protocol-handler.main.ts)
 *   → call audio: a MessageChannelMain per call to the window (electron-audio-broker.main.ts)
 *   → incoming calls: a notification and a flashing window when it is not in front (incoming-call-alerts.main.ts).
 * Quit: before-quit is held until core.stop() has unregistered every account (bounded by a timeout
 * so a dead PBX cannot keep the app alive).
 */
import { app, MessageChannelMain, type BrowserWindow } from 'electron';
import { join } from 'node:path';
import { createSwitchboardCore, type SwitchboardCore } from '../core/app/switchboard-core';
import { tuneV8ForCalls } from '../core/app/v8-tuning';
import { registerAppScheme, serveAppScheme } from './app-scheme.main';
import { createElectronAudioBroker } from './electron-audio-broker.main';
import { attachIpcCarrier } from './ipc-carrier.main';
import { startIncomingCallAlerts } from './incoming-call-alerts.main';
import { installProtocolHandler } from './protocol-handler.main';
import { SafeStorageVault } from './safe-storage-vault.electron';
import { createMainWindow, hardenWebContents, rendererDistDir, rendererPageUrl, restrictPermissions } from './window.main';

const STOP_TIMEOUT_MS = 5000;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

tuneV8ForCalls();

if (!app.requestSingleInstanceLock()) {
  // Another instance runs; it receives our argv (a sip: link, maybe) through 'second-instance'.
  app.quit();
} else {
  app.enableSandbox();
  registerAppScheme(); // before ready, or Electron ignores the privileges
  const links = installProtocolHandler(log);
  let core: SwitchboardCore | undefined;
  let window: BrowserWindow | undefined;

  const openWindow = async (): Promise<void> => {
    if (!core) throw new Error('openWindow called before the core exists');
    const created = await createMainWindow();
    attachIpcCarrier(core.server, created, rendererPageUrl(), log);
    created.on('closed', () => {
      if (window === created) window = undefined;
    });
    window = created;
  };

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));

  app.whenReady().then(async () => {
    serveAppScheme(rendererDistDir(), log);
    restrictPermissions(log);
    const vaultProblem = SafeStorageVault.unavailableReason();
    const vaultNotice = vaultProblem
      ? `Passwords cannot be stored securely on this system (${vaultProblem}); accounts are saved without their passwords and you will be asked again.`
      : undefined;
    if (vaultNotice) log(vaultNotice);
    core = createSwitchboardCore({
      log,
      startupNotices: vaultNotice ? [vaultNotice] : [],
      // The renderer names a recording; the main process decides where it lands.
      recordingsDir: join(app.getPath('music'), 'Switchboard recordings'),
      settings: { path: join(app.getPath('userData'), 'settings.json'), vault: vaultProblem ? undefined : new SafeStorageVault() },
      audioBroker: createElectronAudioBroker({
        newChannel: () => new MessageChannelMain(),
        contents: () => window?.webContents,
        log,
      }),
    });
    await openWindow();
    links.connect(core.server, () => window);
    startIncomingCallAlerts(core.server, () => window, log);
    await core.start();
  }).catch((error: unknown) => {
    log(`startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    app.exit(1);
  });

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  app.on('activate', () => {
    if (app.isReady() && core && !window) void openWindow();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped || !core) return;
    event.preventDefault();
    const stopping = core.stop();
    const timeout = new Promise<void>((resolve) =>
      setTimeout(() => {
        log(`quit: accounts did not unregister within ${STOP_TIMEOUT_MS} ms; quitting anyway`);
        resolve();
      }, STOP_TIMEOUT_MS).unref(),
    );
    Promise.race([stopping, timeout])
      .catch((error: unknown) => log(`quit: stopping the core failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });
}
