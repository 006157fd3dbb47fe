/**
 * V8 tuning for a process that carries calls: the per-packet code gets optimized within seconds
 * of the first call instead of after a minute or more of calls.
 *
 * Why: V8 hands a function to its optimizing compiler (TurboFan) once the function has used up
 * its "interrupt budget" a few times: 3 + bytecode size / 150 rounds of 66 KiB of its own
 * bytecode executed (Node 20 / V8 11.3 defaults), counted again from zero when one of its inline
 * caches changes. Media code runs 50 times a second per stream, with little work each time, so
 * `--log-code` on a headless in calls showed the packet handlers and the media clock reaching
 * TurboFan 30-70 s into the calls, the first calls running on baseline code. With a budget of
 * 8 KiB they get there 4-11 s into the first call. Start-up and SIP code reaches it sooner too,
 * which costs a little more compiling, on V8's background threads.
 *
 * Feedback from a function's first call: V8 allocates a function's feedback (what its inline
 * caches have seen) only after its first 8 calls or first budget round. Code that runs once per
 * call, on a stream's first packets (latching the far end's address, a new jitter buffer or RTCP
 * statistics, a first SSRC), ran before its feedback existed, so the optimized per-packet code had
 * no way through it and was thrown away at every later call's first packets, then compiled again
 * ("insufficient type feedback": most of the 14 deoptimizations at a second call's start in V8's
 * log of two in-process calls; 6 are left with this). Functions compiled after `tuneV8ForCalls()`
 * (all media code: it first runs in the first call) get their feedback from their first call. The
 * cost: the first call's optimized code covers those paths too (bigger, more to compile: the first
 * call after start-up costs more CPU, the later ones less; README, session 14) and a few MiB more
 * memory.
 *
 * Inlining budget: TurboFan inlines callees into a function it optimizes until their bytecode adds
 * up to 920 bytes (V8's default), so the media tick's code carried most of the send and playout
 * chain. That suits a hot loop; a packet handler runs once per 20 ms on cold caches, where every
 * byte of code is fetched again at each wake-up, and the compiler threads spent ~0.85 % of a
 * core compiling it in the first call. With half that budget (INLINED_BYTECODE_BUDGET), 3 A/B
 * pairs of bench runs (README, session 15): the compiler threads' share of the first call
 * ~0.85 → ~0.6 % of a core, and our CPU in the first / second / third call of the same processes
 * 2.51 / 1.73 / 1.48 → 2.14 / 1.54 / 1.39 %; in more pairs the first two calls always cost less,
 * later ones the same within the noise (a quarter of that budget: no better).
 *
 * Which V8: the figures above are Node 20's V8 (11.3), where the benchmark runs. V8 12 replaced
 * the interrupt budget with invocation counts (a tier is reached after so many invocations' worth
 * of a function's bytecode) and put Maglev between baseline code and TurboFan; it has no
 * `--interrupt-budget`, and V8 answers a flag it does not know with "Error: unrecognized flag" on
 * standard error: the app (Electron 45: V8 15.4 by Electron's cadence of two Chromium milestones a
 * major, Electron 40 having shipped Chromium 144 with V8 14.4) and a headless on Node 22 or later
 * printed that at every start, and got no tier-up tuning anyway. So the flags are chosen by the
 * running V8's version (V8Tiering), and a V8 gets only flags it was checked to know (`--v8-options`
 * of Node 20, 22, 24 and 26, and Chromium 156's V8 15.6: tests/fixtures/v8-flags). On V8 12-15
 * (measured on Node 26, V8 14.6; README, session 22; the same tier-up checked in Chromium's V8
 * 15.6, the app's generation, session 23) the other two flags are kept, and a function is compiled
 * by Maglev after CALL_MAGLEV_INVOCATIONS invocations' worth of its bytecode instead of V8's 400
 * (~8 s of a per-packet handler): Maglev compiles in a fraction of TurboFan's time, so the first
 * call runs mostly optimized code from ~2 s in, for little compiling, and TurboFan still takes
 * over after V8's 3000 invocations. Earlier TurboFan too (400 invocations, the analogue of the
 * 8 KiB budget) kept the compiler busy through the later calls and was not better.
 *
 * Contract: `tuneV8ForCalls()` is called once by each entry that hosts the core (headless,
 * Electron main, dev:web), as early as it can; it is process-wide (every function's tier-up) and
 * only moves when and how code is optimized, never what it computes. Functions already counting down
 * their budget take the new one at their next round. It sets no flag the running V8 does not know.
 */
import { setFlagsFromString } from 'node:v8';

/** Bytes of bytecode per round of the interrupt budget (V8 11's default: 67584). */
export const CALL_INTERRUPT_BUDGET = 8192;

/** Bytes of callee bytecode TurboFan may inline into one optimized function (V8's default: 920). */
export const INLINED_BYTECODE_BUDGET = 460;

/**
 * How a V8 decides when to optimize a function, which is what its tier-up flags mean:
 * - InterruptBudget: V8 11.3 (Node 20): rounds of `--interrupt-budget` bytes of bytecode run,
 *   baseline code straight to TurboFan.
 * - InvocationCount: V8 12 to 15 (Node 22 to 26; Chromium 120 to 159, which Electron 28 and later
 *   embed): invocation counts per tier (`--invocation-count-for-maglev`, `--invocation-count-for-turbofan`),
 *   Maglev between where it is on (Node 24 and later, Chromium's and so Electron's V8; Node 22
 *   leaves it off).
 * - Unchecked: any other V8 (older, in between, newer): its tier-up flags are not known here.
 */
export enum V8Tiering {
  InterruptBudget = 'interrupt-budget',
  InvocationCount = 'invocation-count',
  Unchecked = 'unchecked',
}

/** The tiering scheme of a V8 by its version string (`process.versions.v8`, e.g. "11.3.244.8-node.38"). */
export function v8TieringOf(v8Version: string): V8Tiering {
  const [major = NaN, minor = NaN] = v8Version.split('.').map(Number);
  if (major === 11 && minor === 3) return V8Tiering.InterruptBudget;
  if (major >= 12 && major <= 15) return V8Tiering.InvocationCount;
  return V8Tiering.Unchecked;
}

/**
 * Invocations' worth of its bytecode after which V8 12-15 compile a function with Maglev (V8's
 * default: 400). With feedback from the first call (below) it is what decides a packet handler's
 * tier-up; without, V8 waits 500 invocations after the last inline-cache change anyway.
 */
export const CALL_MAGLEV_INVOCATIONS = 100;

/**
 * Feedback from a function's first call, and the halved inlining budget: flags every V8 checked
 * (11.3 to 15.6) knows, with the same meaning.
 */
const EVERY_V8_FLAGS: readonly string[] = ['--no-lazy-feedback-allocation', `--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_BUDGET}`];

/** The V8 flags `tuneV8ForCalls()` sets on a V8 of `v8Version`, in order (each explained above). */
export function callV8Flags(v8Version: string): readonly string[] {
  switch (v8TieringOf(v8Version)) {
    case V8Tiering.InterruptBudget:
      return [`--interrupt-budget=${CALL_INTERRUPT_BUDGET}`, ...EVERY_V8_FLAGS];
    case V8Tiering.InvocationCount:
      return [`--invocation-count-for-maglev=${CALL_MAGLEV_INVOCATIONS}`, ...EVERY_V8_FLAGS];
    case V8Tiering.Unchecked:
      return EVERY_V8_FLAGS;
  }
}

/** The flags for this process's V8. */
export const CALL_V8_FLAGS: readonly string[] = callV8Flags(process.versions.v8);

export function tuneV8ForCalls(): void {
  for (const flag of CALL_V8_FLAGS) setFlagsFromString(flag);
}
