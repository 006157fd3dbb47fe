#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
//   node tests/run-tests.mjs                 all suites: unit, integration, renderer, electron, bench (tools)
//   node tests/run-tests.mjs unit            one suite
//   node tests/run-tests.mjs tests/unit/x.test.ts   given files
// Suites run one file at a time: integration tests start real peers (Kamailio, baresip,
// Chromium) on a 2-core machine, and timing-sensitive media must not compete for CPU.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const suites = ['unit', 'integration', 'renderer', 'electron', 'bench'];

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT') return out;
    throw error;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(collect(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

// README's promise: one command runs all tests, installing the system test peers where it can.
// The script itself checks every package it lists (dpkg, no network when all are there): a probe
// of a few binaries here let a machine without one of the others (sox) start a suite that needs it.
function ensureSystemDeps() {
  const install = spawnSync('bash', [join(root, 'scripts', 'install-test-deps.sh')], { stdio: 'inherit' });
  if (install.status !== 0) {
    console.error('run-tests: could not install the system test dependencies (see above)');
    process.exit(1);
  }
}

const args = process.argv.slice(2);
if (!(args.length === 1 && args[0] === 'unit')) ensureSystemDeps();
let files = [];
if (args.length === 0) for (const s of suites) files = files.concat(collect(join(root, 'tests', s)));
else
  for (const a of args) files = files.concat(suites.includes(a) ? collect(join(root, 'tests', a)) : [a]);

if (files.length === 0) {
  console.error('No test files found for: ' + (args.join(' ') || 'all suites'));
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
