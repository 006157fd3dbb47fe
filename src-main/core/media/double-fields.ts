/**
 * Fields and object shapes that carry a call's random 32-bit numbers (SSRCs, RTP timestamps)
 * start as doubles.
 *
 * Why: V8 fixes the representation of an object field, for every object of that shape, by the
 * first value stored in it: a small integer ("Smi": below 2^31 here, Node on x64) or a double.
 * SSRCs and initial RTP timestamps are random, so about every other one is 2^31 or more. When a
 * process's first call drew small ones, the first later call with a large one changed that
 * field's representation for the whole shape, and V8 threw away the optimized code reading it
 * ("wrong map" in an RTP session's sendFrame) and ran baseline code for seconds until it had
 * compiled it again. (The "code dependencies" drops at a headless's second call were another
 * cause: per-call object literals, see media-session.ts.) Operations are the same story: a
 * `>>> 0` that only ever gave small results is compiled for small results, so the parser builds
 * its unsigned 32-bit values with double arithmetic instead (rtp-packet.ts, readUint32).
 * A field whose first value is a double keeps small values as doubles too, so no later call
 * changes it. The same holds for a field that starts at 0 and takes fractions only when something
 * happens that a first call may not see (the jitter buffer's recent loss rate: at the first lost
 * frame).
 *
 * How: a class field or object literal starts such a field at DOUBLE_FIELD (NaN), then stores
 * the real value. An object literal whose values are computed (a parsed packet) is primed with
 * `primeShape`: one object of exactly the same keys, in the same order, made at module load with
 * DOUBLE_FIELD in those fields; V8 gives every literal of those keys the same shape.
 */
export const DOUBLE_FIELD = Number.NaN;

/**
 * Keeps one object of a literal shape alive (see above), so its representations are the ones
 * every later literal of those keys gets. The argument MUST list the keys in the literal's order.
 */
const primed: object[] = [];
export function primeShape(example: object): void {
  primed.push(example);
}

/**
 * Where a sum of squared samples (a frame's energy, a correlation) starts: -0, a double equal to
 * 0. V8 compiles an addition for the kind of numbers it has seen, so a sum starting at the small
 * integer 0 was compiled for small integers while a call's audio was quiet, and the first loud
 * frame's sum (2^31 or more) threw that code away ("overflow", in V8's log of a headless's first
 * call). Starting as a double, the sum is double arithmetic from the first call on.
 */
export const DOUBLE_ZERO = -0;
