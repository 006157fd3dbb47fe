// A recording stand-in for the parts of the Electron API that src-main/electron uses, so the built
// main.cjs can run under plain Node. It models only what the main process relies on: app
// lifecycle events (before-quit can be prevented), BrowserWindow + WebContents events, ipcMain,
// the default session's permission handlers, safeStorage, dialog, shell, custom protocols
// (privileged registration and handlers), MessageChannelMain (a pair of linked ports) and
// Notification (shown, clicked, closed).
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
  /** webContents.postMessage calls: channel, message, transferred ports. */
  readonly posted: Array<{ channel: string; message: unknown; transfer: unknown[] }> = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  destroyed = false;
  send(channel: string, message: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed'); // what Electron does
    this.sent.push([channel, message]);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  postMessage(channel: string, message: unknown, transfer: unknown[] = []): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.posted.push({ channel, message, transfer });
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

/** One end of a fake MessageChannelMain: messages are delivered (cloned) to the other end once started. */
export class FakeMessagePortMain extends EventEmitter {
  other: FakeMessagePortMain | undefined;
  started = false;
  closed = false;
  private readonly queue: unknown[] = [];
  postMessage(message: unknown): void {
    if (this.closed) return;
    this.other?.receive(structuredClone(message));
  }
  start(): void {
    this.started = true;
    for (const data of this.queue.splice(0)) this.emit('message', { data });
  }
  close(): void {
    this.closed = true;
    this.emit('close');
  }
  private receive(data: unknown): void {
    if (this.closed) return;
    if (this.started) this.emit('message', { data });
    else this.queue.push(data);
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
    whenReady: () => {
      ready = true;
      return Promise.resolve();
    },
    isReady: () => true,
    userDataDir: '',
    getPath(name: string) {
      if (name === 'userData') return app.userDataDir;
      if (name === 'music') return `${app.userDataDir}/Music`;
      throw new Error(`fake electron: getPath(${name}) not modelled`);
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

  /** Custom protocol calls, in order, with whether the app was ready then. */
  const protocols = {
    privileged: [] as Array<{ schemes: Array<{ scheme: string; privileges?: Record<string, boolean> }>; appReady: boolean }>,
    handlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
  };
  let ready = false;
  const channels: Array<{ port1: FakeMessagePortMain; port2: FakeMessagePortMain }> = [];

  const windows: FakeBrowserWindow[] = [];
  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    loadedFile: string | undefined;
    loadedUrl: string | undefined;
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
    async loadURL(url: string): Promise<void> {
      this.loadedUrl = url;
      this.emit('ready-to-show');
    }
    show(): void {
      this.shown = true;
    }
    isMinimized = () => false;
    focused = false;
    /** flashFrame calls, in order. */
    readonly flashes: boolean[] = [];
    restore(): void {}
    focus(): void {
      this.focused = true;
    }
    isFocused(): boolean {
      return this.focused;
    }
    flashFrame(flag: boolean): void {
      this.flashes.push(flag);
    }
  }

  const notifications: FakeNotification[] = [];
  class FakeNotification extends EventEmitter {
    static isSupported = () => true;
    shown = false;
    closed = false;
    constructor(readonly options: { title?: string; body?: string; silent?: boolean }) {
      super();
      notifications.push(this);
    }
    show(): void {
      this.shown = true;
    }
    close(): void {
      this.closed = true;
    }
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
    Notification: FakeNotification,
    ipcMain: new EventEmitter(),
    protocol: {
      registerSchemesAsPrivileged(schemes: Array<{ scheme: string; privileges?: Record<string, boolean> }>) {
        protocols.privileged.push({ schemes, appReady: ready });
      },
      handle(scheme: string, handler: (request: Request) => Response | Promise<Response>) {
        if (!ready) throw new Error('fake electron: protocol.handle before ready'); // Electron requires ready
        protocols.handlers.set(scheme, handler);
      },
    },
    MessageChannelMain: class {
      readonly port1 = new FakeMessagePortMain();
      readonly port2 = new FakeMessagePortMain();
      constructor() {
        this.port1.other = this.port2;
        this.port2.other = this.port1;
        channels.push(this);
      }
    },
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
  return { electron, app, windows, notifications, permission, messageBoxes, opened, protocols, channels };
}
