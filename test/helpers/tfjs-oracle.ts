/**
 * An independent implementation of a `.nn` model in TensorFlow.js: the AST is interpreted directly
 * with tfjs ops (CPU backend, float32) and differentiated with tf.grads. It shares nothing with
 * nnc's IR, rewrite rules, derivative table or code generator, only the parser and the parameter
 * list, so agreement is evidence that the whole pipeline is right.
 */
import * as tf from "@tensorflow/tfjs";
import { Diagnostics } from "../../compiler/diagnostics/diagnostic.js";
import type { Model } from "../../compiler/semantics/model.js";
import type { Expr, Program } from "../../compiler/syntax/ast.js";
import { parse } from "../../compiler/syntax/parser.js";
import * as image from "./tfjs-image.js";

type Env = Map<string, tf.Tensor>;

export interface OracleResult {
  readonly loss: number;
  readonly grads: Record<string, Float32Array>;
}

let ready: Promise<void> | null = null;
export function tfReady(): Promise<void> {
  ready ??= tf.setBackend("cpu").then(() => tf.ready());
  return ready;
}

/** The arguments of a call as the interpreter sees them: tensors, or constants read as numbers. */
export interface Args {
  tensor(i: number, name: string): tf.Tensor;
  number(i: number, name: string, fallback: number): number;
}

/**
 * Other tfjs formulations of DSL functions (dense activations included), by DSL name, used instead
 * of the interpreter's own; the Hessian oracle needs ops whose gradients are differentiable again.
 */
export type Formulations = Readonly<Partial<Record<string, (args: Args) => tf.Tensor>>>;

/** The model's parameters as float32 tfjs tensors, in `model.params` order. */
export function paramTensors(model: Model, params: Record<string, ArrayLike<number>>): tf.Tensor[] {
  return model.params.map((p) => tf.tensor(Array.from(params[p.name]!), p.shape as number[], "float32"));
}

/**
 * The batch objective (mean over the samples of the interpreted loss; parameter-only terms thus once)
 * as a function of the parameter tensors, in `model.params` order, for tf.grads.
 */
export function oracleLoss(
  source: string,
  model: Model,
  inputs: Record<string, Float64Array>,
  targets: Record<string, Float64Array>,
  count: number,
  formulations: Formulations = {},
): (...vars: tf.Tensor[]) => tf.Scalar {
  const program = parse(source, new Diagnostics());
  return (...vars: tf.Tensor[]) => {
    const losses: tf.Tensor[] = [];
    for (let n = 0; n < count; n++) {
      const env: Env = new Map();
      for (const [k, c] of Object.entries(model.consts)) env.set(k, tf.scalar(c));
      model.params.forEach((p, k) => env.set(p.name, vars[k]!));
      for (const t of [...model.inputs.map((x) => [x, inputs] as const), ...model.targets.map((x) => [x, targets] as const)]) {
        const [info, src] = t;
        const size = info.shape.reduce((a, b) => a * b, 1);
        env.set(info.name, tf.tensor(Array.from(src[info.name]!.subarray(n * size, (n + 1) * size)), info.shape as number[]));
      }
      losses.push(runProgram(program, env, formulations));
    }
    return tf.addN(losses).div(count) as tf.Scalar;
  };
}

/** The mean loss over the batch and its gradient with respect to every parameter, per tfjs. */
export function oracleGradient(
  source: string,
  model: Model,
  params: Record<string, Float64Array | Float32Array>,
  inputs: Record<string, Float64Array>,
  targets: Record<string, Float64Array>,
  count: number,
): OracleResult {
  const names = model.params.map((p) => p.name);
  return tf.tidy(() => {
    const ps = paramTensors(model, params);
    const f = oracleLoss(source, model, inputs, targets, count);
    const g = tf.grads(f);
    const grads = g(ps);
    const loss = f(...ps).dataSync()[0]!;
    const out: Record<string, Float32Array> = {};
    names.forEach((name, k) => (out[name] = grads[k]!.dataSync() as Float32Array));
    return { loss, grads: out };
  });
}

function runProgram(program: Program, env: Env, fs: Formulations): tf.Tensor {
  let loss: tf.Tensor | null = null;
  for (const s of program.statements) {
    if (s.kind === "equation") env.set(s.name.name, evalExpr(s.value, env, fs));
    else if (s.kind === "layer") {
      const call = s.value;
      if (call.kind !== "call") throw new Error("layer without dense");
      if (call.callee.name !== "dense") {
        env.set(s.name.name, imageLayer(s.name.name, call, env, fs));
        continue;
      }
      const pos = call.args.filter((a) => a.name === null).map((a) => a.value);
      const x = evalExpr(pos[0]!, env, fs);
      const act = (pos[2] ?? call.args.find((a) => a.name?.name === "activation")!.value) as Expr & { kind: "name" };
      const W = env.get(`${s.name.name}.W`)!;
      const b = env.get(`${s.name.name}.b`)!;
      const z = tf.add(matvec(W, x), b);
      const own = fs[act.name];
      env.set(s.name.name, own ? own({ tensor: () => z, number: (_i, _n, fallback) => fallback }) : activation(act.name, z));
    } else if (s.kind === "loss") loss = evalExpr(s.value, env, fs);
  }
  return loss!;
}

/** language §11's layers: conv2d(input, filters, kernel, activation, stride = 1, padding = "valid"), maxpool, avgpool */
function imageLayer(name: string, call: Expr & { kind: "call" }, env: Env, fs: Formulations): tf.Tensor {
  const pos = call.args.filter((a) => a.name === null).map((a) => a.value);
  const kw = (k: string) => call.args.find((a) => a.name?.name === k)?.value;
  const x = evalExpr(pos[0]!, env, fs);
  if (call.callee.name !== "conv2d") return image[call.callee.name as "maxpool" | "avgpool"](x, num(pos[1] ?? kw("k")!, env, fs));
  const stride = pos[4] ?? kw("stride");
  const z = image.conv2d(x, env.get(`${name}.W`)!, stride ? num(stride, env, fs) : 1, paddingOf(pos[5] ?? kw("padding"), env, fs));
  const zb = tf.add(z, env.get(`${name}.b`)!.reshape([-1, 1, 1]));
  const act = (pos[3] ?? kw("activation")) as Expr & { kind: "name" };
  const own = fs[act.name];
  return own ? own({ tensor: () => zb, number: (_i, _n, fallback) => fallback }) : activation(act.name, zb);
}

function paddingOf(e: Expr | undefined, env: Env, fs: Formulations): image.Padding {
  if (e === undefined) return "valid";
  if (e.kind === "string") return e.value as "valid" | "same";
  return num(e, env, fs);
}

function matvec(A: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (x.rank === 1) return tf.matMul(A as tf.Tensor2D, x.reshape([x.shape[0]!, 1]) as tf.Tensor2D).reshape([A.shape[0]!]);
  return tf.matMul(A as tf.Tensor2D, x as tf.Tensor2D);
}

function activation(name: string, z: tf.Tensor, alpha?: number): tf.Tensor {
  switch (name) {
    case "identity":
      return z;
    case "sigmoid":
      return tf.sigmoid(z);
    case "tanh":
      return tf.tanh(z);
    case "relu":
      return tf.relu(z);
    case "softplus":
      return tf.softplus(z);
    case "exp":
      return tf.exp(z);
    case "log":
      return tf.log(z);
    case "sqrt":
      return tf.sqrt(z);
    case "abs":
      return tf.abs(z);
    case "leaky_relu":
      return tf.leakyRelu(z, alpha ?? 0.01);
    case "elu": {
      const a = alpha ?? 1;
      // relu(z) + α(exp(min(z, 0)) − 1): z for z > 0, α(eᶻ − 1) otherwise
      return tf.add(tf.relu(z), tf.mul(a, tf.sub(tf.exp(tf.minimum(z, 0)), 1)));
    }
    case "softmax":
      return tf.softmax(z);
    case "log_softmax":
      return tf.logSoftmax(z);
    default:
      throw new Error(`oracle: no activation ${name}`);
  }
}

function num(e: Expr, env: Env, fs: Formulations): number {
  return evalExpr(e, env, fs).dataSync()[0]!;
}

function evalExpr(e: Expr, env: Env, fs: Formulations): tf.Tensor {
  switch (e.kind) {
    case "number":
      return tf.scalar(e.value);
    case "name": {
      const v = env.get(e.name);
      if (!v) throw new Error(`oracle: unbound ${e.name}`);
      return v;
    }
    case "unary":
      return e.op === "-" ? tf.neg(evalExpr(e.operand, env, fs)) : evalExpr(e.operand, env, fs);
    case "binary": {
      const a = evalExpr(e.left, env, fs);
      if (e.op === "^") return tf.pow(a, tf.scalar(num(e.right, env, fs)));
      const b = evalExpr(e.right, env, fs);
      switch (e.op) {
        case "+":
          return tf.add(a, b);
        case "-":
          return tf.sub(a, b);
        case "*":
          return tf.mul(a, b);
        case "/":
          return tf.div(a, b);
        case "@":
          return matvec(a, b);
      }
      break;
    }
    case "index": {
      const a = evalExpr(e.target, env, fs);
      // per axis an index (the axis dropped) or a range start:stop (either side may be left out)
      return image.slice(
        a,
        e.indices.map((i) => (i.kind === "range" ? { start: i.start && num(i.start, env, fs), stop: i.stop && num(i.stop, env, fs) } : { index: num(i, env, fs) })),
      );
    }
    case "call": {
      const pos = e.args.filter((a) => a.name === null).map((a) => a.value);
      const kw = (name: string) => e.args.find((a) => a.name?.name === name)?.value;
      const arg = (i: number, name: string) => {
        const x = pos[i] ?? kw(name);
        if (!x) throw new Error(`oracle: ${e.callee.name} needs ${name}`);
        return evalExpr(x, env, fs);
      };
      const constArg = (i: number, name: string, def: number) => {
        const x = pos[i] ?? kw(name);
        return x ? num(x, env, fs) : def;
      };
      const f = e.callee.name;
      const own = fs[f];
      if (own) return own({ tensor: arg, number: constArg });
      switch (f) {
        case "conv2d": {
          const stride = pos[2] ?? kw("stride");
          return image.conv2d(arg(0, "input"), arg(1, "filters"), stride ? num(stride, env, fs) : 1, paddingOf(pos[3] ?? kw("padding"), env, fs));
        }
        case "maxpool":
        case "avgpool":
          return image[f](arg(0, "input"), constArg(1, "k", NaN));
        case "flatten":
          return tf.reshape(arg(0, "input"), [-1]);
        case "concat": {
          const axis = kw("axis");
          return tf.concat(pos.map((p) => evalExpr(p, env, fs)), axis ? num(axis, env, fs) : 0);
        }
        case "leaky_relu":
          return activation(f, arg(0, "a"), constArg(1, "alpha", 0.01));
        case "elu":
          return activation(f, arg(0, "a"), constArg(1, "alpha", 1));
        case "prelu": {
          const a = arg(0, "a");
          return tf.maximum(tf.mul(arg(1, "p"), a), a);
        }
        case "max":
          return tf.maximum(arg(0, "a"), arg(1, "b"));
        case "min":
          return tf.minimum(arg(0, "a"), arg(1, "b"));
        case "logsumexp":
          return tf.logSumExp(arg(0, "v"));
        case "dropout":
          return arg(0, "a");
        case "transpose":
          return tf.transpose(arg(0, "A"));
        case "dot":
          return tf.sum(tf.mul(arg(0, "u"), arg(1, "v")));
        case "outer":
          return tf.outerProduct(arg(0, "u") as tf.Tensor1D, arg(1, "v") as tf.Tensor1D);
        case "sum":
          return tf.sum(arg(0, "a"));
        case "mean":
          return tf.mean(arg(0, "a"));
        case "sumsq":
          return tf.sum(tf.square(arg(0, "a")));
        case "sumabs":
          return tf.sum(tf.abs(arg(0, "a")));
        case "cross_entropy":
          return tf.neg(tf.sum(tf.mul(arg(1, "t"), tf.log(arg(0, "p")))));
        case "binary_cross_entropy": {
          const p = arg(0, "p"), t = arg(1, "t");
          return tf.neg(tf.sum(tf.add(tf.mul(t, tf.log(p)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, p))))));
        }
        case "mse":
          return tf.mean(tf.square(tf.sub(arg(0, "y"), arg(1, "t"))));
        case "hinge":
          return tf.sum(tf.maximum(0, tf.sub(1, tf.mul(arg(1, "t"), arg(0, "f")))));
        case "gaussian_nll": {
          const mu = arg(0, "mu"), t = arg(1, "t"), s = arg(2, "sigma");
          const per = tf.add(tf.add(0.5 * Math.log(2 * Math.PI), tf.log(s)), tf.div(tf.square(tf.sub(t, mu)), tf.mul(2, tf.square(s))));
          return tf.sum(tf.mul(per, tf.onesLike(mu)));
        }
        default:
          return activation(f, arg(0, "a"));
      }
    }
  }
  throw new Error(`oracle: cannot evaluate ${e.kind}`);
}
