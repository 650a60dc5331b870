/**
 * Subsets and the seeded validation split of a data set, in memory, in the runtime's core
 * (data/index.ts, which loads files on Node, re-exports them).
 */
import { arrayLike } from "../precision.js";
import type { Dataset, FloatArray } from "../types.js";
import { mulberry32 } from "../random.js";

const rowSize = (values: FloatArray, count: number): number => (count === 0 ? 0 : values.length / count);

/** A copy of the given samples, in the given order. */
export function subset<A extends FloatArray>(ds: Dataset<A>, indices: ArrayLike<number>): Dataset<A> {
  const n = indices.length;
  for (let i = 0; i < n; i++) {
    const r = indices[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= ds.count) throw new RangeError(`subset: index ${r} is outside 0..${ds.count - 1}`);
  }
  const pick = (m: Record<string, A>): Record<string, A> =>
    Object.fromEntries(
      Object.entries(m).map(([k, values]) => {
        const width = rowSize(values, ds.count);
        const out = arrayLike(values, n * width);
        for (let i = 0; i < n; i++) out.set(values.subarray(indices[i]! * width, (indices[i]! + 1) * width), i * width);
        return [k, out];
      }),
    );
  return { count: n, inputs: pick(ds.inputs), targets: pick(ds.targets) };
}

/**
 * A seeded random split: validation gets round(fraction · count) samples, training the rest;
 * each part keeps the file's order. The same data, fraction and seed always give the same split.
 */
export function splitDataset<A extends FloatArray>(ds: Dataset<A>, fraction: number, seed: number): { train: Dataset<A>; validation: Dataset<A> } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`split fraction must be in [0, 1), got ${fraction}`);
  const order = new Uint32Array(ds.count);
  for (let i = 0; i < ds.count; i++) order[i] = i;
  const rand = mulberry32(seed);
  for (let i = ds.count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const nValid = Math.round(fraction * ds.count);
  const validation = order.slice(0, nValid).sort();
  const train = order.slice(nValid).sort();
  return { train: subset(ds, train), validation: subset(ds, validation) };
}
