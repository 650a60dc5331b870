/**
 * `nnc tune model.nn [--data FILE] [--budget SECONDS]`: the recipe (recipe.ts) on the model's
 * train block, its report (report.ts) beside the model, and the `nnc train` command that
 * reproduces the best trial. Validation: the block's `validation` file or `split`, or --validation
 * / --split; with none of them, a split of 0.2 of the training data (the command says so). The
 * test data is never used: tune has no flag for it, and a practitioner keeps it for the end.
 */
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { checkOutputs, WriteError, writeFileAtomic, type Named } from "../../compiler/io.js";
import type { Model } from "../../compiler/semantics/model.js";
import { FULL_BATCH_OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import type { Target } from "../../compiler/target.js";
import { CliError, load, resolveConfig, type TrainFlags } from "../cli-train.js";
import { splitDataset } from "../data/index.js";
import type { CompiledModule } from "../load-module.js";
import { defaultThreads } from "../threads/pool.js";
import { NncUsageError } from "../usage.js";
import { tune } from "./recipe.js";
import { regularizationConsts } from "./regularization.js";
import { finalTable, reportSvg, trainCommand, tuneJson, type CommandContext } from "./report.js";

export interface TuneFlags {
  data?: string;
  validation?: string;
  split?: number;
  seed?: number;
  batch?: number;
  /** the refined trials' length (default: the block's epochs, or 20) */
  epochs?: number;
  /** seconds of wall time */
  budget: number;
  logScale?: boolean;
  set?: Record<string, number>;
  target?: Target;
  precision?: string;
  unroll?: number;
}

/** When the block has no validation data and no flag gives any: this fraction of the training data. */
export const DEFAULT_SPLIT = 0.2;
/** early stopping's patience when the block has none */
export const DEFAULT_PATIENCE = 10;
/** the refined trials' length when the block gives no epochs (the notes: "~10–20 epochs") */
export const DEFAULT_EPOCHS = 20;

export interface TuneOutputs {
  readonly json: string;
  readonly svg: string;
}

const stemOf = (file: string) => file.replace(/^.*\//, "").replace(/\.nn$/, "");

/** `<model>.tune.json` and `<model>.tune.svg` beside the model, checked before any work (io.ts). */
export function checkTuneOutputs(modelFile: string, model: Model, flags: TuneFlags): TuneOutputs {
  const base = join(dirname(modelFile), stemOf(modelFile));
  const outputs = { json: `${base}.tune.json`, svg: `${base}.tune.svg` };
  const cfg = resolveConfig(modelFile, model.train, flags as TrainFlags);
  const read: Named[] = [
    { what: "the model", path: modelFile },
    { what: "the data", path: cfg.data },
    ...(cfg.validation !== null ? [{ what: "the validation data", path: cfg.validation }] : []),
  ];
  checkOutputs([{ what: "the tuning results", path: outputs.json }, { what: "the tuning report", path: outputs.svg }], read);
  return outputs;
}

export async function runTune(
  modelFile: string,
  source: string,
  model: Model,
  mod: CompiledModule,
  target: Target,
  compileWith: (set: Record<string, number>) => Promise<CompiledModule>,
  flags: TuneFlags,
  out: (s: string) => void,
  warn: (s: string) => void,
): Promise<number> {
  const outputs = checkTuneOutputs(modelFile, model, flags);
  const cfg = resolveConfig(modelFile, model.train, flags as TrainFlags);
  const passOn: string[] = [];
  if (flags.data !== undefined) passOn.push("--data", flags.data);
  if (flags.validation !== undefined) passOn.push("--validation", flags.validation);
  if (flags.split !== undefined) passOn.push("--split", String(flags.split));
  let split = cfg.split;
  if (cfg.validation === null && split === null) {
    split = DEFAULT_SPLIT;
    passOn.push("--split", String(DEFAULT_SPLIT));
  }
  if (flags.seed !== undefined) passOn.push("--seed", String(flags.seed));
  if (flags.batch !== undefined) passOn.push("--batch", String(flags.batch));
  if (flags.target !== undefined) passOn.push("--target", flags.target);
  if (flags.precision !== undefined) passOn.push("--precision", flags.precision);
  if (flags.unroll !== undefined) passOn.push("--unroll", String(flags.unroll));

  // normalize pca(k) reads the data wider than the model (cli-train.ts), which the trials do not do; augmentation they skip
  if (typeof cfg.normalize === "object") throw new CliError(`nnc: error: nnc tune does not run normalize pca(${cfg.normalize.components}) trials: tune with zscore, none, whiten or zca, then train with pca`);
  if (cfg.augment) out(`note: the train block's augment shift(pixels = ${cfg.augment.args.pixels}) is not applied in the trials: nnc tune compares the settings without augmentation`);
  let data = load(cfg.data, mod, model.targetDomains);
  if (data.count === 0) throw new CliError(`nnc: error: ${cfg.data}: no samples to tune on`);
  let validation = cfg.validation !== null ? load(cfg.validation, mod, model.targetDomains) : null;
  if (validation?.count === 0) throw new CliError(`nnc: error: ${cfg.validation}: no validation samples`);
  if (split !== null) {
    const parts = splitDataset(data, split, cfg.seed);
    if (parts.train.count === 0 || parts.validation.count === 0)
      throw new CliError(`nnc: error: split ${split} of the ${data.count} samples of ${cfg.data} leaves ${parts.train.count} for training and ${parts.validation.count} for validation: each needs at least one`);
    data = parts.train;
    validation = parts.validation;
  }

  const set = flags.set ?? {};
  const regularization = regularizationConsts(source, modelFile, model.consts, set);
  const regNames = Object.keys(regularization);
  const fixed = Object.fromEntries(Object.entries(set).filter(([k]) => !regNames.includes(k)));
  const epochs = flags.epochs ?? model.train.epochs ?? DEFAULT_EPOCHS;
  const patience = model.train.earlyStopping?.patience ?? DEFAULT_PATIENCE;
  const full = (FULL_BATCH_OPTIMIZERS as readonly string[]).includes(cfg.optimizer.name);
  const threads = defaultThreads(mod, full ? data.count : Math.min(cfg.batch, data.count), availableParallelism());
  // the trials run on one thread; a train run that would take more gets --threads 1, to agree to the last bit
  if (threads.threads > 1) passOn.push("--threads", "1");

  out(`tuning ${model.name}: ${data.count} training samples from ${cfg.data}; validation ${split !== null ? `split ${split} of it (${validation!.count} samples${cfg.split === null ? `: the train block names no validation data` : ""})` : `${validation!.count} samples from ${cfg.validation}`}`);
  out(`optimizer ${cfg.optimizer.name} · batch ${cfg.batch} · seed ${cfg.seed} · budget ${flags.budget} s · regularization weights: ${regNames.length > 0 ? regNames.map((k) => `${k} = ${regularization[k]}`).join(", ") : "none (no const is used only in parameter-only terms of the loss)"}`);
  if (validation!.count < 100)
    out(`note: ${validation!.count} validation sample${validation!.count === 1 ? "" : "s"}: one sample is ${(100 / validation!.count).toFixed(1)} % of the accuracy, so trials that close are not told apart by it (more validation data, or --split, resolves finer)`);
  let result;
  try {
    result = await tune({
      load: compileWith,
      fixed,
      regularization,
      optimizer: cfg.optimizer,
      batch: cfg.batch,
      epochs,
      patience,
      minDelta: model.train.earlyStopping?.minDelta ?? 0,
      seed: cfg.seed,
      normalize: cfg.normalize,
      train: data,
      validation: validation!,
      budget: flags.budget,
      out,
    });
  } catch (e) {
    if (e instanceof NncUsageError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }

  const context: CommandContext = { modelFile, optimizer: cfg.optimizer.name, passOn, fixed, scheduleDiffers: cfg.schedule.name !== "constant" };
  out("");
  out(`${result.trials.length} trial${result.trials.length === 1 ? "" : "s"} in ${result.seconds.toFixed(1)} s (budget ${flags.budget} s), best first (epochs: run (kept)):`);
  for (const line of finalTable(result, regNames)) out(`  ${line}`);
  const b = result.best;
  out("");
  out(`best: trial ${b.id}, lr ${b.lr ?? "—"}${regNames.map((k) => `, ${k} = ${b.set[k]}`).join("")}: validation loss ${b.validation.loss.toFixed(4)}${b.validation.accuracy !== null ? `, accuracy ${(100 * b.validation.accuracy).toFixed(1)}%` : ""}`);
  const extra = { model: model.name, file: modelFile, budget: flags.budget, data: cfg.data, validation: split !== null ? { split } : { file: cfg.validation }, optimizer: cfg.optimizer.name, batch: cfg.batch, seed: cfg.seed, regularization };
  const failed: string[] = [];
  const written: string[] = [];
  for (const [what, path, text] of [
    ["results", outputs.json, () => JSON.stringify(tuneJson(result, context, extra), null, 2) + "\n"],
    ["report", outputs.svg, () => reportSvg(result, regNames, model.name, flags.logScale === true)],
  ] as const)
    try {
      writeFileAtomic(path, text());
      written.push(`${what} → ${path}`);
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      failed.push(e.message);
    }
  if (written.length > 0) out(written.join("   "));
  for (const f of failed) warn(`nnc: error NN9002: ${f}`);
  out("reproduce the best trial with:");
  out(`  ${trainCommand(b, context)}`);
  return failed.length > 0 ? 1 : 0;
}
