// Security decisions of the Electron glue, checked without the Electron runtime: the window's
// webPreferences, the permission policy, the IPC sender policy, sip:/tel: link parsing, and the
// IPC channel carrying the real contract.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mainWindowOptions } from '../../src-main/electron/window-options';
import { isPermissionAllowed } from '../../src-main/electron/permission-policy';
import { dialLinkInArgv, dialTargetFromLink } from '../../src-main/electron/dial-target';
import {
  CONTRACT_IPC_CHANNEL,
  createIpcContractChannel,
  ipcSenderRefusal,
} from '../../src-main/carriers/ipc-contract-channel';
import { ContractServer } from '../../src-main/common/contract/contract-server';
import { ContractClient } from '../../src-main/common/contract/contract-client';
import type { ContractHandlers } from '../../src-main/common/contract/contract';

const PAGE = 'file:///opt/Switchboard/resources/app.asar/dist/renderer/index.html';

describe('main window options', () => {
  const prefs = mainWindowOptions('/app/dist/electron/preload.cjs').webPreferences!;

  test('isolate the page: context isolation, sandbox, no node, web security on', () => {
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, '/app/dist/electron/preload.cjs');
  });

  test('an incoming call may ring before the user has clicked in the window', () => {
    assert.equal(prefs.autoplayPolicy, 'no-user-gesture-required');
  });
});

describe('permission policy', () => {
  test('allows the microphone for our page', () => {
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: PAGE, mediaTypes: ['audio'] }, PAGE), true);
  });
  test('refuses the camera, even together with the microphone', () => {
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: PAGE, mediaTypes: ['audio', 'video'] }, PAGE), false);
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: PAGE, mediaTypes: ['video'] }, PAGE), false);
  });
  test('refuses every other permission', () => {
    for (const permission of ['notifications', 'geolocation', 'clipboard-read', 'hid', 'openExternal', 'fullscreen'])
      assert.equal(isPermissionAllowed({ permission, requestingUrl: PAGE }, PAGE), false, permission);
  });
  test('refuses the microphone to any other page', () => {
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: 'https://evil.example/', mediaTypes: ['audio'] }, PAGE), false);
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: 'file:///tmp/other.html', mediaTypes: ['audio'] }, PAGE), false);
    assert.equal(isPermissionAllowed({ permission: 'media', requestingUrl: 'not a url', mediaTypes: ['audio'] }, PAGE), false);
  });
});

describe('IPC sender policy', () => {
  const trusted = { webContentsId: 7, pageUrl: PAGE };
  test('accepts our page in our window', () => {
    assert.equal(ipcSenderRefusal({ webContentsId: 7, frameUrl: PAGE, isMainFrame: true }, trusted), undefined);
    assert.equal(ipcSenderRefusal({ webContentsId: 7, frameUrl: `${PAGE}?x=1#y`, isMainFrame: true }, trusted), undefined);
  });
  test('drops other windows, subframes, dead frames and other pages', () => {
    assert.match(ipcSenderRefusal({ webContentsId: 8, frameUrl: PAGE, isMainFrame: true }, trusted)!, /another WebContents/);
    assert.match(ipcSenderRefusal({ webContentsId: 7, frameUrl: PAGE, isMainFrame: false }, trusted)!, /subframe/);
    assert.match(ipcSenderRefusal({ webContentsId: 7, frameUrl: undefined, isMainFrame: true }, trusted)!, /no longer exists/);
    assert.match(ipcSenderRefusal({ webContentsId: 7, frameUrl: 'https://evil.example/', isMainFrame: true }, trusted)!, /non-file/);
    assert.match(ipcSenderRefusal({ webContentsId: 7, frameUrl: 'file:///tmp/index.html', isMainFrame: true }, trusted)!, /another page/);
  });
});

describe('IPC contract channel', () => {
  test('carries a request to the ContractServer and the answer back to the window', async () => {
    const handlers = {
      'app.info': async () => ({ name: 'Switchboard', version: '9.9.9', sipUserAgent: 'Switchboard/9.9.9', notices: [] }),
    } as unknown as ContractHandlers; // only app.info is exercised
    const server = new ContractServer(handlers);
    const toWindow: Array<[string, unknown]> = [];
    let destroyed = false;
    const channel = createIpcContractChannel({ send: (c, m) => toWindow.push([c, m]), isDestroyed: () => destroyed });
    server.attach(channel);
    channel.deliver({ jsonrpc: '2.0', id: 1, method: 'app.info', params: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(toWindow, [
      [CONTRACT_IPC_CHANNEL, { jsonrpc: '2.0', id: 1, result: { name: 'Switchboard', version: '9.9.9', sipUserAgent: 'Switchboard/9.9.9', notices: [] } }],
    ]);
    // A destroyed window gets nothing (Electron would throw on send).
    destroyed = true;
    channel.deliver({ jsonrpc: '2.0', id: 2, method: 'app.info', params: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(toWindow.length, 1);
  });

  test('close rejects what a client still waits for', async () => {
    const channel = createIpcContractChannel({ send: () => undefined, isDestroyed: () => false });
    const client = new ContractClient(channel);
    const pending = client.call('app.info', {});
    channel.close();
    await assert.rejects(pending, /closed/);
  });
});

describe('sip:/tel: links', () => {
  test('become dial targets', () => {
    assert.equal(dialTargetFromLink('sip:202@pbx.example.com'), 'sip:202@pbx.example.com');
    assert.equal(dialTargetFromLink('SIPS:alice@example.com'), 'SIPS:alice@example.com');
    assert.equal(dialTargetFromLink('tel:+15551234567'), 'tel:+15551234567');
    assert.equal(dialTargetFromLink('sip://202@pbx.example.com'), 'sip:202@pbx.example.com');
  });
  test('are refused with a reason when malformed', () => {
    assert.match((dialTargetFromLink('https://example.com') as Error).message, /Not a sip:/);
    assert.match((dialTargetFromLink('tel:') as Error).message, /no number/);
    assert.match((dialTargetFromLink('sip:a b@c') as Error).message, /spaces or control/);
    assert.match((dialTargetFromLink(`sip:${'1'.repeat(600)}@x`) as Error).message, /too long/);
  });
  test('are found on a command line', () => {
    assert.equal(dialLinkInArgv(['/opt/Switchboard/switchboard', '--no-sandbox', 'tel:123']), 'tel:123');
    assert.equal(dialLinkInArgv(['/opt/Switchboard/switchboard']), undefined);
  });
});
