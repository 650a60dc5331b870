/**
 * Prediction by several models at once (the notes' "model ensembles", and dropout's "ensemble
 * view"): the mean of the members' outputs, and with MC dropout the mean and standard deviation
 * over dropout-active passes. docs/training.md, "Ensembles and MC dropout", says what is averaged.
 *
 *  - Each member predicts on the data with its own normalization (a member is a weights file:
 *    parameters and the normalization they were trained with).
 *  - The ensemble's outputs are the mean of the members' outputs: for a softmax or sigmoid output
 *    these are probabilities, so the ensemble averages probabilities (then takes the argmax), never
 *    logits; any other output is averaged as it is.
 *  - MC dropout: each member makes `passes` forward passes with dropout active (predictBatchTrain),
 *    member i (from 0) drawing its masks from createRandom(seed + i). The outputs are the mean over
 *    all members' passes and the standard deviation over them (of the mixture: it includes the
 *    members' disagreement), computed by Welford's update in double precision.
 *  - Metrics of averaged outputs: accuracy and the confusion matrix, or the RMSE (metrics.ts
 *    scoreOutputs), and for probability outputs the negative log-likelihood of the targets. The
 *    model's own loss is a function of one parameter set, not of averaged outputs: the ensemble
 *    has none; each member's is reported with its metrics (metrics.ts evaluate).
 */
import { applyNormalization } from "./data/normalize.js";
import type { CompiledModule } from "./load-module.js";
import { evaluate, scoreOutputs, scoringFor, type Evaluation, type Scoring } from "./metrics.js";
import { arrayOf, forModule, modulePrecision } from "./precision.js";
import type { Dataset, FloatArray, Normalization, ParamSet } from "./types.js";

/** One model of an ensemble: its parameters and the normalization its inputs need (null: none). */
export interface EnsembleMember {
  readonly params: ParamSet;
  readonly normalization?: Normalization | null;
}

export interface EnsembleOptions {
  /** MC dropout: this many dropout-active passes per member (at least 2), masks drawn from `seed` + member index */
  readonly mcDropout?: { readonly passes: number; readonly seed: number };
  /** how outputs are scored against the targets (scoringFor by default); null: as regression */
  readonly scoring?: Scoring;
}

/** Metrics of averaged outputs. */
export interface EnsembleEvaluation {
  /** null for regression */
  readonly accuracy: number | null;
  readonly confusion: number[][] | null;
  readonly rmse: number | null;
  /**
   * −mean log p(target) of the averaged probabilities (a natural-log cross-entropy), when the
   * scored output holds probabilities (probabilityOutput); else null. Probabilities below 1e-300
   * count as 1e-300, so one confident mistake is large but finite.
   */
  readonly nll: number | null;
}

export interface EnsembleResult {
  /** the mean over members (and passes) of each output, in the module's batch layout, in double */
  readonly outputs: Record<string, Float64Array>;
  /** with MC dropout: the standard deviation over all passes (n − 1 in the denominator); else null */
  readonly std: Record<string, Float64Array> | null;
  /** the ensemble's metrics, of `outputs`; null when the data has no targets */
  readonly evaluation: EnsembleEvaluation | null;
  /** each member's metrics (null without targets), in the order of the members */
  readonly memberEvaluations: readonly (MemberEvaluation | null)[];
  /** the scoring used; null for regression or without targets */
  readonly scoring: Scoring;
}

/**
 * One member's metrics: its own evaluate() — the model's loss and its metrics, exactly what
 * `nnc predict` with that weights file alone reports — with the nll of its outputs, and with MC
 * dropout the metrics of the mean of its own passes.
 */
export type MemberEvaluation = Evaluation & { readonly nll: number | null; readonly mc: EnsembleEvaluation | null };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Probabilities below this count as it in the nll: log(1e-300) ≈ −691. */
const SMALLEST_PROBABILITY = 1e-300;

/**
 * The ensemble's prediction on `data` (with targets, when `withTargets`): checked arguments are the
 * caller's business (api.ts checks them for the library).
 */
export function ensemblePredict(mod: CompiledModule, members: readonly EnsembleMember[], data: Dataset, withTargets: boolean, options: EnsembleOptions = {}): EnsembleResult {
  const outs = Object.entries(mod.meta.outputs);
  const doubles = () => Object.fromEntries(outs.map(([k, s]) => [k, new Float64Array(data.count * size(s))]));
  const mean = doubles();
  const mc = options.mcDropout;
  // Welford: per element, the running mean (in `mean`) and the sum of squared deviations
  const m2 = mc ? doubles() : null;
  const scoring = withTargets ? (options.scoring === undefined ? scoringFor(mod, data) : options.scoring) : null;
  const score = (outputs: Record<string, FloatArray>): EnsembleEvaluation => {
    const e = scoreOutputs(mod, data, NaN, outputs, scoring);
    return { accuracy: e.accuracy, confusion: e.confusion, rmse: e.rmse, nll: nll(outputs, data, scoring) };
  };
  const memberEvaluations: (MemberEvaluation | null)[] = [];
  let passes = 0;
  members.forEach((member, i) => {
    const own = forModule(member.normalization ? applyNormalization(data, member.normalization) : data, mod);
    const out = Object.fromEntries(outs.map(([k, s]) => [k, arrayOf(modulePrecision(mod), data.count * size(s))]));
    if (!mc || withTargets) mod.predictBatch(member.params, own.inputs, own.count, out);
    if (mc) {
      const mcMean = doubles();
      const random = mod.createRandom(mc.seed + i);
      // the nll of predict's outputs, before their array holds the passes
      const inference = withTargets ? nll(out, data, scoring) : null;
      const pass = out;
      for (let p = 0; p < mc.passes; p++) {
        mod.predictBatchTrain(member.params, own.inputs, own.count, pass, random);
        passes++;
        for (const [k] of outs) welford(pass[k]!, mean[k]!, m2![k]!, passes, mcMean[k]!, p + 1);
      }
      memberEvaluations.push(withTargets ? { ...evaluate(mod, member.params, own, scoring), nll: inference, mc: score(mcMean) } : null);
    } else {
      // summed in member order, divided once at the end: (o₁ + … + o_K) / K
      for (const [k] of outs) {
        const x = out[k]!;
        const acc = mean[k]!;
        for (let j = 0; j < x.length; j++) acc[j]! += x[j]!;
      }
      memberEvaluations.push(withTargets ? { ...evaluate(mod, member.params, own, scoring), nll: nll(out, data, scoring), mc: null } : null);
    }
  });
  if (!mc) for (const a of Object.values(mean)) for (let j = 0; j < a.length; j++) a[j]! /= members.length;
  const std = m2 && Object.fromEntries(Object.entries(m2).map(([k, sq]) => [k, sq.map((v) => Math.sqrt(v / Math.max(1, passes - 1)))]));
  return { outputs: mean, std, evaluation: withTargets ? score(mean) : null, memberEvaluations, scoring };
}

/** One pass x into the running mean and squared deviations of the whole ensemble (n passes so far) and the running mean of its member (m passes so far). */
function welford(x: FloatArray, mean: Float64Array, m2: Float64Array, n: number, memberMean: Float64Array, m: number): void {
  for (let j = 0; j < x.length; j++) {
    const v = x[j]!;
    const d = v - mean[j]!;
    mean[j]! += d / n;
    m2[j]! += d * (v - mean[j]!);
    memberMean[j]! += (v - memberMean[j]!) / m;
  }
}

/**
 * Whether the scored output holds probabilities, read off the values as scoringFor reads the
 * targets: with one-hot targets each row lies in [0, 1] and sums to 1 (a softmax, to float32
 * rounding); with 0/1 targets each value lies in [0, 1] (a sigmoid). A logit or linear output
 * fails it on real data; nll is reported only when it holds.
 */
export function probabilityOutput(outputs: Record<string, FloatArray>, count: number, scoring: Scoring): boolean {
  if (scoring === null || count === 0) return false;
  const o = outputs[scoring.output]!;
  for (let i = 0; i < o.length; i++) if (!(o[i]! >= 0 && o[i]! <= 1)) return false;
  if (scoring.kind === "threshold") return true;
  // any other scoring (labels ±1 scored by sign) reads scores, not probabilities
  if (scoring.kind !== "argmax") return false;
  const c = scoring.classes;
  for (let r = 0; r < count; r++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += o[r * c + k]!;
    if (!(Math.abs(s - 1) <= 1e-5)) return false;
  }
  return true;
}

/** −mean log p(target) of probability outputs; null when the output is not probabilities. */
export function nll(outputs: Record<string, FloatArray>, data: Dataset, scoring: Scoring): number | null {
  if (scoring === null || (scoring.kind !== "argmax" && scoring.kind !== "threshold") || !probabilityOutput(outputs, data.count, scoring)) return null;
  const o = outputs[scoring.output]!;
  const t = data.targets[scoring.target]!;
  const log = (p: number) => Math.log(Math.max(p, SMALLEST_PROBABILITY));
  let s = 0;
  if (scoring.kind === "argmax") {
    const c = scoring.classes;
    for (let r = 0; r < data.count; r++) for (let k = 0; k < c; k++) if (t[r * c + k] === 1) s -= log(o[r * c + k]!);
  } else for (let r = 0; r < data.count; r++) s -= t[r] === 1 ? log(o[r]!) : log(1 - o[r]!);
  return s / data.count;
}
