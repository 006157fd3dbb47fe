// The licence notices of the npm packages bundled into the app, shared by the bundlers:
// scripts/build-electron.mjs (esbuild: main.cjs and preload.cjs, module paths from its metafile),
// scripts/build-headless.mjs (esbuild: headless.cjs) and
// the renderer's Vite build (src-renderer/vite.config.ts: module ids from the Rollup/Rolldown
// bundle). Each writes a THIRD-PARTY-LICENSES.txt beside its output, which electron-builder ships.
// Rule: a package that was bundled but carries no LICENSE file fails the build, since its licence
// could not be shipped.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The last node_modules/<name>/ or node_modules/@scope/<name>/ in a path (nested installs and
// pnpm's node_modules/.pnpm/x@1/node_modules/x/ name the innermost package), / or \ separated.
// Names start with neither "." (.pnpm, .vite, .bin) nor "@" unless scoped.
const PACKAGE_IN_PATH = /^(?:.*[/\\])?node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\@.][^/\\]*)[/\\]/;

/**
 * The npm package a bundled module belongs to, from its path or bundler module id:
 * `{ name, dir }` with `name` in npm form (`@evan/opus`) and `dir` the id's prefix up to and
 * including the package folder; undefined for our own sources and for virtual ids ("\0…").
 */
export function bundledPackage(moduleId) {
  if (moduleId.startsWith('\0')) return undefined;
  const match = PACKAGE_IN_PATH.exec(moduleId);
  if (!match) return undefined;
  return { name: match[1].replace(/\\/g, '/'), dir: match[0].slice(0, -1) };
}

/**
 * The packages of the given module paths or ids, once per package folder (relative paths resolved
 * against `baseDir`), sorted by name.
 */
export function bundledPackages(moduleIds, baseDir) {
  const byDir = new Map();
  for (const id of moduleIds) {
    const found = bundledPackage(id);
    if (found) byDir.set(resolve(baseDir, found.dir), found.name);
  }
  return [...byDir]
    .map(([dir, name]) => ({ name, dir }))
    .sort((a, b) => (a.name === b.name ? (a.dir < b.dir ? -1 : 1) : a.name < b.name ? -1 : 1));
}

/** One notice section: a title line, a blank line, the text. */
export function noticeSection(title, text) {
  return `${title}\n\n${text.trim()}\n`;
}

/** A package's section: "name version (licence)" and its LICENSE file; throws if it has none. */
export function packageLicenceSection({ name, dir }) {
  const { version, license } = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
  if (!file) throw new Error(`${name} is bundled into the app but has no LICENSE file in ${dir}: its licence cannot be shipped`);
  return noticeSection(`${name} ${version} (${license})`, readFileSync(resolve(dir, file), 'utf8'));
}

/** The whole THIRD-PARTY-LICENSES.txt: a heading line, then the sections between rules. */
export function thirdPartyNotice(sections, heading = 'Switchboard includes the following third-party software.') {
  const rule = `\n${'='.repeat(72)}\n\n`;
  return `${heading}\n${rule}${sections.join(rule)}`;
}

/**
 * The notice of a Node bundle that ships opus.wasm beside it: each bundled package's licence,
 * then libopus' (compiled into opus.wasm; its BSD notice lives in resources/licenses/).
 */
export function nodeBundleNotice(packages, root) {
  const sections = packages.map(packageLicenceSection);
  const copying = join(root, 'resources', 'licenses', 'libopus-COPYING.txt');
  if (!existsSync(copying)) throw new Error(`missing ${copying}: libopus (inside opus.wasm) is BSD-licensed and its notice must ship`);
  sections.push(noticeSection('libopus (BSD-3-Clause), compiled into opus.wasm by @evan/opus', readFileSync(copying, 'utf8')));
  return thirdPartyNotice(sections);
}
