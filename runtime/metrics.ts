/** Evaluation of a trained module on a data set: mean loss, and for classification accuracy and
 * a confusion matrix. */
import type { CompiledModule } from "./load-module.js";
import type { Dataset, ParamSet } from "./types.js";

export interface Evaluation {
  readonly loss: number;
  /** null for regression */
  readonly accuracy: number | null;
  /** confusion[actual][predicted], null for regression */
  readonly confusion: number[][] | null;
  /** regression (one output shaped like the one target): root-mean-square error; else null */
  readonly rmse: number | null;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * How predictions are scored: `argmax` when the target is a one-hot vector (C ≥ 2 classes),
 * `threshold` when it is a single 0/1 value (predicted class: output > 0.5), null otherwise
 * (regression: loss only). Decided from the data, which is what the user can see.
 */
export type Scoring = { kind: "argmax"; classes: number; target: string; output: string } | { kind: "threshold"; target: string; output: string } | null;

export function scoringFor(mod: CompiledModule, data: Dataset): Scoring {
  const targets = Object.entries(mod.meta.targets);
  const outputs = Object.entries(mod.meta.outputs);
  if (targets.length !== 1 || outputs.length !== 1) return null;
  const [tName, tShape] = targets[0]!;
  const [oName, oShape] = outputs[0]!;
  const n = size(tShape);
  if (n !== size(oShape)) return null;
  const t = data.targets[tName]!;
  for (let i = 0; i < t.length; i++) if (t[i] !== 0 && t[i] !== 1) return null;
  if (n >= 2) {
    for (let r = 0; r < data.count; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += t[r * n + k]!;
      if (s !== 1) return null;
    }
    return { kind: "argmax", classes: n, target: tName, output: oName };
  }
  return { kind: "threshold", target: tName, output: oName };
}

function argmax(a: Float64Array, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[offset + k]! > a[offset + best]!) best = k;
  return best;
}

/** Predictions for a whole data set, in the module's batch output layout. */
export function predictAll(mod: CompiledModule, params: ParamSet, data: Dataset): Record<string, Float64Array> {
  const outputs = Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, new Float64Array(data.count * size(s))]));
  mod.predictBatch(params, data.inputs, data.count, outputs);
  return outputs;
}

export function evaluate(mod: CompiledModule, params: ParamSet, data: Dataset, scoring: Scoring = scoringFor(mod, data)): Evaluation {
  // the loss and the outputs in one forward pass over the data (evaluateBatch)
  const outputs = Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, new Float64Array(data.count * size(s))]));
  const loss = data.count > 0 ? mod.evaluateBatch(params, data.inputs, data.targets, data.count, outputs) : NaN;
  if (scoring === null) return { loss, accuracy: null, confusion: null, rmse: rmse(mod, outputs, data) };
  const out = outputs[scoring.output]!;
  const t = data.targets[scoring.target]!;
  const classes = scoring.kind === "argmax" ? scoring.classes : 2;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let r = 0; r < data.count; r++) {
    const actual = scoring.kind === "argmax" ? argmax(t, r * classes, classes) : t[r]! > 0.5 ? 1 : 0;
    const predicted = scoring.kind === "argmax" ? argmax(out, r * classes, classes) : out[r]! > 0.5 ? 1 : 0;
    confusion[actual]![predicted]! += 1;
    if (actual === predicted) correct++;
  }
  return { loss, accuracy: data.count > 0 ? correct / data.count : NaN, confusion, rmse: null };
}

function rmse(mod: CompiledModule, outputs: Record<string, Float64Array>, data: Dataset): number | null {
  const targets = Object.entries(mod.meta.targets);
  const outs = Object.entries(mod.meta.outputs);
  if (targets.length !== 1 || outs.length !== 1 || size(targets[0]![1]) !== size(outs[0]![1]) || data.count === 0) return null;
  const out = outputs[outs[0]![0]]!;
  const t = data.targets[targets[0]![0]]!;
  let s = 0;
  for (let i = 0; i < t.length; i++) s += (out[i]! - t[i]!) ** 2;
  return Math.sqrt(s / t.length);
}
