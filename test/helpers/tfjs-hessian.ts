/**
 * Hessian-vector products of a `.nn` model per TensorFlow.js: H·v = ∇_θ (∇_θ L · v), with the
 * gradient of a gradient (nested tf.grads), on the interpreter of tfjs-oracle.ts (CPU backend,
 * float32). Only ops whose tfjs gradient is itself differentiable are used; TWICE_DIFFERENTIABLE
 * says which built-in ops are replaced and why.
 */
import * as tf from "@tensorflow/tfjs";
import type { Model } from "../../compiler/semantics/model.js";
import { type Formulations, oracleLoss, paramTensors } from "./tfjs-oracle.js";

type Arrays = Record<string, ArrayLike<number>>;

export interface HessianOracleResult {
  readonly loss: number;
  /** ∇_θ L, the first-order gradient the nested one starts from */
  readonly grad: Record<string, Float32Array>;
  readonly hv: Record<string, Float32Array>;
}

/** exp(a) as expm1(a) + 1: Expm1's gradient is dy·exp(x) of its saved *input*, so it differentiates again. */
const exp = (a: tf.Tensor) => tf.add(tf.expm1(a), 1);

/** max(a) as a plain number: a shift that softmax-like functions are invariant to, so held constant. */
const shift = (a: tf.Tensor) => Math.max(...a.dataSync());

/**
 * Second-order-safe formulations, measured on tfjs 4.22 (CPU): a nested tf.grad is right only if
 * every forward op's gradient reaches θ through tensors on the tape.
 *
 * - Ops whose gradient reads their saved *output* — Exp, Sigmoid, Tanh, Softmax, LogSoftmax, Elu
 *   (its EluGrad kernel has no gradient at all), Max/Min reductions, MaxPool — lose that output's
 *   dependence on θ: tfjs saves a clone of the output before the op's own tape entry exists
 *   (engine.saveTensorsForBackwardMode), so the outer tf.grad does not see it. The result is not
 *   an error but a silently wrong H·v (with tf.softmax, tf.tanh, tf.sigmoid: 67 % off for
 *   examples/digits.nn, 19 % for iris, 8 % for xor, as a whole vector), or "Cannot compute gradient"
 *   when no other path is left (tf.sigmoid alone). They are rebuilt from Expm1, whose gradient
 *   reads its input, and division.
 * - Ops whose gradient builds a mask with a comparison that has no registered gradient — Greater
 *   (leakyRelu, prelu, where), Less (maximum's second operand), LessEqual (minimum), Equal (max
 *   reduction, so logSumExp) — throw "gradient function not found". Their kinks are rebuilt from
 *   relu, whose gradient is dy·step(x) and Step's gradient is zero, the right second derivative
 *   away from the kink.
 * - Safe as they are, and used as they are: add, sub, mul, div, neg, matMul, transpose, slice,
 *   reshape, sum, mean, square, pow with a constant exponent, log, sqrt, abs, relu, softplus
 *   (its gradient is sigmoid of the saved input).
 */
export const TWICE_DIFFERENTIABLE: Formulations = {
  exp: (x) => exp(x.tensor(0, "a")),
  sigmoid: (x) => tf.div(1, tf.add(2, tf.expm1(tf.neg(x.tensor(0, "a"))))),
  // expm1(2a) / (expm1(2a) + 2): no cancellation near 0 (1 − 2/(e^{2a}+1) would lose digits)
  tanh: (x) => {
    const e = tf.expm1(tf.mul(2, x.tensor(0, "a")));
    return tf.div(e, tf.add(e, 2));
  },
  softmax: (x) => {
    const a = x.tensor(0, "a");
    const e = exp(tf.sub(a, shift(a)));
    return tf.div(e, tf.sum(e));
  },
  log_softmax: (x) => {
    const a = x.tensor(0, "a");
    const m = shift(a);
    return tf.sub(tf.sub(a, m), tf.log(tf.sum(exp(tf.sub(a, m)))));
  },
  logsumexp: (x) => {
    const a = x.tensor(0, "v");
    const m = shift(a);
    return tf.add(m, tf.log(tf.sum(exp(tf.sub(a, m)))));
  },
  // relu(a) + α·(e^{min(a,0)} − 1), min(a, 0) = −relu(−a)
  elu: (x) => tf.add(tf.relu(x.tensor(0, "a")), tf.mul(x.number(1, "alpha", 1), tf.expm1(tf.neg(tf.relu(tf.neg(x.tensor(0, "a"))))))),
  leaky_relu: (x) => kinked(x.tensor(0, "a"), tf.scalar(x.number(1, "alpha", 0.01))),
  prelu: (x) => kinked(x.tensor(0, "a"), x.tensor(1, "p")),
  max: (x) => tf.add(x.tensor(1, "b"), tf.relu(tf.sub(x.tensor(0, "a"), x.tensor(1, "b")))),
  min: (x) => tf.sub(x.tensor(0, "a"), tf.relu(tf.sub(x.tensor(0, "a"), x.tensor(1, "b")))),
  hinge: (x) => tf.sum(tf.relu(tf.sub(1, tf.mul(x.tensor(1, "t"), x.tensor(0, "f"))))),
};

/** a for a > 0, slope·a otherwise: relu(a) − slope·relu(−a) */
function kinked(a: tf.Tensor, slope: tf.Tensor): tf.Tensor {
  return tf.sub(tf.relu(a), tf.mul(slope, tf.relu(tf.neg(a))));
}

/** The batch objective's loss, gradient and H·v per tfjs (nested tf.grads), at `params` along `v`. */
export function oracleHessianVectorProduct(
  source: string,
  model: Model,
  params: Arrays,
  inputs: Record<string, Float64Array>,
  targets: Record<string, Float64Array>,
  count: number,
  v: Arrays,
  formulations: Formulations = TWICE_DIFFERENTIABLE,
): HessianOracleResult {
  return tf.tidy(() => {
    const f = oracleLoss(source, model, inputs, targets, count, formulations);
    const gradient = tf.grads(f);
    const vs = paramTensors(model, v);
    // ∇_θ L · v, a scalar whose gradient is H·v (H is symmetric)
    const gv = (...vars: tf.Tensor[]) => tf.addN(gradient(vars).map((g, k) => tf.sum(tf.mul(g, vs[k]!)))) as tf.Scalar;
    const ps = paramTensors(model, params);
    const hv = tf.grads(gv)(ps);
    const grad = gradient(ps);
    const loss = f(...ps).dataSync()[0]!;
    const out = (ts: tf.Tensor[]) => Object.fromEntries(model.params.map((p, k) => [p.name, ts[k]!.dataSync() as Float32Array]));
    return { loss, grad: out(grad), hv: out(hv) };
  });
}

/**
 * H·v as central differences of tfjs's own float32 gradient, (∇L(θ + hv) − ∇L(θ − hv)) / 2h: an
 * estimate that uses first derivatives only, to check the nested tf.grads above independently of nnc.
 */
export function oracleGradientDifferences(
  source: string,
  model: Model,
  params: Arrays,
  inputs: Record<string, Float64Array>,
  targets: Record<string, Float64Array>,
  count: number,
  v: Arrays,
  h: number,
  formulations: Formulations = TWICE_DIFFERENTIABLE,
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  tf.tidy(() => {
    const gradient = tf.grads(oracleLoss(source, model, inputs, targets, count, formulations));
    const at = (sign: number) =>
      gradient(model.params.map((p) => tf.tensor(Array.from(params[p.name]!, (x, i) => x + sign * h * v[p.name]![i]!), p.shape as number[], "float32")));
    const plus = at(1), minus = at(-1);
    model.params.forEach((p, k) => {
      const a = plus[k]!.dataSync(), b = minus[k]!.dataSync();
      out[p.name] = Float64Array.from(a, (x, i) => (x - b[i]!) / (2 * h));
    });
  });
  return out;
}
