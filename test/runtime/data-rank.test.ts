/**
 * Inputs of rank 3 (language §11: an image [channels, height, width]) load from the same files as
 * a flat vector: IDX images and CSV rows are row-major, so x[1, 28, 28] of sample n is exactly
 * x[784] of sample n, and a [1, 8, 8] digit the CSV row's 64 pixels in order.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/index.js";
import { ROOT } from "../helpers/corpus.js";

/** how many elements differ (toEqual on millions of elements is slow) */
function differing(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Infinity;
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe("rank-3 inputs from IDX and CSV", () => {
  it("MNIST's test images as x[1, 28, 28] are the x[784] values, in the same order", () => {
    const file = join(ROOT, "examples/data/mnist/t10k-images-idx3-ubyte.gz");
    const image = loadDataset(file, { inputs: { x: [1, 28, 28] }, targets: { t: [10] } });
    const flat = loadDataset(file, { inputs: { x: [784] }, targets: { t: [10] } });
    expect(image.count).toBe(10000);
    expect(image.inputs.x!.length).toBe(10000 * 784);
    expect(differing(image.inputs.x!, flat.inputs.x!)).toBe(0);
    expect(differing(image.targets.t!, flat.targets.t!)).toBe(0);
    expect(image.inputs.x!.some((v) => v > 0)).toBe(true);
  });

  it("a digits CSV row as x[1, 8, 8] is its 64 pixels row-major", () => {
    const file = join(ROOT, "examples/data/digits-test.csv");
    const image = loadDataset(file, { inputs: { x: [1, 8, 8] }, targets: { t: [10] } });
    const flat = loadDataset(file, { inputs: { x: [64] }, targets: { t: [10] } });
    expect(image.count).toBeGreaterThan(0);
    expect(differing(image.inputs.x!, flat.inputs.x!)).toBe(0);
  });
});
