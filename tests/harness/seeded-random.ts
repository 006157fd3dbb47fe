// Small seeded PRNG (mulberry32): impairment runs and fuzz tests are reproducible for a given seed.
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws for a fuzz test, all from one seeded sequence. */
export interface SeededDraws {
  /** In [0, 1). */
  next(): number;
  /** An integer in [0, below). */
  int(below: number): number;
  pick<T>(from: readonly T[]): T;
  bytes(length: number): Uint8Array;
}

export function seededDraws(seed: number): SeededDraws {
  const next = seededRandom(seed);
  const int = (below: number) => Math.floor(next() * below);
  return {
    next,
    int,
    pick: (from) => from[int(from.length)]!,
    bytes: (length) => Uint8Array.from({ length }, () => int(256)),
  };
}
