/**
 * FramePort over Electron's MessagePortMain (the app): the main process keeps one end of a
 * MessageChannelMain and hands the other to the renderer (webContents.postMessage(channel, null,
 * [port2])), which gives it to AudioEngine (which moves it into the AudioWorklet, so frames never
 * touch the renderer's main thread).
 *
 * Typed structurally so the core never imports electron. MessagePortMain cannot transfer
 * ArrayBuffers (only ports), so messages are structured-cloned: `transfer` is ignored.
 * Ownership: the adapter starts the port; it does not close it.
 */
import type { FrameMessage, FramePort } from '../../../common/audio/frame-protocol';

/** The part of Electron's MessagePortMain this adapter uses. */
export interface MessagePortMainLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  start(): void;
}

export function framePortFromMessagePortMain(port: MessagePortMainLike): FramePort {
  const framePort: FramePort = {
    onmessage: null,
    postMessage(message: FrameMessage): void {
      port.postMessage(message);
    },
  };
  port.on('message', (event) => framePort.onmessage?.({ data: event.data }));
  port.start();
  return framePort;
}
