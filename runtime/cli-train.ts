/**
 * `nnc train` and `nnc predict`: the model's `train { }` block overridden by flags, data loading,
 * a progress bar (only on a terminal), a line per epoch, the initial-loss sanity check of the
 * notes, loss curves as SVG next to the weights, a terminal chart, and the weights file.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import cliProgress from "cli-progress";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { checkOutputs, isStream, openOutput, WriteError, writeFileAtomic, type Named } from "../compiler/io.js";
import type { Model, OptimizerConfig, ScheduleConfig, TrainConfig } from "../compiler/semantics/model.js";
import { OPTIMIZERS, SCHEDULES } from "../compiler/semantics/train-block.js";
import { applyNormalization, csvHeaderWidth, loadDataset, splitDataset } from "./data/index.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, predictAll, scoringFor, type Evaluation, type Scoring } from "./metrics.js";
import { forModule, modulePrecision } from "./precision.js";
import { createFullBatchOptimizer, hessianVectorProductOf, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import { newtonSizeError } from "./optimizers/newton.js";
import { terminalChart, trainingPlotSvg } from "./plot.js";
import { train, type EpochReport, type StepReport } from "./train.js";
import { DataError, type Dataset, type FloatArray } from "./types.js";
import { modelIdentity } from "./identity.js";
import { asUsage, checkNumber, checkOptimizerConfig, checkScheduleConfig, NncUsageError, type NumberSetting } from "./usage.js";
import { checkResume, toWeightsFile, weightsFormat, type WeightsFile } from "./weights.js";
import { loadWeights, saveWeights } from "./node/weights-files.js";
import { createSchedule } from "./schedules.js";
import { defaultThreads } from "./threads/pool.js";
import type { Target } from "../compiler/target.js";

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
  /** threads computing each batch's gradient (default: defaultThreads, runtime/threads/pool.ts) */
  threads?: number;
  /** the module's code target (the CLI's choice): the default threads depend on it */
  target?: Target;
  /** the loss plot's loss axis logarithmic */
  logScale?: boolean;
}

/** The files `nnc train` writes; null: not written. */
export interface TrainOutputs {
  /** '-': stdout */
  readonly weights: string;
  readonly plot: string | null;
  readonly checkpoint: string | null;
}

/**
 * The checkpoint and the loss curves sit beside the weights (`w.json` → `w.checkpoint.json`,
 * `w.loss.svg`). Weights sent to stdout (`-o -`) or to a device (`-o /dev/null`) have no
 * "beside": then only a checkpoint given with --checkpoint is written, and no loss curves.
 */
export function trainOutputs(modelFile: string, modelName: string, flags: TrainFlags): TrainOutputs {
  if (flags.checkpoint === "-") throw new CliError("nnc: error: --checkpoint -: a checkpoint is a file for --resume to read, not a stream; give a file name");
  // safetensors holds tensors and strings: the optimizer state and history of a checkpoint stay JSON
  for (const [flag, path] of [["--checkpoint", flags.checkpoint], ["--resume", flags.resume]] as const)
    if (path !== undefined && weightsFormat(path) === "safetensors")
      throw new CliError(`nnc: error: ${flag} ${path}: checkpoints are JSON (.json): safetensors holds the weights, not the optimizer state and history of a checkpoint`);
  const weights = flags.output ?? join(dirname(modelFile), `${modelName}.weights.json`);
  const beside = weights !== "-" && !isStream(weights);
  const base = weights.replace(/\.json$/, "").replace(/\.safetensors$/i, "").replace(/\.weights$/, "");
  return { weights, plot: beside ? `${base}.loss.svg` : null, checkpoint: flags.checkpoint ?? (beside ? `${base}.checkpoint.json` : null) };
}

/** Validates every file `nnc train` will write, before any data is read (io.ts, checkOutputs). */
export function checkTrainOutputs(modelFile: string, model: Model, flags: TrainFlags): TrainOutputs {
  const cfg = resolveConfig(modelFile, model.train, flags);
  const outputs = trainOutputs(modelFile, model.name, flags);
  const written: Named[] = [];
  if (outputs.weights !== "-") written.push({ what: "the weights (-o)", path: outputs.weights });
  if (outputs.checkpoint !== null) written.push({ what: flags.checkpoint !== undefined ? "--checkpoint" : "the checkpoint", path: outputs.checkpoint });
  if (outputs.plot !== null) written.push({ what: "the loss curves", path: outputs.plot });
  const read: Named[] = [
    { what: "the model", path: modelFile },
    { what: "the data", path: cfg.data },
    ...(cfg.validation !== null ? [{ what: "the validation data", path: cfg.validation }] : []),
  ];
  // resuming from the checkpoint the run goes on writing is the normal case; the other outputs must not be it
  if (flags.resume !== undefined) checkOutputs(written.filter((w) => w.path !== outputs.checkpoint), [{ what: "--resume", path: flags.resume }]);
  checkOutputs(written, read);
  return outputs;
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
  if (flags.validation !== undefined && flags.split !== undefined)
    throw new CliError(`nnc: error: --validation and --split both choose the validation data: give one of them`);
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

/** The data file in the module's layout, its targets checked against the losses' domains. */
export function load(file: string, mod: CompiledModule, targetDomains: Model["targetDomains"], inputsOnly = false): Dataset {
  if (!existsSync(file)) throw new CliError(`nnc: error NN9001: cannot read '${file}': ENOENT`);
  try {
    return loadDataset(file, { inputs: mod.meta.inputs, targets: inputsOnly ? {} : mod.meta.targets, targetDomains });
  } catch (e) {
    if (e instanceof DataError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }
}

export const pct = (x: number | null) => (x === null ? "" : `${(100 * x).toFixed(1)}%`);
export const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));

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

/**
 * The run's settings against the rules of usage.ts (docs/limits.md), before any file is read: a
 * flag's value was checked as it was parsed, so what fails here comes from the train block.
 */
function checkRunConfig(modelFile: string, cfg: RunConfig, flags: TrainFlags, mod: CompiledModule): void {
  const source = (flag: keyof TrainFlags | null, setting: string) => (flag !== null && flags[flag] !== undefined ? `--${flag}` : `${modelFile}: train block: ${setting}`);
  const check = (where: string, run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (e instanceof NncUsageError) throw new CliError(`nnc: error: ${where}: ${e.detail}`);
      throw e;
    }
  };
  const numbers: [keyof TrainFlags | null, NumberSetting, string, number | null][] = [
    ["epochs", "epochs", "epochs", cfg.epochs],
    ["batch", "batch", "batch", cfg.batch],
    ["seed", "seed", "seed", cfg.seed],
    ["split", "split", "split", cfg.split],
    ["patience", "patience", "early_stopping(patience)", cfg.earlyStopping?.patience ?? null],
    [null, "minDelta", "early_stopping(min_delta)", cfg.earlyStopping?.minDelta ?? null],
  ];
  for (const [flag, setting, name, value] of numbers) if (value !== null) check(source(flag, name), () => checkNumber("", value, setting));
  const opt = cfg.optimizer;
  // the messages name the optimizer and the argument: "optimizer adam: beta1 must be in [0, 1), got 1.5"
  const optWhere = flags.lr !== undefined || flags.optimizer !== undefined ? `--optimizer, --lr and ${modelFile}: train block` : `${modelFile}: train block`;
  check(optWhere, () => {
    checkOptimizerConfig(opt);
    // its constructor checks the hyperparameters; no parameters: nothing allocated
    if (isFullBatch(opt.name)) createFullBatchOptimizer(opt, {});
    else createOptimizer(opt, {});
  });
  check(flags.schedule !== undefined ? "--schedule" : `${modelFile}: train block`, () => {
    checkScheduleConfig(cfg.schedule);
    asUsage("schedule", () => createSchedule(cfg.schedule, opt.args.lr ?? 0.01, cfg.epochs));
  });
}

/** `run`, with an NncUsageError (a value the library refuses) as a user error: exit 1, not an internal error. */
function asCliError<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof NncUsageError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }
}

/** The checkpoint to resume from, checked against the model (name, graph identity, shapes) and the run. */
function readCheckpoint(path: string, mod: CompiledModule, cfg: RunConfig, graph: string, out: (s: string) => void): WeightsFile {
  const { file } = asCliError(() => loadWeights(path, mod));
  const { graphChecked } = asCliError(() => checkResume(file, mod, { epochs: cfg.epochs, optimizer: cfg.optimizer, graph }, path));
  if (!graphChecked) out(`note: ${path} records no graph identity (written by an earlier nnc): checked by the model's name and parameter shapes only`);
  return file;
}

export async function runTrain(modelFile: string, model: Model, mod: CompiledModule, flags: TrainFlags, out: (s: string) => void, warn: (s: string) => void = out): Promise<number> {
  const cfg = resolveConfig(modelFile, model.train, flags);
  checkRunConfig(modelFile, cfg, flags, mod);
  const outputs = checkTrainOutputs(modelFile, model, flags);
  // the model's identity, recorded in the weights and the checkpoint (identity.ts)
  const graph = modelIdentity(model);
  const resume = flags.resume ? readCheckpoint(flags.resume, mod, cfg, graph, out) : null;
  let data = load(cfg.data, mod, model.targetDomains);
  if (data.count === 0) throw new CliError(`nnc: error: ${cfg.data}: no samples to train on`);
  let validation: Dataset | null = cfg.validation ? load(cfg.validation, mod, model.targetDomains) : null;
  if (validation?.count === 0) throw new CliError(`nnc: error: ${cfg.validation}: no validation samples`);
  if (cfg.split !== null) {
    const parts = splitDataset(data, cfg.split, cfg.seed);
    if (parts.train.count === 0 || parts.validation.count === 0)
      throw new CliError(`nnc: error: ${flags.split !== undefined ? "--split" : `${modelFile}: train block: split`} ${cfg.split} of the ${data.count} samples of ${cfg.data} leaves ${parts.train.count} for training and ${parts.validation.count} for validation: each needs at least one`);
    data = parts.train;
    validation = parts.validation;
  }

  const nParams = Object.values(mod.meta.params).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  // before any training: a model too large for the full Hessian, or a module without H·v
  const tooLarge = cfg.optimizer.name === "newton" ? newtonSizeError(nParams) : null;
  if (tooLarge !== null) throw new CliError(`nnc: error: ${modelFile}: ${tooLarge}`);
  if ((cfg.optimizer.name === "newton" || cfg.optimizer.name === "newton_cg") && hessianVectorProductOf(mod, data) === null)
    throw new CliError(`nnc: error: optimizer ${cfg.optimizer.name} needs Hessian-vector products, and this module does not export hessianVectorProductBatch`);
  const f32 = modulePrecision(mod) === "f32" ? " in float32 (--precision f32: Float32Array parameters and data, double arithmetic between stores)" : "";
  out(`model ${mod.meta.name}: ${nParams} parameters${f32}; ${data.count} training samples from ${cfg.data}`);
  if (validation) out(`validation: ${validation.count} samples ${cfg.split !== null ? `(split ${cfg.split} of the data)` : `from ${cfg.validation}`}`);
  out(`optimizer ${describeOptimizer(cfg.optimizer)} · schedule ${cfg.schedule.name} · ${isFullBatch(cfg.optimizer.name) ? "full batch" : `batch ${cfg.batch}`} · ${cfg.epochs} epochs · seed ${cfg.seed}${cfg.normalize ? "" : " · inputs not normalized"}${cfg.earlyStopping && validation ? ` · early stopping (patience ${cfg.earlyStopping.patience})` : ""}`);
  if (resume) out(`resuming from ${flags.resume} after epoch ${resume.resume!.epoch}`);
  const auto = flags.threads === undefined ? defaultThreads(mod, isFullBatch(cfg.optimizer.name) ? data.count : Math.min(cfg.batch, data.count), availableParallelism(), flags.target) : null;
  const threads = flags.threads ?? auto!.threads;
  if (threads > 1) out(`threads ${threads}${auto ? `: ${auto.why} (--threads to choose)` : ""}`);

  // newton and newton_cg have no learning rate to report
  const hasLr = Object.hasOwn(OPTIMIZERS[cfg.optimizer.name], "lr");
  // cli-progress draws on stderr: a bar only when stderr is a terminal (stdout may be a file)
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ format: "  epoch {epoch} [{bar}] {value}/{total} batches", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
  let barEpoch = -1;
  let lastCheckpoint = performance.now();
  // the loss at the run's initial weights, carried by its checkpoints: a resumed run's weights file
  // says the same as the uninterrupted run's (null from a checkpoint that does not carry it)
  const carried = resume?.metrics?.initialLoss;
  let initialLoss: number | null = resume ? (typeof carried === "number" ? carried : null) : null;
  // the latest epoch's checkpoint while throttling holds it back; always written at the end, so
  // that the checkpoint a run announces exists even when it stops early or diverges
  let pending: WeightsFile | null = null;
  let checkpointWritten = false;
  let checkpointWarned = false;
  // the per-step losses for the plot (a number and two small integers a step)
  const steps: StepReport[] = [];
  const writeCheckpoint = () => {
    if (pending === null || outputs.checkpoint === null) return;
    saveWeights(outputs.checkpoint, pending);
    pending = null;
    checkpointWritten = true;
  };
  // what reaches train() has been checked above; a value that still fails its checks is the user's
  const result = asCliError(() => train(mod, data, {
    epochs: cfg.epochs,
    batch: cfg.batch,
    optimizer: cfg.optimizer,
    schedule: cfg.schedule,
    seed: cfg.seed,
    validation,
    earlyStopping: cfg.earlyStopping ?? null,
    normalize: cfg.normalize,
    resume,
    threads,
    onStep: (s) => void steps.push(s),
    onStart: (initial) => {
      if (!resume) initialLoss = initial.loss;
      out(resume ? `loss at the checkpoint ${fmt(initial.loss)}` : `initial loss ${fmt(initial.loss)}${expectedInitialLoss(mod, data)}`);
    },
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
      if (outputs.checkpoint === null) return;
      // a copy: params, history and best go on changing (or are restored) after this epoch
      pending = toWeightsFile(mod, c.params, { normalization: c.normalization, training: configJson(cfg, mod), metrics: { initialLoss }, resume: { ...c.resume, history: [...c.resume.history] }, graph });
      if (performance.now() - lastCheckpoint < 1000 * (flags.checkpointSeconds ?? 5) && c.resume.epoch < cfg.epochs) return;
      lastCheckpoint = performance.now();
      try {
        writeCheckpoint();
      } catch (e) {
        // a full disk mid-run need not lose the run: the weights may still be written at the end
        if (!(e instanceof WriteError)) throw e;
        if (!checkpointWarned) warn(`nnc: warning: checkpoint not written: ${e.message}; training goes on (tried again after later epochs)`);
        checkpointWarned = true;
      }
    },
  }));
  if (bar && barEpoch !== -1) bar.stop();
  // a divergence is an error (exit 1): its message goes where errors go
  if (result.message) (result.stopped === "diverged" ? warn : out)(result.message);

  const last = result.history[result.history.length - 1];
  const finalTrain = evaluate(mod, result.params, result.normalization ? applyNormalization(data, result.normalization) : data);
  const finalValid = validation ? evaluate(mod, result.params, result.normalization ? applyNormalization(validation, result.normalization) : validation) : null;
  const metrics = {
    stopped: result.stopped,
    epochs: last?.epoch ?? 0,
    bestEpoch: result.bestEpoch,
    initialLoss,
    train: { loss: finalTrain.loss, accuracy: finalTrain.accuracy, rmse: finalTrain.rmse },
    validation: finalValid && { loss: finalValid.loss, accuracy: finalValid.accuracy, rmse: finalValid.rmse },
  };
  const series = [
    { name: "train", color: "#1f77b4", values: result.history.map((h) => h.train.loss) },
    ...(validation ? [{ name: "validation", color: "#d62728", values: result.history.map((h) => h.validation?.loss ?? NaN) }] : []),
  ];
  out(`final: ${evalText("train", finalTrain)}${finalValid ? `   ${evalText("valid", finalValid)}` : ""}`);
  // each file is tried even when another failed; the weights first, the most precious
  const weights = toWeightsFile(mod, result.params, { normalization: result.normalization, training: configJson(cfg, mod), metrics, graph });
  const written: string[] = [];
  const failed: string[] = [];
  const attempt = (label: string, write: () => boolean) => {
    try {
      if (write()) written.push(label);
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      failed.push(e.message);
    }
  };
  if (outputs.weights === "-") {
    await writeStdout(JSON.stringify(weights) + "\n");
    written.push("weights → stdout");
  } else attempt(`weights → ${outputs.weights}`, () => (saveWeights(outputs.weights, weights, modulePrecision(mod) === "f32" ? "F32" : "F64"), true));
  const plot = outputs.plot;
  const plotted = () =>
    trainingPlotSvg({
      title: `${mod.meta.name}: loss`,
      epochs: result.history.map((h) => ({ epoch: h.epoch, train: h.train.loss, validation: h.validation?.loss ?? null })),
      steps,
      restoredEpoch: result.stopped === "early-stopping" || (result.stopped === "completed" && cfg.earlyStopping && validation) ? result.bestEpoch : null,
      logScale: flags.logScale === true,
    });
  if (plot !== null) attempt(`loss curves → ${plot}`, () => (writeFileAtomic(plot, plotted()), true));
  attempt(`checkpoint → ${outputs.checkpoint}`, () => (writeCheckpoint(), checkpointWritten));
  if (written.length > 0) out(written.join("   "));
  for (const f of failed) warn(`nnc: error NN9002: ${f}`);
  if (result.history.length > 1 && result.stopped !== "diverged") out(terminalChart(series));
  return result.stopped === "diverged" || failed.length > 0 ? 1 : 0;
}

function configJson(cfg: RunConfig, mod: CompiledModule): Record<string, unknown> {
  return { ...cfg, precision: modulePrecision(mod) };
}

export interface PredictFlags {
  /** one file, or several: an ensemble (cli-ensemble.ts) */
  weights: string[];
  data: string;
  /** '-' or absent: stdout */
  output?: string;
  /** exit 0 even when predictions are NaN or infinite */
  allowNonFinite?: boolean;
  /** MC dropout: passes with dropout active (cli-ensemble.ts) */
  mcDropout?: number;
  /** the seed of MC dropout's masks */
  seed?: number;
}

export const predictionsPath = (flags: PredictFlags) => (flags.output === undefined || flags.output === "-" ? null : flags.output);

/** Validates the file `nnc predict` will write, before anything is read (io.ts, checkOutputs). */
export function checkPredictOutputs(modelFile: string, flags: PredictFlags): void {
  const path = predictionsPath(flags);
  if (path === null) return;
  checkOutputs([{ what: "the predictions (-o)", path }], [
    { what: "the model", path: modelFile },
    ...flags.weights.map((w) => ({ what: "--weights", path: w })),
    { what: "--data", path: flags.data },
  ]);
}

/** Writes to stdout, waiting while a slow reader's pipe is full: output is streamed, not held. */
export async function writeStdout(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
}

/** Predictions are written in pieces of about this many characters. */
const CHUNK = 1 << 16;

export async function runPredict(model: Model, mod: CompiledModule, flags: PredictFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let weights;
  try {
    weights = loadWeights(flags.weights[0]!, mod);
  } catch (e) {
    throw new CliError(`nnc: error: ${(e as Error).message}`);
  }
  const inputSize = Object.values(mod.meta.inputs).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const withTargets = !looksInputsOnly(flags.data, inputSize);
  let data = load(flags.data, mod, model.targetDomains, !withTargets);
  if (weights.file.normalization) data = applyNormalization(data, weights.file.normalization);
  data = forModule(data, mod); // once, for predictAll and evaluate (Float32Arrays for an f32 module)
  const outputs = predictAll(mod, weights.params, data);
  const scoring = withTargets ? scoringFor(mod, data) : null;
  const path = predictionsPath(flags);
  const written = await writePredictions(mod, path, data.count, outputs, null, scoring);
  const report = path !== null ? out : err;
  if (withTargets) {
    const e = evaluate(mod, weights.params, data);
    report(`${data.count} samples: loss ${fmt(e.loss)}${e.accuracy !== null ? `, accuracy ${pct(e.accuracy)}` : ""}${e.rmse !== null ? `, rmse ${fmt(e.rmse)}` : ""}`);
    if (e.confusion) reportConfusion(e.confusion, report);
  }
  return finishPredict(path, data.count, written, flags, out, err);
}

/** The confusion matrix as `nnc predict` prints it. */
export function reportConfusion(confusion: number[][], report: (s: string) => void, of = ""): void {
  report(`confusion matrix${of} (rows: actual class, columns: predicted class):`);
  const w = Math.max(3, ...confusion.flat().map((v) => String(v).length));
  report("      " + confusion.map((_, i) => String(i).padStart(w)).join(" "));
  confusion.forEach((row, i) => report(`  ${String(i).padStart(3)} ${row.map((v) => String(v).padStart(w)).join(" ")}`));
}

/** Rows (counted from 1) whose written values are not all finite: the first few, and how many. */
export interface NonFinite {
  readonly rows: number[];
  readonly count: number;
}

/**
 * Writes the predictions as CSV: a column per output element (`y_0 … y_9`, or `y` for a scalar),
 * with `std` (MC dropout) a `_std` column after all of them for each (`y_0_std …`), and for an
 * argmax scoring the predicted `class`. Streamed: to a temporary renamed at the end (the old file
 * stays until then), or to stdout.
 */
export async function writePredictions(
  mod: CompiledModule,
  path: string | null,
  count: number,
  outputs: Record<string, FloatArray>,
  std: Record<string, FloatArray> | null,
  scoring: Scoring,
): Promise<NonFinite> {
  const names = Object.entries(mod.meta.outputs);
  const columns = (suffix: string) =>
    names.flatMap(([k, s]) => {
      const n = s.reduce((a, b) => a * b, 1);
      return s.length === 0 ? [`${k}${suffix}`] : Array.from({ length: n }, (_, i) => `${k}_${i}${suffix}`);
    });
  const header = [...columns(""), ...(std !== null ? columns("_std") : [])];
  const file = path === null ? null : openOutput(path);
  const emit = async (text: string) => (file !== null ? file.write(text) : await writeStdout(text));
  const nonFinite: number[] = []; // the first few rows, counted from 1
  let nonFiniteCount = 0;
  try {
    let chunk = header.join(",") + (scoring?.kind === "argmax" ? ",class" : "") + "\n";
    for (let r = 0; r < count; r++) {
      const cells: string[] = [];
      let finite = true;
      for (const values of std !== null ? [outputs, std] : [outputs])
        for (const [k, s] of names) {
          const n = s.reduce((a, b) => a * b, 1);
          for (let i = 0; i < n; i++) {
            const v = values[k]![r * n + i]!;
            if (!Number.isFinite(v)) finite = false;
            cells.push(String(v));
          }
        }
      if (scoring?.kind === "argmax") {
        const o = outputs[scoring.output]!;
        let best = 0;
        for (let i = 1; i < scoring.classes; i++) if (o[r * scoring.classes + i]! > o[r * scoring.classes + best]!) best = i;
        cells.push(String(best));
      }
      if (!finite && nonFiniteCount++ < 5) nonFinite.push(r + 1);
      chunk += cells.join(",") + "\n";
      if (chunk.length >= CHUNK) {
        await emit(chunk);
        chunk = "";
      }
    }
    await emit(chunk);
    file?.commit();
  } catch (e) {
    file?.abort();
    throw e;
  }
  return { rows: nonFinite, count: nonFiniteCount };
}

/** Where the predictions went, and the exit status: 1 when some are not finite (unless --allow-non-finite). */
export function finishPredict(path: string | null, count: number, nonFinite: NonFinite, flags: PredictFlags, out: (s: string) => void, err: (s: string) => void): number {
  if (path !== null) out(`predictions → ${path}`);
  if (nonFinite.count === 0) return 0;
  // written all the same (the other rows are good); the exit status says the run is not clean
  const which = `${nonFinite.rows.join(", ")}${nonFinite.count > nonFinite.rows.length ? ", …" : ""}`;
  const what = `${nonFinite.count} of ${count} predictions are not finite (NaN or ±Infinity): sample${nonFinite.count > 1 ? "s" : ""} ${which} (counted from 1); inputs far outside the range of the training data overflow`;
  if (flags.allowNonFinite) {
    err(`nnc: warning: ${what}`);
    return 0;
  }
  err(`nnc: error: ${what}. The predictions were written; --allow-non-finite accepts them (exit status 0)`);
  return 1;
}

/** A CSV whose header has exactly as many columns as the model has input values. */
export function looksInputsOnly(file: string, inputSize: number): boolean {
  if (!/\.csv$/i.test(file)) return false;
  try {
    return csvHeaderWidth(file) === inputSize;
  } catch (e) {
    if (e instanceof DataError) return false; // loading the file reports it
    throw e;
  }
}
