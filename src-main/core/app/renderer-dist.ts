/**
 * Serving the built renderer (dist/renderer), for both the app's app:// scheme and dev:web's HTTP:
 * GET/HEAD only; paths confined to the build directory (no traversal, no dotfiles); no sniffing,
 * no caching; index.html's own Content-Security-Policy (optionally adjusted by the caller) is also
 * sent as a header, with frame-ancestors 'none'. Scripts get SCRIPT_CSP as a header: it binds only
 * what runs as a worker (a dedicated worker's policy is its script's, not the page's meta tag).
 */
import { readFile } from 'node:fs/promises';
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

/** A worker (dev:web's audio frame relay) may load our scripts and talk to its own origin, nothing else. */
export const SCRIPT_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'";

const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>/i;

export interface RendererFileReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** index.html as served and the CSP it carries. Throws when the page has no CSP meta tag. */
export type IndexTransform = (html: string) => { html: string; csp: string };

export const indexAsBuilt: IndexTransform = (html) => {
  const csp = CSP_META.exec(html)?.[1];
  if (!csp) throw new Error('dist/renderer/index.html has no Content-Security-Policy meta tag');
  return { html, csp };
};

/** The page's CSP meta content, or undefined. */
export function cspOf(html: string): string | undefined {
  return CSP_META.exec(html)?.[1];
}

/** What to answer for `method pathname` (pathname already URL-decoded). */
export async function rendererFileReply(
  distDir: string,
  method: string,
  pathname: string,
  transformIndex: IndexTransform = indexAsBuilt,
): Promise<RendererFileReply> {
  const text = (status: number, body: string): RendererFileReply => ({ status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });
  if (method !== 'GET' && method !== 'HEAD') return { ...text(405, `${method} is not allowed`), headers: { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' } };
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
  if (extname(file) === '.js' || extname(file) === '.mjs') headers['Content-Security-Policy'] = SCRIPT_CSP;
  if (pathname === '/index.html') {
    let page: { html: string; csp: string };
    try {
      page = transformIndex(body.toString('utf8'));
    } catch (error) {
      return text(500, error instanceof Error ? error.message : String(error));
    }
    body = Buffer.from(page.html);
    headers['Content-Security-Policy'] = `${page.csp}; frame-ancestors 'none'`;
  }
  return { status: 200, headers, body: method === 'HEAD' ? '' : body };
}
