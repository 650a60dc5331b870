/**
 * Reproduces the lecture notes' comparison of SGD, momentum, RMSProp and Adam: the same network
 * (examples/digits.nn) on the same data and the same initialization, one loss curve each, in one
 * plot. Usage: npm run compare-optimizers [-- epochs]   → examples/compare-optimizers.svg
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../compiler/io.js";
import type { OptimizerConfig } from "../compiler/semantics/model.js";
import { compile } from "../compiler/pipeline.js";
import { OPTIMIZERS } from "../compiler/semantics/train-block.js";
import { loadDataset } from "../runtime/data/index.js";
import { loadModule } from "../runtime/load-module.js";
import { lossCurvesSvg, terminalChart } from "../runtime/plot.js";
import { train } from "../runtime/train.js";

const root = join(import.meta.dirname, "..", "..");
const epochs = Number(process.argv[2] ?? 20);
const file = join(root, "examples/digits.nn");
const compiled = await compile(readFileSync(file, "utf8"), { file });
const mod = await loadModule(compiled.js!);
const shape = { inputs: mod.meta.inputs, targets: mod.meta.targets };
const data = loadDataset(join(root, "examples/data/digits-train.csv"), shape);
const test = loadDataset(join(root, "examples/data/digits-test.csv"), shape);

// learning rates as the notes' recipe suggests for each method on this problem
const runs: { label: string; color: string; optimizer: OptimizerConfig }[] = [
  { label: "SGD (lr 0.05)", color: "#7f7f7f", optimizer: { name: "sgd", args: { ...OPTIMIZERS.sgd, lr: 0.05 } } },
  { label: "momentum (lr 0.05, γ 0.9)", color: "#1f77b4", optimizer: { name: "momentum", args: { ...OPTIMIZERS.momentum, lr: 0.05 } } },
  { label: "RMSProp (lr 0.001)", color: "#2ca02c", optimizer: { name: "rmsprop", args: { ...OPTIMIZERS.rmsprop, lr: 0.001 } } },
  { label: "Adam (lr 0.001)", color: "#d62728", optimizer: { name: "adam", args: { ...OPTIMIZERS.adam, lr: 0.001 } } },
];
const series = [];
for (const run of runs) {
  const started = performance.now();
  const r = train(mod, data, { epochs, batch: 32, optimizer: run.optimizer, seed: 42, validation: test });
  const last = r.history[r.history.length - 1]!;
  console.log(
    `${run.label.padEnd(28)} final train loss ${last.train.loss.toFixed(4)}  test acc ${(100 * last.validation!.accuracy!).toFixed(1)}%  (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  series.push({ name: run.label, color: run.color, values: r.history.map((h) => h.train.loss) });
}
const out = join(root, "examples/compare-optimizers.svg");
writeFileAtomic(out, lossCurvesSvg(`digits 64-32-10: training loss by optimizer (batch 32, seed 42)`, series, "training loss"));
console.log(terminalChart(series));
console.log(`plot → ${out}`);
