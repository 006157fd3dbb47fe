// Builds the renderer into dist/renderer with relative asset URLs (base './') so the same output
// loads from app://switchboard/ in Electron and from http://127.0.0.1 in dev:web. Beside it goes
// THIRD-PARTY-LICENSES.txt: the licence of every npm package in the bundle (Svelte's runtime…),
// which electron-builder ships next to the one build:electron writes for main and preload.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
// Build-time Node code shared with scripts/build-electron.mjs (plain ESM, untyped).
import { bundledPackages, packageLicenceSection, thirdPartyNotice } from '../scripts/third-party-licenses.mjs';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Emits THIRD-PARTY-LICENSES.txt into the build output: the packages whose modules are in the
 * output chunks (ids under node_modules/<name>/), each with its LICENSE file. A bundled package
 * without one fails the build, as in build:electron.
 */
function thirdPartyLicenses(): Plugin {
  return {
    name: 'switchboard:third-party-licenses',
    apply: 'build',
    generateBundle(_options, bundle) {
      const moduleIds = Object.values(bundle).flatMap((file) => (file.type === 'chunk' ? file.moduleIds : []));
      const packages: Array<{ name: string; dir: string }> = bundledPackages(moduleIds, here('..'));
      const sections = packages.map((pkg) => packageLicenceSection(pkg));
      const heading = "Switchboard's window (the renderer) includes the following third-party software.";
      this.emitFile({ type: 'asset', fileName: 'THIRD-PARTY-LICENSES.txt', source: thirdPartyNotice(sections, heading) });
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [svelte(), thirdPartyLicenses()],
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
