/**
 * The module's fused optimizer steps (language §10): `createOptimizerState(optimizer)` and
 * `optimizerStep(params, state, inputs, targets, count, grad[, random])`, one step of any
 * first-order optimizer of §5 in one call, with the update rules of update-rules.ts specialized to
 * the model's parameter tensors. The step is gradientBatch (training mode) followed by one update
 * pass per parameter that reads θ, g and the optimizer's state once.
 */
import { OPTIMIZERS } from "../semantics/train-block.js";
import { literal } from "./names.js";
import { UPDATE_RULES, type UpdateRule } from "./update-rules.js";
import { spelling, type Lang } from "./lang.js";

export interface OptimizerStepInput {
  readonly params: readonly string[];
  readonly hasDropout: boolean;
  /** the array type of parameters: Float64Array, or Float32Array with --precision f32 */
  readonly arrayType: string;
  /** the wasm target: a rule with a kernel runs it on arrays in the kernels' memory (codegen/wasm/prelude.ts) */
  readonly kernels: boolean;
  /** ts (default) or js: the module's language (lang.ts) */
  readonly lang?: Lang;
}

/** Names the optimizer-step code declares at module level. */
export const OPTIMIZER_STEP_NAMES = [
  "OptimizerSpec", "OptimizerState", "createOptimizerState", "optimizerStep", "optimizerUpdate", "OPTIMIZER_DEFAULTS", "OPTIMIZER_STATE", "OPTIMIZER_RANGES", "OPTIMIZER_RANGE_WORDS",
  ...UPDATE_RULES.filter((r) => r.name !== "sgd").map(applyName),
  ...UPDATE_RULES.map(kernelName),
];

/** the wasm target's wrapper that runs a rule's kernel, or its apply function on arrays elsewhere */
function kernelName(r: UpdateRule): string {
  return `${r.name}Kernel`;
}

/** sgd's rule is sgdStep's own sgdApply; the others get `${name}Apply` */
function applyName(r: UpdateRule): string {
  return `${r.name}Apply`;
}

export function optimizerStepCode(input: OptimizerStepInput): string {
  const T = input.arrayType;
  const { params: sig, type, bang, only } = spelling(input.lang);
  const spec = UPDATE_RULES.map((r) => `  | { name: ${literal(r.name)}; lr?: number${r.hyper.map((h) => `; ${h}?: number`).join("")} }`).join("\n");
  const defaults = UPDATE_RULES.map((r) => `  ${r.name}: ${JSON.stringify(OPTIMIZERS[r.name])},`).join("\n");
  const hyperNames = [...new Set(UPDATE_RULES.flatMap((r) => r.hyper))];
  const kinds = [...new Set(UPDATE_RULES.flatMap((r) => r.state))];
  const ranges = UPDATE_RULES.flatMap((r) =>
    r.hyper.map((h) => `    ${literal(`${r.name}.${h}`)}: (${sig("x: number")}) => ${r.ranges[h]![0]},`),
  );
  const rangeWords = UPDATE_RULES.flatMap((r) => r.hyper.map((h) => `    ${literal(`${r.name}.${h}`)}: ${literal(r.ranges[h]![1])},`));
  const applies = UPDATE_RULES.filter((r) => r.name !== "sgd").map((r) => {
    const args = [`p: ${T}`, `g: ${T}`, ...r.state.map((k) => `${k}: ${T}`), "lr: number", ...r.hyper.map((h) => `${h}: number`), ...r.perStep.map(([n]) => `${n}: number`)];
    return `/** ${r.name}: ${r.equations} */
function ${applyName(r)}(${sig(args.join(", "))})${type("void")} {
  for (let i = 0; i < p.length; i++) {
${r.perElement.map((s) => `    ${s}`).join("\n")}
  }
}`;
  });
  const withKernel = (r: UpdateRule) => input.kernels && r.kernel !== undefined;
  const kernelWrappers = UPDATE_RULES.filter(withKernel).map((r) => {
    const arrays = ["p", "g", ...r.state];
    const scalars = ["lr", ...r.hyper, ...r.perStep.map(([n]) => n)];
    const inMemory = arrays.map((a) => `${a}.buffer === wasmMemory.buffer`).join(" && ");
    return `/** ${applyName(r)} as the ${r.kernel} kernel (SIMD) when its arrays live in the kernels' memory, as createParams makes them. */
function ${kernelName(r)}(${sig([...arrays.map((a) => `${a}: ${T}`), ...scalars.map((k) => `${k}: number`)].join(", "))})${type("void")} {
  if (${inMemory}) kernels.${r.kernel}(${[...arrays.map((a) => `${a}.byteOffset`), "p.length", ...scalars].join(", ")});
  else ${applyName(r)}(${[...arrays, ...scalars].join(", ")});
}`;
  });
  const cases = UPDATE_RULES.map((r) => {
    const perStep = r.perStep.map(([n, e]) => `      const ${n} = ${e};`);
    const calls = input.params.map((p) => {
      const key = literal(p);
      const args = [`params[${key}]`, `grad[${key}]`, ...r.state.map((k) => `s.buffers.${k}${bang}[${key}]`), "s.lr", ...r.hyper.map((h) => `s.${h}`), ...r.perStep.map(([n]) => n)];
      return `      ${withKernel(r) ? kernelName(r) : applyName(r)}(${args.join(", ")});`;
    });
    return [`    case ${literal(r.name)}: {`, ...perStep, ...calls, "      return;", "    }"].join("\n");
  });
  const stateKinds = UPDATE_RULES.map((r) => `  ${r.name}: ${JSON.stringify(r.state)},`).join("\n");
  const batchGradient = input.hasDropout ? "gradientBatchTrain" : "gradientBatch";
  const random = input.hasDropout ? ", random: () => number" : "";
  const types = only(
    `/** A first-order optimizer of the language (§5) and its hyperparameters; omitted ones take the notes' defaults. */
export type OptimizerSpec =
${spec};

`,
  ).join("");
  const state = only(
    `/**
 * What optimizerStep reads and updates. \`lr\` is the learning rate of the next step (a schedule
 * sets it between steps); \`t\` counts the steps taken.
 */
export interface OptimizerState {
  readonly name: OptimizerSpec["name"];
  t: number;
  lr: number;
${hyperNames.map((h) => `  readonly ${h}: number;`).join("\n")}
  readonly buffers: { ${kinds.map((k) => `${k}?: Params`).join("; ")} };
}

`,
  ).join("");
  return `${types}/** The notes' defaults of every hyperparameter. */
const OPTIMIZER_DEFAULTS${type(`Record<OptimizerSpec["name"], Record<string, number>>`)} = {
${defaults}
};

/** The state arrays of each optimizer, one Params-shaped set per kind. */
const OPTIMIZER_STATE${type(`Record<OptimizerSpec["name"], readonly ("${kinds.join('" | "')}")[]>`)} = {
${stateKinds}
};

const OPTIMIZER_RANGES${type("Record<string, (x: number) => boolean>")} = {
${ranges.join("\n")}
};

const OPTIMIZER_RANGE_WORDS${type("Record<string, string>")} = {
${rangeWords.join("\n")}
};

${state}/** A fresh state for \`optimizer\`: step count 0, zero-filled moments. Throws on an unknown name or a hyperparameter out of range. */
export function createOptimizerState(${sig("optimizer: OptimizerSpec")})${type("OptimizerState")} {
  const name = optimizer.name;
  if (!Object.hasOwn(OPTIMIZER_DEFAULTS, name)) throw new Error("unknown optimizer '" + String(name) + "': expected one of " + Object.keys(OPTIMIZER_DEFAULTS).join(", "));
  const values${type("Record<string, number>")} = { ...OPTIMIZER_DEFAULTS[name] };
  for (const [key, value] of Object.entries(optimizer)) {
    if (key === "name") continue;
    const what = "optimizer " + name + ": ";
    if (!Object.hasOwn(values, key)) throw new Error(what + "unknown hyperparameter '" + key + "' (it takes " + Object.keys(values).join(", ") + ")");
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(what + key + " must be a finite number, got " + String(value));
    const range = key === "lr" ? "> 0" : OPTIMIZER_RANGE_WORDS[name + "." + key]${bang};
    if (!(key === "lr" ? value > 0 : OPTIMIZER_RANGES[name + "." + key]${bang}(value))) throw new Error(what + key + " must be " + range + ", got " + value);
    values[key] = value;
  }
  const buffers${type(`OptimizerState["buffers"]`)} = {};
  for (const kind of OPTIMIZER_STATE[name]) buffers[kind] = createParams();
  return { name, t: 0, lr: values.lr${bang}, ${hyperNames.map((h) => `${h}: values.${h} ?? 0`).join(", ")}, buffers };
}

${[...applies, ...kernelWrappers].join("\n\n")}

function optimizerUpdate(${sig("params: Params, grad: Params, s: OptimizerState")})${type("void")} {
  switch (s.name) {
${cases.join("\n")}
  }
}

/**
 * One step of \`state\`'s optimizer on \`count\` samples, in training mode: the gradient of the mean
 * loss, then θ and the optimizer's state updated in one pass per parameter. Returns the mean loss
 * at the θ before the step. \`grad\` is scratch space: it holds that gradient afterwards.
 */
export function optimizerStep(${sig(`params: Params, state: OptimizerState, inputs: BatchInputs, targets: BatchTargets, count: number, grad: Params${random}`)})${type("number")} {
  if (!(count >= 1)) return NaN; // no sample, no step: the mean loss of none, θ unchanged
  const loss = ${batchGradient}(params, inputs, targets, count, grad${input.hasDropout ? ", random" : ""});
  state.t++;
  optimizerUpdate(params, grad, state);
  return loss;
}`;
}
