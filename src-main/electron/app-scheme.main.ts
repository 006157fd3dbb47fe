/**
 * Registers and serves app://switchboard/ (rules in app-scheme.ts).
 * registerAppScheme MUST run before app 'ready' (Electron only accepts privileges then);
 * serveAppScheme after it.
 */
import { protocol } from 'electron';
import { APP_SCHEME, appSchemeReply } from './app-scheme';

export function registerAppScheme(): void {
  // standard + secure: a real origin (app://switchboard) that counts as a secure context, so
  // AudioWorklet, getUserMedia and setSinkId work. No bypassCSP: the page's CSP applies.
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveAppScheme(distDir: string, log: (line: string) => void): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const reply = await appSchemeReply(distDir, request.method, request.url);
    if (reply.status !== 200) log(`app scheme: ${request.method} ${request.url} → ${reply.status}`);
    return new Response(typeof reply.body === 'string' ? reply.body : new Uint8Array(reply.body), { status: reply.status, headers: reply.headers });
  });
}
