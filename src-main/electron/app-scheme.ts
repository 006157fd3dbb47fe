/**
 * The renderer's origin in the app: app://switchboard/. AudioWorklet modules do not load from
 * file:// (no secure, standard origin), so the built renderer is served from this privileged
 * custom scheme (app-scheme.main.ts registers and handles it). No electron import: the URL rules
 * and the file lookup are unit-testable.
 *
 * Serving contract: GET only, host MUST be APP_HOST, paths confined to dist/renderer (no
 * traversal, no dotfiles), index.html with its own strict CSP also sent as a header.
 */
import { rendererFileReply, type RendererFileReply } from '../core/app/renderer-dist';

export const APP_SCHEME = 'app';
export const APP_HOST = 'switchboard';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

export type AppSchemeReply = RendererFileReply;

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
  return rendererFileReply(distDir, method, pathname);
}
