/**
 * Electron IPC carrier (main side): one IpcContractChannel per window, attached to the core's
 * ContractServer. Every incoming message is sender-checked (ipcSenderRefusal) before the server
 * sees it. The channel closes when the window's WebContents is destroyed.
 */
import { ipcMain, type BrowserWindow, type IpcMainEvent } from 'electron';
import type { ContractServer } from '../common/contract/contract-server';
import { CONTRACT_IPC_CHANNEL, createIpcContractChannel, ipcSenderRefusal } from '../carriers/ipc-contract-channel';

export function attachIpcCarrier(
  server: ContractServer,
  window: BrowserWindow,
  pageUrl: string,
  log: (line: string) => void,
): () => void {
  const contents = window.webContents;
  const webContentsId = contents.id;
  const channel = createIpcContractChannel(contents);
  server.attach(channel);

  const onMessage = (event: IpcMainEvent, message: unknown): void => {
    if (event.sender.id !== webContentsId) return; // another window's message: its own carrier handles it
    const frame = event.senderFrame;
    const refusal = ipcSenderRefusal(
      { webContentsId: event.sender.id, frameUrl: frame?.url, isMainFrame: frame !== null && frame.parent === null },
      { webContentsId, pageUrl },
    );
    if (refusal) {
      log(`ipc carrier: dropped ${CONTRACT_IPC_CHANNEL} ${refusal}`);
      return;
    }
    channel.deliver(message);
  };
  ipcMain.on(CONTRACT_IPC_CHANNEL, onMessage);

  const detach = (): void => {
    ipcMain.off(CONTRACT_IPC_CHANNEL, onMessage);
    channel.close();
  };
  contents.once('destroyed', detach);
  return detach;
}
