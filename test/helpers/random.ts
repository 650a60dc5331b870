/** A seeded uniform generator for tests (mulberry32), so every failure reproduces. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [lo, hi), but at least `gap` away from every point in `avoid` (kinks). */
export function sample(random: () => number, lo: number, hi: number, avoid: readonly number[] = [], gap = 0.05): number {
  for (;;) {
    const v = lo + (hi - lo) * random();
    if (avoid.every((a) => Math.abs(v - a) > gap)) return v;
  }
}
