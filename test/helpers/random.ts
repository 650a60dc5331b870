import type { CompiledModule } from "../../runtime/load-module.js";
import type { ParamSet } from "../../runtime/types.js";

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

/** A module's initParams(seed), then noise so that no parameter sits on an initializer's special point; in the module's own arrays. */
export function randomParams(mod: CompiledModule, seed: number): ParamSet {
  const random = rng(seed);
  const params = mod.createParams();
  mod.initParams(params, seed);
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.5 * (random() - 0.5);
  return params;
}
