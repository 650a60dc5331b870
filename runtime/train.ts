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
import type { AugmentConfig, NormalizeMethod, OptimizerConfig, ScheduleConfig } from "../compiler/semantics/model.js";
import { applyNormalization, fitNormalization } from "./data/normalize.js";
import { createShiftAugmenter, type ImageGeometry } from "./data/augment.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, scoringFor, type Evaluation } from "./metrics.js";
import { createFullBatch, createFullBatchOptimizer, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import { Sgd } from "./optimizers/sgd.js";
import { createSchedule, cycleAt, isPerStep } from "./schedules.js";
import { OPTIMIZERS, SCHEDULES } from "../compiler/semantics/train-block.js";
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
  /** how to normalize the inputs with training statistics: true (default) is "zscore", false "none" (docs/data.md) */
  readonly normalize?: boolean | NormalizeMethod;
  /** random transformations of the training batches' image inputs, fresh per epoch (docs/data.md) */
  readonly augment?: AugmentConfig | null;
  /** the image layout of inputs declared as vectors, e.g. { x: { channels: 1, height: 28, width: 28 } } for an IDX file's x[784] */
  readonly images?: Readonly<Record<string, ImageGeometry>>;
  /** called after every epoch with the state to write as a checkpoint */
  readonly onCheckpoint?: (state: Checkpoint) => void;
  /** a checkpoint to continue from */
  readonly resume?: WeightsFile | null;
  readonly onEpoch?: (report: EpochReport) => void;
  /**
   * called once before the first step with the loss at the initial weights, and the part of it
   * the loss's parameter-only terms (weight decay) make (null: the module does not say)
   */
  readonly onStart?: (initial: Evaluation, regularizer: number | null) => void;
  /** progress inside an epoch: batches done of total */
  readonly onProgress?: (epoch: number, done: number, total: number) => void;
  /** called after every step (mini-batch, or full-batch iteration) that kept finite weights */
  readonly onStep?: (s: StepReport) => void;
  /**
   * Snapshot ensembles (cyclic and cosine_restarts schedules): the weights at the end of each of
   * the last `snapshots` cycles that end by the last epoch, given to `onSnapshot`.
   */
  readonly snapshots?: number;
  readonly onSnapshot?: (s: Snapshot) => void;
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

/** The weights at the end of a schedule cycle (snapshot ensembles). */
export interface Snapshot {
  /** 1-based, 1 … snapshots: the earliest of the saved cycles is 1 */
  readonly index: number;
  /** 1-based: the cycle of the schedule that ended */
  readonly cycle: number;
  /** the epoch (1-based) and step (1-based, over the run) that ended it */
  readonly epoch: number;
  readonly step: number;
  readonly params: ParamSet;
  /** the input normalization the weights go with, as in the result */
  readonly normalization: Normalization | null;
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
  // under pca(k) the data has its own width, which the projection reduces to the model's k
  const asData = asUsage("options.normalize", () => dataModule(mod, options, data));
  checkDataset(asData, data, "data", 1);
  if (options.validation !== undefined && options.validation !== null) checkDataset(asData, options.validation, "options.validation", 1);
  // the optimizer's and the schedule's own checks of their arguments (β in [0, 1), a step's factor);
  // the optimizer made for no parameters allocates nothing
  asUsage("options.optimizer", () => (isFullBatch(options.optimizer.name) ? createFullBatchOptimizer(options.optimizer, {}) : createOptimizer(options.optimizer, {})));
  asUsage("options.schedule", () => createSchedule(options.schedule, baseLrOf(options.optimizer), options.epochs));
  if (options.snapshots !== undefined) asUsage("options.snapshots", () => snapshotCycles(options.schedule, options.epochs, options.snapshots!, null));
  if (options.resume !== undefined && options.resume !== null) {
    validateWeights(options.resume, mod, "options.resume");
    checkResume(options.resume, mod, options, "options.resume");
  }
  if (options.augment && ((options.threads ?? 1) > 1 || isFullBatch(options.optimizer.name)))
    throw new NncUsageError("options.augment", (options.threads ?? 1) > 1 ? "augmentation runs on one thread: drop threads, or the augmentation" : `augmentation changes each mini-batch, and ${options.optimizer.name} takes full-batch steps: use a first-order optimizer, or drop the augmentation`);
  if ((options.threads ?? 1) > 1 && options.moduleUrl === undefined && loadedFrom(mod) === undefined)
    throw new NncUsageError("options.threads", "the threads import the module themselves: load it with loadModule, or give its file's URL as options.moduleUrl");
}

/**
 * The module as the data sees it: under pca(k) (or resuming a run that used it) the one input is
 * as wide as the data or the stored projection says; otherwise the module itself. Throws when
 * pca(k) does not fit the model (docs/data.md): one input, a vector of exactly k elements.
 */
function dataModule(mod: CompiledModule, options: TrainOptions, data: Dataset): CompiledModule {
  const stored = options.resume?.normalization;
  const inputs = Object.entries(mod.meta.inputs);
  if (stored?.projection && stored.method !== "zscore")
    return { ...mod, meta: { ...mod.meta, inputs: Object.fromEntries(inputs.map(([name, shape]) => [name, [stored.mean[name]?.length ?? 0]])) } };
  const m = options.normalize;
  if (typeof m !== "object" || m === null) return mod;
  const declared = inputs.map(([n, sh]) => `${n}[${sh.join(", ")}]`).join(", ");
  if (inputs.length !== 1 || inputs[0]![1].length !== 1 || inputs[0]![1][0] !== m.components)
    throw new Error(`pca(${m.components}) feeds the model ${m.components} features of one input, so the model must have one input declared [${m.components}]; it has ${declared}`);
  const [name] = inputs[0]!;
  const values = (data as Partial<Dataset> | null)?.inputs?.[name];
  const count = (data as Partial<Dataset> | null)?.count;
  // the data's width, when it has one (else checkDataset says what is wrong with it)
  const width = values && typeof count === "number" && count > 0 && Number.isInteger(values.length / count) ? values.length / count : m.components;
  return { ...mod, meta: { ...mod.meta, inputs: { [name]: [width] } } };
}

/** The rate a schedule starts from: the optimizer's lr, or its default (adam's 0.001, adadelta's 1). */
function baseLrOf(o: TrainOptions["optimizer"]): number {
  return o.args.lr ?? OPTIMIZERS[o.name].lr ?? 0.01;
}

/**
 * The cycles whose end is saved for a snapshot ensemble: the last `k` of those that end by
 * `epochs` (cycleAt, schedules.ts, says where a cycle ends). With the steps per epoch known, a
 * cycle shorter than one step is refused: two cycles would end at the same step.
 */
export function snapshotCycles(schedule: TrainOptions["schedule"], epochs: number, k: number, stepsPerEpoch: number | null): { first: number; completed: number } {
  if (!Number.isInteger(k) || k < 1) throw new Error(`snapshots must be a positive integer, got ${k}`);
  const name = schedule?.name ?? "constant";
  if (!isPerStep(schedule)) throw new Error(`snapshots ${k} needs a schedule with cycles to take them at the end of (cyclic or cosine_restarts), and the schedule is ${name}`);
  const completed = cycleAt(schedule, epochs)!.cycle;
  if (completed < k) throw new Error(`snapshots ${k} needs ${k} cycles of the schedule to end by epoch ${epochs}, and ${completed} do (${describeCycles(schedule!)}): train longer, shorten the period, or take fewer snapshots`);
  // the first cycle is the shortest (mult ≥ 1)
  const period = schedule!.args.period ?? SCHEDULES[schedule!.name].period!;
  if (stepsPerEpoch !== null && period * stepsPerEpoch < 1 - 1e-9)
    throw new Error(`snapshots: a cycle of ${describeCycles(schedule!)} is shorter than one step (${stepsPerEpoch} steps per epoch): lengthen the period`);
  return { first: completed - k, completed };
}

const describeCycles = (s: NonNullable<TrainOptions["schedule"]>) => `${s.name}(${Object.entries(s.args).map(([a, v]) => `${a} = ${v}`).join(", ")})`;

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
  const method: NormalizeMethod = options.normalize === false ? "none" : options.normalize === true || options.normalize === undefined ? "zscore" : options.normalize;
  const normalization = options.resume ? options.resume.normalization : asUsage("options.normalize", () => fitNormalization(data, method));
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
  options.onStart?.(initial, mod.regularizer ? mod.regularizer(params) : null);

  // lbfgs, newton, newton_cg: one iteration per epoch on the whole training set (with threads, the
  // objective's gradient sharded; newton's Hessian-vector products on this thread)
  const objective = pool ? (p: ParamSet, g: ParamSet) => pool.objective(p, g) : undefined;
  const fullBatch = asUsage("options.optimizer", () => createFullBatch(mod, options.optimizer, params, trainSet, objective));
  const optimizer = fullBatch ? null : (pool?.optimizer ?? asUsage("options.optimizer", () => createOptimizer(options.optimizer, params)));
  // plain SGD runs as the module's sgdStep: the same update, made inside the backward pass for a
  // batch of one, so that no gradient is written and read back (docs/generated-module.md)
  const fusedSgd = optimizer instanceof Sgd ? optimizer : null;
  const baseLr = baseLrOf(options.optimizer);
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
  // shifted images are made from the raw training data, then normalized (data/augment.ts)
  const augmenter = options.augment ? asUsage("options.augment", () => createShiftAugmenter(options.augment!, options.seed, data, mod.meta.inputs, options.images ?? {}, normalization)) : null;
  const order = pool?.order ?? new Uint32Array(trainSet.count);
  const lastGood = copyParams(params);
  // the latest weights whose whole training set evaluated to a finite loss and finite outputs:
  // the end of the last good epoch (or the start). A batch's finite loss does not make weights
  // usable: hinge's loss is 0 at an output of +Infinity.
  const safe = copyParams(params);
  let safeEpoch = firstEpoch;
  const usable = (e: Evaluation) => Number.isFinite(e.loss) && e.outputsFinite !== false;
  const diverged = (message: string): TrainResult => ({ params: visible(), normalization, initial, history, stopped: "diverged", bestEpoch: null, message });
  const fallBack = () => {
    copyInto(params, safe);
    return safeEpoch === 0 ? "the initial weights" : `the weights of epoch ${safeEpoch}`;
  };
  const stepsPerEpoch = fullBatch ? 1 : Math.ceil(trainSet.count / batch);
  // the full-batch objective is the training set's loss in inference mode, as evaluated
  let fullBatchLoss = initial.loss;
  const perStep = isPerStep(options.schedule);
  // snapshot ensembles: the cycle of each step's start; a step whose successor starts a later cycle ends one
  const snapshots = options.snapshots !== undefined ? asUsage("options.snapshots", () => snapshotCycles(options.schedule, options.epochs, options.snapshots!, stepsPerEpoch)) : null;
  const cycleOfStep = (global: number) => cycleAt(options.schedule, Math.floor(global / stepsPerEpoch) + (global % stepsPerEpoch) / stepsPerEpoch)!.cycle;

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
    const epochLr = lrAt(epoch);
    const shuffle = mulberry32(options.seed * 1000003 + epoch);
    const epochSeed = options.seed * 7919 + epoch;
    const random = mod.createRandom(epochSeed);
    augmenter?.startEpoch(epoch);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    // the pool's last run of steps: [runAt, runAt + runTaken)
    let runAt = 0, runTaken = 0;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const lr = perStep ? lrAt(epoch, step / stepsPerEpoch) : epochLr;
      // lastGood holds the latest weights whose loss and gradient were finite; a pool's threads
      // copy them (pool.before) in parallel, each its slice, before they update it
      const sharded = pool !== null && !fullBatch;
      if (!sharded) copyInto(lastGood, params);
      let loss: number;
      let bad: string | null;
      let count = trainSet.count;
      // the loss at the weights before the step, for onStep (a full-batch iteration returns the one after)
      let before = NaN;
      if (fullBatch) {
        before = fullBatchLoss;
        loss = fullBatch.iterate(params);
        fullBatchLoss = loss;
        bad = !Number.isFinite(loss) ? "loss" : firstNonFinite(params);
      } else {
        const start = step * batch;
        count = Math.min(batch, trainSet.count - start);
        batcher?.fill(order, start, count);
        augmenter?.fill(order, start, count, batcher!.inputs);
        if (pool) {
          // the threads take a run of steps back to back (threads/pool.ts): up to the epoch's end,
          // one at a time where each step is handed out (the stepwise trainer, snapshots); they
          // update the parameters, scan them (their sum is finite) and stop at a bad step
          if (step >= runAt + runTaken) {
            const k = stepwise || snapshots !== null ? 1 : Math.min(pool.stepsPerRun, stepsPerEpoch - step);
            const run = Array.from({ length: k }, (_, j) => {
              const at = (step + j) * batch;
              return { start: at, count: Math.min(batch, trainSet.count - at), lr: perStep ? lrAt(epoch, (step + j) / stepsPerEpoch) : epochLr };
            });
            runAt = step;
            runTaken = pool.trainSteps(run, epochSeed);
          }
          loss = pool.stepLoss(step - runAt);
          bad = !Number.isFinite(loss) ? "loss" : pool.stepFinite(step - runAt) ? null : (firstNonFinite(grad) ?? firstNonFinite(params));
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
        copyInto(params, sharded ? pool.before : lastGood);
        // sgdStep stores no gradient; the message names the first parameter whose gradient is bad
        if (fusedSgd) mod.gradientBatchTrain(params, batcher!.inputs, batcher!.targets, count, grad, random);
        const where = `epoch ${epoch + 1}, step ${step + 1} (${epoch * stepsPerEpoch + step + 1} in all)`;
        const what = bad === "loss" ? `the loss is ${loss}` : `${bad} became ${bad.includes("[") ? "non-finite" : ""}`;
        const first = bad === "loss" ? (firstNonFinite(grad) ?? firstLarge(grad)) : bad;
        // the step's weights had a finite loss on its batch; on the whole training set they may not
        const check = evaluateOn(0);
        const kept = usable(check) ? "the last weights with a finite loss and gradient" : `${fallBack()}: the weights before the step have ${Number.isFinite(check.loss) ? "non-finite outputs" : `a training loss of ${check.loss}`}`;
        return diverged(`training diverged at ${where}: ${what}; first parameter affected: ${first.replace(/\[.*/, "")} (${first}). Kept ${kept}. Try a smaller learning rate.`);
      }
      const global = epoch * stepsPerEpoch + step;
      const stepReport: StepReport = { epoch: epoch + 1, step: global + 1, loss: fullBatch ? before : loss, lr };
      options.onStep?.(stepReport);
      if (snapshots !== null && options.onSnapshot) {
        const ended = cycleOfStep(global + 1) > cycleOfStep(global) ? cycleOfStep(global) : -1;
        if (ended >= snapshots.first && ended < snapshots.completed)
          options.onSnapshot({ index: ended - snapshots.first + 1, cycle: ended + 1, epoch: epoch + 1, step: global + 1, params: copyParams(params), normalization });
      }
      options.onProgress?.(epoch + 1, step + 1, stepsPerEpoch);
      if (stepwise && (yield stepReport) === "stop") return aborted(`after epoch ${epoch + 1}, step ${step + 1} (${global + 1} in all)`);
    }
    const trainEval = evaluateOn(0);
    if (!usable(trainEval)) {
      const what = Number.isFinite(trainEval.loss) ? "the predictions on the training set are not finite" : `the training loss is ${trainEval.loss}`;
      const first = firstNonFinite(params) ?? firstLarge(params);
      const where = `epoch ${epoch + 1}, step ${stepsPerEpoch} (${(epoch + 1) * stepsPerEpoch} in all)`;
      return diverged(`training diverged at ${where}: after it ${what}; first parameter affected: ${first.replace(/\[.*/, "")} (${first}, the largest in magnitude). Kept ${fallBack()}. Try a smaller learning rate.`);
    }
    copyInto(safe, params);
    safeEpoch = epoch + 1;
    const validEval = validSet ? evaluateOn(1) : null;
    const ref = validEval?.loss ?? trainEval.loss;
    const improved = best === null || ref < best.loss - (options.earlyStopping?.minDelta ?? 0);
    if (improved) {
      best = { epoch: epoch + 1, loss: ref, params: copyParams(params) };
      badEpochs = 0;
    } else badEpochs++;
    const report: EpochReport = { epoch: epoch + 1, lr: epochLr, train: trainEval, validation: validEval, seconds: (performance.now() - started) / 1000, best: improved };
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
