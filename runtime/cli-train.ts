/**
 * `nnc train` and `nnc predict`: the model's `train { }` block overridden by flags, data loading,
 * a progress bar (only on a terminal), a line per epoch, the initial-loss sanity check of the
 * notes, loss curves as SVG next to the weights, a terminal chart, and the weights file.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import cliProgress from "cli-progress";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { checkOutputs, isStream, openOutput, WriteError, writeFileAtomic, type Named, type OutputFile } from "../compiler/io.js";
import type { AugmentConfig, Model, NormalizeMethod, OptimizerConfig, ScheduleConfig, TrainConfig } from "../compiler/semantics/model.js";
import { augmentFlag, normalizeFlag, OPTIMIZERS, parseNamedCall, SCHEDULES, TRAIN_DEFAULTS, type FlagValue } from "../compiler/semantics/train-block.js";
import { applyNormalization, csvHeaderNames, csvHeaderWidth, idxImageGeometry, loadDataset, splitDataset } from "./data/index.js";
import type { ImageGeometry } from "./data/augment.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, predictAll, scoringFor, type Evaluation, type Scoring } from "./metrics.js";
import { forModule, modulePrecision } from "./precision.js";
import { createFullBatchOptimizer, hessianVectorProductOf, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import { newtonSizeError } from "./optimizers/newton.js";
import { terminalChart, trainingPlotSvg } from "./plot.js";
import { snapshotCycles, train, type EpochReport, type StepReport } from "./train.js";
import { DataError, type Dataset, type FloatArray, type Normalization } from "./types.js";
import { modelIdentity } from "./identity.js";
import { asUsage, checkNumber, checkOptimizerConfig, checkScheduleConfig, NncResourceError, NncUsageError, type NumberSetting } from "./usage.js";
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
  /** false for --no-normalize, else --normalize's text */
  normalize?: boolean | string;
  augment?: string;
  patience?: number;
  /** snapshot ensembles: the weights at the end of each of the last K schedule cycles */
  snapshots?: number;
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
  /** the per-step and per-epoch losses, JSON lines (docs/training.md) */
  readonly history: string | null;
  /** snapshot ensembles: the file of snapshot i (1-based) is snapshots[i − 1] */
  readonly snapshots: readonly string[];
}

/**
 * The checkpoint and the loss curves sit beside the weights (`w.json` → `w.checkpoint.json`,
 * `w.loss.svg`). Weights sent to stdout (`-o -`) or to a device (`-o /dev/null`) have no
 * "beside": then only a checkpoint given with --checkpoint is written, and no loss curves.
 */
export function trainOutputs(modelFile: string, modelName: string, flags: TrainFlags, snapshots: number | null = null): TrainOutputs {
  if (flags.checkpoint === "-") throw new CliError("nnc: error: --checkpoint -: a checkpoint is a file for --resume to read, not a stream; give a file name");
  // safetensors holds tensors and strings: the optimizer state and history of a checkpoint stay JSON
  for (const [flag, path] of [["--checkpoint", flags.checkpoint], ["--resume", flags.resume]] as const)
    if (path !== undefined && weightsFormat(path) === "safetensors")
      throw new CliError(`nnc: error: ${flag} ${path}: checkpoints are JSON (.json): safetensors holds the weights, not the optimizer state and history of a checkpoint`);
  const weights = flags.output ?? join(dirname(modelFile), `${modelName}.weights.json`);
  const beside = weights !== "-" && !isStream(weights);
  const base = weights.replace(/\.json$/, "").replace(/\.safetensors$/i, "").replace(/\.weights$/, "");
  if (snapshots !== null && !beside) throw new CliError(`nnc: error: snapshots are written beside the weights (<weights>.snap1.json, …), and the weights go to ${weights === "-" ? "stdout" : weights}: give -o FILE`);
  const ext = weightsFormat(weights) === "safetensors" ? ".safetensors" : ".json";
  return {
    weights,
    plot: beside ? `${base}.loss.svg` : null,
    checkpoint: flags.checkpoint ?? (beside ? `${base}.checkpoint.json` : null),
    history: beside ? `${base}.history.jsonl` : null,
    snapshots: Array.from({ length: snapshots ?? 0 }, (_, i) => `${base}.snap${i + 1}${ext}`),
  };
}

/** Validates every file `nnc train` will write, before any data is read (io.ts, checkOutputs). */
export function checkTrainOutputs(modelFile: string, model: Model, flags: TrainFlags): TrainOutputs {
  const cfg = resolveConfig(modelFile, model.train, flags);
  const outputs = trainOutputs(modelFile, model.name, flags, cfg.snapshots);
  const written: Named[] = [];
  if (outputs.weights !== "-") written.push({ what: "the weights (-o)", path: outputs.weights });
  if (outputs.checkpoint !== null) written.push({ what: flags.checkpoint !== undefined ? "--checkpoint" : "the checkpoint", path: outputs.checkpoint });
  if (outputs.plot !== null) written.push({ what: "the loss curves", path: outputs.plot });
  if (outputs.history !== null) written.push({ what: "the loss history", path: outputs.history });
  outputs.snapshots.forEach((path, i) => written.push({ what: `snapshot ${i + 1}`, path }));
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
  readonly normalize: NormalizeMethod;
  readonly augment: AugmentConfig | null;
  readonly snapshots: number | null;
}

/**
 * `--optimizer` or `--schedule` over the block's setting: "name" or "name(args)". Every flag
 * replaces only what it names (docs/training.md, "Flags over the train block"): the same name keeps
 * all the block's arguments; another name keeps the arguments the block wrote that mean the same
 * there (`carries`: lr from momentum(lr = 0.1) for sgd), the rest its defaults; the arguments in
 * the flag win. `kept` lists what came from the block.
 */
export function overrideNamed<N extends string>(
  flag: "--optimizer" | "--schedule",
  text: string,
  table: Readonly<Record<N, Readonly<Record<string, number>>>>,
  block: { readonly name: N; readonly args: Readonly<Record<string, number>> } | undefined,
  written: readonly string[] | undefined,
  carries: (from: N, to: N, key: string) => boolean = () => true,
): { name: N; args: Record<string, number>; kept: string[] } {
  const parsed = parseNamedCall(text, table, flag === "--optimizer" ? "optimizer" : "schedule");
  if (typeof parsed === "string") throw new CliError(`nnc: error: ${flag} ${text}: ${parsed}`);
  const defaults = table[parsed.name];
  const fromBlock: Record<string, number> = {};
  if (block !== undefined)
    for (const [k, v] of Object.entries(block.args))
      if (Object.hasOwn(defaults, k) && !Object.hasOwn(parsed.args, k) && (block.name === parsed.name || ((written ?? Object.keys(block.args)).includes(k) && carries(block.name, parsed.name, k)))) fromBlock[k] = v;
  const args = { ...defaults, ...fromBlock, ...parsed.args };
  const missing = Object.keys(args).filter((k) => Number.isNaN(args[k]));
  if (missing.length > 0) throw new CliError(`nnc: error: ${flag} ${text}: ${parsed.name} needs ${missing.map((k) => `'${k}'`).join(" and ")} (no default): write ${parsed.name}(${Object.keys(defaults).map((k) => `${k} = …`).join(", ")})`);
  const kept = block !== undefined && block.name !== parsed.name ? Object.keys(fromBlock) : [];
  return { name: parsed.name, args, kept };
}

/** The train block, with paths relative to the .nn file, overridden by flags (paths relative to cwd). */
/**
 * The optimizers whose lr is a learning rate, θ moving by lr times a direction: a written lr carries
 * from one to another. adadelta's lr only scales its own step size (default 1), and L-BFGS's is its
 * line search's first trial step (default 1): an lr for adam would cripple either. Their other
 * arguments (eps inside or outside a root, γ of a momentum or of a square average) differ too.
 */
const LEARNING_RATE_OPTIMIZERS: readonly OptimizerConfig["name"][] = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];
const carriesOptimizerArg = (from: OptimizerConfig["name"], to: OptimizerConfig["name"], key: string) =>
  key === "lr" && LEARNING_RATE_OPTIMIZERS.includes(from) && LEARNING_RATE_OPTIMIZERS.includes(to);

export function resolveConfig(modelFile: string, block: TrainConfig, flags: TrainFlags): RunConfig {
  const rel = (p: string) => (isAbsolute(p) ? p : join(dirname(modelFile), p));
  const data = flags.data ?? (block.data !== undefined ? rel(block.data) : undefined);
  if (data === undefined) throw new CliError(`nnc: ${modelFile} has no 'data' in its train block: give --data FILE`);
  let optimizer: OptimizerConfig = block.optimizer ?? TRAIN_DEFAULTS.optimizer();
  if (flags.optimizer !== undefined) {
    const { name, args } = overrideNamed("--optimizer", flags.optimizer, OPTIMIZERS, block.optimizer, block.written?.optimizer, carriesOptimizerArg);
    optimizer = { name, args };
  }
  if (flags.lr !== undefined && !Object.hasOwn(OPTIMIZERS[optimizer.name], "lr"))
    throw new CliError(`nnc: --lr does not apply to optimizer ${optimizer.name}, which has no learning rate (its step comes from a line search): drop --lr`);
  if (flags.lr !== undefined) optimizer = { name: optimizer.name, args: { ...optimizer.args, lr: flags.lr } };
  let schedule: ScheduleConfig = block.schedule ?? TRAIN_DEFAULTS.schedule();
  if (flags.schedule !== undefined) {
    const { name, args } = overrideNamed("--schedule", flags.schedule, SCHEDULES, block.schedule, block.written?.schedule);
    schedule = { name, args };
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
    batch: flags.batch ?? block.batch ?? TRAIN_DEFAULTS.batch,
    epochs: flags.epochs ?? block.epochs ?? TRAIN_DEFAULTS.epochs(optimizer.name),
    seed: flags.seed ?? block.seed ?? TRAIN_DEFAULTS.seed,
    earlyStopping: es,
    normalize: flags.normalize === false ? "none" : typeof flags.normalize === "string" ? flagValue(normalizeFlag(flags.normalize)) : block.normalize ?? TRAIN_DEFAULTS.normalize,
    augment: flags.augment !== undefined ? flagValue(augmentFlag(flags.augment)) : block.augment ?? null,
    snapshots: flags.snapshots ?? block.snapshots ?? null,
  };
}

/** A parsed flag's value, or its error message as a CliError. */
function flagValue<T>(v: FlagValue<T>): T {
  if ("error" in v) throw new CliError(`nnc: error: ${v.error}`);
  return v.value;
}

/** An IDX file's image size for the model's one input when it is declared as a vector (augmentation's layout). */
function imageLayouts(mod: CompiledModule, file: string): Record<string, ImageGeometry> {
  const inputs = Object.entries(mod.meta.inputs);
  if (inputs.length !== 1 || inputs[0]![1].length !== 1) return {};
  const g = dataCall(() => idxImageGeometry(file));
  return g ? { [inputs[0]![0]]: g } : {};
}

/** A look into a data file; what is wrong with it is the user's, as a CliError. */
function dataCall<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof DataError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }
}

/** The data file in the module's layout (its inputs as wide as `inputs` says, when given), its targets checked against the losses' domains. */
export function load(file: string, mod: CompiledModule, targetDomains: Model["targetDomains"], inputsOnly = false, inputs: Record<string, number[]> = mod.meta.inputs): Dataset {
  if (!existsSync(file)) throw new CliError(`nnc: error NN9001: cannot read '${file}': ENOENT`);
  try {
    return loadDataset(file, { inputs, targets: inputsOnly ? {} : mod.meta.targets, targetDomains });
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

function describeNormalize(m: NormalizeMethod): string {
  return m === "zscore" ? "" : m === "none" ? " · inputs not normalized" : ` · normalize ${typeof m === "string" ? m : `pca(${m.components})`}`;
}

function describeOptimizer(o: { readonly name: string; readonly args: Readonly<Record<string, number>> }): string {
  return `${o.name}(${Object.entries(o.args).map(([k, v]) => `${k} = ${v}`).join(", ")})`;
}

/** `cosine`, or with arguments `cyclic(min_lr = 0.01, max_lr = 0.1, period = 4)` */
function describeSchedule(s: ScheduleConfig): string {
  return Object.keys(s.args).length === 0 ? s.name : describeOptimizer(s);
}

/** What a flag kept of the train block, or did not do, said once before training. */
function overrideNotes(block: TrainConfig, flags: TrainFlags, cfg: RunConfig): string[] {
  const notes: string[] = [];
  const kept = (flag: "--optimizer" | "--schedule", text: string | undefined, from: OptimizerConfig | ScheduleConfig | undefined, got: OptimizerConfig | ScheduleConfig) => {
    if (text === undefined || from === undefined || from.name === got.name) return;
    const names = flag === "--optimizer" ? overrideNamed(flag, text, OPTIMIZERS, block.optimizer, block.written?.optimizer, carriesOptimizerArg).kept : overrideNamed(flag, text, SCHEDULES, block.schedule, block.written?.schedule).kept;
    if (names.length > 0) notes.push(`${flag} ${text} keeps ${names.map((k) => `${k} = ${got.args[k]}`).join(", ")} of the train block's ${describeOptimizer(from)}`);
  };
  kept("--optimizer", flags.optimizer, block.optimizer, cfg.optimizer);
  kept("--schedule", flags.schedule, block.schedule, cfg.schedule);
  if (cfg.schedule.name === "cyclic" && Object.hasOwn(OPTIMIZERS[cfg.optimizer.name], "lr"))
    notes.push(`the cyclic schedule sets the rate itself (min_lr ${cfg.schedule.args.min_lr} to max_lr ${cfg.schedule.args.max_lr}): the optimizer's lr${flags.lr !== undefined ? " (--lr)" : ""} is not used`);
  return notes;
}

/**
 * The notes' first sanity check: with regularization off, softmax over C classes starts near log C.
 * The data term is compared, and the regularizer (weight decay) is reported beside it.
 */
function initialLossText(mod: CompiledModule, data: Dataset, loss: number, regularizer: number | null): string {
  const s = scoringFor(mod, data);
  // hinge's ±1 labels have no log C to expect
  const c = s === null || s.kind === "sign" ? null : s.kind === "argmax" ? s.classes : 2;
  const expected = c === null ? "" : ` (expected ≈ log ${c} = ${Math.log(c).toFixed(4)} for ${c} classes with near-uniform initial outputs)`;
  if (regularizer === null || regularizer === 0) return `initial loss ${fmt(loss)}${expected}`;
  return `initial loss ${fmt(loss)}: data term ${fmt(loss - regularizer)}${expected} + regularization ${fmt(regularizer)}`;
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
    asUsage("schedule", () => createSchedule(cfg.schedule, opt.args.lr ?? OPTIMIZERS[opt.name].lr ?? 0.01, cfg.epochs));
  });
  if (cfg.snapshots !== null) {
    const k = cfg.snapshots;
    check(source("snapshots", "snapshots"), () => {
      checkNumber("", k, "snapshots");
      asUsage("snapshots", () => snapshotCycles(cfg.schedule, cfg.epochs, k, null));
    });
  }
}

/** `run`, with an NncUsageError (a value the library refuses) as a user error: exit 1, not an internal error. `cleanup` runs when it throws. */
function asCliError<T>(run: () => T, cleanup?: () => void): T {
  try {
    return run();
  } catch (e) {
    cleanup?.();
    if (e instanceof NncUsageError) throw new CliError(`nnc: error: ${e.message}`);
    if (e instanceof NncResourceError) throw new CliError(`nnc: error: ${e.message}${/training thread/.test(e.message) ? " (the threads share the process's memory: try fewer --threads, or --threads 1)" : ""}`);
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
  if (cfg.augment && (flags.threads ?? 1) > 1) throw new CliError(`nnc: error: --threads ${flags.threads}: augmentation runs on one thread: drop --threads, or the augmentation (--augment none)`);
  if (cfg.augment && isFullBatch(cfg.optimizer.name))
    throw new CliError(`nnc: error: augment shift(pixels = ${cfg.augment.args.pixels}) changes each mini-batch, and ${cfg.optimizer.name} takes full-batch steps: use a first-order optimizer, or --augment none`);
  const outputs = checkTrainOutputs(modelFile, model, flags);
  // the model's identity, recorded in the weights and the checkpoint (identity.ts)
  const graph = modelIdentity(model);
  const resume = flags.resume ? readCheckpoint(flags.resume, mod, cfg, graph, out) : null;
  // pca(k): the data's input is wider than the model's k (resuming: as wide as the stored projection)
  const stored = resume?.normalization;
  const inputs = stored?.projection && stored.method !== "zscore" ? rawInputs(mod, stored) : typeof cfg.normalize === "object" ? pcaInputs(mod, cfg.data, cfg.normalize.components) : mod.meta.inputs;
  let data = load(cfg.data, mod, model.targetDomains, false, inputs);
  if (data.count === 0) throw new CliError(`nnc: error: ${cfg.data}: no samples to train on`);
  let validation: Dataset | null = cfg.validation ? load(cfg.validation, mod, model.targetDomains, false, inputs) : null;
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
  out(`optimizer ${describeOptimizer(cfg.optimizer)} · schedule ${describeSchedule(cfg.schedule)} · ${isFullBatch(cfg.optimizer.name) ? "full batch" : `batch ${cfg.batch}`} · ${cfg.epochs} epochs · seed ${cfg.seed}${describeNormalize(cfg.normalize)}${cfg.augment ? ` · augment shift(pixels = ${cfg.augment.args.pixels})` : ""}${cfg.earlyStopping && validation ? ` · early stopping (patience ${cfg.earlyStopping.patience})` : ""}`);
  for (const note of overrideNotes(model.train, flags, cfg)) out(`note: ${note}`);
  if (cfg.earlyStopping && !validation)
    warn(`nnc: warning: early stopping (patience ${cfg.earlyStopping.patience}) watches the validation loss, and there is no validation data: all ${cfg.epochs} epochs run; give --validation FILE or --split 0.2 (or 'validation'/'split' in the train block)`);
  if (cfg.snapshots !== null) out(`snapshots: the weights at the end of each of the last ${cfg.snapshots} cycles of ${describeSchedule(cfg.schedule)} → ${outputs.snapshots[0]}${cfg.snapshots > 1 ? ` … ${outputs.snapshots[cfg.snapshots - 1]}` : ""}`);
  if (resume) out(`resuming from ${flags.resume} after epoch ${resume.resume!.epoch}`);
  const auto = flags.threads === undefined ? defaultThreads(mod, isFullBatch(cfg.optimizer.name) ? data.count : Math.min(cfg.batch, data.count), availableParallelism()) : null;
  // augmentation runs on one thread (train.ts)
  const threads = flags.threads ?? (cfg.augment ? 1 : auto!.threads);
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
    history?.sync();
  };
  // the loss history: JSON lines streamed to a temporary file, renamed over the path at the end
  const history = outputs.history !== null ? openHistory(outputs.history, resume?.resume ?? null, (s) => out(`note: ${s}`)) : null;
  const snapshotsWritten: string[] = [];
  const snapshotsFailed: string[] = [];
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
    augment: cfg.augment,
    images: cfg.augment ? imageLayouts(mod, cfg.data) : {},
    resume,
    threads,
    ...(cfg.snapshots !== null ? { snapshots: cfg.snapshots } : {}),
    onStep: (r: StepReport) => {
      steps.push(r);
      history?.add(JSON.stringify(r));
    },
    onSnapshot: (snap) => {
      const path = outputs.snapshots[snap.index - 1]!;
      const file = toWeightsFile(mod, snap.params, { normalization: snap.normalization, training: configJson(cfg, mod), metrics: { snapshot: { index: snap.index, cycle: snap.cycle, epoch: snap.epoch, step: snap.step } }, graph });
      try {
        saveWeights(path, file, modulePrecision(mod) === "f32" ? "F32" : "F64");
        snapshotsWritten.push(path);
      } catch (e) {
        if (!(e instanceof WriteError)) throw e;
        snapshotsFailed.push(e.message);
      }
    },
    onStart: (initial, regularizer) => {
      if (!resume) initialLoss = initial.loss;
      out(resume ? `loss at the checkpoint ${fmt(initial.loss)}` : initialLossText(mod, data, initial.loss, regularizer));
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
      history?.add(epochHistoryLine(r));
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
  }), () => history?.abort());
  if (bar && barEpoch !== -1) bar.stop();
  // a divergence is an error (exit 1): its message goes where errors go
  if (result.message) (result.stopped === "diverged" ? warn : out)(result.message);
  // a resumed run took the earlier snapshots before the checkpoint
  const taken = resume ? countWritten(outputs.snapshots) : snapshotsWritten.length + snapshotsFailed.length;
  if (cfg.snapshots !== null && taken < cfg.snapshots)
    warn(`nnc: warning: ${taken} of the ${cfg.snapshots} snapshots were taken: training stopped (${result.stopped === "diverged" ? "diverged" : "early stopping"}) before the last cycles ended`);

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
  if (history !== null) attempt(`loss history → ${outputs.history}`, () => (history.commit(), true));
  if (snapshotsWritten.length > 0) written.push(`snapshots → ${snapshotsWritten.length === 1 ? snapshotsWritten[0] : `${snapshotsWritten[0]} … ${snapshotsWritten[snapshotsWritten.length - 1]}`}`);
  failed.push(...snapshotsFailed);
  if (written.length > 0) out(written.join("   "));
  for (const f of failed) warn(`nnc: error NN9002: ${f}`);
  if (result.history.length > 1 && result.stopped !== "diverged") out(terminalChart(series));
  return result.stopped === "diverged" || failed.length > 0 ? 1 : 0;
}

/** The snapshot files that exist (a resumed run took the earlier ones). */
function countWritten(paths: readonly string[]): number {
  return paths.filter((p) => existsSync(p)).length;
}

/** The loss history file, written as training goes; `sync` makes what it holds so far visible. */
interface History {
  add(line: string): void;
  /** after a checkpoint is written: the file then holds the lines up to the checkpoint's epoch */
  sync(): void;
  commit(): void;
  abort(): void;
}

/**
 * The loss history (`<weights>.history.jsonl`, docs/training.md): one JSON object a line, written
 * to a temporary file as training goes (never held whole in memory) and renamed over the path by
 * `commit`, and by `sync` whenever a checkpoint is written, so that a killed run leaves the
 * history of its checkpoint. A resumed run starts from those lines when the file's epoch lines
 * are the checkpoint's (the same losses), else from the checkpoint's epochs alone (`note`).
 */
function openHistory(path: string, checkpoint: WeightsFile["resume"] | null, note: (s: string) => void): History {
  let chunk = "";
  if (checkpoint) {
    const done = checkpoint.epoch;
    const reports = checkpoint.history as EpochReport[];
    let kept: string[] = [];
    try {
      if (existsSync(path)) kept = readFileSync(path, "utf8").split("\n").filter((line) => Number(/^\{"epoch":(\d+)/.exec(line)?.[1] ?? Infinity) <= done);
    } catch {
      kept = []; // unreadable: rebuilt from the checkpoint below
    }
    // the file's epoch lines must be this checkpoint's run: the same training losses
    const epochs = kept.filter((l) => l.includes('"train":')).map((l) => JSON.parse(l) as { train: { loss: number | null } });
    const same = epochs.length === reports.length && epochs.every((e, i) => e.train.loss === (Number.isFinite(reports[i]!.train.loss) ? reports[i]!.train.loss : null));
    if (!same) {
      kept = reports.map(epochHistoryLine);
      note(`${path} does not hold the steps before the checkpoint: the resumed history starts with its ${reports.length} epoch lines`);
    }
    chunk = kept.map((l) => l + "\n").join("");
  }
  let file: OutputFile = openOutput(path);
  // a write that fails mid-run (the directory removed, a full disk) ends the history, not the
  // training: the failure is kept and named with the other outputs at the end (commit)
  let failed: WriteError | null = null;
  const guard = (what: () => void) => {
    if (failed !== null) return;
    try {
      what();
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      failed = e;
      file.abort();
    }
  };
  const flush = () => {
    file.write(chunk);
    chunk = "";
  };
  return {
    add(line) {
      if (failed !== null) return;
      chunk += line + "\n";
      if (chunk.length >= CHUNK) guard(flush);
    },
    sync() {
      guard(() => {
        flush();
        file.commit();
        // the next temporary file starts as a copy of what was committed, in pieces
        file = openOutput(path);
        const fd = openSync(path, "r");
        try {
          const piece = Buffer.alloc(1 << 20);
          for (let n; (n = readSync(fd, piece, 0, piece.length, null)) > 0; ) file.write(piece.subarray(0, n));
        } finally {
          closeSync(fd);
        }
      });
      if (failed !== null) throw failed;
    },
    commit() {
      if (failed !== null) throw failed;
      flush();
      file.commit();
    },
    abort: () => file.abort(),
  };
}

/** A history line of an epoch (docs/training.md, "The loss history"). */
function epochHistoryLine(r: EpochReport): string {
  const score = (e: EpochReport["train"] | null) => e && { loss: e.loss, accuracy: e.accuracy, rmse: e.rmse };
  return JSON.stringify({ epoch: r.epoch, lr: r.lr, train: score(r.train), validation: score(r.validation), seconds: r.seconds, best: r.best });
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
  // the data's inputs as wide as the stored normalization reads them (pca(k): wider than the model's)
  const inputs = rawInputs(mod, weights.file.normalization);
  const inputSize = Object.values(inputs).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const withTargets = !looksInputsOnly(flags.data, inputSize);
  let data = load(flags.data, mod, model.targetDomains, !withTargets, inputs);
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
/** The inputs as the data holds them for this normalization: as wide as its projection's columns, else as the model declares them. */
function rawInputs(mod: CompiledModule, norm: Normalization | null): Record<string, number[]> {
  if (!norm?.projection || norm.method === "zscore") return mod.meta.inputs;
  return Object.fromEntries(Object.entries(mod.meta.inputs).map(([name, shape]) => [name, norm.projection![name] ? [norm.mean[name]!.length] : shape]));
}

/**
 * The data's width for pca(k) (docs/data.md): an IDX file's rows × columns; a CSV file's columns
 * but the targets', where a target that can be read from a class column takes one column (the
 * model's one input must be declared [k]: train() says so when it is not).
 */
function pcaInputs(mod: CompiledModule, file: string, k: number): Record<string, number[]> {
  const inputs = Object.keys(mod.meta.inputs);
  const shape = mod.meta.inputs[inputs[0]!];
  if (inputs.length !== 1 || shape!.length !== 1 || shape![0] !== k)
    throw new CliError(`nnc: error: normalize pca(${k}) feeds the model ${k} features of one input, so the model must have one input declared [${k}]; it has ${Object.entries(mod.meta.inputs).map(([n, sh]) => `${n}[${sh.join(", ")}]`).join(", ")}`);
  if (!existsSync(file)) return mod.meta.inputs; // loading says so
  const idx = dataCall(() => idxImageGeometry(file));
  if (idx) return { [inputs[0]!]: [idx.height * idx.width] };
  const header = dataCall(() => csvHeaderNames(file));
  const width = header?.length ?? null;
  if (width === null || header === null) throw new CliError(`nnc: error: normalize pca(${k}): ${file}: cannot tell how many input columns it has (pca(k) reads the data wider than the model's input: give a plain .csv file with a header, or an IDX images file)`);
  const targets = Object.values(mod.meta.targets);
  const [target] = Object.keys(mod.meta.targets);
  // one class column, unless the header names the target's one-hot columns t_0 …
  const classColumn = targets.length === 1 && targets[0]!.length === 1 && targets[0]![0]! >= 2 && !header.includes(`${target}_0`);
  const targetColumns = classColumn ? 1 : targets.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  if (width - targetColumns < 1) throw new CliError(`nnc: error: normalize pca(${k}): ${file} has ${width} columns, and the targets take ${targetColumns}: no input columns are left`);
  return { [inputs[0]!]: [width - targetColumns] };
}

export function looksInputsOnly(file: string, inputSize: number): boolean {
  if (!/\.csv$/i.test(file)) return false;
  try {
    return csvHeaderWidth(file) === inputSize;
  } catch (e) {
    if (e instanceof DataError) return false; // loading the file reports it
    throw e;
  }
}
