/**
 * `nnc predict` with several `--weights` (an ensemble) or `--mc-dropout N`: the members' outputs
 * averaged (ensemble.ts), the ensemble's metrics and each member's, and the averaged predictions
 * (with MC dropout, their standard deviations too) written as `nnc predict` writes its CSV.
 * docs/training.md, "Ensembles and MC dropout".
 */
import { resolve } from "node:path";
import type { Model } from "../compiler/semantics/model.js";
import { ensemblePredict, type EnsembleEvaluation, type EnsembleMember, type MemberEvaluation } from "./ensemble.js";
import { modelIdentity } from "./identity.js";
import type { CompiledModule } from "./load-module.js";
import { CliError, finishPredict, fmt, load, looksInputsOnly, pct, predictionsPath, reportConfusion, writePredictions, type PredictFlags } from "./cli-train.js";
import { MC_SEED } from "./usage.js";
import { loadWeights } from "./node/weights-files.js";

export async function runEnsemblePredict(model: Model, mod: CompiledModule, flags: PredictFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const files = flags.weights;
  const seen = new Map<string, string>();
  for (const f of files) {
    const key = resolve(f);
    if (seen.has(key)) throw new CliError(`nnc: error: --weights ${f} is given twice${seen.get(key) !== f ? ` (as ${seen.get(key)})` : ""}: an ensemble would count it twice; give each member once`);
    seen.set(key, f);
  }
  const mc = flags.mcDropout;
  if (mc !== undefined && !mod.meta.hasDropout)
    throw new CliError(`nnc: error: --mc-dropout ${mc}: model ${mod.meta.name} has no dropout: every pass would give predict's outputs, with a standard deviation of 0; drop --mc-dropout (or add dropout(…) to the model and train it)`);
  const graph = modelIdentity(model);
  const report = predictionsPath(flags) !== null ? out : err;
  const members: EnsembleMember[] = files.map((f) => {
    let w;
    try {
      w = loadWeights(f, mod);
    } catch (e) {
      throw new CliError(`nnc: error: ${(e as Error).message}`);
    }
    // the members of an ensemble are weights of this one model; one file alone is checked as `nnc predict` checks it
    if (files.length > 1) {
      if (w.file.graph === undefined) report(`note: ${f} records no graph identity (written by an earlier nnc): checked by the model's name and parameter shapes only`);
      else if (w.file.graph !== graph)
        throw new CliError(
          `nnc: error: --weights ${f}: written for another graph of model ${mod.meta.name} (its layers, operations, constants or loss differ from the model's now: ${w.file.graph.slice(0, 19)}… in the file, ${graph.slice(0, 19)}… now): the members of an ensemble must all be weights of this model; was it trained with other --set values?`,
        );
    }
    return { params: w.params, normalization: w.file.normalization };
  });

  const inputSize = Object.values(mod.meta.inputs).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const withTargets = !looksInputsOnly(flags.data, inputSize);
  // raw: each member applies its own normalization
  const data = load(flags.data, mod, model.targetDomains, !withTargets);
  const seed = flags.seed ?? MC_SEED;
  const result = ensemblePredict(mod, members, data, withTargets, mc !== undefined ? { mcDropout: { passes: mc, seed } } : {});
  const path = predictionsPath(flags);
  const written = await writePredictions(mod, path, data.count, result.outputs, result.std, result.scoring);

  const what = averaged(model);
  if (mc !== undefined) {
    const seeds = files.length === 1 ? `seed ${seed}` : `seeds ${seed}…${seed + files.length - 1}, one per member`;
    report(`MC dropout: ${mc} passes with dropout active${files.length > 1 ? ` for each of ${files.length} members` : ""} (${seeds}); the predictions are the mean over ${files.length > 1 ? `all ${mc * files.length} passes` : "them"} (${what}) and, in the _std columns, the standard deviation`);
  } else report(`ensemble of ${files.length} members: the predictions are the mean of their outputs (${what})`);
  if (result.evaluation !== null) {
    const width = Math.max(...files.map((f) => f.length));
    result.memberEvaluations.forEach((e, i) => {
      const m = e!;
      const label = files.length > 1 ? `  member ${i + 1}  ${files[i]!.padEnd(width)}  ` : "  ";
      report(mc === undefined ? `${label}${memberText(m)}` : `${label}dropout off (predict): ${memberText(m)}${files.length > 1 ? `   MC mean: ${metricsText(m.mc!)}` : ""}`);
    });
    const whole = mc === undefined ? "ensemble" : files.length > 1 ? `ensemble, the mean of all ${mc * files.length} passes` : `MC dropout, the mean of ${mc} passes`;
    report(`  ${whole}: ${metricsText(result.evaluation)}   (${data.count} samples)`);
    if (result.evaluation.confusion) reportConfusion(result.evaluation.confusion, report, files.length > 1 ? " of the ensemble" : " of the MC dropout mean");
  }
  return finishPredict(path, data.count, written, flags, out, err);
}

/** A member's own metrics: those `nnc predict` prints for its file alone, and the nll of its outputs. */
function memberText(e: MemberEvaluation): string {
  return [`loss ${fmt(e.loss)}`, ...(e.accuracy !== null ? [`accuracy ${pct(e.accuracy)}`] : []), ...(e.rmse !== null ? [`rmse ${fmt(e.rmse)}`] : []), ...(e.nll !== null ? [`nll ${fmt(e.nll)}`] : [])].join(", ");
}

/** Metrics of averaged outputs: no loss (the model's loss is of one parameter set). */
function metricsText(e: EnsembleEvaluation): string {
  const parts = [...(e.accuracy !== null ? [`accuracy ${pct(e.accuracy)}`] : []), ...(e.rmse !== null ? [`rmse ${fmt(e.rmse)}`] : []), ...(e.nll !== null ? [`nll ${fmt(e.nll)}`] : [])];
  return parts.length > 0 ? parts.join(", ") : "no metric (targets that are neither classes nor one value per output)";
}

/** What averaging the outputs averages, by the activation each output ends in. */
function averaged(model: Model): string {
  const g = model.graph;
  return model.outputs
    .map((o) => {
      const n = g.node(o.node);
      const softmax = n.op === "exp" && g.node(n.inputs[0]!).op === "sub" && g.node(g.node(n.inputs[0]!).inputs[1]!).op === "logsumexp";
      return `${o.name}: ${softmax ? "softmax probabilities, averaged before the argmax" : n.op === "sigmoid" ? "sigmoid probabilities, averaged before the 0.5 threshold" : "averaged as they are"}`;
    })
    .join("; ");
}
