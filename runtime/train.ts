/**
 * The training loop: seeded shuffling into mini-batches, the batch objective (mean loss,
 * parameter-only terms once) from the module's training-mode gradient (dropout active), the
 * optimizer and learning-rate schedule, per-epoch evaluation, early stopping on validation loss
 * that restores the best weights, a guard that stops on NaN/Infinity naming the step and the first
 * parameter affected (keeping the last good weights), and checkpoints to resume from.
 *
 * Everything random is derived from the seed and the epoch number, so a run resumed from a
 * checkpoint continues exactly as the uninterrupted run would have.
 */
import type { OptimizerConfig, ScheduleConfig } from "../compiler/semantics/model.js";
import { applyNormalization, computeNormalization } from "./data/normalize.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, scoringFor, type Evaluation } from "./metrics.js";
import { createFullBatch, createFullBatchOptimizer, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import { Sgd } from "./optimizers/sgd.js";
import { createSchedule } from "./schedules.js";
import { createFusedState, fusedStateJson } from "./fused-step.js";
import type { Dataset, FloatArray, Normalization, OptimizerState, ParamSet } from "./types.js";
import { asUsage, checkDataset, checkModule, checkTrainOptions, NncUsageError } from "./usage.js";
import { checkResume, validateWeights, type WeightsFile } from "./weights.js";
import { arrayOf, forModule, modulePrecision } from "./precision.js";
import { mulberry32 } from "./random.js";
import type { ShardPool } from "./threads/pool.js";
import { threadsProvider } from "./threads/provider.js";
import { loadedFrom } from "./load-module.js";

export interface TrainOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: OptimizerConfig;
  readonly schedule?: ScheduleConfig;
  readonly seed: number;
  readonly validation?: Dataset | null;
  readonly earlyStopping?: { readonly patience: number; readonly minDelta: number } | null;
  /** z-score the inputs with training statistics (default true) */
  readonly normalize?: boolean;
  /** called after every epoch with the state to write as a checkpoint */
  readonly onCheckpoint?: (state: Checkpoint) => void;
  /** a checkpoint to continue from */
  readonly resume?: WeightsFile | null;
  readonly onEpoch?: (report: EpochReport) => void;
  /** called once before the first step with the loss at the initial weights */
  readonly onStart?: (initial: Evaluation) => void;
  /** called after every step that kept finite weights, with the step's mini-batch loss */
  readonly onStep?: (s: StepReport) => void;
  /** progress inside an epoch: batches done of total */
  readonly onProgress?: (epoch: number, done: number, total: number) => void;
  /** threads computing each batch's gradient, data-parallel (default 1; docs/scale-out.md) */
  readonly threads?: number;
  /** where the threads import the module from; needed with `threads` > 1 unless loadModule made it */
  readonly moduleUrl?: string | URL;
}

export interface EpochReport {
  /** 1-based */
  readonly epoch: number;
  readonly lr: number;
  readonly train: Evaluation;
  readonly validation: Evaluation | null;
  readonly seconds: number;
  /** the best validation loss so far (early stopping's reference) */
  readonly best: boolean;
}

/** One training step, as `onStep` sees it. */
export interface StepReport {
  /** 1-based */
  epoch: number;
  /** 1-based, counted over the whole run */
  step: number;
  /** the mean loss of the step's batch (training mode), at the weights before the update */
  loss: number;
  /** the learning rate of the step */
  lr: number;
}

export interface Checkpoint {
  readonly params: ParamSet;
  readonly normalization: Normalization | null;
  readonly resume: NonNullable<WeightsFile["resume"]>;
}

export interface TrainResult {
  readonly params: ParamSet;
  readonly normalization: Normalization | null;
  readonly initial: Evaluation;
  readonly history: readonly EpochReport[];
  /** "aborted": stopped by the caller between steps (trainer's stop, trainAsync's signal) */
  readonly stopped: "completed" | "early-stopping" | "diverged" | "aborted";
  /** for early stopping: the epoch whose weights were restored; for divergence: what happened */
  readonly bestEpoch: number | null;
  readonly message: string | null;
}


const rowSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function copyParams(p: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));
}

/** dst ← src, parameter by parameter (same names and sizes) */
function copyInto(dst: ParamSet, src: ParamSet): void {
  for (const [k, v] of Object.entries(src)) dst[k]!.set(v);
}

/** First non-finite element among the arrays, as "name[i]", or null. */
function firstNonFinite(set: ParamSet): string | null {
  for (const [name, v] of Object.entries(set)) {
    // a sum of finite values is finite unless it overflows; NaN and ±Infinity always reach it. The
    // branch-free sum is several times cheaper than testing each element, and this runs every step.
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i]!;
    if (Number.isFinite(sum)) continue;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return `${name}[${i}]`;
  }
  return null;
}

/** The element of largest magnitude, as "name[i]": where a loss that overflowed came from. */
function firstLarge(set: ParamSet): string {
  let best = "", max = -1;
  for (const [name, v] of Object.entries(set))
    for (let i = 0; i < v.length; i++)
      if (!(Math.abs(v[i]!) <= max)) {
        max = Math.abs(v[i]!);
        best = `${name}[${i}]`;
        if (!Number.isFinite(max)) return best;
      }
  return best;
}

/** Mini-batch buffers in the module's array type, allocated once; `fill` gathers the rows of one batch into them. */
class Batcher {
  readonly inputs: Record<string, FloatArray>;
  readonly targets: Record<string, FloatArray>;
  private readonly sizes: [string, number, FloatArray, FloatArray][] = [];
  constructor(
    mod: CompiledModule,
    readonly data: Dataset,
    batch: number,
  ) {
    const alloc = (shapes: Record<string, number[]>, src: Record<string, FloatArray>) =>
      Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => {
          const buf = arrayOf(modulePrecision(mod), batch * rowSize(s));
          this.sizes.push([k, rowSize(s), src[k]!, buf]);
          return [k, buf];
        }),
      );
    this.inputs = alloc(mod.meta.inputs, data.inputs);
    this.targets = alloc(mod.meta.targets, data.targets);
  }
  fill(order: Uint32Array, start: number, count: number): void {
    for (const [, size, src, dst] of this.sizes)
      for (let r = 0; r < count; r++) {
        const from = order[start + r]! * size;
        for (let k = 0; k < size; k++) dst[r * size + k] = src[from + k]!;
      }
  }
}

/**
 * Checks everything `train` is given before it starts (usage.ts, weights.ts): a bad value throws
 * an NncUsageError naming the field (`options.epochs`, `data.inputs.x`, `options.resume: resume.epoch`).
 */
export function checkTrainArguments(mod: CompiledModule, data: Dataset, options: TrainOptions): void {
  checkModule(mod);
  checkTrainOptions(options);
  checkDataset(mod, data, "data", 1);
  if (options.validation !== undefined && options.validation !== null) checkDataset(mod, options.validation, "options.validation", 1);
  // the optimizer's and the schedule's own checks of their arguments (β in [0, 1), a step's factor);
  // the optimizer made for no parameters allocates nothing
  asUsage("options.optimizer", () => (isFullBatch(options.optimizer.name) ? createFullBatchOptimizer(options.optimizer, {}) : createOptimizer(options.optimizer, {})));
  asUsage("options.schedule", () => createSchedule(options.schedule, options.optimizer.args.lr ?? 0.01, options.epochs));
  if (options.resume !== undefined && options.resume !== null) {
    validateWeights(options.resume, mod, "options.resume");
    checkResume(options.resume, mod, options, "options.resume");
  }
  if ((options.threads ?? 1) > 1 && options.moduleUrl === undefined && loadedFrom(mod) === undefined)
    throw new NncUsageError("options.threads", "the threads import the module themselves: load it with loadModule, or give its file's URL as options.moduleUrl");
}

/** The module's URL for the threads: options.moduleUrl (a URL, or a path) or where loadModule imported it from. */
function moduleUrlOf(mod: CompiledModule, options: TrainOptions): string {
  const given = options.moduleUrl;
  if (given === undefined) return loadedFrom(mod)!;
  if (given instanceof URL) return given.href;
  return /^(file|data|https?):/.test(given) ? given : threadsProvider().fileUrl(given);
}

/** Trains the module; throws an NncUsageError (before any step) when an argument cannot be used. */
export function train(mod: CompiledModule, data: Dataset, options: TrainOptions): TrainResult {
  checkTrainArguments(mod, data, options);
  // the threads end however training does
  const pools: ShardPool[] = [];
  try {
    // not stepwise: the loop never yields, and the first next() runs it to the end
    const run = trainLoop(mod, data, options, pools, false).next();
    if (!run.done) throw new Error("internal: the training loop yielded without being stepwise");
    return run.value;
  } finally {
    for (const pool of pools) pool.close();
  }
}

/** What the driver of a stepwise loop sends: "stop" ends training at the weights it has. */
export type StepCommand = "stop" | undefined;

/**
 * The training loop, the one implementation behind train() and the step-by-step Trainer
 * (train-steps.ts). Stepwise, it yields null once it is ready (after the initial evaluation) and
 * each step's StepReport (onStep's) after the step, and returns an "aborted" result when sent "stop"; otherwise it never
 * yields. Arguments checked (checkTrainArguments); the threads it starts are pushed to `pools`,
 * which the caller closes.
 */
export function* trainLoop(mod: CompiledModule, data: Dataset, options: TrainOptions, pools: ShardPool[], stepwise: boolean): Generator<StepReport | null, TrainResult, StepCommand> {
  const normalization = options.resume ? options.resume.normalization : options.normalize === false ? null : computeNormalization(data);
  // normalized in float64, then converted once to the module's array type (Float32Array for f32)
  const prepared = forModule(normalization ? applyNormalization(data, normalization) : data, mod);
  const validation = options.validation && normalization ? applyNormalization(options.validation, normalization) : options.validation ?? null;
  const preparedValid = validation && forModule(validation, mod);
  const fullBatchRun = isFullBatch(options.optimizer.name);
  // with threads (threads/pool.ts), the data, the parameters, the gradient and the optimizer's
  // state live in shared memory, and every step and evaluation is sharded
  const threads = Math.min(options.threads ?? 1, fullBatchRun ? prepared.count : Math.min(options.batch, prepared.count));
  const pool = threads > 1 ? threadsProvider().start(mod, prepared, preparedValid, threads, options.batch, moduleUrlOf(mod, options), fullBatchRun ? null : options.optimizer) : null;
  if (pool) pools.push(pool);
  const trainSet = pool?.data ?? prepared;
  const validSet = pool ? pool.validation : preparedValid;
  const scoring = scoringFor(mod, trainSet);

  const params = pool?.params ?? mod.createParams();
  if (options.resume) for (const [k, p] of Object.entries(options.resume.params)) params[k]!.set(p.values);
  else mod.initParams(params, options.seed);
  const grad = pool?.grad ?? mod.createParams();
  // what the caller sees: arrays of its own, not views of the pool's shared memory
  const visible = () => (pool ? copyParams(params) : params);
  const evaluateOn = (set: 0 | 1) => (pool ? pool.evaluate(params, set, scoring) : evaluate(mod, params, set === 0 ? trainSet : validSet!, scoring));
  const initial = evaluateOn(0);
  options.onStart?.(initial);

  // lbfgs, newton, newton_cg: one iteration per epoch on the whole training set (with threads, the
  // objective's gradient sharded; newton's Hessian-vector products on this thread)
  const objective = pool ? (p: ParamSet, g: ParamSet) => pool.objective(p, g) : undefined;
  const fullBatch = asUsage("options.optimizer", () => createFullBatch(mod, options.optimizer, params, trainSet, objective));
  const optimizer = fullBatch ? null : (pool?.optimizer ?? asUsage("options.optimizer", () => createOptimizer(options.optimizer, params)));
  // plain SGD runs as the module's sgdStep: the same update, made inside the backward pass for a
  // batch of one, so that no gradient is written and read back (docs/generated-module.md)
  const fusedSgd = optimizer instanceof Sgd ? optimizer : null;
  const baseLr = options.optimizer.args.lr ?? 0.01;
  const lrAt = asUsage("options.schedule", () => createSchedule(options.schedule, baseLr, options.epochs));

  const resume = options.resume?.resume;
  // every other first-order optimizer runs as the module's optimizerStep: the gradient and the
  // update in one call, θ and the optimizer's state read once per step
  const fused = optimizer !== null && fusedSgd === null && pool === null ? createFusedState(mod, options.optimizer, optimizer, resume?.optimizer ?? null) : null;
  if (resume?.optimizer && fused === null) (optimizer ?? fullBatch)!.restore(resume.optimizer);
  const history: EpochReport[] = [...((resume?.history as EpochReport[] | undefined) ?? [])];
  // JSON writes a NaN loss as null
  let best = resume?.best ? { epoch: resume.best.epoch, loss: resume.best.loss ?? NaN, params: Object.fromEntries(Object.entries(resume.best.params).map(([k, v]) => [k, Float64Array.from(v)])) as ParamSet } : null;
  let badEpochs = resume?.badEpochs ?? 0;
  const firstEpoch = resume ? resume.epoch : 0;

  const batch = Math.max(1, Math.min(options.batch, trainSet.count));
  const batcher = pool ? null : new Batcher(mod, trainSet, batch);
  const order = pool?.order ?? new Uint32Array(trainSet.count);
  const lastGood = copyParams(params);
  const stepsPerEpoch = fullBatch ? 1 : Math.ceil(trainSet.count / batch);

  const earlyStop = (epoch: number): TrainResult => {
    for (const [k, v] of Object.entries(best!.params)) params[k]!.set(v);
    return { params: visible(), normalization, initial, history, stopped: "early-stopping", bestEpoch: best!.epoch, message: `early stopping after epoch ${epoch}: no improvement of the validation loss for ${badEpochs} epochs; restored the weights of epoch ${best!.epoch}` };
  };
  const patienceSpent = () => options.earlyStopping != null && validSet != null && best !== null && badEpochs >= options.earlyStopping.patience;
  // the checkpoint of the epoch that stopped the run early: stop as that run did, do not train on
  if (resume && patienceSpent()) return earlyStop(firstEpoch);
  // stopped by the caller between steps: the weights of the last step, all finite (a step that
  // made them otherwise has ended the run as diverged)
  const aborted = (where: string): TrainResult => ({ params: visible(), normalization, initial, history, stopped: "aborted", bestEpoch: null, message: `training stopped ${where}` });
  if (stepwise && (yield null) === "stop") return aborted("before the first step");

  for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
    const started = performance.now();
    const lr = lrAt(epoch);
    const shuffle = mulberry32(options.seed * 1000003 + epoch);
    const epochSeed = options.seed * 7919 + epoch;
    const random = mod.createRandom(epochSeed);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let step = 0; step < stepsPerEpoch; step++) {
      // lastGood holds the latest weights whose loss and gradient were finite
      copyInto(lastGood, params);
      let loss: number;
      let bad: string | null;
      let count = trainSet.count;
      if (fullBatch) {
        loss = fullBatch.iterate(params);
        bad = !Number.isFinite(loss) ? "loss" : firstNonFinite(params);
      } else {
        const start = step * batch;
        count = Math.min(batch, trainSet.count - start);
        batcher?.fill(order, start, count);
        if (pool) {
          // the shards update the parameters and scan them (their sum is finite)
          loss = pool.trainStep(start, count, lr, epochSeed, start);
          bad = !Number.isFinite(loss) ? "loss" : pool.finite() ? null : (firstNonFinite(grad) ?? firstNonFinite(params));
        } else if (fusedSgd) {
          loss = mod.sgdStep(params, batcher!.inputs, batcher!.targets, count, lr, grad, random);
          fusedSgd.stepTaken();
          bad = !Number.isFinite(loss) ? "loss" : firstNonFinite(params);
        } else if (fused) {
          fused.lr = lr;
          loss = mod.optimizerStep(params, fused, batcher!.inputs, batcher!.targets, count, grad, random);
          // a non-finite gradient makes the parameters non-finite (every rule multiplies or divides by
          // it), so only they are scanned each step; grad still holds the step's gradient, and a bad
          // one is named as the runtime's optimizer would name it
          bad = !Number.isFinite(loss) ? "loss" : firstNonFinite(params) === null ? null : (firstNonFinite(grad) ?? firstNonFinite(params));
        } else {
          loss = mod.gradientBatchTrain(params, batcher!.inputs, batcher!.targets, count, grad, random);
          bad = !Number.isFinite(loss) ? "loss" : firstNonFinite(grad);
          if (bad === null) {
            optimizer!.step(params, grad, lr);
            bad = firstNonFinite(params);
          }
        }
      }
      if (bad !== null) {
        copyInto(params, lastGood);
        // sgdStep stores no gradient; the message names the first parameter whose gradient is bad
        if (fusedSgd) mod.gradientBatchTrain(params, batcher!.inputs, batcher!.targets, count, grad, random);
        const where = `epoch ${epoch + 1}, step ${step + 1} (${epoch * stepsPerEpoch + step + 1} in all)`;
        const what = bad === "loss" ? `the loss is ${loss}` : `${bad} became ${bad.includes("[") ? "non-finite" : ""}`;
        const first = bad === "loss" ? (firstNonFinite(grad) ?? firstLarge(grad)) : bad;
        return {
          params: visible(),
          normalization,
          initial,
          history,
          stopped: "diverged",
          bestEpoch: null,
          message: `training diverged at ${where}: ${what}; first parameter affected: ${first.replace(/\[.*/, "")} (${first}). Kept the last weights with a finite loss and gradient. Try a smaller learning rate.`,
        };
      }
      const global = epoch * stepsPerEpoch + step;
      const stepReport: StepReport = { epoch: epoch + 1, step: global + 1, loss, lr };
      options.onStep?.(stepReport);
      options.onProgress?.(epoch + 1, step + 1, stepsPerEpoch);
      if (stepwise && (yield stepReport) === "stop") return aborted(`after epoch ${epoch + 1}, step ${step + 1} (${global + 1} in all)`);
    }
    const trainEval = evaluateOn(0);
    const validEval = validSet ? evaluateOn(1) : null;
    const ref = validEval?.loss ?? trainEval.loss;
    const improved = best === null || ref < best.loss - (options.earlyStopping?.minDelta ?? 0);
    if (improved) {
      best = { epoch: epoch + 1, loss: ref, params: copyParams(params) };
      badEpochs = 0;
    } else badEpochs++;
    const report: EpochReport = { epoch: epoch + 1, lr, train: trainEval, validation: validEval, seconds: (performance.now() - started) / 1000, best: improved };
    history.push(report);
    options.onEpoch?.(report);
    options.onCheckpoint?.({
      params: visible(),
      normalization,
      resume: {
        epoch: epoch + 1,
        optimizer: fused ? fusedStateJson(fused) : (optimizer ?? fullBatch)!.state(),
        history,
        best: best && { epoch: best.epoch, loss: best.loss, params: Object.fromEntries(Object.entries(best.params).map(([k, v]) => [k, Array.from(v)])) },
        badEpochs,
      },
    });
    if (patienceSpent()) return earlyStop(epoch + 1);
  }
  if (options.earlyStopping && validSet && best) for (const [k, v] of Object.entries(best.params)) params[k]!.set(v);
  return { params: visible(), normalization, initial, history, stopped: "completed", bestEpoch: best?.epoch ?? null, message: null };
}

export type { OptimizerState };
export { NncUsageError };
