/**
 * Serves the built renderer (dist/renderer) over HTTP for dev:web.
 * - GET/HEAD only; paths are confined to the build directory (no traversal, no dotfiles).
 * - index.html gets its CSP widened for this server only: connect-src also allows
 *   ws://127.0.0.1:* so the page can reach a carrier given by ?rpc=. The same CSP is sent as a
 *   header. Electron loads the file unchanged (connect-src 'self').
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cspOf, rendererFileReply } from '../core/app/renderer-dist';

/** The page's CSP with connect-src widened to loopback WebSockets. Throws if the page has no CSP. */
export function widenCspForDevWeb(html: string): { html: string; csp: string } {
  const original = cspOf(html);
  if (!original) throw new Error('dist/renderer/index.html has no Content-Security-Policy meta tag');
  if (!/connect-src 'self'/.test(original)) throw new Error(`Unexpected renderer CSP (no connect-src 'self'): ${original}`);
  const csp = original.replace("connect-src 'self'", "connect-src 'self' ws://127.0.0.1:*");
  return { html: html.replace(original, csp), csp };
}

export function createRendererAssetHandler(distDir: string): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    void (async () => {
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
      } catch (error) {
        response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Bad request path: ${String(error)}\n`);
        return;
      }
      const reply = await rendererFileReply(distDir, request.method ?? 'GET', pathname, widenCspForDevWeb);
      const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
      const headers: Record<string, string> = { ...reply.headers, 'Referrer-Policy': 'no-referrer' };
      if (reply.status === 200 && request.method !== 'HEAD') headers['Content-Length'] = String(body.length);
      response.writeHead(reply.status, headers);
      response.end(request.method === 'HEAD' ? undefined : body);
    })().catch((error: unknown) => {
      console.error('dev:web: failed to serve', request.url, error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  };
}
