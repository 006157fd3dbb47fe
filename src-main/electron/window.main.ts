/**
 * The main window and the rules every web contents lives by: no navigation away from our page, no
 * new windows, no <webview>, microphone as the only permission.
 */
import { BrowserWindow, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';
import { APP_PAGE_URL } from './app-scheme';
import { isPermissionAllowed } from './permission-policy';
import { mainWindowOptions } from './window-options';

/** dist/renderer relative to the bundled dist/electron/main.cjs (served as app://switchboard/). */
export function rendererDistDir(): string {
  return join(__dirname, '..', 'renderer');
}

/** Our page: the renderer served from the privileged app scheme (app-scheme.ts), not file://. */
export function rendererPageUrl(): string {
  return APP_PAGE_URL;
}

/** Applied to every WebContents the app creates (app 'web-contents-created'). */
export function hardenWebContents(contents: WebContents, log: (line: string) => void): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    log(`window: blocked navigation to ${url}`);
  });
  contents.on('will-redirect', (event, url) => {
    event.preventDefault();
    log(`window: blocked redirect to ${url}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('window: blocked <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    // https links (e.g. help) open in the user's browser; nothing opens inside the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    else log(`window: blocked new window for ${url}`);
    return { action: 'deny' };
  });
}

/** Permission handlers on the default session: microphone for our page, nothing else. */
export function restrictPermissions(log: (line: string) => void): void {
  const ours = rendererPageUrl();
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const allowed = isPermissionAllowed(
      { permission, requestingUrl: details.requestingUrl, mediaTypes: 'mediaTypes' in details ? details.mediaTypes : undefined },
      ours,
    );
    if (!allowed) log(`window: refused permission "${permission}" for ${details.requestingUrl}`);
    callback(allowed);
  });
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    isPermissionAllowed(
      {
        permission,
        requestingUrl: details.requestingUrl ?? requestingOrigin,
        mediaTypes: details.mediaType && details.mediaType !== 'unknown' ? [details.mediaType] : [],
      },
      ours,
    ),
  );
}

export async function createMainWindow(): Promise<BrowserWindow> {
  const window = new BrowserWindow(mainWindowOptions(join(__dirname, 'preload.cjs')));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(rendererPageUrl());
  return window;
}
