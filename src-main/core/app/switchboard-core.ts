/**
 * The Switchboard core without any carrier: the Phone (SIP accounts and calls) served as the
 * typed contract. Electron main, dev:web and headless each create one and attach their carrier(s)
 * to `server`. Imports no electron.
 */
import type { Session } from 'sip.js';
import { ContractServer } from '../../common/contract/contract-server';
import { effectiveSrtpPolicy } from '../../common/contract/contract';
import { APP_NAME, APP_VERSION } from '../../common/version';
import type { AudioSink, AudioSource } from '../media/audio/audio-port';
import { NullSink } from '../media/audio/null-sink';
import { RendererAudioProvider, type AudioDeviceBroker } from '../media/audio/renderer-audio-provider';
import { SilenceSource } from '../media/audio/silence-source';
import { createSessionDescriptionHandlerFactory } from '../media/session-description-handler';
import { Phone, type PhoneOptions } from '../sip/phone/phone';
import type { CredentialVault } from '../store/credential-vault';
import { SettingsStore } from '../store/settings-store';

/** Where each call's audio comes from and goes to (WAV files headless, the renderer in the app). */
export interface CallAudioProvider {
  /** `format.sampleRate`: PCM rate of the negotiated codec (a WAV device records at that rate). */
  open(session: Session, format: { sampleRate: number }): { source: AudioSource; sink: AudioSink };
}

export interface SwitchboardCoreOptions {
  userAgentName?: string;
  /** Diagnostics (never stdout in headless mode). */
  log?: (line: string) => void;
  /** SIP trace sink; messages arrive with Authorization headers already redacted. */
  trace?: PhoneOptions['trace'];
  audio?: CallAudioProvider;
  /** The app: each call's audio is the renderer's device, reached through this broker (wins over `audio`). */
  audioBroker?: AudioDeviceBroker;
  codecPreference?: readonly string[];
  backoffSeconds?: PhoneOptions['backoffSeconds'];
  /** Answer incoming calls at once (intercom / test far end). */
  autoAnswer?: boolean;
  /** Confine call.record to this folder (the app: its renderer is not trusted with paths). */
  recordingsDir?: string;
  /** Things the user must be told from the start (e.g. passwords cannot be stored securely). */
  startupNotices?: readonly string[];
  /** Persist accounts here (the app); without it accounts live as long as the process (headless). */
  settings?: { path: string; vault?: CredentialVault };
}

export interface SwitchboardCore {
  readonly server: ContractServer;
  readonly phone: Phone;
  /** Register the saved accounts (if any). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const silentAudio: CallAudioProvider = {
  open: () => ({ source: new SilenceSource(8000), sink: new NullSink(8000) }),
};

export function createSwitchboardCore(options: SwitchboardCoreOptions = {}): SwitchboardCore {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let audio = options.audio ?? silentAudio;
  const store = options.settings ? new SettingsStore(options.settings.path, options.settings.vault) : undefined;
  const notices: string[] = [...(options.startupNotices ?? [])];
  let loading = false;
  // The server is built from the phone's handlers, and the phone emits through the server.
  const sink: { server?: ContractServer } = {};
  const phone = new Phone({
    userAgentString: `${options.userAgentName ?? APP_NAME}/${APP_VERSION}`,
    version: APP_VERSION,
    log,
    trace: options.trace,
    backoffSeconds: options.backoffSeconds,
    autoAnswer: options.autoAnswer,
    recordingsDir: options.recordingsDir,
    notices: () => [...notices],
    onAccountsChanged: (accounts) => {
      if (!store || loading) return;
      try {
        store.save(accounts);
      } catch (error) {
        const message = `Could not save settings to ${store.path}: ${error instanceof Error ? error.message : String(error)}`;
        log(message);
        sink.server?.emit('app.notice', { level: 'error', message });
      }
    },
    sessionDescriptionHandlerFactory: (account) =>
      createSessionDescriptionHandlerFactory({
        localAddress: () => account.transport.localAddress().host,
        srtpPolicy: effectiveSrtpPolicy(account.config),
        openAudio: (session, format) => audio.open(session, format),
        // The account's own codec list wins over the process-wide one (headless --codecs).
        codecPreference: account.config.codecs ?? options.codecPreference,
        ptime: account.config.ptime,
      }),
    onAccountChange: (snapshot) => sink.server?.emit('account.state', snapshot),
    onCallChange: (snapshot) => sink.server?.emit('call.state', snapshot),
    onCallDtmf: (event) => sink.server?.emit('call.dtmf', event),
  });
  // Set after the phone exists (the provider names devices by call id); read only when media starts.
  if (options.audioBroker) {
    audio = new RendererAudioProvider({ broker: options.audioBroker, callIdOf: (session) => phone.callIdOf(session), log });
  }
  const server = new ContractServer(phone.handlers, {
    onInternalError: (method, error) =>
      log(`internal error in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  });
  sink.server = server;
  return {
    server,
    phone,
    async start() {
      if (!store) return;
      const loaded = store.load();
      for (const notice of loaded.notices) {
        notices.push(notice);
        log(notice);
        server.emit('app.notice', { level: 'warning', message: notice });
      }
      loading = true;
      try {
        for (const account of loaded.accounts) await phone.addAccount(account);
      } finally {
        loading = false;
      }
    },
    stop: () => phone.stop(),
  };
}
