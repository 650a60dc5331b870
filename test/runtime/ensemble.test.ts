/**
 * predictEnsemble (runtime/api.ts, ensemble.ts): the ensemble's outputs are the members' outputs
 * averaged exactly as by hand, each member on its own normalization; each member's metrics are
 * evaluate()'s for that member alone; MC dropout's mean and standard deviation are those of the
 * passes predictBatchTrain makes from the documented seeds; and bad arguments are named.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { evaluate, NncUsageError, predictAll, predictEnsemble, type Normalization } from "../../runtime/index.js";
import { applyNormalization } from "../../runtime/data/index.js";
import { nll } from "../../runtime/ensemble.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import type { Dataset, FloatArray } from "../../runtime/types.js";
import { randomParams, rng } from "../helpers/random.js";

const COUNT = 23;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const softmaxModel = (p: number | null) => `input x[6]
target t[4]
layer h = dense(x, 12, tanh)
${p === null ? "d = h" : `d = dropout(h, ${p})`}
layer y = dense(d, 4, softmax)
loss cross_entropy(y, t) + 0.01 * sumsq(h.W)
`;
const regressionModel = `input x[3]
target t[2]
layer h = dense(x, 8, relu)
d = dropout(h, 0.2)
layer y = dense(d, 2, identity)
loss mse(y, t)
`;

async function build(source: string): Promise<CompiledModule> {
  const r = await compile(source, { file: "ensemble.nn" });
  expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
  return loadModule(r.js!);
}

/** Random inputs; one-hot targets for a classifier (C > 1 targets that are classes), else uniform. */
function dataFor(mod: CompiledModule, seed: number, classes: boolean): Dataset {
  const random = rng(seed);
  const inputs = Object.fromEntries(Object.entries(mod.meta.inputs).map(([k, s]) => [k, Float64Array.from({ length: COUNT * size(s) }, () => 3 * random() - 1)]));
  const targets = Object.fromEntries(
    Object.entries(mod.meta.targets).map(([k, s]) => {
      const n = size(s);
      const t = new Float64Array(COUNT * n);
      for (let r = 0; r < COUNT; r++)
        if (classes) t[r * n + Math.floor(random() * n)] = 1;
        else for (let j = 0; j < n; j++) t[r * n + j] = random();
      return [k, t];
    }),
  );
  return { count: COUNT, inputs, targets };
}

function normalization(mod: CompiledModule, seed: number): Normalization {
  const random = rng(seed);
  const per = (f: () => number) => Object.fromEntries(Object.entries(mod.meta.inputs).map(([k, s]) => [k, Array.from({ length: size(s) }, f)]));
  return { mean: per(() => random() - 0.5), std: per(() => 0.5 + random()) };
}

describe("an ensemble of three members", () => {
  it("averages the members' outputs exactly as by hand, each on its own normalization, and reports each member's own metrics", async () => {
    const mod = await build(softmaxModel(null));
    const data = dataFor(mod, 1, true);
    const members = [
      { params: randomParams(mod, 11), normalization: normalization(mod, 12) },
      { params: randomParams(mod, 13), normalization: null },
      { params: randomParams(mod, 14), normalization: normalization(mod, 15) },
    ];
    const result = predictEnsemble(mod, members, data);
    // by hand: each member's predictAll on its own normalized data, summed in order, divided by 3
    const own = members.map((m) => (m.normalization ? applyNormalization(data, m.normalization) : data));
    const singles = members.map((m, i) => predictAll(mod, m.params, own[i]!));
    const y = singles.map((s) => s.y!);
    const byHand = Float64Array.from(y[0]!, (_, j) => (y[0]![j]! + y[1]![j]! + y[2]![j]!) / 3);
    expect(Array.from(result.outputs.y!)).toEqual(Array.from(byHand));
    // the members differ from each other and from the ensemble (the averaging is not vacuous)
    expect(Array.from(y[0]!)).not.toEqual(Array.from(y[1]!));
    expect(result.std).toBeNull();
    // each member's metrics are evaluate()'s for it alone (what `nnc predict` with its file reports)
    result.memberEvaluations.forEach((e, i) => {
      const alone = evaluate(mod, members[i]!.params, own[i]!);
      expect(e).toEqual({ ...alone, nll: nll(singles[i]!, data, result.scoring), mc: null });
    });
    // the ensemble's accuracy and nll are of the averaged probabilities
    const e = result.evaluation!;
    let correct = 0;
    let logLoss = 0;
    for (let r = 0; r < COUNT; r++) {
      const row = Array.from(byHand.subarray(r * 4, r * 4 + 4));
      const truth = Array.from(data.targets.t!.subarray(r * 4, r * 4 + 4)).indexOf(1);
      if (row.indexOf(Math.max(...row)) === truth) correct++;
      logLoss -= Math.log(row[truth]!);
    }
    expect(e.accuracy).toBe(correct / COUNT);
    expect(e.nll).toBeCloseTo(logLoss / COUNT, 12);
    expect(e.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(COUNT);
  });

  it("without targets: the outputs alone", async () => {
    const mod = await build(softmaxModel(null));
    const data = { ...dataFor(mod, 2, true), targets: {} };
    const result = predictEnsemble(mod, [{ params: randomParams(mod, 3) }, { params: randomParams(mod, 4) }], data);
    expect(result.evaluation).toBeNull();
    expect(result.memberEvaluations).toEqual([null, null]);
    expect(result.outputs.y!.length).toBe(COUNT * 4);
  });

  it("regression: the mean of the outputs, the RMSE of the mean, and no nll", async () => {
    const mod = await build(regressionModel);
    const data = dataFor(mod, 5, false);
    const members = [{ params: randomParams(mod, 6) }, { params: randomParams(mod, 7) }];
    const result = predictEnsemble(mod, members, data);
    const [a, b] = members.map((m) => predictAll(mod, m.params, data).y!);
    const mean = Float64Array.from(a!, (v, j) => (v + b![j]!) / 2);
    expect(Array.from(result.outputs.y!)).toEqual(Array.from(mean));
    const rmse = Math.sqrt(mean.reduce((s, v, j) => s + (v - data.targets.t![j]!) ** 2, 0) / mean.length);
    expect(result.evaluation!.rmse).toBeCloseTo(rmse, 14);
    expect(result.evaluation!.nll).toBeNull();
    expect(result.evaluation!.accuracy).toBeNull();
  });
});

describe("MC dropout", () => {
  /** mean and sample standard deviation over passes, two-pass, by hand */
  function byHand(mod: CompiledModule, members: { params: Record<string, FloatArray> }[], data: Dataset, passes: number, seed: number) {
    const all: Float64Array[] = [];
    members.forEach((m, i) => {
      const random = mod.createRandom(seed + i);
      for (let p = 0; p < passes; p++) {
        const out = { y: new Float64Array(data.count * size(mod.meta.outputs.y!)) };
        mod.predictBatchTrain(m.params, data.inputs, data.count, out, random);
        all.push(out.y);
      }
    });
    const n = all[0]!.length;
    const mean = Float64Array.from({ length: n }, (_, j) => all.reduce((s, a) => s + a[j]!, 0) / all.length);
    const std = Float64Array.from({ length: n }, (_, j) => Math.sqrt(all.reduce((s, a) => s + (a[j]! - mean[j]!) ** 2, 0) / (all.length - 1)));
    return { mean, std };
  }

  const expectClose = (got: Float64Array, want: Float64Array, rel: number) => {
    const scale = Math.max(...Array.from(want, Math.abs));
    got.forEach((v, j) => expect(Math.abs(v - want[j]!), `[${j}]: ${v} vs ${want[j]}`).toBeLessThanOrEqual(rel * scale));
  };

  it("one member: the mean and standard deviation of `passes` passes drawn from createRandom(seed)", async () => {
    const mod = await build(softmaxModel(0.4));
    const data = dataFor(mod, 8, true);
    const members = [{ params: randomParams(mod, 9) }];
    const result = predictEnsemble(mod, members, data, { mcDropout: { passes: 30, seed: 77 } });
    const want = byHand(mod, members, data, 30, 77);
    expectClose(result.outputs.y!, want.mean, 1e-13);
    expectClose(result.std!.y!, want.std, 1e-12);
    expect(Math.min(...result.std!.y!)).toBeGreaterThan(0);
    // reproducible from the seed; another seed draws other masks
    expect(Array.from(predictEnsemble(mod, members, data, { mcDropout: { passes: 30, seed: 77 } }).outputs.y!)).toEqual(Array.from(result.outputs.y!));
    expect(Array.from(predictEnsemble(mod, members, data, { mcDropout: { passes: 30, seed: 78 } }).outputs.y!)).not.toEqual(Array.from(result.outputs.y!));
    // the member's own metrics stay those of predict (dropout off); its MC mean is scored beside them
    const e = result.memberEvaluations[0]!;
    expect({ ...e, mc: null }).toEqual({ ...evaluate(mod, members[0]!.params, data), nll: nll(predictAll(mod, members[0]!.params, data), data, result.scoring), mc: null });
    expect(e.mc).toEqual(result.evaluation);
  });

  it("two members: the mean and standard deviation over all their passes, member i drawing from seed + i", async () => {
    const mod = await build(softmaxModel(0.4));
    const data = dataFor(mod, 10, true);
    const members = [{ params: randomParams(mod, 21) }, { params: randomParams(mod, 22) }];
    const result = predictEnsemble(mod, members, data, { mcDropout: { passes: 12, seed: 5 } });
    const want = byHand(mod, members, data, 12, 5);
    expectClose(result.outputs.y!, want.mean, 1e-13);
    expectClose(result.std!.y!, want.std, 1e-12);
    // each member's MC mean is its own passes' mean: scored as the member's `mc`
    const first = byHand(mod, [members[0]!], data, 12, 5).mean;
    expect(result.memberEvaluations[0]!.mc!.nll).toBeCloseTo(nll({ y: first }, data, result.scoring)!, 12);
  });

  it("with p = 0 the MC mean is predict's output exactly and the standard deviation 0", async () => {
    const mod = await build(softmaxModel(0));
    const data = dataFor(mod, 11, true);
    const params = randomParams(mod, 12);
    const result = predictEnsemble(mod, [{ params }], data, { mcDropout: { passes: 7, seed: 1 } });
    expect(Array.from(result.outputs.y!)).toEqual(Array.from(predictAll(mod, params, data).y!));
    expect(result.std!.y!.every((v) => v === 0)).toBe(true);
  });
});

describe("bad arguments are named", () => {
  const usage = (run: () => unknown, field: string, detail: RegExp) => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(NncUsageError);
      expect((e as NncUsageError).field).toBe(field);
      expect((e as NncUsageError).detail).toMatch(detail);
      return;
    }
    expect.fail(`no error for ${field}`);
  };

  it("members, passes, a model without dropout, a normalization of other inputs", async () => {
    const plain = await build(softmaxModel(null));
    const dropout = await build(softmaxModel(0.3));
    const data = dataFor(plain, 3, true);
    const p = randomParams(plain, 1);
    usage(() => predictEnsemble(plain, [], data), "members", /non-empty/);
    usage(() => predictEnsemble(plain, [{ params: { ...p, "h.W": new Float64Array(3) } }], data), "members[0].params.h.W", /expected 72 values/);
    usage(() => predictEnsemble(plain, [{ params: p }], data, { mcDropout: { passes: 5, seed: 1 } }), "options.mcDropout", /has no dropout/);
    const q = randomParams(dropout, 1);
    usage(() => predictEnsemble(dropout, [{ params: q }], data, { mcDropout: { passes: 1, seed: 1 } }), "options.mcDropout.passes", /from 2 to 100000/);
    usage(() => predictEnsemble(dropout, [{ params: q }], data, { mcDropout: { passes: 3, seed: -1 } }), "options.mcDropout.seed", /from 0 to/);
    const wrong = { mean: { x: [0, 0] }, std: { x: [1, 1] } };
    usage(() => predictEnsemble(plain, [{ params: p }, { params: p, normalization: wrong }], data), "members[1].normalization", /2 values/);
  });
});
