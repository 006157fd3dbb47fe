/**
 * The main window's BrowserWindow options: the security settings live here, in a module that only
 * imports electron's types, so a unit test can check them without the Electron runtime.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1000,
    height: 720,
    minWidth: 420,
    minHeight: 480,
    title: 'Switchboard',
    show: false, // shown on ready-to-show: no white flash
    backgroundColor: '#f4f5f7',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      // The renderer is untrusted UI code: isolated world, OS sandbox, no Node.
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // An incoming call rings (the renderer's RingerState) with no click in the window first.
      autoplayPolicy: 'no-user-gesture-required',
      devTools: true,
    },
  };
}
