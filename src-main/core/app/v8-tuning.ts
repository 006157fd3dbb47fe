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
 * Contract: `tuneV8ForCalls()` is called once by each entry that hosts the core (headless,
 * Electron main, dev:web), as early as it can; it is process-wide (every function's tier-up) and
 * only moves when and how code is optimized, never what it computes. Functions already counting down
 * their budget take the new one at their next round.
 */
import { setFlagsFromString } from 'node:v8';

/** Bytes of bytecode per round of the interrupt budget (V8's default: 67584). */
export const CALL_INTERRUPT_BUDGET = 8192;

/** Bytes of callee bytecode TurboFan may inline into one optimized function (V8's default: 920). */
export const INLINED_BYTECODE_BUDGET = 460;

/** The V8 flags `tuneV8ForCalls()` sets, in order (each explained above). */
export const CALL_V8_FLAGS: readonly string[] = [
  `--interrupt-budget=${CALL_INTERRUPT_BUDGET}`,
  '--no-lazy-feedback-allocation',
  `--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_BUDGET}`,
];

export function tuneV8ForCalls(): void {
  for (const flag of CALL_V8_FLAGS) setFlagsFromString(flag);
}
