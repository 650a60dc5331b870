/**
 * `nnc tune`: the notes' practical recipe ("Learning with NNs in practice", steps 1–7) as a
 * procedure, within a wall-time budget (docs/training.md, "Tuning"):
 *
 *   1. the initial loss with every regularization weight 0, against log C;
 *   2. overfit a small sample (20 samples, regularization off) towards zero loss, 100 % accuracy;
 *   3. a learning-rate range test (lr-range.ts) on all the training data, regularization as written;
 *   4. a coarse grid, learning rate × each regularization weight, a few epochs each;
 *   5. the best few refined: trained longer, constant learning rate, early stopping;
 *   7. "GOTO 5": the neighbours of the best refined in turn, while the budget lasts.
 * (Step 6, the loss curves, is the report: report.ts.)
 *
 * Every trial is a plain `nnc train` run — the same data, validation split, seed, normalization
 * and module — with a constant schedule, `--epochs E` and `--patience P`, so the command printed
 * for a trial reproduces it exactly. A trial the budget cuts short after epoch k is the run of
 * `--epochs k` (early stopping restores the same best epoch either way).
 */
import type { NormalizeMethod, OptimizerConfig } from "../../compiler/semantics/model.js";
import { FULL_BATCH_OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import { applyNormalization, fitNormalization, subset } from "../data/index.js";
import type { CompiledModule } from "../load-module.js";
import { evaluate, scoringFor } from "../metrics.js";
import { mulberry32 } from "../random.js";
import { train, type Checkpoint, type TrainResult } from "../train.js";
import type { Dataset, ParamSet } from "../types.js";
import { compareTrials, gridEpochsFor, gridRates, gridWeights, roundNice, showRate } from "./grid.js";
import { lrRangeTest, type RangeTest } from "./lr-range.js";

export interface TuneSetup {
  /** the module with these const values (the same target and precision every time) */
  readonly load: (set: Readonly<Record<string, number>>) => Promise<CompiledModule>;
  /** consts set on the command line besides the regularization weights (kept in every trial) */
  readonly fixed: Readonly<Record<string, number>>;
  /** the regularization weights and their values as written (or --set) */
  readonly regularization: Readonly<Record<string, number>>;
  readonly optimizer: OptimizerConfig;
  readonly batch: number;
  /** the refined trials' length (the block's epochs, or 20) */
  readonly epochs: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly seed: number;
  readonly normalize: NormalizeMethod;
  readonly train: Dataset;
  readonly validation: Dataset;
  /** seconds of wall time */
  readonly budget: number;
  readonly out: (line: string) => void;
  /** milliseconds; performance.now by default */
  readonly clock?: () => number;
  /** rounds of step 7 at most (default ROUNDS) */
  readonly rounds?: number;
}

export interface Metrics {
  readonly loss: number;
  readonly accuracy: number | null;
}

export interface Trial {
  readonly id: number;
  readonly phase: "grid" | "refine";
  /** null: the optimizer has no learning rate (full batch) */
  readonly lr: number | null;
  /** the regularization weights of this trial */
  readonly set: Readonly<Record<string, number>>;
  /** the epochs the trial ran: its command's --epochs */
  readonly epochs: number;
  readonly patience: number;
  readonly stopped: TrainResult["stopped"] | "budget";
  /** the epoch whose weights were kept */
  readonly bestEpoch: number | null;
  readonly train: Metrics;
  /** loss: as `nnc train` reports it (the objective, regularization included); dataLoss: the loss
   * with every regularization weight 0, on which trials are compared */
  readonly validation: Metrics & { readonly dataLoss: number };
  readonly seconds: number;
  /** per-step mini-batch losses (for the report's plots; not in the JSON) */
  readonly steps: readonly number[];
  readonly stepsPerEpoch: number;
  readonly history: readonly { readonly epoch: number; readonly train: number; readonly validation: number | null }[];
}

export interface InitialCheck {
  /** the loss at the initial weights with every regularization weight 0 */
  readonly loss: number;
  /** with the regularization as written */
  readonly withRegularization: number;
  readonly classes: number | null;
  /** log C, or null for regression */
  readonly expected: number | null;
}

export interface OverfitCheck {
  readonly samples: number;
  readonly epochs: number;
  readonly loss: number;
  readonly accuracy: number | null;
  readonly reached: boolean;
  readonly stopped: TrainResult["stopped"] | "reached" | "budget";
}

export interface TuneResult {
  readonly initial: InitialCheck;
  readonly overfit: OverfitCheck;
  readonly range: RangeTest | null;
  readonly lrs: readonly (number | null)[];
  readonly regValues: Readonly<Record<string, readonly number[]>>;
  readonly gridEpochs: number;
  readonly trials: readonly Trial[];
  readonly best: Trial;
  readonly classification: boolean;
  readonly seconds: number;
}

/**
 * The budget's split: steps 2 and 3 may each take 7 % of it from when they start; the grid runs
 * until half the budget is spent, and at least 20 % of it from its start (a slow start — compiling
 * the modules on a loaded machine — does not leave it nothing); the refinement has the rest. Time
 * a phase leaves unused goes to the next.
 */
export const PHASES = { overfit: 0.07, range: 0.07, gridEnd: 0.5, gridAtLeast: 0.2 } as const;
/** samples of the small training set of step 2 */
export const OVERFIT_SAMPLES = 20;
/** iterations of the range test */
export const RANGE_STEPS = 150;
/** grid trials refined in step 5 */
export const REFINE = 3;
/** rounds of step 7 */
export const ROUNDS = 4;

class OutOfTime extends Error {
  constructor(readonly checkpoint: Checkpoint | null) {
    super("out of time");
  }
}
class Reached extends Error {}

const key = (lr: number | null, set: Readonly<Record<string, number>>) => JSON.stringify([lr, set]);
const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));
const pct = (x: number | null) => (x === null ? "" : `${(100 * x).toFixed(1)}%`);

export async function tune(s: TuneSetup): Promise<TuneResult> {
  const clock = s.clock ?? (() => performance.now());
  const start = clock();
  const at = (fraction: number) => start + 1000 * s.budget * fraction;
  const zeroSet = Object.fromEntries(Object.keys(s.regularization).map((k) => [k, 0]));
  const zero = await s.load({ ...s.fixed, ...zeroSet });
  const written = await s.load({ ...s.fixed, ...s.regularization });
  const scoring = scoringFor(zero, s.train);
  const classification = scoring !== null;
  const normalization = fitNormalization(s.train, s.normalize);
  const prepared = normalization ? applyNormalization(s.train, normalization) : s.train;
  const hasLr = !(FULL_BATCH_OPTIMIZERS as readonly string[]).includes(s.optimizer.name);
  const regNames = Object.keys(s.regularization);
  const regText = (set: Readonly<Record<string, number>>) => regNames.map((k) => `${k} ${set[k]}`).join("  ");

  // ── 1. the initial loss, regularization off ──
  const initParams = (mod: CompiledModule) => {
    const p = mod.createParams();
    mod.initParams(p, s.seed);
    return p;
  };
  const lossOff = evaluate(zero, initParams(zero), prepared).loss;
  const lossOn = evaluate(written, initParams(written), prepared).loss;
  const classes = scoring === null ? null : scoring.kind === "argmax" ? scoring.classes : 2;
  const expected = classes === null ? null : Math.log(classes);
  const initial: InitialCheck = { loss: lossOff, withRegularization: lossOn, classes, expected };
  const off = regNames.length > 0 ? ` with ${regNames.map((k) => `${k} = 0`).join(", ")}` : "";
  const verdict = expected === null ? "" : Math.abs(lossOff - expected) <= 0.1 * expected ? `: ok, near log ${classes} = ${fmt(expected)}` : `: far from log ${classes} = ${fmt(expected)} — check the initialization and the output layer`;
  s.out(`1. initial loss${off}: ${fmt(lossOff)}${verdict}${regNames.length > 0 ? ` (with the regularization as written: ${fmt(lossOn)})` : ""}`);

  // ── 2. overfit a small sample, regularization off ──
  const order = Array.from({ length: s.train.count }, (_, i) => i);
  const rand = mulberry32(s.seed * 7 + 3);
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  const small = subset(s.train, order.slice(0, Math.min(OVERFIT_SAMPLES, s.train.count)).sort((a, b) => a - b));
  const smallBatch = Math.min(s.batch, small.count);
  const smallEpochs = Math.max(20, Math.ceil(400 / Math.ceil(small.count / smallBatch)));
  let lastEpoch = { epoch: 0, loss: lossOff, accuracy: null as number | null };
  let overfitStop: OverfitCheck["stopped"] = "completed";
  const overfitEnd = clock() + 1000 * s.budget * PHASES.overfit;
  const good = (loss: number, accuracy: number | null) => (classification ? accuracy === 1 && loss < 0.05 : loss < 0.01 * lossOff);
  try {
    const r = train(zero, small, {
      epochs: smallEpochs,
      batch: smallBatch,
      optimizer: s.optimizer,
      seed: s.seed,
      normalize: s.normalize,
      threads: 1,
      onEpoch: (e) => {
        lastEpoch = { epoch: e.epoch, loss: e.train.loss, accuracy: e.train.accuracy };
        if (good(e.train.loss, e.train.accuracy)) throw new Reached();
        if (clock() > overfitEnd) throw new OutOfTime(null);
      },
    });
    overfitStop = r.stopped;
  } catch (e) {
    if (e instanceof Reached) overfitStop = "reached";
    else if (e instanceof OutOfTime) overfitStop = "budget";
    else throw e;
  }
  const overfit: OverfitCheck = { samples: small.count, epochs: lastEpoch.epoch, loss: lastEpoch.loss, accuracy: lastEpoch.accuracy, reached: overfitStop === "reached", stopped: overfitStop };
  const result = `loss ${fmt(overfit.loss)}${overfit.accuracy !== null ? `, accuracy ${pct(overfit.accuracy)}` : ""} after ${overfit.epochs} epochs`;
  s.out(
    overfit.reached
      ? `2. overfit ${small.count} samples${off}: ${result}: ok, the model can learn`
      : `2. overfit ${small.count} samples${off}: ${result}${overfitStop === "diverged" ? " (diverged: the rate is too high, or the initialization bad)" : overfitStop === "budget" ? " (out of its share of the budget)" : ""}: not there — a loss that will not fall means too low a rate or a bad initialization`,
  );

  // ── 3. learning-rate range test ──
  let range: RangeTest | null = null;
  const configured = s.optimizer.args.lr ?? null;
  let center = configured;
  if (hasLr) {
    const rangeEnd = clock() + 1000 * s.budget * PHASES.range;
    range = lrRangeTest(written, prepared, s.optimizer, { batch: s.batch, seed: s.seed, steps: RANGE_STEPS, expired: () => clock() > rangeEnd });
    if (range.suggested !== null) center = range.suggested;
    s.out(
      range.suggested !== null
        ? `3. learning-rate range test (${range.points.length} steps, lr ${showRate(range.points[0]!.lr)} → ${showRate(range.points[range.points.length - 1]!.lr)}): the loss falls fastest at lr ${showRate(roundNice(range.suggested))}, lowest at ${showRate(roundNice(range.minimum!))}`
        : `3. learning-rate range test (${range.points.length} steps): the loss did not fall; the grid centres on the configured lr ${showRate(configured)}`,
    );
  } else s.out(`3. learning-rate range test: skipped, ${s.optimizer.name} has no learning rate (its step comes from a line search or the Hessian)`);

  // ── 4. coarse grid ──
  const lrs: (number | null)[] = hasLr ? gridRates(center!) : [null];
  const regValues = Object.fromEntries(regNames.map((k) => [k, gridWeights(s.regularization[k]!)]));
  // every combination of the weights while that is at most 16 sets; beyond, one weight at a time
  let sets: Record<string, number>[] = [{}];
  const combos = regNames.reduce((n, k) => n * regValues[k]!.length, 1);
  if (combos <= 16) for (const k of regNames) sets = sets.flatMap((set) => regValues[k]!.map((v) => ({ ...set, [k]: v })));
  else {
    sets = [{ ...s.regularization }];
    for (const k of regNames) for (const v of regValues[k]!) if (v !== s.regularization[k]) sets.push({ ...s.regularization, [k]: v });
  }
  // nearest the centre first: when the budget cuts the grid short, the likeliest cells have run
  const distance = (lr: number | null, set: Record<string, number>) =>
    (lr === null || center === null ? 0 : Math.abs(Math.log(lr / center))) + regNames.reduce((d, k) => d + Math.abs(regValues[k]!.indexOf(set[k]!) - regValues[k]!.indexOf(roundNice(s.regularization[k]!) || 0)), 0);
  const cells = lrs.flatMap((lr) => sets.map((set) => ({ lr, set }))).sort((a, b) => distance(a.lr, a.set) - distance(b.lr, b.set));
  const gridEpochs = gridEpochsFor(s.epochs);
  const trials: Trial[] = [];
  const done = new Set<string>();

  /** null: the time was up once its module was compiled (a new setting of the weights compiles one) */
  const runTrial = async (phase: Trial["phase"], lr: number | null, set: Record<string, number>, epochs: number, deadline: number, force = false): Promise<Trial | null> => {
    const mod = await s.load({ ...s.fixed, ...set });
    if (clock() > deadline && !force) return null;
    const optimizer: OptimizerConfig = lr === null ? s.optimizer : { name: s.optimizer.name, args: { ...s.optimizer.args, lr } };
    const steps: number[] = [];
    const history: Trial["history"][number][] = [];
    const began = clock();
    let r: { params: ParamSet; normalization: TrainResult["normalization"]; stopped: Trial["stopped"]; bestEpoch: number | null; epochs: number };
    try {
      const t = train(mod, s.train, {
        epochs,
        batch: s.batch,
        optimizer,
        schedule: { name: "constant", args: {} },
        seed: s.seed,
        validation: s.validation,
        earlyStopping: { patience: s.patience, minDelta: s.minDelta },
        normalize: s.normalize,
        threads: 1,
        onStep: (st) => void steps.push(st.loss),
        onEpoch: (e) => void history.push({ epoch: e.epoch, train: e.train.loss, validation: e.validation?.loss ?? null }),
        // the budget is looked at after every epoch; cut, the trial is the run of the epochs it made
        onCheckpoint: (c) => {
          if (clock() > deadline && c.resume.epoch < epochs) throw new OutOfTime(c);
        },
      });
      r = { params: t.params, normalization: t.normalization, stopped: t.stopped, bestEpoch: t.bestEpoch, epochs: t.history[t.history.length - 1]?.epoch ?? 0 };
    } catch (e) {
      if (!(e instanceof OutOfTime) || e.checkpoint === null) throw e;
      const c = e.checkpoint;
      // what a completed run with early stopping keeps: the best epoch's weights
      const params = mod.createParams();
      for (const [k, v] of Object.entries(c.resume.best!.params)) params[k]!.set(v);
      r = { params, normalization: c.normalization, stopped: "budget", bestEpoch: c.resume.best!.epoch, epochs: c.resume.epoch };
    }
    const norm = (d: Dataset) => (r.normalization ? applyNormalization(d, r.normalization) : d);
    const valid = norm(s.validation);
    const v = evaluate(mod, r.params, valid);
    const dataLoss = Object.keys(set).length > 0 ? evaluate(zero, r.params, valid).loss : v.loss;
    const tr = evaluate(mod, r.params, norm(s.train));
    const trial: Trial = {
      id: trials.length + 1,
      phase,
      lr,
      set,
      epochs: r.epochs,
      patience: s.patience,
      stopped: r.stopped,
      bestEpoch: r.bestEpoch,
      train: { loss: tr.loss, accuracy: tr.accuracy },
      validation: { loss: v.loss, dataLoss, accuracy: v.accuracy },
      seconds: (clock() - began) / 1000,
      steps,
      stepsPerEpoch: Math.ceil(s.train.count / Math.max(1, Math.min(s.batch, s.train.count))),
      history,
    };
    trials.push(trial);
    done.add(`${phase}:${key(lr, set)}`);
    s.out(trialLine(trial, regText));
    return trial;
  };

  s.out(`4. coarse grid: ${lrs.length} learning rate${lrs.length > 1 ? "s" : ""}${regNames.length > 0 ? ` × ${sets.length} regularization setting${sets.length > 1 ? "s" : ""}` : ""}, ${gridEpochs} epochs each`);
  let skipped = 0;
  const gridEnd = Math.min(at(1), Math.max(at(PHASES.gridEnd), clock() + 1000 * s.budget * PHASES.gridAtLeast));
  for (const c of cells) if (clock() > gridEnd || (await runTrial("grid", c.lr, c.set, gridEpochs, gridEnd)) === null) skipped++;
  // a budget spent before the grid began still gets one trial (of at least one epoch): there is a result to report
  if (trials.length === 0) {
    await runTrial("grid", cells[0]!.lr, cells[0]!.set, gridEpochs, gridEnd, true);
    skipped--;
  }
  if (skipped > 0) s.out(`   ${skipped} of ${cells.length} grid cells not run: the grid's share of the budget was spent`);

  // ── 5. refine the best few, longer ──
  const end = at(1);
  const refineRound = async (label: string, candidates: { lr: number | null; set: Record<string, number> }[]) => {
    const todo = candidates.filter((c) => !done.has(`refine:${key(c.lr, c.set)}`));
    if (todo.length === 0 || clock() > end) return 0;
    s.out(label);
    let ran = 0;
    for (let i = 0; i < todo.length; i++) {
      const now = clock();
      if (now > end) break;
      // an equal share of what is left for each trial still to run in this round
      if ((await runTrial("refine", todo[i]!.lr, todo[i]!.set, s.epochs, now + (end - now) / (todo.length - i))) !== null) ran++;
    }
    return ran;
  };
  const ranked = () => [...trials].sort(compareTrials);
  const top = ranked().filter((t) => t.stopped !== "diverged").slice(0, REFINE);
  await refineRound(`5. refine the best ${top.length} for up to ${s.epochs} epochs (constant learning rate, early stopping with patience ${s.patience})`, top.map((t) => ({ lr: t.lr, set: { ...t.set } })));

  // ── 7. GOTO 5: the neighbours of the best refined trial ──
  for (let round = 1; round <= (s.rounds ?? ROUNDS); round++) {
    const best = ranked().find((t) => t.phase === "refine");
    if (best === undefined) break;
    const near: { lr: number | null; set: Record<string, number> }[] = [];
    if (best.lr !== null) for (const f of [0.5, 2]) near.push({ lr: roundNice(best.lr * f), set: { ...best.set } });
    for (const k of regNames) {
      const v = best.set[k]!;
      for (const w of v > 0 ? [roundNice(v / 3), roundNice(v * 3)] : [Math.min(...regValues[k]!.filter((x) => x > 0)) / 10]) near.push({ lr: best.lr, set: { ...best.set, [k]: w } });
    }
    const moves = [...(best.lr !== null ? ["lr ×½, ×2"] : []), ...(regNames.length > 0 ? ["each weight ×⅓, ×3"] : [])].join("; ");
    if ((await refineRound(`7. round ${round}: the neighbours of trial ${best.id} (${moves})`, near)) === 0) break;
  }

  const best = ranked()[0]!;
  return { initial, overfit, range, lrs, regValues, gridEpochs, trials, best, classification, seconds: (clock() - start) / 1000 };
}

export function trialLine(t: Trial, regText: (set: Readonly<Record<string, number>>) => string): string {
  const v = t.validation;
  const why =
    t.stopped === "early-stopping"
      ? ` (early stop, kept epoch ${t.bestEpoch})`
      : t.stopped === "budget"
        ? ` (budget: cut after epoch ${t.epochs}, kept epoch ${t.bestEpoch})`
        : t.stopped === "diverged"
          ? " (diverged)"
          : t.bestEpoch !== null && t.bestEpoch !== t.epochs
            ? ` (kept epoch ${t.bestEpoch})`
            : "";
  return `   trial ${String(t.id).padStart(2)} ${t.phase.padEnd(6)} lr ${showRate(t.lr).padEnd(8)} ${regText(t.set)}  ${t.epochs} epochs  valid loss ${fmt(v.loss)}${v.accuracy !== null ? ` acc ${pct(v.accuracy).padStart(6)}` : ""}  train loss ${fmt(t.train.loss)}  ${t.seconds.toFixed(1)}s${why}`;
}
