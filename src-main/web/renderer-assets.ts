/**
 * Serves the built renderer (dist/renderer) over HTTP for dev:web.
 * - GET/HEAD only; paths are confined to the build directory (no traversal, no dotfiles).
 * - index.html gets its CSP widened for this server only: connect-src also allows
 *   ws://127.0.0.1:* so the page can reach a carrier given by ?rpc=. The same CSP is sent as a
 *   header. Electron loads the file unchanged (connect-src 'self').
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>/i;

/** The page's CSP with connect-src widened to loopback WebSockets. Throws if the page has no CSP. */
export function widenCspForDevWeb(html: string): { html: string; csp: string } {
  const match = CSP_META.exec(html);
  if (!match?.[1]) throw new Error('dist/renderer/index.html has no Content-Security-Policy meta tag');
  const original = match[1];
  if (!/connect-src 'self'/.test(original)) throw new Error(`Unexpected renderer CSP (no connect-src 'self'): ${original}`);
  const csp = original.replace("connect-src 'self'", "connect-src 'self' ws://127.0.0.1:*");
  return { html: html.replace(original, csp), csp };
}

export function createRendererAssetHandler(distDir: string): (request: IncomingMessage, response: ServerResponse) => void {
  const root = normalize(distDir + sep);

  return (request, response) => {
    void (async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
      } catch (error) {
        response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Bad request path: ${String(error)}\n`);
        return;
      }
      if (pathname === '/') pathname = '/index.html';
      const file = normalize(join(root, pathname));
      if (!file.startsWith(root) || pathname.split('/').some((part) => part.startsWith('.'))) {
        response.writeHead(404).end();
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR') response.writeHead(404).end();
        else response.writeHead(500).end(`Cannot read ${pathname}: ${String(error)}\n`);
        return;
      }
      const headers: Record<string, string> = {
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      };
      if (pathname === '/index.html') {
        const page = widenCspForDevWeb(body.toString('utf8'));
        body = Buffer.from(page.html);
        headers['Content-Security-Policy'] = `${page.csp}; frame-ancestors 'none'`;
      }
      headers['Content-Length'] = String(body.length);
      response.writeHead(200, headers);
      response.end(request.method === 'HEAD' ? undefined : body);
    })().catch((error: unknown) => {
      console.error('dev:web: failed to serve', request.url, error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  };
}
