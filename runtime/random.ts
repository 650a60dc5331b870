/** The runtime's seeded generator (mulberry32), uniform in [0, 1): the same algorithm the
 * generated modules embed as createRandom, so every random draw of a run follows from its seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed whose generator continues mulberry32(seed) after `draws` draws: the generator's state
 * advances by a constant per draw, so skipping ahead is one multiplication (mod 2³²). A worker of
 * `train({ threads })` draws its shard's dropout masks from exactly where one thread would.
 */
export function skipSeed(seed: number, draws: number): number {
  return ((seed >>> 0) + Math.imul(draws, 0x6d2b79f5)) >>> 0;
}
