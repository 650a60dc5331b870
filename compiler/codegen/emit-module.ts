/**
 * Assembles the generated module (section 6 of the language): meta, the types, createParams,
 * initParams, the private per-sample functions the plan decided (plan/plan.ts), each emitted by
 * emit-function.ts, and the public per-sample, batch and training-mode entry points around them.
 */
import { fans, numel, type Shape } from "../ir/shape.js";
import type { Plan } from "../plan/plan.js";
import type { Schedule } from "../schedule/types.js";
import type { InitSpec, Model, ParamInfo } from "../semantics/model.js";
import { arrayType, type ArrayTypeName, type Precision } from "../target.js";
import { emitFunction, num, type FunctionSpec, type ModuleContext } from "./emit-function.js";
import { commentText, literal, NameTable } from "./names.js";
import { OPTIMIZER_STEP_NAMES, optimizerStepCode } from "./optimizer-step.js";
import type { Target } from "../target.js";
import { layoutMemory } from "./wasm/memory.js";
import { CONV_SCRATCH, WASM_NAMES, wasmPrelude } from "./wasm/prelude.js";
import { spelling, type Lang, type Spelling } from "./lang.js";

export interface EmitOptions {
  /** the .nn file name shown in comments */
  readonly file: string;
  /** tensors with at most this much work per layer are fully unrolled */
  readonly unroll: number;
  readonly version: string;
  /** ts by default; wasm with the kernel library's bytes (codegen/wasm/) */
  readonly target?: Target;
  readonly kernels?: KernelLibrary;
  /** receives the schedule of each function, in plan order, when given (scheduleModule) */
  readonly schedules?: Schedule[];
  /** f64 (default): Float64Arrays; f32: every array a Float32Array, arithmetic between stores in double */
  readonly precision?: Precision;
  /** ts (default): the TypeScript module; js: the same module without its types (lang.ts) */
  readonly lang?: Lang;
}

/** The WebAssembly kernel library a wasm module embeds. */
export interface KernelLibrary {
  readonly bytes: Uint8Array;
  /** `name(args): result;` lines for its TypeScript interface */
  readonly signatures: readonly string[];
  readonly description: string;
  readonly memoryImport: { readonly module: string; readonly field: string };
  /** bytes of scratch the convolution kernels need (codegen/wasm/conv.ts): the region `conv_scratch` */
  readonly convScratchBytes?: number;
}

export { DEFAULT_UNROLL } from "../settings.js";

/** samples per call of the per-sample functions in lane mode (FunctionSpec.maxLanes); measured in docs/performance.md */
export const LANES = 8;

/** samples per call in lane mode on the wasm target: the rows of one kernel call (docs/wasm.md) */
export const WASM_LANES = 32;

/** The functions that may take LANES samples per call: the batch loops of the loss and the gradient.
 * Not sampleSgdStep: sgdStep calls it for a batch of one only. */
const LANED: ReadonlySet<string> = new Set(["sampleLoss", "sampleGradient"]);
/** On the ts target the Hessian-vector product's loop too (measured in docs/performance.md). Not on
 * wasm: there lane mode brings the kernels, which read and write `grad`, and H·v writes `out`. */
const TS_LANED: ReadonlySet<string> = new Set([...LANED, "sampleHessianVector"]);
/** On the wasm target the forward passes of predictBatch and evaluateBatch too: a block of samples
 * per kernel call is where the kernels' speed comes from (the training loop evaluates every epoch). */
const WASM_LANED: ReadonlySet<string> = new Set([...LANED, "samplePredict", "sampleEvaluate"]);

/** gradient arrays of at most this many elements are zeroed by an inlined loop, larger ones by fill */
const SMALL_ARRAY = 64;

/** Public names of the module; nothing else may take them. */
const PUBLIC = [
  "meta", "ParamName", "Params", "Inputs", "Targets", "Outputs", "BatchInputs", "BatchTargets", "BatchOutputs",
  "createParams", "initParams", "createRandom", "predict", "predictBatch", "loss", "gradient", "lossBatch", "gradientBatch",
  "lossTrain", "gradientTrain", "lossBatchTrain", "gradientBatchTrain",
  "samplePredict", "sampleLoss", "sampleGradient", "regularizerLoss", "regularizerGradient",
  "sampleLossTrain", "sampleGradientTrain", "samplePredictTrain", "predictTrain", "predictBatchTrain", "fillNormal", "fillUniform", "scaleAll", "zeroAll", "predictions", "lossTotal",
  "sgdStep", "sampleSgdStep", "sgdApply", "evaluateBatch", "sampleEvaluate", "regularizer",
  "hessianVectorProduct", "hessianVectorProductBatch", "sampleHessianVector", "regularizerHessianVector",
  ...OPTIMIZER_STEP_NAMES,
  ...WASM_NAMES,
];

export function emitModule(model: Model, plan: Plan, options: EmitOptions): string {
  const names = new NameTable();
  for (const n of PUBLIC) names.reserve(n);
  const buffers = new Map<string, string[]>();
  const bufferDecls: { name: string; size: number }[] = [];
  const target = options.target ?? "ts";
  const precision = options.precision ?? "f64";
  const F = arrayType(precision);
  const lanes = target === "wasm" ? WASM_LANES : LANES;
  const sp = spelling(options.lang);
  const mod: ModuleContext = {
    file: options.file,
    unroll: options.unroll,
    target,
    precision,
    names,
    buffer(hint, size, taken) {
      const key = `${hint}:${size}`;
      const same = buffers.get(key) ?? [];
      buffers.set(key, same);
      let name = same.find((b) => !taken.has(b));
      if (name === undefined) {
        // a suffix of its own keeps module-level buffers apart from the functions' locals
        name = names.fresh(`${hint}_buf`);
        same.push(name);
        bufferDecls.push({ name, size });
      }
      taken.add(name);
      return name;
    },
  };

  // the planned functions, with what only emission decides: how many samples a call may take
  const laneable = target === "wasm" ? WASM_LANED : TS_LANED;
  const fns: FunctionSpec[] = plan.functions.map((f) => (laneable.has(f.name) ? { ...f, maxLanes: lanes } : f));
  const cores = fns.map((f) => emitFunction(f, mod, sp.lang));
  options.schedules?.push(...cores.map((c) => c.schedule));
  const laned = new Set(fns.filter((_, k) => cores[k]!.lanes).map((f) => f.name));
  const stepAccumulates = cores[fns.findIndex((f) => f.name === "sampleSgdStep")]!.accumulated;
  const fromGrad = model.params.map((p) => p.name).filter((p) => stepAccumulates.includes(p) || plan.regularized.includes(p));
  const api = new PublicApi(model, names, plan.hasRegularizer, laned, fromGrad, lanes, target === "wasm" ? "arenaArray" : `new ${F}`, precision, sp);
  const nParams = model.params.reduce((s, p) => s + numel(p.shape), 0);
  const header = [
    `// Generated by nnc ${options.version} from ${commentText(options.file)}. Do not edit: change the model and recompile.`,
    `//`,
    `// Model ${commentText(model.name)}: ${nParams} parameters in ${model.params.length} tensors. Per sample, the loss is`,
    `// ${commentText(model.lossText)}`,
    `// The batch functions minimize the mean of the loss over the batch; parameter-only terms count once.`,
    `// Parameter tensors are row-major ${F}s; W[out, in], so z = W @ x.`,
    ...(target === "wasm" ? [`// Target wasm: the dense layers${options.kernels?.convScratchBytes ? " and convolutions" : ""} of the batch functions run as WebAssembly SIMD kernels (see below).`] : []),
    ...(precision === "f32" ? [`// Single precision: parameters, data, outputs and scratch are Float32Arrays, so every store into them rounds to float32;`, `// arithmetic between stores is double, and so is the loss summed over a batch (lossTotal).`] : []),
  ].join("\n");
  let scratch: string[];
  if (target === "wasm") {
    if (options.kernels === undefined) throw new Error("internal: the wasm target without its kernel library");
    const convScratch = Math.ceil((options.kernels.convScratchBytes ?? 0) / (precision === "f64" ? 8 : 4));
    const regions = [...bufferDecls.map((b) => ({ name: b.name, length: b.size })), ...(convScratch > 0 ? [{ name: CONV_SCRATCH, length: convScratch }] : [])];
    const layout = layoutMemory(precision, regions, model.params.map((p) => numel(p.shape)));
    scratch = [wasmPrelude({ lang: sp.lang, layout, bytes: options.kernels.bytes, kernelSignatures: options.kernels.signatures, description: options.kernels.description, memoryImport: options.kernels.memoryImport })];
  } else scratch = bufferDecls.map((b) => `const ${b.name} = new ${F}(${b.size});`);
  return [
    header,
    api.types(),
    api.createParams(),
    api.initParams(),
    randomHelpers(F, sp),
    "// ── scratch memory, allocated once: the functions below never allocate",
    ...scratch,
    "/** The per-sample loss functions add their loss here (a returned double would be boxed). */\nconst lossTotal = new Float64Array(1);",
    ...api.scalarScratch(),
    "",
    ...cores.map((c) => c.code),
    api.entryPoints(),
    optimizerStepCode({ params: model.params.map((p) => p.name), hasDropout: model.hasDropout, arrayType: F, kernels: target === "wasm", lang: sp.lang }),
  ].join("\n\n");
}

/** The schedule of each function of the module, in plan order: the ones emitModule prints (`nnc explain --schedule`). */
export function scheduleModule(model: Model, plan: Plan, options: EmitOptions): Schedule[] {
  const schedules: Schedule[] = [];
  emitModule(model, plan, { ...options, schedules });
  return schedules;
}

const randomHelpers = (F: ArrayTypeName, { params, type }: Spelling) => `/** A small seeded generator (mulberry32) of uniform numbers in [0, 1). */
export function createRandom(${params("seed: number")})${type("() => number")} {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal(mean, std) samples by the Box–Muller transform. */
function fillNormal(${params(`a: ${F}, mean: number, std: number, random: () => number`)})${type("void")} {
  for (let i = 0; i < a.length; i++) {
    const u = 1 - random();
    const v = random();
    a[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function fillUniform(${params(`a: ${F}, lo: number, hi: number, random: () => number`)})${type("void")} {
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * random();
}`;

class PublicApi {
  /** module-level one-element arrays through which scalar inputs and outputs pass */
  readonly scalars = new Map<string, string>();
  readonly outputBuffers = new Map<string, string>();

  constructor(
    readonly model: Model,
    readonly names: NameTable,
    readonly hasRegularizer: boolean,
    /** the per-sample functions that take several samples per call */
    readonly laned: ReadonlySet<string>,
    /** the parameters sgdStep on one sample updates from grad: a regularizer's, and those sampleSgdStep leaves there */
    readonly stepFromGrad: readonly string[],
    /** samples per call of the laned functions */
    readonly lanes: number,
    /** how createParams makes an array of n elements: `${alloc}(n)` */
    readonly alloc: string,
    readonly precision: Precision,
    readonly sp: Spelling,
  ) {
    for (const t of [...model.inputs, ...model.targets]) if (t.shape.length === 0) this.scalars.set(t.name, names.fresh(`${t.name}Scalar`));
    for (const o of model.outputs) this.outputBuffers.set(o.name, names.fresh(`${o.name}Prediction`));
  }

  /** scaleAll: a batch gradient's division by the count; in an f64 wasm module, the scale kernel (SIMD) when the array lives in the kernels' memory (the same bits) */
  private scaleAll(): string {
    const kernel = this.alloc === "arenaArray" && this.precision === "f64";
    return `/** Multiplies by 1/count${kernel ? " (the scale kernel when a lives in the kernels' memory: the same products)" : ""}; takes the integer count because a double passed to a call V8 does not inline is boxed. */
function scaleAll(${this.sig(`a: ${this.F}, count: number`)})${this.sp.type("void")} {
  const s = 1 / count;
${kernel ? "  if (a.buffer === wasmMemory.buffer) kernels.scale(a.byteOffset, a.length, s);\n  else " : "  "}for (let i = 0; i < a.length; i++) a[i] *= s;
}`;
  }

  /** the module's array type */
  get F(): ArrayTypeName {
    return arrayType(this.precision);
  }

  /** a parameter list written `name: Type, …`, spelled in the module's language */
  sig(list: string): string {
    return this.sp.params(list);
  }

  shapeOfOutput(name: string): Shape {
    const o = this.model.outputs.find((x) => x.name === name)!;
    return this.model.graph.shape(o.node);
  }

  types(): string {
    const m = this.model;
    const rec = (xs: readonly { name: string; shape: Shape }[]) => `{ ${xs.map((x) => `${literal(x.name)}: ${JSON.stringify(x.shape)}`).join(", ")} }`;
    const outs = m.outputs.map((o) => ({ name: o.name, shape: this.shapeOfOutput(o.name) }));
    const sampleType = (xs: readonly { name: string; shape: Shape }[]) => `{ ${xs.map((x) => `${literal(x.name)}: ${x.shape.length === 0 ? "number" : this.F}`).join("; ")} }`;
    const batchType = (xs: readonly { name: string }[]) => `{ ${xs.map((x) => `${literal(x.name)}: ${this.F}`).join("; ")} }`;
    const paramNames = m.params.map((p) => literal(p.name)).join(" | ") || "never";
    const only = this.sp.only;
    return [
      ...only(`export type ParamName = ${paramNames};`),
      `/** Names and shapes ([] = scalar) of everything the model reads, writes and learns. */`,
      `export const meta${this.sp.type(`{
  name: string;
  inputs: Record<string, number[]>;
  targets: Record<string, number[]>;
  outputs: Record<string, number[]>;
  params: Record<ParamName, number[]>;
  hasDropout: boolean;
  precision: "f64" | "f32";
}`)} = {
  name: ${literal(m.name)},
  inputs: ${rec(m.inputs)},
  targets: ${rec(m.targets)},
  outputs: ${rec(outs)},
  params: ${rec(m.params)},
  hasDropout: ${m.hasDropout},
  precision: ${literal(this.precision)},
};`,
      ...only(
        `/** Parameters by DSL name, each a row-major ${this.F}. */\nexport type Params = Record<ParamName, ${this.F}>;`,
        `/** One sample: a scalar is a number, anything else a ${this.F}. */\nexport type Inputs = ${sampleType(m.inputs)};`,
        `export type Targets = ${sampleType(m.targets)};`,
        `export type Outputs = ${sampleType(outs)};`,
        `/** A batch: row-major [count, …shape] arrays (count values for a scalar). */\nexport type BatchInputs = ${batchType(m.inputs)};`,
        `export type BatchTargets = ${batchType(m.targets)};`,
        `export type BatchOutputs = ${batchType(outs)};`,
      ),
    ].join("\n\n");
  }

  createParams(): string {
    const fields = this.model.params.map((p) => `${literal(p.name)}: ${this.alloc}(${numel(p.shape)})`).join(", ");
    return `/** Zero-filled parameters. */\nexport function createParams()${this.sp.type("Params")} {\n  return { ${fields} };\n}`;
  }

  initParams(): string {
    const lines = this.model.params.map((p) => `  ${initLine(p)}`);
    return `/** Fills the parameters with their declared initializers; the same seed gives the same values. */
export function initParams(${this.sig("params: Params, seed: number")})${this.sp.type("void")} {
  const random = createRandom(seed);
${lines.join("\n")}
}`;
  }

  scalarScratch(): string[] {
    const out: string[] = [];
    for (const [, name] of this.scalars) out.push(`const ${name} = new ${this.F}(1);`);
    for (const o of this.model.outputs) out.push(`const ${this.outputBuffers.get(o.name)} = new ${this.F}(${numel(this.shapeOfOutput(o.name))});`);
    const outs = this.model.outputs.map((o) => `${literal(o.name)}: ${this.shapeOfOutput(o.name).length === 0 ? "0" : this.outputBuffers.get(o.name)}`);
    out.push(`/** What predict returns: reused by every call, so copy what you need to keep. */\nconst predictions${this.sp.type("Outputs")} = { ${outs.join(", ")} };`);
    return out;
  }

  /** The array through which a per-sample value reaches the private functions. */
  arg(obj: string, t: { name: string; shape: Shape }, batch: boolean): string {
    const get = `${obj}[${literal(t.name)}]`;
    if (batch || t.shape.length !== 0) return get;
    return `(${this.scalars.get(t.name)}.fill(${get}))`;
  }

  /**
   * sgdStep: one step of plain SGD. On one sample, sampleSgdStep updates the parameters inside the
   * backward pass; on a batch the mean gradient must be complete before any parameter changes, so
   * it is gradientBatch followed by one update pass.
   */
  sgdStep(): string {
    const m = this.model;
    const args = [...m.inputs.map((t) => `inputs[${literal(t.name)}]`), ...m.targets.map((t) => `targets[${literal(t.name)}]`)];
    const rnd = m.hasDropout ? ", random" : "";
    // a regularizer's gradient (at the old θ) joins grad, and its parameters are updated from there too
    const fromGrad = this.stepFromGrad;
    const zero = m.params.filter((p) => fromGrad.includes(p.name)).map((p) => `    ${zeroGrad(p)}`);
    const apply = (ps: readonly string[], indent: string) => ps.map((p) => `${indent}sgdApply(params[${literal(p)}], grad[${literal(p)}], lr);`);
    const batchGradient = m.hasDropout ? "gradientBatchTrain" : "gradientBatch";
    const lines = [
      `/**`,
      ` * One step of plain SGD on \`count\` samples, in training mode: θ ← θ − lr · ∇(mean loss).`,
      ` * Returns the mean loss at the θ before the step. For one sample the update is made inside the`,
      ` * backward pass, so no gradient is stored; \`grad\` is scratch space, its contents afterwards unspecified.`,
      ` */`,
      `export function sgdStep(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, lr: number, grad: Params${m.hasDropout ? ", random: () => number" : ""}`)})${this.sp.type("number")} {`,
      `  if (!(count >= 1)) return NaN; // no sample, no step: the mean loss of none, θ unchanged`,
      `  if (count === 1) {`,
      ...zero,
      ...(this.hasRegularizer ? [`    const r = regularizerGradient(params, grad);`] : []),
      `    lossTotal[0] = 0;`,
      `    sampleSgdStep(params, ${args.join(", ")}, 0, lr, grad${rnd});`,
      ...apply(fromGrad, "    "),
      `    return lossTotal[0]${this.hasRegularizer ? " + r" : ""};`,
      `  }`,
      `  const loss = ${batchGradient}(params, inputs, targets, count, grad${rnd});`,
      ...apply(m.params.map((p) => p.name), "  "),
      `  return loss;`,
      `}`,
    ];
    return `${sgdApplyCode(this.F, this)}\n\n${lines.join("\n")}`;
  }

  /** A loop over the batch calling a per-sample function with `args`, the sample index (and, when laned, the block's lane count), then `rest`. */
  each(fn: string, args: readonly string[], rest: readonly string[]): string {
    if (!this.laned.has(fn)) return `for (let n = 0; n < count; n++) ${fn}(params, ${[...args, "n", ...rest].join(", ")});`;
    return `for (let n = 0; n < count; n += ${this.lanes}) ${fn}(params, ${[...args, "n", `Math.min(${this.lanes}, count - n)`, ...rest].join(", ")});`;
  }

  entryPoints(): string {
    const m = this.model;
    const ins = (batch: boolean) => m.inputs.map((t) => this.arg("inputs", t, batch));
    const tgs = (batch: boolean) => m.targets.map((t) => this.arg("targets", t, batch));
    const sampleArgs = (batch: boolean, n: string) => [...ins(batch), ...tgs(batch), n].join(", ");
    // a call of a per-sample function on sample 0 of one sample, and a loop over a batch
    const tail = (grad: boolean, random = "") => `${grad ? ", grad" : ""}${random})`;
    const one = (fn: string, grad: boolean, random = "") =>
      `${fn}(params, ${sampleArgs(false, "0")}${this.laned.has(fn) ? ", 1" : ""}${tail(grad, random)};`;
    const all = (fn: string, grad: boolean, random = "") =>
      this.laned.has(fn)
        ? `for (let n = 0; n < count; n += ${this.lanes}) ${fn}(params, ${sampleArgs(true, "n")}, Math.min(${this.lanes}, count - n)${tail(grad, random)};`
        : `for (let n = 0; n < count; n++) ${fn}(params, ${sampleArgs(true, "n")}${tail(grad, random)};`;
    const zero = m.params.map((p) => `  ${zeroGrad(p)}`).join("\n");
    const scale = m.params.map((p) => `    scaleAll(grad[${literal(p.name)}], count);`).join("\n");
    const zeroOut = m.params.map((p) => `  ${zeroGrad(p, "out")}`).join("\n");
    const scaleOut = m.params.map((p) => `    scaleAll(out[${literal(p.name)}], count);`).join("\n");
    const regHv = this.hasRegularizer ? " + regularizerHessianVector(params, v, out)" : "";
    const hvLanes = this.laned.has("sampleHessianVector");
    const hv = (args: string, lanes: string) => `sampleHessianVector(params, ${args}${hvLanes ? `, ${lanes}` : ""}, v, out);`;
    const hvAll = hvLanes
      ? `for (let n = 0; n < count; n += ${this.lanes}) ${hv(sampleArgs(true, "n"), `Math.min(${this.lanes}, count - n)`)}`
      : `for (let n = 0; n < count; n++) ${hv(sampleArgs(true, "n"), "")}`;
    const reg = (g: boolean) => (this.hasRegularizer ? (g ? " + regularizerGradient(params, grad)" : " + regularizerLoss(params)") : "");
    const outBufs = m.outputs.map((o) => this.outputBuffers.get(o.name)!);
    const copyScalars = m.outputs
      .filter((o) => this.shapeOfOutput(o.name).length === 0)
      .map((o) => `  predictions[${literal(o.name)}] = ${this.outputBuffers.get(o.name)}[0];`)
      .join("\n");
    const trainSuffix = m.hasDropout ? "Train" : "";
    const rnd = m.hasDropout ? ", random" : "";
    const unusedRandom = m.hasDropout ? "" : "\n  void random; // the model has no dropout: training and inference are the same";
    return `function zeroAll(${this.sig(`a: ${this.F}`)})${this.sp.type("void")} {
  for (let i = 0; i < a.length; i++) a[i] = 0;
}

${this.scaleAll()}

/** The outputs for one sample. The returned object is reused by the next call. */
export function predict(${this.sig(`params: Params, inputs: Inputs`)})${this.sp.type("Outputs")} {
  samplePredict(params, ${[...ins(false), "0", ...(this.laned.has("samplePredict") ? ["1"] : []), ...outBufs].join(", ")});
${copyScalars}
  return predictions;
}

/** The outputs for \`count\` samples, written row-major into \`outputs\`. */
export function predictBatch(${this.sig(`params: Params, inputs: BatchInputs, count: number, outputs: BatchOutputs`)})${this.sp.type("void")} {
  ${this.each("samplePredict", [...ins(true)], m.outputs.map((o) => `outputs[${literal(o.name)}]`))}
}

/** lossBatch and predictBatch in one forward pass: writes the outputs, returns the mean loss. */
export function evaluateBatch(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, outputs: BatchOutputs`)})${this.sp.type("number")} {
  lossTotal[0] = 0;
  ${this.each("sampleEvaluate", [...ins(true), ...tgs(true)], m.outputs.map((o) => `outputs[${literal(o.name)}]`))}
  return lossTotal[0] / count${reg(false)};
}

/** The parameter-only terms of the loss (weight decay), which every loss above adds once: ${this.hasRegularizer ? "the initial-loss check reports them apart from the data term" : "this loss has none"}. */
export function regularizer(${this.sig("params: Params")})${this.sp.type("number")} {
  ${this.hasRegularizer ? "return regularizerLoss(params);" : "void params;\n  return 0;"}
}

/** The loss of one sample. */
export function loss(${this.sig(`params: Params, inputs: Inputs, targets: Targets`)})${this.sp.type("number")} {
  lossTotal[0] = 0;
  ${one("sampleLoss", false)}
  return lossTotal[0]${reg(false)};
}

/** Overwrites grad with ∂loss/∂θ for one sample; returns the loss. */
export function gradient(${this.sig(`params: Params, inputs: Inputs, targets: Targets, grad: Params`)})${this.sp.type("number")} {
${zero}
  lossTotal[0] = 0;
  ${one("sampleGradient", true)}
  return lossTotal[0]${reg(true)};
}

/** The mean loss over \`count\` samples (parameter-only terms once). */
export function lossBatch(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number`)})${this.sp.type("number")} {
  lossTotal[0] = 0;
  ${all("sampleLoss", false)}
  return lossTotal[0] / count${reg(false)};
}

/** Overwrites grad with the gradient of the mean loss over \`count\` samples; returns that loss. */
export function gradientBatch(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, grad: Params`)})${this.sp.type("number")} {
${zero}
  lossTotal[0] = 0;
  ${all("sampleGradient", true)}
  if (count !== 1) {
${scale}
  }
  return lossTotal[0] / count${reg(true)};
}

${this.sgdStep()}

/** loss in training mode (dropout active, masks drawn from \`random\`). */
export function lossTrain(${this.sig(`params: Params, inputs: Inputs, targets: Targets, random: () => number`)})${this.sp.type("number")} {${unusedRandom}
  lossTotal[0] = 0;
  ${one(`sampleLoss${trainSuffix}`, false, rnd)}
  return lossTotal[0]${reg(false)};
}

/** gradient in training mode (dropout active, masks drawn from \`random\`). */
export function gradientTrain(${this.sig(`params: Params, inputs: Inputs, targets: Targets, grad: Params, random: () => number`)})${this.sp.type("number")} {${unusedRandom}
${zero}
  lossTotal[0] = 0;
  ${one(`sampleGradient${trainSuffix}`, true, rnd)}
  return lossTotal[0]${reg(true)};
}

/** lossBatch in training mode (dropout active, masks drawn from \`random\`). */
export function lossBatchTrain(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, random: () => number`)})${this.sp.type("number")} {${unusedRandom}
  lossTotal[0] = 0;
  ${all(`sampleLoss${trainSuffix}`, false, rnd)}
  return lossTotal[0] / count${reg(false)};
}

/**
 * Overwrites out with H·v for one sample: the Hessian of its loss with respect to the parameters
 * times the direction v (Params-shaped), without forming H; returns the loss. Of the inference-mode
 * loss (dropout off). About the cost of two gradients. out must be another object than v and params.
 */
export function hessianVectorProduct(${this.sig(`params: Params, inputs: Inputs, targets: Targets, v: Params, out: Params`)})${this.sp.type("number")} {
${zeroOut}
  lossTotal[0] = 0;
  ${hv(sampleArgs(false, "0"), "1")}
  return lossTotal[0]${regHv};
}

/** Overwrites out with H·v of the mean loss over \`count\` samples (parameter-only terms once); returns that loss. */
export function hessianVectorProductBatch(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, v: Params, out: Params`)})${this.sp.type("number")} {
${zeroOut}
  lossTotal[0] = 0;
  ${hvAll}
  if (count !== 1) {
${scaleOut}
  }
  return lossTotal[0] / count${regHv};
}

/** predict in training mode (dropout active, masks drawn from \`random\`): one draw for MC dropout. The returned object is reused by the next call. */
export function predictTrain(${this.sig("params: Params, inputs: Inputs, random: () => number")})${this.sp.type("Outputs")} {${unusedRandom}
  ${m.hasDropout ? `samplePredictTrain(params, ${[...ins(false), "0", ...outBufs, "random"].join(", ")});` : `samplePredict(params, ${[...ins(false), "0", ...(this.laned.has("samplePredict") ? ["1"] : []), ...outBufs].join(", ")});`}
${copyScalars}
  return predictions;
}

/** predictBatch in training mode (dropout active, masks drawn from \`random\`, sample after sample). */
export function predictBatchTrain(${this.sig("params: Params, inputs: BatchInputs, count: number, outputs: BatchOutputs, random: () => number")})${this.sp.type("void")} {${unusedRandom}
  ${m.hasDropout ? this.each("samplePredictTrain", [...ins(true)], [...m.outputs.map((o) => `outputs[${literal(o.name)}]`), "random"]) : this.each("samplePredict", [...ins(true)], m.outputs.map((o) => `outputs[${literal(o.name)}]`))}
}

/** gradientBatch in training mode (dropout active, masks drawn from \`random\`). */
export function gradientBatchTrain(${this.sig(`params: Params, inputs: BatchInputs, targets: BatchTargets, count: number, grad: Params, random: () => number`)})${this.sp.type("number")} {${unusedRandom}
${zero}
  lossTotal[0] = 0;
  ${all(`sampleGradient${trainSuffix}`, true, rnd)}
  if (count !== 1) {
${scale}
  }
  return lossTotal[0] / count${reg(true)};
}
`;
  }
}

/** The update sgdStep applies from grad: the parameters sampleSgdStep leaves there, and every one for a batch. */
const sgdApplyCode = (F: ArrayTypeName, api: PublicApi) => `/** θ ← θ − lr · g, for what sgdStep does not update inside the backward pass. */
function sgdApply(${api.sig(`p: ${F}, g: ${F}, lr: number`)})${api.sp.type("void")} {
  for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
}`;

/**
 * Zeroes grad[p]: small arrays by a loop V8 inlines (a call of the fill builtin costs more than
 * zeroing a few elements: a quarter of network A's step), large ones by fill, a memset.
 */
function zeroGrad(p: ParamInfo, array = "grad"): string {
  return numel(p.shape) <= SMALL_ARRAY ? `zeroAll(${array}[${literal(p.name)}]);` : `${array}[${literal(p.name)}].fill(0);`;
}

function initLine(p: ParamInfo): string {
  const target = `params[${literal(p.name)}]`;
  const { fanIn, fanOut } = fans(p.shape);
  const spec: InitSpec = p.init;
  switch (spec.kind) {
    case "zeros":
      return `${target}.fill(0);`;
    case "constant":
      return `${target}.fill(${num(spec.value)});`;
    case "normal":
      return `fillNormal(${target}, ${num(spec.mean)}, ${num(spec.std)}, random);`;
    case "uniform":
      return `fillUniform(${target}, ${num(spec.lo)}, ${num(spec.hi)}, random);`;
    case "lecun":
      return `fillNormal(${target}, 0, ${num(1 / Math.sqrt(fanIn))}, random); // lecun: 1/√fan_in, fan_in = ${fanIn}`;
    case "xavier":
      return `fillNormal(${target}, 0, ${num(Math.sqrt(2 / (fanIn + fanOut)))}, random); // xavier: √(2/(fan_in + fan_out)) = √(2/(${fanIn} + ${fanOut}))`;
    case "he":
      return `fillNormal(${target}, 0, ${num(Math.sqrt(2 / fanIn))}, random); // he: √(2/fan_in), fan_in = ${fanIn}`;
  }
}
