/**
 * The renderer's origin in the app: app://switchboard/. AudioWorklet modules do not load from
 * file:// (no secure, standard origin), so the built renderer is served from this privileged
 * custom scheme (app-scheme.main.ts registers and handles it). No electron import: the URL rules
 * and the file lookup are unit-testable.
 *
 * Serving contract: GET only, host MUST be APP_HOST, paths confined to dist/renderer (no
 * traversal, no dotfiles), index.html with its own strict CSP also sent as a header.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'switchboard';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>/i;

export interface AppSchemeReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** What app://… answers for `method url`, read from `distDir`. */
export async function appSchemeReply(distDir: string, method: string, requestUrl: string): Promise<AppSchemeReply> {
  const text = (status: number, body: string): AppSchemeReply => ({ status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });
  if (method !== 'GET' && method !== 'HEAD') return text(405, `${method} is not allowed`);
  let url: URL;
  let pathname: string;
  try {
    url = new URL(requestUrl);
    pathname = decodeURIComponent(url.pathname);
  } catch (error) {
    return text(400, `Bad request URL: ${String(error)}`);
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return text(404, `No such host ${url.host}`);
  if (pathname === '/') pathname = '/index.html';
  const root = normalize(distDir + sep);
  const file = normalize(join(root, pathname));
  if (!file.startsWith(root) || pathname.split('/').some((part) => part.startsWith('.'))) return text(404, 'Not found');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return text(404, 'Not found');
    return text(500, `Cannot read ${pathname}: ${String(error)}`);
  }
  const headers: Record<string, string> = {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  if (pathname === '/index.html') {
    const csp = CSP_META.exec(body.toString('utf8'))?.[1];
    if (!csp) return text(500, 'dist/renderer/index.html has no Content-Security-Policy meta tag');
    headers['Content-Security-Policy'] = `${csp}; frame-ancestors 'none'`;
  }
  return { status: 200, headers, body: method === 'HEAD' ? '' : body };
}
