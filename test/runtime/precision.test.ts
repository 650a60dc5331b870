/**
 * The training runtime with an f32 module (--precision f32): data converted once to the module's
 * Float32Arrays, every optimizer's update on Float32Array parameters equal to the float64 update
 * rounded to float32, L-BFGS on float32 parameters, training to 100 % on XOR, weights files and
 * checkpoints (a resumed f32 run ends bit-identical to the uninterrupted one), and the gradient
 * checks: central differences refuse an f32 module, precisionCheck compares it with the f64 one.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { compile } from "../../compiler/pipeline.js";
import type { Precision } from "../../compiler/target.js";
import { loadDataset } from "../../runtime/data/index.js";
import { gradCheck, precisionCheck } from "../../runtime/gradcheck.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { evaluate, predictAll } from "../../runtime/metrics.js";
import { createOptimizer } from "../../runtime/optimizers/index.js";
import { createLbfgs } from "../../runtime/optimizers/lbfgs.js";
import { forModule } from "../../runtime/precision.js";
import { train, type Checkpoint } from "../../runtime/train.js";
import type { Dataset, FloatArray, ParamSet } from "../../runtime/types.js";
import { toWeightsFile } from "../../runtime/weights.js";
import { loadWeights, saveWeights } from "../../runtime/node/weights-files.js";
import { ROOT } from "../helpers/corpus.js";
import { rng } from "../helpers/random.js";

const modules = new Map<string, Promise<CompiledModule>>();
function example(name: string, precision: Precision): Promise<CompiledModule> {
  const key = `${name}:${precision}`;
  if (!modules.has(key))
    modules.set(
      key,
      (async () => {
        const file = join(ROOT, "examples", name);
        const r = await compile(readFileSync(file, "utf8"), { file, precision });
        return loadModule(r.js!);
      })(),
    );
  return modules.get(key)!;
}

const xorData: Dataset = { count: 4, inputs: { x: Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1) }, targets: { t: Float64Array.of(0, 1, 1, 0) } };

function digits(count: number, mod: CompiledModule): Dataset<Float64Array> {
  const full = loadDataset(join(ROOT, "examples/data/digits-train.csv"), { inputs: mod.meta.inputs, targets: mod.meta.targets });
  return { count, inputs: { x: full.inputs.x!.slice(0, count * 64) }, targets: { t: full.targets.t!.slice(0, count * 10) } };
}

describe("data in the module's array type", () => {
  it("forModule converts a data set to Float32Arrays once for an f32 module, and leaves it alone otherwise", async () => {
    const [m32, m64] = [await example("xor.nn", "f32"), await example("xor.nn", "f64")];
    expect(m32.meta.precision).toBe("f32");
    expect(m64.meta.precision).toBe("f64");
    expect(forModule(xorData, m64)).toBe(xorData);
    const converted = forModule(xorData, m32);
    expect(converted.inputs.x).toBeInstanceOf(Float32Array);
    expect(converted.targets.t).toBeInstanceOf(Float32Array);
    expect(Array.from(converted.inputs.x!)).toEqual(Array.from(xorData.inputs.x!));
    expect(forModule(converted, m32)).toBe(converted); // already converted: nothing to do
    const thirds: Dataset = { count: 1, inputs: { x: Float64Array.of(1 / 3, 2 / 3) }, targets: { t: Float64Array.of(1) } };
    expect(Array.from(forModule(thirds, m32).inputs.x!)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3)]);
  });

  it("evaluate and predictAll take float64 data for an f32 module and write Float32Array outputs", async () => {
    const m = await example("xor.nn", "f32");
    const params = m.createParams();
    m.initParams(params, 1);
    const out = predictAll(m, params, xorData);
    expect(out.y).toBeInstanceOf(Float32Array);
    const e = evaluate(m, params, xorData);
    expect(e.loss).toBe(m.lossBatch(params, forModule(xorData, m).inputs, forModule(xorData, m).targets, 4));
    expect(e.accuracy).not.toBeNull();
  });
});

describe("optimizers on Float32Array parameters", () => {
  const configs: OptimizerConfig[] = [
    { name: "sgd", args: { lr: 0.1 } },
    { name: "momentum", args: { lr: 0.1, gamma: 0.9 } },
    { name: "nesterov", args: { lr: 0.1, mu: 0.9 } },
    { name: "adagrad", args: { lr: 0.1, eps: 1e-8 } },
    { name: "rmsprop", args: { lr: 0.01, gamma: 0.9, eps: 1e-8 } },
    { name: "adam", args: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 } },
  ];
  for (const config of configs)
    it(`${config.name}: each step is the float64 step rounded to float32 (the state stays float64)`, () => {
      const random = rng(3);
      const p32 = { w: Float32Array.from({ length: 50 }, () => random() - 0.5) };
      const p64 = { w: Float64Array.from(p32.w) };
      const o32 = createOptimizer(config, p32);
      const o64 = createOptimizer(config, p64);
      let rounded = false;
      for (let step = 0; step < 6; step++) {
        const g32 = { w: Float32Array.from({ length: 50 }, () => 2 * random() - 1) };
        o32.step(p32, g32, config.args.lr!);
        o64.step(p64, { w: Float64Array.from(g32.w) }, config.args.lr!);
        expect(p32.w).toBeInstanceOf(Float32Array);
        expect(Array.from(p32.w), `step ${step + 1}`).toEqual(Array.from(p64.w, Math.fround));
        rounded ||= p32.w.some((v, i) => v !== p64.w[i]);
        p64.w.set(p32.w); // the next step starts from the same (rounded) point
      }
      expect(rounded, "the float32 parameters were rounded").toBe(true);
      expect(o32.state()).toEqual(o64.state());
    });

  it("L-BFGS minimizes a float32 objective: the gradient it passes is a Float32Array, and no iteration re-evaluates its starting point", () => {
    const c = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i) * 3);
    const params: ParamSet = { x: new Float32Array(20) };
    const points: number[][] = [];
    const f = (p: ParamSet, g: ParamSet): number => {
      expect(g.x).toBeInstanceOf(Float32Array);
      points.push(Array.from(p.x!));
      let s = 0;
      for (let i = 0; i < 20; i++) {
        const d = p.x![i]! - c[i]!;
        s += (i + 1) * d * d;
        g.x![i] = 2 * (i + 1) * d;
      }
      return s;
    };
    const lbfgs = createLbfgs(params, { history: 5 });
    let loss = Infinity;
    for (let k = 0; k < 25; k++) {
      const start = Array.from(params.x!);
      const before = points.length;
      loss = lbfgs.iterate(params, f).loss;
      // iterations after the first start from the point the previous one ended on, cached
      if (k > 0) expect(points.slice(before).some((p) => p.every((v, i) => v === start[i])), `iteration ${k + 1} re-evaluated its start`).toBe(false);
    }
    expect(params.x).toBeInstanceOf(Float32Array);
    expect(loss).toBeLessThan(1e-9);
    for (let i = 0; i < 20; i++) expect(Math.abs(params.x![i]! - c[i]!)).toBeLessThan(1e-5);
  });
});

describe("training an f32 module", () => {
  it("learns XOR to 100% with the example's settings (sgd, lr 0.5, batch 4), in Float32Arrays", async () => {
    const mod = await example("xor.nn", "f32");
    const r = train(mod, xorData, { epochs: 2000, batch: 4, optimizer: { name: "sgd", args: { lr: 0.5 } }, seed: 1 });
    expect(r.stopped).toBe("completed");
    for (const v of Object.values(r.params)) expect(v).toBeInstanceOf(Float32Array);
    const last = r.history[r.history.length - 1]!;
    expect(last.train.accuracy).toBe(1);
    expect(last.train.loss).toBeLessThan(0.05);
  });

  it("trains digits with L-BFGS (full batch) as well as the f64 module does", async () => {
    const [m32, m64] = [await example("digits.nn", "f32"), await example("digits.nn", "f64")];
    const options = { epochs: 15, batch: 1, optimizer: { name: "lbfgs" as const, args: { history: 10, lr: 1 } }, seed: 2 };
    const r32 = train(m32, digits(200, m32), options);
    const r64 = train(m64, digits(200, m64), options);
    expect(r32.stopped).toBe("completed");
    const [l32, l64] = [r32.history.at(-1)!.train.loss, r64.history.at(-1)!.train.loss];
    expect(l32).toBeLessThan(0.5 * r32.initial.loss);
    expect(Math.abs(l32 - l64)).toBeLessThan(0.1 * l64);
  });

  it("a resumed f32 run ends with the same weights as the uninterrupted one, through a weights file of JSON numbers", async () => {
    const mod = await example("digits.nn", "f32");
    const data = digits(200, mod);
    const options = { epochs: 4, batch: 16, optimizer: { name: "adam" as const, args: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 } }, seed: 9 };
    const whole = train(mod, data, options);
    let after2: Checkpoint | null = null;
    train(mod, data, { ...options, onCheckpoint: (c) => { if (c.resume.epoch === 2) after2 = structuredClone(c); } });
    const cp = after2 as unknown as Checkpoint;
    const dir = mkdtempSync(join(tmpdir(), "nnc-f32-"));
    try {
      const path = join(dir, "digits.checkpoint.json");
      saveWeights(path, toWeightsFile(mod, cp.params, { normalization: cp.normalization, training: {}, metrics: {}, resume: cp.resume }));
      const saved = JSON.parse(readFileSync(path, "utf8"));
      expect(typeof saved.params["h.W"].values[0]).toBe("number");
      const { file, params } = loadWeights(path, mod);
      expect(params["h.W"]).toBeInstanceOf(Float32Array);
      expect(Array.from(params["h.W"]!)).toEqual(Array.from(cp.params["h.W"]!));
      const resumed = train(mod, data, { ...options, resume: file });
      for (const k of Object.keys(whole.params)) expect(Array.from(resumed.params[k]!), k).toEqual(Array.from(whole.params[k]!));
      // the same file loads into the f64 module: the float32 values exactly
      const f64 = loadWeights(path, await example("digits.nn", "f64")).params;
      expect(Array.from(f64["h.W"]!)).toEqual(Array.from(cp.params["h.W"]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("gradient checks of an f32 module", () => {
  it("gradCheck (central differences) refuses it and names precisionCheck", async () => {
    const m = await example("xor.nn", "f32");
    expect(() => gradCheck(m)).toThrow(/float64 module.*precisionCheck/);
  });

  it("precisionCheck: its gradient is the f64 module's to float32 accuracy, and a wrong gradient is caught", async () => {
    const [m32, m64] = [await example("digits.nn", "f32"), await example("digits.nn", "f64")];
    const r = precisionCheck(m32, m64, { seed: 4, samples: 5 });
    expect(r.params.map((p) => p.name)).toEqual(["h.W", "h.b", "y.W", "y.b"]);
    expect(r.worst).toBeLessThan(1e-5);
    expect(r.lossError).toBeLessThan(1e-6);
    // a module whose gradient is off by 1e-3 of its scale in one element fails the default 1e-3 tolerance
    const broken: CompiledModule = {
      ...m32,
      gradientBatch: (p, i, t, n, g) => {
        const l = m32.gradientBatch(p, i, t, n, g);
        const w = g["y.W"] as FloatArray;
        w[3] = w[3]! + 2e-3 * Math.max(...Array.from(w, Math.abs));
        return l;
      },
    };
    const bad = precisionCheck(broken, m64, { seed: 4, samples: 5 });
    expect(bad.worst).toBeGreaterThan(1e-3);
    expect(bad.params.find((p) => p.name === "y.W")!.at).toBe(3);
  });
});
