/**
 * `nnc train` and `nnc predict`: the model's `train { }` block overridden by flags, data loading,
 * a progress bar (only on a terminal), a line per epoch, the initial-loss sanity check of the
 * notes, loss curves as SVG next to the weights, a terminal chart, and the weights file.
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../compiler/io.js";
import type { Model, OptimizerConfig, ScheduleConfig, TrainConfig } from "../compiler/semantics/model.js";
import { OPTIMIZERS, SCHEDULES } from "../compiler/semantics/train-block.js";
import { applyNormalization, loadDataset, splitDataset } from "./data/index.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, predictAll, scoringFor, type Evaluation } from "./metrics.js";
import { forModule, modulePrecision } from "./precision.js";
import { createFullBatch, hessianVectorProductOf, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import { createFusedState } from "./fused-step.js";
import { newtonSizeError } from "./optimizers/newton.js";
import { lossCurvesSvg, terminalChart } from "./plot.js";
import { train, type EpochReport } from "./train.js";
import { DataError, type Dataset } from "./types.js";
import { loadWeights, saveWeights, toWeightsFile, type WeightsFile } from "./weights.js";

/** A mistake of the user's (bad flag, unreadable file): printed without a stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
}

export interface TrainFlags {
  data?: string;
  validation?: string;
  split?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  optimizer?: string;
  schedule?: string;
  seed?: number;
  output?: string;
  checkpoint?: string;
  resume?: string;
  normalize?: boolean;
  patience?: number;
  /** least seconds between checkpoints (default 5; 0 = after every epoch) */
  checkpointSeconds?: number;
}

export interface RunConfig {
  readonly data: string;
  readonly validation: string | null;
  readonly split: number | null;
  readonly optimizer: OptimizerConfig;
  readonly schedule: ScheduleConfig;
  readonly batch: number;
  readonly epochs: number;
  readonly seed: number;
  readonly earlyStopping: TrainConfig["earlyStopping"] | null;
  readonly normalize: boolean;
}

/** The train block, with paths relative to the .nn file, overridden by flags (paths relative to cwd). */
export function resolveConfig(modelFile: string, block: TrainConfig, flags: TrainFlags): RunConfig {
  const rel = (p: string) => (isAbsolute(p) ? p : join(dirname(modelFile), p));
  const data = flags.data ?? (block.data !== undefined ? rel(block.data) : undefined);
  if (data === undefined) throw new CliError(`nnc: ${modelFile} has no 'data' in its train block: give --data FILE`);
  let optimizer: OptimizerConfig = block.optimizer ?? { name: "sgd", args: { ...OPTIMIZERS.sgd } };
  if (flags.optimizer !== undefined) {
    if (!Object.hasOwn(OPTIMIZERS, flags.optimizer)) throw new CliError(`nnc: unknown optimizer '${flags.optimizer}': expected ${Object.keys(OPTIMIZERS).join(", ")}`);
    const name = flags.optimizer as OptimizerConfig["name"];
    optimizer = { name, args: { ...OPTIMIZERS[name], ...(name === block.optimizer?.name ? block.optimizer.args : {}) } };
  }
  if (flags.lr !== undefined && !Object.hasOwn(OPTIMIZERS[optimizer.name], "lr"))
    throw new CliError(`nnc: --lr does not apply to optimizer ${optimizer.name}, which has no learning rate (its step comes from a line search): drop --lr`);
  if (flags.lr !== undefined) optimizer = { name: optimizer.name, args: { ...optimizer.args, lr: flags.lr } };
  let schedule: ScheduleConfig = block.schedule ?? { name: "constant", args: {} };
  if (flags.schedule !== undefined) {
    if (!Object.hasOwn(SCHEDULES, flags.schedule)) throw new CliError(`nnc: unknown schedule '${flags.schedule}': expected ${Object.keys(SCHEDULES).join(", ")}`);
    schedule = { name: flags.schedule as ScheduleConfig["name"], args: { ...SCHEDULES[flags.schedule as ScheduleConfig["name"]] } };
  }
  const validation = flags.validation ?? (flags.split === undefined && block.validation !== undefined ? rel(block.validation) : undefined);
  const split = flags.split ?? (flags.validation === undefined ? block.split : undefined);
  const es = flags.patience !== undefined ? { patience: flags.patience, minDelta: block.earlyStopping?.minDelta ?? 0 } : block.earlyStopping ?? null;
  return {
    data,
    validation: validation ?? null,
    split: split ?? null,
    optimizer,
    schedule,
    batch: flags.batch ?? block.batch ?? 32,
    epochs: flags.epochs ?? block.epochs ?? (isFullBatch(optimizer.name) ? 100 : 10),
    seed: flags.seed ?? block.seed ?? 1,
    earlyStopping: es,
    normalize: flags.normalize === false ? false : block.normalize !== "none",
  };
}

function load(file: string, mod: CompiledModule, inputsOnly = false): Dataset {
  if (!existsSync(file)) throw new CliError(`nnc: error NN9001: cannot read '${file}': ENOENT`);
  try {
    return loadDataset(file, { inputs: mod.meta.inputs, targets: inputsOnly ? {} : mod.meta.targets });
  } catch (e) {
    if (e instanceof DataError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }
}

const pct = (x: number | null) => (x === null ? "" : `${(100 * x).toFixed(1)}%`);
const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));

function evalText(label: string, e: Evaluation | null): string {
  if (e === null) return "";
  return `${label} loss ${fmt(e.loss)}${e.accuracy !== null ? `  acc ${pct(e.accuracy).padStart(6)}` : ""}${e.rmse !== null ? `  rmse ${fmt(e.rmse)}` : ""}`;
}

function describeOptimizer(o: OptimizerConfig): string {
  return `${o.name}(${Object.entries(o.args).map(([k, v]) => `${k} = ${v}`).join(", ")})`;
}

/** The notes' first sanity check: softmax over C classes starts near log C. */
function expectedInitialLoss(mod: CompiledModule, data: Dataset): string {
  const s = scoringFor(mod, data);
  if (s === null) return "";
  const c = s.kind === "argmax" ? s.classes : 2;
  return ` (expected ≈ log ${c} = ${Math.log(c).toFixed(4)} for ${c} classes with near-uniform initial outputs)`;
}

export async function runTrain(modelFile: string, model: Model, mod: CompiledModule, flags: TrainFlags, out: (s: string) => void): Promise<number> {
  const cfg = resolveConfig(modelFile, model.train, flags);
  let data = load(cfg.data, mod);
  let validation: Dataset | null = cfg.validation ? load(cfg.validation, mod) : null;
  if (cfg.split !== null) {
    const parts = splitDataset(data, cfg.split, cfg.seed);
    data = parts.train;
    validation = parts.validation;
  }
  const weightsPath = flags.output ?? join(dirname(modelFile), `${mod.meta.name}.weights.json`);
  const base = weightsPath.replace(/\.json$/, "").replace(/\.weights$/, "");
  const plotPath = `${base}.loss.svg`;
  const checkpointPath = flags.checkpoint ?? `${base}.checkpoint.json`;
  let resume: WeightsFile | null = null;
  if (flags.resume) {
    try {
      resume = loadWeights(flags.resume, mod).file;
    } catch (e) {
      throw new CliError(`nnc: error: ${(e as Error).message}`);
    }
    if (!resume.resume) throw new CliError(`nnc: error: ${flags.resume} is a weights file without checkpoint state; give a .checkpoint.json`);
    const saved = resume.resume.optimizer?.name;
    if (saved !== undefined && saved !== cfg.optimizer.name)
      throw new CliError(`nnc: error: ${flags.resume} holds the state of optimizer ${saved}, not ${cfg.optimizer.name}: resume with --optimizer ${saved}`);
  }

  const nParams = Object.values(mod.meta.params).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  // before any training: a model too large for the full Hessian, or a module without H·v
  const tooLarge = cfg.optimizer.name === "newton" ? newtonSizeError(nParams) : null;
  if (tooLarge !== null) throw new CliError(`nnc: error: ${modelFile}: ${tooLarge}`);
  if ((cfg.optimizer.name === "newton" || cfg.optimizer.name === "newton_cg") && hessianVectorProductOf(mod, data) === null)
    throw new CliError(`nnc: error: optimizer ${cfg.optimizer.name} needs Hessian-vector products, and this module does not export hessianVectorProductBatch`);
  // the optimizers check their arguments' ranges when created: once here, so that a bad one is the
  // user's error (exit 1) before training, not an internal one from inside the loop
  try {
    if (createFullBatch(mod, cfg.optimizer, mod.createParams(), data) === null) {
      const optimizer = createOptimizer(cfg.optimizer, mod.createParams());
      if (cfg.optimizer.name !== "sgd") createFusedState(mod, cfg.optimizer, optimizer, null); // the module's own check
    }
  } catch (e) {
    throw new CliError(`nnc: error: ${modelFile}: ${(e as Error).message}`);
  }
  const f32 = modulePrecision(mod) === "f32" ? " in float32 (--precision f32: Float32Array parameters and data, double arithmetic between stores)" : "";
  out(`model ${mod.meta.name}: ${nParams} parameters${f32}; ${data.count} training samples from ${cfg.data}`);
  if (validation) out(`validation: ${validation.count} samples ${cfg.split !== null ? `(split ${cfg.split} of the data)` : `from ${cfg.validation}`}`);
  out(`optimizer ${describeOptimizer(cfg.optimizer)} · schedule ${cfg.schedule.name} · ${isFullBatch(cfg.optimizer.name) ? "full batch" : `batch ${cfg.batch}`} · ${cfg.epochs} epochs · seed ${cfg.seed}${cfg.normalize ? "" : " · inputs not normalized"}${cfg.earlyStopping && validation ? ` · early stopping (patience ${cfg.earlyStopping.patience})` : ""}`);
  if (resume) out(`resuming from ${flags.resume} after epoch ${resume.resume!.epoch}`);

  // newton and newton_cg have no learning rate to report
  const hasLr = Object.hasOwn(OPTIMIZERS[cfg.optimizer.name], "lr");
  const tty = process.stdout.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ format: "  epoch {epoch} [{bar}] {value}/{total} batches", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
  let barEpoch = -1;
  let lastCheckpoint = performance.now();
  const result = train(mod, data, {
    epochs: cfg.epochs,
    batch: cfg.batch,
    optimizer: cfg.optimizer,
    schedule: cfg.schedule,
    seed: cfg.seed,
    validation,
    earlyStopping: cfg.earlyStopping ?? null,
    normalize: cfg.normalize,
    resume,
    onStart: (initial) => out(resume ? `loss at the checkpoint ${fmt(initial.loss)}` : `initial loss ${fmt(initial.loss)}${expectedInitialLoss(mod, data)}`),
    onProgress: (epoch, done, total) => {
      if (!bar) return;
      if (epoch !== barEpoch) {
        if (barEpoch !== -1) bar.stop();
        bar.start(total, 0, { epoch });
        barEpoch = epoch;
      }
      bar.update(done, { epoch });
    },
    onEpoch: (r: EpochReport) => {
      if (bar && barEpoch !== -1) {
        bar.stop();
        barEpoch = -1;
      }
      // long runs (XOR's 2000 epochs) print about 25 lines: every k-th epoch and the last
      const every = Math.max(1, Math.ceil(cfg.epochs / 25));
      if (r.epoch % every !== 0 && r.epoch !== cfg.epochs && r.epoch !== 1) return;
      const width = String(cfg.epochs).length;
      out(`epoch ${String(r.epoch).padStart(width)}/${cfg.epochs}  ${evalText("train", r.train)}${r.validation ? `   ${evalText("valid", r.validation)}` : ""}${hasLr ? `   lr ${r.lr.toPrecision(3)}` : ""}   ${r.seconds.toFixed(1)}s${r.best && r.validation ? "  *" : ""}`);
    },
    // a checkpoint after an epoch when the last one is 5 s old (tiny epochs would spend their
    // time writing), and always after the last epoch
    onCheckpoint: (c) => {
      if (performance.now() - lastCheckpoint < 1000 * (flags.checkpointSeconds ?? 5) && c.resume.epoch < cfg.epochs) return;
      lastCheckpoint = performance.now();
      saveWeights(checkpointPath, toWeightsFile(mod, c.params, { normalization: c.normalization, training: configJson(cfg, mod), metrics: {}, resume: c.resume }));
    },
  });
  if (bar && barEpoch !== -1) bar.stop();
  if (result.message) out(result.message);

  const last = result.history[result.history.length - 1];
  const finalTrain = evaluate(mod, result.params, result.normalization ? applyNormalization(data, result.normalization) : data);
  const finalValid = validation ? evaluate(mod, result.params, result.normalization ? applyNormalization(validation, result.normalization) : validation) : null;
  const metrics = {
    stopped: result.stopped,
    epochs: last?.epoch ?? 0,
    bestEpoch: result.bestEpoch,
    initialLoss: result.initial.loss,
    train: { loss: finalTrain.loss, accuracy: finalTrain.accuracy, rmse: finalTrain.rmse },
    validation: finalValid && { loss: finalValid.loss, accuracy: finalValid.accuracy, rmse: finalValid.rmse },
  };
  saveWeights(weightsPath, toWeightsFile(mod, result.params, { normalization: result.normalization, training: configJson(cfg, mod), metrics }));
  const series = [
    { name: "train", color: "#1f77b4", values: result.history.map((h) => h.train.loss) },
    ...(validation ? [{ name: "validation", color: "#d62728", values: result.history.map((h) => h.validation?.loss ?? NaN) }] : []),
  ];
  writeFileAtomic(plotPath, lossCurvesSvg(`${mod.meta.name}: loss by epoch`, series));
  out(`final: ${evalText("train", finalTrain)}${finalValid ? `   ${evalText("valid", finalValid)}` : ""}`);
  out(`weights → ${weightsPath}   loss curves → ${plotPath}   checkpoint → ${checkpointPath}`);
  if (result.history.length > 1 && result.stopped !== "diverged") out(terminalChart(series));
  return result.stopped === "diverged" ? 1 : 0;
}

function configJson(cfg: RunConfig, mod: CompiledModule): Record<string, unknown> {
  return { ...cfg, precision: modulePrecision(mod) };
}

export interface PredictFlags {
  weights: string;
  data: string;
  output?: string;
}

export async function runPredict(model: Model, mod: CompiledModule, flags: PredictFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let weights;
  try {
    weights = loadWeights(flags.weights, mod);
  } catch (e) {
    throw new CliError(`nnc: error: ${(e as Error).message}`);
  }
  const inputSize = Object.values(mod.meta.inputs).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const withTargets = !looksInputsOnly(flags.data, inputSize);
  let data = load(flags.data, mod, !withTargets);
  if (weights.file.normalization) data = applyNormalization(data, weights.file.normalization);
  data = forModule(data, mod); // once, for predictAll and evaluate (Float32Arrays for an f32 module)
  const outputs = predictAll(mod, weights.params, data);
  const names = Object.entries(mod.meta.outputs);
  const header = names.flatMap(([k, s]) => {
    const n = s.reduce((a, b) => a * b, 1);
    return s.length === 0 ? [k] : Array.from({ length: n }, (_, i) => `${k}_${i}`);
  });
  const scoring = withTargets ? scoringFor(mod, data) : null;
  const lines = [header.join(",") + (scoring?.kind === "argmax" ? ",class" : "")];
  for (let r = 0; r < data.count; r++) {
    const cells: string[] = [];
    for (const [k, s] of names) {
      const n = s.reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) cells.push(String(outputs[k]![r * n + i]));
    }
    if (scoring?.kind === "argmax") {
      const o = outputs[scoring.output]!;
      let best = 0;
      for (let i = 1; i < scoring.classes; i++) if (o[r * scoring.classes + i]! > o[r * scoring.classes + best]!) best = i;
      cells.push(String(best));
    }
    lines.push(cells.join(","));
  }
  const csv = lines.join("\n") + "\n";
  const report = flags.output ? out : err;
  if (flags.output) writeFileAtomic(flags.output, csv);
  else out(csv.replace(/\n$/, ""));
  if (withTargets) {
    const e = evaluate(mod, weights.params, data);
    report(`${data.count} samples: loss ${fmt(e.loss)}${e.accuracy !== null ? `, accuracy ${pct(e.accuracy)}` : ""}${e.rmse !== null ? `, rmse ${fmt(e.rmse)}` : ""}`);
    if (e.confusion) {
      report("confusion matrix (rows: actual class, columns: predicted class):");
      const w = Math.max(3, ...e.confusion.flat().map((v) => String(v).length));
      report("      " + e.confusion.map((_, i) => String(i).padStart(w)).join(" "));
      e.confusion.forEach((row, i) => report(`  ${String(i).padStart(3)} ${row.map((v) => String(v).padStart(w)).join(" ")}`));
    }
  }
  if (flags.output) out(`predictions → ${flags.output}`);
  return 0;
}

/** A CSV whose header has exactly as many columns as the model has input values. */
function looksInputsOnly(file: string, inputSize: number): boolean {
  if (!/\.csv(\.gz)?$/.test(file) || file.endsWith(".gz") || !existsSync(file)) return false;
  // the header only: the first 64 KiB, not the whole (possibly large) file
  const fd = openSync(resolve(file), "r");
  const buf = Buffer.alloc(65536);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const first = buf.toString("utf8", 0, n).split("\n", 1)[0] ?? "";
  return first.split(",").length === inputSize;
}
