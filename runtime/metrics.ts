/** Evaluation of a trained module on a data set: mean loss, and for classification accuracy and
 * a confusion matrix. */
import type { CompiledModule } from "./load-module.js";
import { arrayOf, forModule, modulePrecision } from "./precision.js";
import type { Dataset, FloatArray, ParamSet } from "./types.js";

export interface Evaluation {
  readonly loss: number;
  /** null for regression */
  readonly accuracy: number | null;
  /** confusion[actual][predicted], null for regression */
  readonly confusion: number[][] | null;
  /** regression (one output shaped like the one target): root-mean-square error; else null */
  readonly rmse: number | null;
  /** every output value is finite (weights can have a finite loss and still predict ±Infinity, e.g. hinge's max(0, 1 − t·y) at y = +∞) */
  readonly outputsFinite?: boolean;
}

function allFinite(outputs: Record<string, FloatArray>): boolean {
  for (const o of Object.values(outputs)) {
    // a sum of finite values is finite unless it overflows, which is as unusable
    let sum = 0;
    for (let i = 0; i < o.length; i++) sum += o[i]!;
    if (!Number.isFinite(sum)) return false;
  }
  return true;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * How predictions are scored: `argmax` when the target is a one-hot vector (C ≥ 2 classes),
 * `threshold` when it is a single 0/1 value (predicted class: output > 0.5), `sign` when it is a
 * single −1/+1 value, as hinge loss takes it (predicted class: the output's sign, > 0 is +1; in
 * the confusion matrix class 0 is −1 and class 1 is +1), null otherwise (regression: loss only).
 * Decided from the data, which is what the user can see.
 */
export type Scoring =
  | { kind: "argmax"; classes: number; target: string; output: string }
  | { kind: "threshold"; target: string; output: string }
  | { kind: "sign"; target: string; output: string }
  | null;

export function scoringFor(mod: CompiledModule, data: Dataset): Scoring {
  const targets = Object.entries(mod.meta.targets);
  const outputs = Object.entries(mod.meta.outputs);
  if (targets.length !== 1 || outputs.length !== 1) return null;
  const [tName, tShape] = targets[0]!;
  const [oName, oShape] = outputs[0]!;
  const n = size(tShape);
  if (n !== size(oShape)) return null;
  const t = data.targets[tName]!;
  if (n === 1 && t.length > 0 && t.every((v) => v === 1 || v === -1)) return { kind: "sign", target: tName, output: oName };
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

function argmax(a: FloatArray, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[offset + k]! > a[offset + best]!) best = k;
  return best;
}

/** Output arrays for `count` samples, in the module's batch output layout and array type. */
function outputArrays(mod: CompiledModule, count: number): Record<string, FloatArray> {
  return Object.fromEntries(Object.entries(mod.meta.outputs).map(([k, s]) => [k, arrayOf(modulePrecision(mod), count * size(s))]));
}

/** Predictions for a whole data set, in the module's batch output layout (Float32Arrays for an f32 module). */
export function predictAll(mod: CompiledModule, params: ParamSet, data: Dataset): Record<string, FloatArray> {
  const outputs = outputArrays(mod, data.count);
  mod.predictBatch(params, forModule(data, mod).inputs, data.count, outputs);
  return outputs;
}

/** `data` in any array type: converted here for an f32 module unless it already is (forModule). */
export function evaluate(mod: CompiledModule, params: ParamSet, data: Dataset, scoring: Scoring = scoringFor(mod, data)): Evaluation {
  data = forModule(data, mod);
  // the loss and the outputs in one forward pass over the data (evaluateBatch)
  const outputs = outputArrays(mod, data.count);
  const loss = data.count > 0 ? mod.evaluateBatch(params, data.inputs, data.targets, data.count, outputs) : NaN;
  return scoreOutputs(mod, data, loss, outputs, scoring);
}

/** The evaluation of outputs evaluateBatch wrote for `data` (in the module's array type), with its loss. */
export function scoreOutputs(mod: CompiledModule, data: Dataset, loss: number, outputs: Record<string, FloatArray>, scoring: Scoring): Evaluation {
  const outputsFinite = allFinite(outputs);
  if (scoring === null) return { loss, accuracy: null, confusion: null, rmse: rmse(mod, outputs, data), outputsFinite };
  const out = outputs[scoring.output]!;
  const t = data.targets[scoring.target]!;
  const classes = scoring.kind === "argmax" ? scoring.classes : 2;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let r = 0; r < data.count; r++) {
    // threshold: 0/1 at 0.5; sign: −1/+1 at 0
    const cut = scoring.kind === "sign" ? 0 : 0.5;
    const actual = scoring.kind === "argmax" ? argmax(t, r * classes, classes) : t[r]! > cut ? 1 : 0;
    const predicted = scoring.kind === "argmax" ? argmax(out, r * classes, classes) : out[r]! > cut ? 1 : 0;
    confusion[actual]![predicted]! += 1;
    if (actual === predicted) correct++;
  }
  return { loss, accuracy: data.count > 0 ? correct / data.count : NaN, confusion, rmse: null, outputsFinite };
}

function rmse(mod: CompiledModule, outputs: Record<string, FloatArray>, data: Dataset): number | null {
  const targets = Object.entries(mod.meta.targets);
  const outs = Object.entries(mod.meta.outputs);
  if (targets.length !== 1 || outs.length !== 1 || size(targets[0]![1]) !== size(outs[0]![1]) || data.count === 0) return null;
  const out = outputs[outs[0]![0]]!;
  const t = data.targets[targets[0]![0]]!;
  let s = 0;
  for (let i = 0; i < t.length; i++) s += (out[i]! - t[i]!) ** 2;
  return Math.sqrt(s / t.length);
}
