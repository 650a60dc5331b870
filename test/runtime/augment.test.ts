/**
 * `augment shift(pixels)` (runtime/data/augment.ts): exact pixel moves with zero fill, shifts drawn
 * from the seed and the epoch alone, and in training: labels and shapes kept, reproducible by seed,
 * fresh per epoch, a shift of 0 the same run as none, resume equal to the uninterrupted run, and a
 * clear refusal for inputs that are not images.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { createShiftAugmenter, epochShifts, geometryOfShape, shiftImage } from "../../runtime/data/augment.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { train, type Checkpoint, type TrainOptions } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { toWeightsFile, type WeightsFile } from "../../runtime/weights.js";
import { NncUsageError } from "../../runtime/usage.js";

describe("shiftImage", () => {
  const g = { channels: 2, height: 4, width: 5 };
  const image = Float64Array.from({ length: 40 }, (_, i) => i + 1);
  const at = (a: ArrayLike<number>, c: number, y: number, x: number) => a[c * 20 + y * 5 + x]!;

  it.each([[0, 0], [1, 0], [0, 1], [-2, 1], [2, -3], [-1, -1], [4, 3], [-5, 0]])("moves every pixel by exactly (dx, dy) = (%i, %i), zeros where nothing moved in", (dx, dy) => {
    const out = new Float64Array(40).fill(NaN);
    shiftImage(image, 0, out, 0, g, dx, dy);
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 5; x++) {
          const sy = y - dy;
          const sx = x - dx;
          const inside = sy >= 0 && sy < 4 && sx >= 0 && sx < 5;
          expect(at(out, c, y, x)).toBe(inside ? at(image, c, sy, sx) : 0);
        }
  });

  it("a shift of 0 is the identity; offsets read and write one sample of a batch", () => {
    const batch = new Float64Array(120);
    shiftImage(image, 0, batch, 40, g, 0, 0);
    expect(Array.from(batch.subarray(40, 80))).toEqual(Array.from(image));
    expect(batch.subarray(0, 40).every((v) => v === 0) && batch.subarray(80).every((v) => v === 0)).toBe(true);
  });

  it("reads the image layout from a declared shape", () => {
    expect(geometryOfShape([28, 28])).toEqual({ channels: 1, height: 28, width: 28 });
    expect(geometryOfShape([3, 8, 6])).toEqual({ channels: 3, height: 8, width: 6 });
    expect(geometryOfShape([784])).toBeNull();
  });
});

describe("epochShifts", () => {
  it("is the same for the same seed and epoch, different for another epoch or seed, within ±pixels", () => {
    const a = epochShifts(7, 3, 500, 2);
    expect(Array.from(epochShifts(7, 3, 500, 2))).toEqual(Array.from(a));
    expect(Array.from(epochShifts(7, 4, 500, 2))).not.toEqual(Array.from(a));
    expect(Array.from(epochShifts(8, 3, 500, 2))).not.toEqual(Array.from(a));
    expect(Math.min(...a)).toBe(-2);
    expect(Math.max(...a)).toBe(2);
    // every value of [−2, 2] about equally often (1000 draws: 200 expected each)
    for (let v = -2; v <= 2; v++) expect(Math.abs(a.filter((s) => s === v).length - 200)).toBeLessThan(60);
    expect(epochShifts(7, 3, 100, 0).every((s) => s === 0)).toBe(true);
  });
});

const FLAT_MODEL = `input x[36]
target t[2]
layer h = dense(x, 8, tanh)
layer y = dense(h, 2, softmax)
loss cross_entropy(y, t)
`;

/** Images with a bright bar on the left (class 0) or the right (class 1). */
function bars(count: number): Dataset {
  const x = new Float64Array(count * 36);
  const t = new Float64Array(count * 2);
  for (let i = 0; i < count; i++) {
    const right = i % 2;
    for (let y = 0; y < 6; y++) x[i * 36 + y * 6 + (right ? 4 : 1)] = 1 + (i % 5) / 10;
    t[i * 2 + right] = 1;
  }
  return { count, inputs: { x }, targets: { t } };
}

describe("augmentation in training", () => {
  let flat: CompiledModule;
  beforeAll(async () => {
    flat = await loadModule((await compile(FLAT_MODEL, { file: "flat.nn" })).js!);
  });
  const layout = { x: { channels: 1, height: 6, width: 6 } };
  const base = (over: Partial<TrainOptions> = {}): TrainOptions => ({ epochs: 4, batch: 5, optimizer: { name: "adam", args: { lr: 0.01 } }, seed: 3, normalize: true, images: layout, ...over });
  const weights = (r: { params: Record<string, ArrayLike<number>> }) => Object.values(r.params).map((p) => Array.from(p));

  it("keeps the labels and shapes of every batch, and shifts the images by at most the pixels", () => {
    const data = bars(20);
    const aug = createShiftAugmenter({ name: "shift", args: { pixels: 2 } }, 1, data, flat.meta.inputs, layout, null);
    aug.startEpoch(0);
    const order = Uint32Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
    const batch = { x: new Float64Array(5 * 36) };
    for (let start = 0; start < 20; start += 5) {
      aug.fill(order, start, 5, batch);
      for (let r = 0; r < 5; r++) {
        const row = batch.x.subarray(r * 36, (r + 1) * 36);
        const src = data.inputs.x!.subarray(order[start + r]! * 36, (order[start + r]! + 1) * 36);
        // some (dx, dy) in [−2, 2]² makes the source image this row
        let found = false;
        for (let dx = -2; dx <= 2 && !found; dx++)
          for (let dy = -2; dy <= 2 && !found; dy++) {
            const want = new Float64Array(36);
            shiftImage(src, 0, want, 0, layout.x, dx, dy);
            found = want.every((v, i) => v === row[i]);
          }
        expect(found).toBe(true);
      }
    }
    // the data itself is untouched
    expect(Array.from(data.inputs.x!)).toEqual(Array.from(bars(20).inputs.x!));
  });

  it("is reproducible by seed, differs from no augmentation, and a shift of 0 is the run without it", () => {
    const data = bars(30);
    const a = train(flat, data, base({ augment: { name: "shift", args: { pixels: 1 } } }));
    const b = train(flat, data, base({ augment: { name: "shift", args: { pixels: 1 } } }));
    const none = train(flat, data, base());
    const zero = train(flat, data, base({ augment: { name: "shift", args: { pixels: 0 } } }));
    expect(weights(a)).toEqual(weights(b));
    expect(weights(a)).not.toEqual(weights(none));
    expect(weights(zero)).toEqual(weights(none));
    const otherSeed = train(flat, data, base({ augment: { name: "shift", args: { pixels: 1 } }, seed: 4 }));
    expect(weights(otherSeed)).not.toEqual(weights(a));
  });

  it("shifts raw pixels, then normalizes: with z-scores, a shift of 0 is still the plain run", () => {
    const data = bars(30);
    const none = train(flat, data, base({ normalize: "zscore" }));
    const zero = train(flat, data, base({ normalize: "zscore", augment: { name: "shift", args: { pixels: 0 } } }));
    expect(weights(zero)).toEqual(weights(none));
  });

  it("different shifts every epoch (the order of the shuffled samples aside)", () => {
    const s0 = epochShifts(3, 0, 30, 1);
    const s1 = epochShifts(3, 1, 30, 1);
    expect(Array.from(s0)).not.toEqual(Array.from(s1));
  });

  it("resumed from the checkpoint of any epoch, ends with the uninterrupted run's weights", () => {
    const data = bars(30);
    const options = base({ augment: { name: "shift", args: { pixels: 2 } }, epochs: 5 });
    const checkpoints: WeightsFile[] = [];
    const save = (c: Checkpoint) => checkpoints.push(JSON.parse(JSON.stringify(toWeightsFile(flat, c.params, { normalization: c.normalization, training: {}, metrics: {}, resume: c.resume }))));
    const whole = train(flat, data, { ...options, onCheckpoint: save });
    expect(checkpoints.length).toBe(5);
    for (const resume of checkpoints.slice(0, -1)) {
      const resumed = train(flat, data, { ...options, resume });
      expect(weights(resumed)).toEqual(weights(whole));
    }
  });

  it("takes the layout from an input declared [h, w] or [c, h, w]", () => {
    const data = bars(4);
    const shifted = (declared: Record<string, number[]>) => {
      const aug = createShiftAugmenter({ name: "shift", args: { pixels: 1 } }, 1, data, declared, {}, null);
      aug.startEpoch(0);
      const batch = { x: new Float64Array(4 * 36) };
      aug.fill(Uint32Array.of(0, 1, 2, 3), 0, 4, batch);
      return Array.from(batch.x);
    };
    const square = shifted({ x: [6, 6] });
    expect(square).not.toEqual(Array.from(data.inputs.x!));
    expect(shifted({ x: [1, 6, 6] })).toEqual(square);
    expect(() => shifted({ x: [36] })).toThrow(/no input is one/);
  });

  it("refuses inputs that are not images, too large a shift, and threads", () => {
    const data = bars(10);
    const run = (o: Partial<TrainOptions>) => () => train(flat, data, base({ augment: { name: "shift", args: { pixels: 2 } }, ...o }));
    expect(run({ images: undefined })).toThrow(NncUsageError);
    expect(run({ images: undefined })).toThrow(/no input is one: x\[36\].*2-D shape \[h, w\]/);
    expect(run({ augment: { name: "shift", args: { pixels: 6 } } })).toThrow(/give fewer than 6/);
    expect(run({ threads: 2 })).toThrow(/augmentation runs on one thread/);
    expect(run({ optimizer: { name: "lbfgs", args: {} } })).toThrow(/full-batch/);
  });
});
