/**
 * The app's AudioDeviceBroker: per call, a MessageChannelMain. port1 stays in main as the call's
 * FramePort (framePortFromMessagePortMain → PortAudioDevice); port2 goes to the main window with
 * webContents.postMessage(AUDIO_PORT_CHANNEL, { callId, sampleRate }, [port2]); the preload hands
 * it to the page, whose AudioEngine moves it into the AudioWorklet.
 *
 * When the call's audio ends, port1 is closed (the page's engine stops on the call's end state).
 * Without a window the call still gets a port, whose frames go nowhere (logged); a window opened
 * later does not get the audio of calls already running.
 * Typed structurally (no electron import) so it runs under Node in tests; main.electron.ts passes
 * the real MessageChannelMain. Ownership: owns port1 of each call. Node main thread.
 */
import type { FramePort } from '../common/audio/frame-protocol';
import { framePortFromMessagePortMain, type MessagePortMainLike } from '../core/media/audio/port-message-port-main';
import type { AudioDeviceBroker } from '../core/media/audio/renderer-audio-provider';

/** IPC channel main → preload for a call's audio port (preload.electron.ts). */
export const AUDIO_PORT_CHANNEL = 'audio-port';

export interface MessagePortMainWithClose extends MessagePortMainLike {
  close(): void;
}

/** `Port` is Electron's MessagePortMain (the renderer's end, only transferred). */
export interface ElectronAudioBrokerDeps<Port> {
  newChannel(): { port1: MessagePortMainWithClose; port2: Port };
  /** The window's WebContents to send ports to, if a window is open. */
  contents(): { postMessage(channel: string, message: unknown, transfer: Port[]): void; isDestroyed(): boolean } | undefined;
  log(line: string): void;
}

export function createElectronAudioBroker<Port>(deps: ElectronAudioBrokerDeps<Port>): AudioDeviceBroker {
  const ports = new Map<string, MessagePortMainWithClose>();
  return {
    open({ callId, sampleRate }): FramePort {
      if (ports.has(callId)) throw new Error(`audio broker: call ${callId} already has an audio port`);
      const { port1, port2 } = deps.newChannel();
      ports.set(callId, port1);
      const framePort = framePortFromMessagePortMain(port1);
      const contents = deps.contents();
      if (!contents || contents.isDestroyed()) deps.log(`audio: call ${callId} has no window to play in`);
      else contents.postMessage(AUDIO_PORT_CHANNEL, { callId, sampleRate }, [port2]);
      return framePort;
    },
    close(callId) {
      const port = ports.get(callId);
      if (!port) return;
      ports.delete(callId);
      port.close();
    },
  };
}
