/**
 * The middle end: from the checked model to the functions the module is made of, each a graph of
 * its own (specialized, differentiated, verified) and the sinks that say what the function
 * produces from it. One step at a time, the IR verifier after every step that makes a graph:
 *
 *   split the loss      per-sample terms | parameter-only terms (split-loss.ts), on a copy
 *   specialize          the inference graph (dropout = identity) and, with dropout, the training
 *                       graphs of the loss and of the outputs (dropout = a mask drawn per sample)
 *                       (specialize.ts)
 *   differentiate       ∂L/∂θ of the per-sample loss L in each, and ∂R/∂θ of the parameter-only
 *                       part R in the inference graph (autodiff/backprop.ts)
 *   twice               H·v of L and of R, the tangent of those gradients along v, in a copy of
 *                       the inference graph (autodiff/tangent.ts)
 *   sinks               return the loss, accumulate a gradient (or apply it, in update mode),
 *                       write an output (sinks.ts)
 *
 * Planning does not change the model: the loss is split in a copy of its graph, and every other
 * graph is made by specialize. How a function is printed (lanes, unrolling, storage) is codegen's.
 */
import { differentiate } from "../autodiff/backprop.js";
import { tangents } from "../autodiff/tangent.js";
import type { Graph, NodeId } from "../ir/graph.js";
import type { Shape } from "../ir/shape.js";
import { assertValid } from "../ir/verify.js";
import type { Model } from "../semantics/model.js";
import { derivationComments, derive, deriveHessian, tangentComments, type Derivations, type HessianDerivations, type Tangent } from "./derivations.js";
import type { Sink } from "./sinks.js";
import { inferenceMode, specialize, trainingMode } from "./specialize.js";
import { splitLoss } from "./split-loss.js";

export interface TensorSpec {
  readonly name: string;
  readonly shape: Shape;
}

/** One private function of the module: what it computes and how it is called. */
export interface PlannedFunction {
  readonly name: string;
  readonly doc: string;
  readonly graph: Graph;
  readonly sinks: readonly Sink[];
  /** the inputs and targets passed as arrays with a sample index */
  readonly samples: readonly TensorSpec[];
  readonly params: readonly TensorSpec[];
  /** takes `grad` (it has accumulate sinks) */
  readonly grad: boolean;
  /** takes `random` (training mode: dropout masks) */
  readonly random: boolean;
  readonly returns: "number" | "void";
  /** the return sink adds the loss to `${lossCell}[0]` (see FunctionSpec.lossCell) */
  readonly lossCell?: string;
  /** plain SGD fused into the backward pass: the accumulate sinks update the parameters in place */
  readonly update?: boolean;
  /** a Hessian-vector product: takes `v` and `out`, the accumulate sinks add H·v to `out` */
  readonly hessian?: boolean;
  /** the comment above each backward block: the equations it implements, by `.nn` line (derivations.ts) */
  readonly derivations: ReadonlyMap<number, readonly string[]>;
  /** a Hessian-vector product's: the same above each tangent block (derivations.ts) */
  readonly tangentDerivations?: { readonly forward: ReadonlyMap<number, readonly string[]>; readonly backward: ReadonlyMap<number, readonly string[]> };
}

/** A scalar loss differentiated in its graph. */
export interface Gradient {
  readonly graph: Graph;
  readonly loss: NodeId;
  /** ∂loss/∂θ for every parameter of the model, in its order */
  readonly grads: readonly NodeId[];
  /** the nodes below this id are the forward graph; the reverse sweep made the rest */
  readonly firstBackward: NodeId;
}

export interface Plan {
  /** the private per-sample functions, in the order they are emitted */
  readonly functions: readonly PlannedFunction[];
  /** the loss has parameter-only terms: regularizerLoss, regularizerGradient and regularizerHessianVector exist */
  readonly hasRegularizer: boolean;
  /** the parameters the parameter-only terms depend on */
  readonly regularized: readonly string[];
  /**
   * The per-sample loss as written, parameter-only terms included, in inference mode with its
   * gradient and the outputs (in the order of model.outputs): what `nnc explain` prints. No emitted
   * function computes from this graph; their comments show its equations.
   */
  readonly explained: Gradient & { readonly outputs: readonly NodeId[] };
  /** the equations of `explained` as text (derivations.ts): what `nnc explain` prints */
  readonly derivations: Derivations;
  /** `explained` differentiated twice, in a copy of its graph: H·v by the tangent sweep (`nnc explain --hessian`) */
  readonly hessian: Tangent;
  /** the equations of `hessian` as text: what `nnc explain --hessian` prints */
  readonly hessianDerivations: HessianDerivations;
}

export function plan(model: Model): Plan {
  // the split adds its sums to a copy: the model's graph stays as elaboration made it
  const src = model.graph.copy();
  const split = splitLoss(src.at(src.node(model.loss).origin), model.loss);
  const outputs = model.outputs.map((o) => o.node);
  const params = model.params.map((p) => ({ name: p.name, shape: p.shape }));
  const samples = [...model.inputs, ...model.targets].map((t) => ({ name: t.name, shape: t.shape }));
  const inputsOnly = model.inputs.map((t) => ({ name: t.name, shape: t.shape }));
  /** the parameters' nodes in a specialized graph; one the roots do not reach is a zero */
  const paramNodes = (g: Graph, map: Map<NodeId, NodeId>) => model.params.map((p) => map.get(p.node) ?? g.c(0, p.shape));
  const accumulate = (grads: readonly NodeId[]): Sink[] =>
    grads.map((node, k) => ({ kind: "accumulate", node, param: model.params[k]!.name }) as const);

  // inference mode: the per-sample loss L, the parameter-only terms R, the outputs
  const infer = specialized(src, [split.sample, ...(split.paramOnly === null ? [] : [split.paramOnly]), ...outputs], "inference");
  const gi = infer.graph;
  const sampleLossI = infer.map.get(split.sample)!;
  const outputSinks: Sink[] = model.outputs.map((o) => ({ kind: "output", node: infer.map.get(o.node)!, name: o.name }));
  gi.nameIt(sampleLossI, "L");
  const sampleGradsI = differentiated(gi, sampleLossI, paramNodes(gi, infer.map), "L in inference mode");

  const fns: Omit<PlannedFunction, "derivations">[] = [];
  const base = { params, grad: false, random: false } as const;
  fns.push({
    ...base,
    name: "samplePredict",
    doc: "Forward pass for sample n: writes the outputs.",
    graph: gi,
    samples: inputsOnly,
    sinks: outputSinks,
    returns: "void",
  });
  const cell = { lossCell: "lossTotal", returns: "void" } as const;
  fns.push({
    ...base,
    ...cell,
    name: "sampleLoss",
    doc: "Adds the loss of sample n (without parameter-only terms) to lossTotal[0].",
    graph: gi,
    samples,
    sinks: [{ kind: "return", node: sampleLossI }],
  });
  fns.push({
    ...base,
    ...cell,
    name: "sampleGradient",
    doc: "Forward and backward pass for sample n: adds ∂loss/∂θ to grad and the loss (without parameter-only terms) to lossTotal[0].",
    graph: gi,
    samples,
    grad: true,
    sinks: [...accumulate(sampleGradsI), { kind: "return", node: sampleLossI }],
  });
  // the training loop's evaluation wants both the loss and the outputs: one forward pass for both
  fns.push({
    ...base,
    ...cell,
    name: "sampleEvaluate",
    doc: "Forward pass for sample n: writes the outputs and adds the loss (without parameter-only terms) to lossTotal[0].",
    graph: gi,
    samples,
    sinks: [...outputSinks, { kind: "return", node: sampleLossI }],
  });
  let regularized: string[] = [];
  if (split.paramOnly !== null) {
    const regI = infer.map.get(split.paramOnly)!;
    gi.nameIt(regI, "R");
    const regGrads = differentiated(gi, regI, paramNodes(gi, infer.map), "R in inference mode");
    regularized = model.params.filter((_, k) => !gi.isConst(regGrads[k]!, 0)).map((p) => p.name);
    fns.push({ ...base, name: "regularizerLoss", doc: "The parameter-only terms of the loss (counted once per batch).", graph: gi, samples: [], sinks: [{ kind: "return", node: regI }], returns: "number" });
    fns.push({
      ...base,
      name: "regularizerGradient",
      doc: "Adds the gradient of the parameter-only terms to grad; returns their value.",
      graph: gi,
      samples: [],
      grad: true,
      sinks: [...accumulate(regGrads), { kind: "return", node: regI }],
      returns: "number",
    });
  }
  if (model.hasDropout) {
    // training mode: only the per-sample loss (R has no dropout; predict runs in inference mode)
    const train = specialized(src, [split.sample], "training");
    const gt = train.graph;
    const lossT = train.map.get(split.sample)!;
    gt.nameIt(lossT, "L");
    const gradsT = differentiated(gt, lossT, paramNodes(gt, train.map), "L in training mode");
    fns.push({ ...base, ...cell, name: "sampleLossTrain", doc: "sampleLoss in training mode: dropout active, masks drawn from random.", graph: gt, samples, random: true, sinks: [{ kind: "return", node: lossT }] });
    fns.push({
      ...base,
      ...cell,
      name: "sampleGradientTrain",
      doc: "sampleGradient in training mode: dropout active, masks drawn from random.",
      graph: gt,
      samples,
      grad: true,
      random: true,
      sinks: [...accumulate(gradsT), { kind: "return", node: lossT }],
    });
    // the outputs in training mode, for MC dropout (an average over masks): a graph of their own,
    // so the loss functions' graph stays as it was
    const trainOut = specialized(src, outputs, "training");
    fns.push({
      ...base,
      name: "samplePredictTrain",
      doc: "samplePredict in training mode: dropout active, masks drawn from random.",
      graph: trainOut.graph,
      samples: inputsOnly,
      random: true,
      sinks: model.outputs.map((o) => ({ kind: "output", node: trainOut.map.get(o.node)!, name: o.name })),
      returns: "void",
    });
  }

  // plain SGD on one sample, fused into the backward pass: the gradient function of training mode
  // with its accumulate sinks turned into in-place updates
  const trainGradient = fns.find((f) => f.name === (model.hasDropout ? "sampleGradientTrain" : "sampleGradient"))!;
  fns.push({
    ...trainGradient,
    name: "sampleSgdStep",
    doc: "One sample's forward and backward pass with θ ← θ − lr · ∂loss/∂θ made in place, each parameter once nothing reads it any more; adds the loss (at the old θ) to lossTotal[0].",
    update: true,
  });

  // second order, forward-over-reverse: H·v = d/dε ∇(θ + εv), the tangent of the inference graph's
  // gradients along v, built in a copy of it so the first-order functions' graph stays as it was.
  // Of the inference-mode loss: with dropout the training-mode objective is random.
  const gh = gi.copy();
  const hvL = tangents(gh, sampleGradsI, paramNodes(gh, infer.map));
  assertValid(gh, "the tangent sweep of L in inference mode");
  const hessian = { ...base, hessian: true, graph: gh } as const;
  fns.push({
    ...hessian,
    ...cell,
    name: "sampleHessianVector",
    doc: "Forward, backward and tangent pass for sample n: adds H·v, the Hessian of the loss (without parameter-only terms) times v, to out and the loss to lossTotal[0].",
    samples,
    sinks: [...accumulate(hvL), { kind: "return", node: sampleLossI }],
  });
  if (split.paramOnly !== null) {
    const regI = infer.map.get(split.paramOnly)!;
    const regGrads = differentiated(gh, regI, paramNodes(gh, infer.map), "R in inference mode (for H·v)");
    const hvR = tangents(gh, regGrads, paramNodes(gh, infer.map));
    assertValid(gh, "the tangent sweep of R in inference mode");
    fns.push({
      ...hessian,
      name: "regularizerHessianVector",
      doc: "Adds H·v of the parameter-only terms to out; returns their value.",
      samples: [],
      sinks: [...accumulate(hvR), { kind: "return", node: regI }],
      returns: "number",
    });
  }

  // the loss as written, for nnc explain
  const whole = specialized(src, [model.loss, ...outputs], "inference");
  const wrt = paramNodes(whole.graph, whole.map);
  const firstBackward = whole.graph.nodes.length;
  const loss = whole.map.get(model.loss)!;
  const grads = differentiated(whole.graph, loss, wrt, "the loss as written");
  const explained = { graph: whole.graph, loss, grads, firstBackward, outputs: outputs.map((o) => whole.map.get(o)!) };
  const derivations = derive(explained, params);
  const hg = whole.graph.copy();
  const firstTangent = hg.nodes.length;
  const hv = tangents(hg, grads, paramNodes(hg, whole.map));
  assertValid(hg, "the tangent sweep of the loss as written");
  const hessianOfLoss: Tangent = { ...explained, graph: hg, firstTangent, hv };
  const hessianDerivations = deriveHessian(hessianOfLoss, params);
  // each function's comments: the equations of the statements its backward (and tangent) blocks go through
  const functions = fns.map((f) => ({
    ...f,
    derivations: derivationComments(derivations, f.graph, f.sinks),
    ...(f.hessian === true ? { tangentDerivations: tangentComments(hessianDerivations, f.graph, f.sinks) } : {}),
  }));

  return { functions, hasRegularizer: split.paramOnly !== null, regularized, explained, derivations, hessian: hessianOfLoss, hessianDerivations };
}

function specialized(src: Graph, roots: readonly NodeId[], mode: "inference" | "training") {
  const made = specialize(src, roots, mode === "inference" ? inferenceMode : trainingMode);
  assertValid(made.graph, `specialization (${mode} mode)`);
  return made;
}

function differentiated(g: Graph, loss: NodeId, wrt: readonly NodeId[], what: string): NodeId[] {
  const grads = differentiate(g, loss, wrt);
  assertValid(g, `differentiation of ${what}`);
  return grads;
}
