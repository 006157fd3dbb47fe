// A recording stand-in for the parts of the Electron API that src-main/electron uses, so the built
// main.cjs can run under plain Node. It models only what the main process relies on: app
// lifecycle events (before-quit can be prevented), BrowserWindow + WebContents events, ipcMain,
// the default session's permission handlers, safeStorage, dialog and shell.
import { EventEmitter } from 'node:events';

export interface PreventableEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

export function preventable(): PreventableEvent {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

export class FakeWebContents extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  readonly sent: Array<[string, unknown]> = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  destroyed = false;
  send(channel: string, message: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed'); // what Electron does
    this.sent.push([channel, message]);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

export function createFakeElectron() {
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    sandboxEnabled: false,
    quitted: false,
    exitCode: undefined as number | undefined,
    requestSingleInstanceLock: () => true,
    enableSandbox() {
      app.sandboxEnabled = true;
    },
    whenReady: () => Promise.resolve(),
    isReady: () => true,
    userDataDir: '',
    getPath(name: string) {
      if (name !== 'userData') throw new Error(`fake electron: getPath(${name}) not modelled`);
      return app.userDataDir;
    },
    setAsDefaultProtocolClient: (_scheme: string) => true,
    quit() {
      const event = preventable();
      app.emit('before-quit', event);
      if (!event.defaultPrevented) app.quitted = true;
    },
    exit(code: number) {
      app.exitCode = code;
    },
  });

  const windows: FakeBrowserWindow[] = [];
  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    loadedFile: string | undefined;
    shown = false;
    constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
      super();
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadFile(path: string): Promise<void> {
      this.loadedFile = path;
      this.emit('ready-to-show');
    }
    show(): void {
      this.shown = true;
    }
    isMinimized = () => false;
    restore(): void {}
    focus(): void {}
  }

  const permission = {
    request: undefined as undefined | ((wc: unknown, permission: string, cb: (ok: boolean) => void, details: Record<string, unknown>) => void),
    check: undefined as undefined | ((wc: unknown, permission: string, origin: string, details: Record<string, unknown>) => boolean),
  };
  const messageBoxes: Array<Record<string, unknown>> = [];
  const opened: string[] = [];

  const electron = {
    app,
    BrowserWindow: FakeBrowserWindow,
    ipcMain: new EventEmitter(),
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: typeof permission.request) => (permission.request = handler),
        setPermissionCheckHandler: (handler: typeof permission.check) => (permission.check = handler),
      },
    },
    safeStorage: {
      isEncryptionAvailable: () => false,
      getSelectedStorageBackend: () => 'basic_text',
    },
    dialog: {
      showMessageBox: async (options: Record<string, unknown>) => {
        messageBoxes.push(options);
        return { response: 0 };
      },
    },
    shell: {
      openExternal: async (url: string) => {
        opened.push(url);
      },
    },
  };
  return { electron, app, windows, permission, messageBoxes, opened };
}
