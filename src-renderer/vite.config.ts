// Builds the renderer into dist/renderer with relative asset URLs (base './') so the same output
// loads from app://switchboard/ in Electron and from http://127.0.0.1 in dev:web.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [svelte()],
  resolve: {
    // The renderer may import only the shared, node-free contract code.
    alias: { '@common': here('../src-main/common') },
  },
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'chrome130',
    // The polyfill would be unnecessary here (Chromium supports modulepreload) and CSP forbids
    // anything inline anyway.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs: the CSP allows only 'self'.
    assetsInlineLimit: 0,
  },
});
