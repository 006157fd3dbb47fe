// Preloaded (`node --import`) into a headless child by tests/harness/headless-switchboard.ts when
// a V8 output file is asked for (HeadlessOptions.v8OutputFile, SWITCHBOARD_HEADLESS_V8_OUT): V8
// writes its own traces (--trace-deopt-verbose, --trace-generalization, %DebugPrint) to the
// process's standard output, which carries the JSON-RPC contract, and C-level writes to that
// non-blocking socket lose lines when it is full. So the contract moves to fd 3 (a pipe the harness
// opened and reads) and fd 1 to the file, before the headless's own code runs. Diagnostics only.
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';

// A module-loader thread (tsx's) may load this too; the descriptors are the process's: once.
if (isMainThread) {
  const file = process.env.SWITCHBOARD_HEADLESS_V8_OUT;
  if (!file) throw new Error('v8-output-preload.mjs needs SWITCHBOARD_HEADLESS_V8_OUT (the file for V8 output)');
  closeSync(1);
  const fd = openSync(file, 'w'); // the lowest free descriptor: 1
  if (fd !== 1) throw new Error(`v8-output-preload.mjs: the V8 output file got fd ${fd}, not 1`);
  const contract = new Socket({ fd: 3, readable: false, writable: true });
  Object.defineProperty(process, 'stdout', { value: contract, configurable: true, writable: true });
}
