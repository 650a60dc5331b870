/**
 * The lecture notes' "fewer iterations, more work per iteration", measured: newton, newton_cg,
 * L-BFGS and Adam (all full batch) on the logistic-regression example (breast cancer, 31
 * parameters) and on XOR (17), from the same initialization, until ‖∇f‖₂ ≤ 1e-8 — Adam within a
 * cap of iterations, reported as not reached. Iterations and wall time (the fastest of 7 runs
 * after a warm-up — on a shared machine the least disturbed; only the optimizer's own work is
 * timed, not the gradient norm measured after each iteration), objective evaluations and H·v
 * products. Writes docs/second-order.md (the table) and
 * docs/second-order-<problem>.svg (log₁₀ ‖∇f‖ by iteration).
 *
 * Usage: npm run build && npm run compare-second-order
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../compiler/io.js";
import { compile } from "../compiler/pipeline.js";
import { OPTIMIZERS } from "../compiler/semantics/train-block.js";
import { applyNormalization, computeNormalization, loadDataset } from "../runtime/data/index.js";
import { hessianVectorProductOf } from "../runtime/full-batch.js";
import { loadModule, type CompiledModule } from "../runtime/load-module.js";
import { createOptimizer } from "../runtime/optimizers/index.js";
import { createLbfgs } from "../runtime/optimizers/lbfgs.js";
import { createNewton } from "../runtime/optimizers/newton.js";
import { createNewtonCg } from "../runtime/optimizers/newton-cg.js";
import { lossCurvesSvg } from "../runtime/plot.js";
import type { Dataset, Objective, ParamSet } from "../runtime/types.js";

const root = join(import.meta.dirname, "..", "..");
const TARGET = 1e-8;
const CAP = 200; // iterations for newton, newton_cg, L-BFGS
const ADAM_CAP = 20000;
const ADAM_LR = 0.01;
const REPEATS = 7;
const SEED = 1;

const problems = [
  { key: "logistic", label: "logistic regression (breast cancer, 31 parameters)", model: "examples/logistic-regression.nn", data: "examples/data/breast_cancer.csv" },
  { key: "xor", label: "XOR (2-4-1 tanh/sigmoid, 17 parameters)", model: "examples/xor.nn", data: "examples/data/xor.csv" },
];

interface Run {
  /** ‖∇f‖ before the first iteration and after each */
  readonly norms: number[];
  /** iterations until ‖∇f‖ ≤ TARGET, or null */
  readonly reached: number | null;
  readonly seconds: number;
  readonly evaluations: number;
  readonly products: number;
  readonly loss: number;
}

type Stepper = (params: ParamSet) => { evaluations: number; products: number; loss: number };

function norm(g: ParamSet): number {
  let s = 0;
  for (const v of Object.values(g)) for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function optimizers(mod: CompiledModule, data: Dataset): Record<string, { cap: number; make: (params: ParamSet) => Stepper }> {
  const f: Objective = (p, g) => mod.gradientBatch(p, data.inputs, data.targets, data.count, g);
  const hv = hessianVectorProductOf(mod, data)!;
  return {
    newton: { cap: CAP, make: (p) => { const o = createNewton(p, { damping: OPTIMIZERS.newton.damping }); return (q) => o.iterate(q, f, hv); } },
    newton_cg: { cap: CAP, make: (p) => { const o = createNewtonCg(p, { damping: OPTIMIZERS.newton_cg.damping, iterations: OPTIMIZERS.newton_cg.iterations }); return (q) => o.iterate(q, f, hv); } },
    "L-BFGS": { cap: CAP, make: (p) => { const o = createLbfgs(p, { history: 10 }); return (q) => { const r = o.iterate(q, f); return { ...r, products: 0 }; }; } },
    [`Adam (lr ${ADAM_LR})`]: {
      cap: ADAM_CAP,
      make: (p) => {
        const o = createOptimizer({ name: "adam", args: { ...OPTIMIZERS.adam, lr: ADAM_LR } }, p);
        const g = mod.createParams();
        return (q) => {
          const loss = f(q, g);
          o.step(q, g, ADAM_LR);
          return { evaluations: 1, products: 0, loss };
        };
      },
    },
  };
}

function run(mod: CompiledModule, data: Dataset, make: (params: ParamSet) => Stepper, cap: number): Run {
  const params = mod.createParams();
  mod.initParams(params, SEED);
  const g = mod.createParams();
  const measure = () => norm((mod.gradientBatch(params, data.inputs, data.targets, data.count, g), g));
  const step = make(params);
  const norms = [measure()];
  let seconds = 0, evaluations = 0, products = 0, loss = NaN;
  let reached: number | null = null;
  for (let k = 1; k <= cap && reached === null; k++) {
    const t0 = performance.now();
    const r = step(params);
    seconds += (performance.now() - t0) / 1000;
    evaluations += r.evaluations;
    products += r.products;
    loss = r.loss;
    norms.push(measure());
    if (norms[k]! <= TARGET) reached = k;
  }
  return { norms, reached, seconds, evaluations, products, loss };
}


const ms = (s: number) => String(Number((s * 1000).toPrecision(3)));
const us = (s: number) => String(Number((s * 1e6).toPrecision(3)));

const table: string[] = [
  "| problem | optimizer | iterations to ‖∇f‖ ≤ 1e-8 | wall time (ms) | per iteration (µs) | gradient evaluations | H·v products | final ‖∇f‖ |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
];
const colors = ["#d62728", "#ff7f0e", "#1f77b4", "#7f7f7f"];
for (const problem of problems) {
  const file = join(root, problem.model);
  const compiled = await compile(readFileSync(file, "utf8"), { file });
  const mod = await loadModule(compiled.js!);
  const raw = loadDataset(join(root, problem.data), { inputs: mod.meta.inputs, targets: mod.meta.targets });
  const data = applyNormalization(raw, computeNormalization(raw)); // as nnc train does
  const series = [];
  let k = 0;
  let longest = 0;
  for (const [name, { cap, make }] of Object.entries(optimizers(mod, data))) {
    run(mod, data, make, cap); // warm-up: compiled by the JIT before it is timed
    const runs = Array.from({ length: REPEATS }, () => run(mod, data, make, cap));
    const r = runs[0]!;
    const seconds = Math.min(...runs.map((x) => x.seconds));
    const iterations = r.norms.length - 1;
    const reached = r.reached === null ? `not reached in ${iterations}` : String(r.reached);
    if (r.reached !== null && cap === CAP) longest = Math.max(longest, r.reached);
    table.push(`| ${problem.key} | ${name} | ${reached} | ${ms(seconds)} | ${us(seconds / iterations)} | ${r.evaluations} | ${r.products} | ${r.norms[iterations]!.toExponential(1)} |`);
    console.log(table[table.length - 1]);
    series.push({ name, color: colors[k++]!, values: r.norms.map(Math.log10) });
  }
  // the plot shows the first iterations: up to the slowest of newton, newton_cg and L-BFGS, and a
  // bit (Adam's thousands would squeeze the others into the first pixels)
  const shown = Math.max(10, Math.ceil(longest * 1.2));
  const clipped = series.map((s) => ({ ...s, values: s.values.slice(0, shown + 1) }));
  const svg = lossCurvesSvg(`${problem.label}: log₁₀ ‖∇f‖ by iteration (first ${shown})`, clipped, "log₁₀ ‖∇f‖");
  writeFileAtomic(join(root, `docs/second-order-${problem.key}.svg`), svg);
}
const md = [
  "<!-- written by `npm run compare-second-order` (scripts/second-order.ts); do not edit -->",
  ...table,
  "",
].join("\n");
writeFileAtomic(join(root, "docs/second-order.md"), md);
console.log(`table → docs/second-order.md, plots → docs/second-order-{${problems.map((p) => p.key).join(",")}}.svg`);
