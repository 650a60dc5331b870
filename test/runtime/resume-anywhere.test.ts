/**
 * A run resumed from the checkpoint of any epoch ends as the uninterrupted run does, bit for bit,
 * and stops where it stopped (issue #14): for every optimizer (L-BFGS included), with a learning
 * rate schedule, dropout (the training-mode random draws) and early stopping (a checkpoint of the
 * epoch that stopped the run resumes to a stop, not to more training), through the checkpoint's
 * JSON. The whole-run test with real kills is test/cli/crash-resume.test.ts.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { compile } from "../../compiler/pipeline.js";
import { loadDataset } from "../../runtime/data/index.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { train, type Checkpoint, type TrainOptions } from "../../runtime/train.js";
import type { Dataset } from "../../runtime/types.js";
import { toWeightsFile, type WeightsFile } from "../../runtime/weights.js";
import { ROOT } from "../helpers/corpus.js";

const SOURCE = `input x[4]
target t[3]
layer h = dense(x, 8, tanh)
d = dropout(h, 0.3)
layer y = dense(d, 3, softmax)
loss cross_entropy(y, t)
`;

const OPTIMIZERS: OptimizerConfig["name"][] = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta", "lbfgs"];

async function module(precision: "f64" | "f32"): Promise<CompiledModule> {
  const r = await compile(SOURCE, { file: "resume.nn", precision });
  return loadModule(r.js!);
}

describe("resuming from the checkpoint of any epoch", () => {
  let data: Dataset;
  let validation: Dataset;
  const mods: Partial<Record<"f64" | "f32", CompiledModule>> = {};
  beforeAll(async () => {
    mods.f64 = await module("f64");
    mods.f32 = await module("f32");
    const all = loadDataset(join(ROOT, "examples", "data", "iris.csv"), { inputs: mods.f64.meta.inputs, targets: mods.f64.meta.targets });
    // every third sample for validation: early stopping has a loss to watch
    const pick = (keep: (i: number) => boolean): Dataset => {
      const rows = Array.from({ length: all.count }, (_, i) => i).filter(keep);
      const take = (set: Dataset["inputs"]) => Object.fromEntries(Object.entries(set).map(([k, v]) => {
        const w = v.length / all.count;
        return [k, Float64Array.from(rows.flatMap((r) => Array.from(v.subarray(r * w, (r + 1) * w))))];
      }));
      return { count: rows.length, inputs: take(all.inputs), targets: take(all.targets) } as Dataset;
    };
    data = pick((i) => i % 3 !== 0);
    validation = pick((i) => i % 3 === 0);
  });

  const stops: string[] = [];
  const cases = [...OPTIMIZERS.map((o) => [o, "f64"] as const), ["adam", "f32"] as const, ["lbfgs", "f32"] as const];
  it.each(cases)("%s, %s: the same weights and the same stop from every checkpoint", (name, precision) => {
    const mod = mods[precision]!;
    const options: TrainOptions = {
      epochs: 8,
      batch: name === "lbfgs" ? data.count : 16,
      optimizer: { name, args: { lr: name === "lbfgs" ? 1 : 0.3 } } as OptimizerConfig,
      schedule: { name: "cosine", args: {} },
      seed: 3,
      validation,
      earlyStopping: { patience: 1, minDelta: 0 },
    };
    const checkpoints: WeightsFile[] = [];
    const save = (c: Checkpoint) => checkpoints.push(JSON.parse(JSON.stringify(toWeightsFile(mod, c.params, { normalization: c.normalization, training: {}, metrics: {}, resume: c.resume }))));
    const whole = train(mod, data, { ...options, onCheckpoint: save });
    stops.push(whole.stopped);
    expect(checkpoints.length).toBe(whole.history.length);
    for (const cp of checkpoints) {
      const resumed = train(mod, data, { ...options, resume: cp });
      const at = `resumed after epoch ${cp.resume!.epoch} of ${whole.history.length} (${whole.stopped})`;
      expect(resumed.stopped, at).toBe(whole.stopped);
      expect(resumed.bestEpoch, at).toBe(whole.bestEpoch);
      expect(resumed.history.map((h) => h.epoch), at).toEqual(whole.history.map((h) => h.epoch));
      for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!), `${k}, ${at}`).toEqual(Array.from(whole.params[k]!));
    }
  });

  it("the cases include runs that stopped early and runs that completed", () => {
    expect(stops).toContain("early-stopping");
    expect(stops).toContain("completed");
  });
});
