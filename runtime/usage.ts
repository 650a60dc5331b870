/**
 * The library API's boundary (`train`, `evaluate`, `predictAll`) and the command line's numeric
 * flags: every value a caller gives is checked here before anything runs, and a bad one throws an
 * NncUsageError that names the field (`options.epochs`, `data.inputs.x[13]`, `--batch`), never a
 * TypeError from deep inside. The ranges are one table (`NUMBER_RULES`), read by both the library
 * checks and the CLI's option parsers, and listed in docs/limits.md.
 */
import type { OptimizerConfig, ScheduleConfig } from "../compiler/semantics/model.js";
import { OPTIMIZERS, SCHEDULES } from "../compiler/semantics/train-block.js";
import type { CompiledModule } from "./load-module.js";
import type { Dataset, ParamSet } from "./types.js";

/**
 * What the machine could not give a run — memory, a thread that the system ended — as opposed to a
 * bad value (NncUsageError) or a bug: the command line reports it as an error (exit 1).
 */
export class NncResourceError extends Error {
  override readonly name: string = "NncResourceError";
}

/** A value given to nnc that it cannot use; `field` names it as the caller wrote it. */
export class NncUsageError extends Error {
  override readonly name: string = "NncUsageError";
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export interface NumberRule {
  readonly integer: boolean;
  /** the least accepted value; excluded when `above` */
  readonly min: number;
  readonly above?: boolean;
  /** the largest accepted value; excluded when `below` */
  readonly max: number;
  readonly below?: boolean;
}

/**
 * The accepted range of every numeric setting. Epochs are bounded because each adds a report to
 * the history a checkpoint holds (720 bytes of JSON for digits' 10 classes: 100,000 epochs make
 * 72 MB, within MAX_WEIGHTS_BYTES); seeds are 32-bit because the generators keep 32 bits of them.
 */
export const NUMBER_RULES = {
  epochs: { integer: true, min: 1, max: 100_000 },
  batch: { integer: true, min: 1, max: 2 ** 31 - 1 },
  seed: { integer: true, min: 0, max: 2 ** 32 - 1 },
  patience: { integer: true, min: 1, max: 100_000 },
  lr: { integer: false, min: 0, above: true, max: Number.MAX_VALUE },
  split: { integer: false, min: 0, above: true, max: 1, below: true },
  minDelta: { integer: false, min: 0, max: Number.MAX_VALUE },
  checkpointSeconds: { integer: true, min: 0, max: 86_400 },
  samples: { integer: true, min: 1, max: 10_000 },
  tolerance: { integer: false, min: 0, above: true, max: Number.MAX_VALUE },
  history: { integer: true, min: 1, max: 1000 },
  // each snapshot is a weights file
  snapshots: { integer: true, min: 1, max: 1000 },
  // each thread holds a gradient and an instance of the module (docs/scale-out.md)
  threads: { integer: true, min: 1, max: 64 },
  // MC dropout's passes per member: a standard deviation needs two; each pass is a forward pass over the data
  mcPasses: { integer: true, min: 2, max: 100_000 },
} as const satisfies Record<string, NumberRule>;

/** The seed of MC dropout's masks when none is given (`nnc predict --mc-dropout` without --seed). */
export const MC_SEED = 1;

export type NumberSetting = keyof typeof NUMBER_RULES;

export function describeRule(r: NumberRule): string {
  const max = r.max === Number.MAX_VALUE ? null : r.max;
  if (r.integer) return max === null ? `an integer ≥ ${r.min}` : `an integer from ${r.min} to ${max}`;
  const low = r.above ? `> ${r.min}` : `≥ ${r.min}`;
  if (max === null) return `a finite number ${low}`;
  return `a number ${low} and ${r.below ? "<" : "≤"} ${max}`;
}

export function fitsRule(v: number, r: NumberRule): boolean {
  return Number.isFinite(v) && (!r.integer || Number.isInteger(v)) && (r.above ? v > r.min : v >= r.min) && (r.below ? v < r.max : v <= r.max);
}

/** A value as a message shows it: JSON, at most 60 characters, control characters escaped. */
export function shown(v: unknown): string {
  let s: string;
  if (typeof v === "number") s = String(v);
  else if (v === undefined) s = "nothing";
  else if (typeof v === "function") s = "a function";
  else if (ArrayBuffer.isView(v)) s = `a ${v.constructor.name}`;
  else if (Array.isArray(v)) s = `an array of ${v.length}`;
  else if (typeof v === "object" && v !== null) s = "an object";
  else s = JSON.stringify(v) ?? String(v);
  s = escapeControls(s);
  return s.length > 60 ? `${s.slice(0, 28)}…${s.slice(-28)}` : s;
}

/** Control characters (C0, DEL, C1) and the line separators as \uXXXX: a terminal may act on them. */
export function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `value` if it fits the setting's rule; else an NncUsageError naming `field`. */
export function checkNumber(field: string, value: unknown, setting: NumberSetting): number {
  const rule = NUMBER_RULES[setting];
  if (typeof value !== "number" || !fitsRule(value, rule)) throw new NncUsageError(field, `expected ${describeRule(rule)}, got ${shown(value)}`);
  return value;
}

/** A number as the command line writes it (decimal, optionally with an exponent), else NaN:
 * Number() would also take "", "0x10" and " 5 ". */
export function parseFlagNumber(text: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^[+-]?Infinity$/i.test(text) ? Number(text) : NaN;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const showShape = (shape: readonly number[]) => `[${shape.join(", ")}]`;

export function checkModule(mod: unknown, field = "mod"): asserts mod is CompiledModule {
  const m = mod as Partial<CompiledModule> | null;
  if (!isObject(m) || typeof m.createParams !== "function" || typeof m.evaluateBatch !== "function" || !isObject(m.meta) || !isObject(m.meta.params) || !isObject(m.meta.inputs))
    throw new NncUsageError(field, `expected a module generated by nnc (loadModule(ts), or import * as mod from the compiled file), got ${shown(mod)}`);
}

function checkArrays(field: string, given: unknown, expected: Record<string, number[]>, count: number, what: string): void {
  if (!isObject(given)) throw new NncUsageError(field, `expected an object of Float64Arrays by ${what} name, got ${shown(given)}`);
  for (const name of Object.keys(given))
    if (!Object.hasOwn(expected, name)) throw new NncUsageError(`${field}.${name}`, `the model has no ${what} '${name}' (its ${what}s: ${describeShapes(expected)})`);
  for (const [name, shape] of Object.entries(expected)) {
    const f = `${field}.${name}`;
    const a = Object.hasOwn(given, name) ? given[name] : undefined;
    // parameters are one tensor each; data is `count` samples of one
    const n = count * size(shape);
    const why = what === "parameter" ? `${name}${showShape(shape)}` : `${count} samples × ${size(shape)} for ${name}${showShape(shape)}`;
    if (!(a instanceof Float64Array || a instanceof Float32Array)) throw new NncUsageError(f, `expected a Float64Array or Float32Array of ${n} values (${why}), got ${shown(a)}`);
    if (a.length !== n) throw new NncUsageError(f, `expected ${n} values (${why}), found ${a.length}`);
    // NaN and ±Infinity always reach the sum (a finite sum can only overflow): the branch-free sum
    // is several times cheaper than testing each of MNIST's 47 million values
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i]!;
    if (Number.isFinite(sum)) continue;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!)) {
        const where = what === "parameter" ? "" : ` (sample ${Math.floor(i / size(shape))}, element ${i % size(shape)})`;
        throw new NncUsageError(`${f}[${i}]`, `expected a finite number, found ${a[i]}${where}`);
      }
    }
  }
}

export function describeShapes(shapes: Record<string, readonly number[]>): string {
  const list = Object.entries(shapes).map(([k, s]) => `${k}${showShape(s)}`);
  return list.length === 0 ? "none" : list.join(", ");
}

/** A data set in the module's layout: a sample count and, per input and target, count × size finite values. */
export function checkDataset(mod: CompiledModule, data: unknown, field: string, least: number, withTargets = true): asserts data is Dataset {
  if (!isObject(data)) throw new NncUsageError(field, `expected a data set { count, inputs, targets } (loadDataset), got ${shown(data)}`);
  const count = data.count;
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < least)
    throw new NncUsageError(`${field}.count`, `expected ${least > 0 ? "a positive" : "a non-negative"} integer (the number of samples), got ${shown(count)}`);
  checkArrays(`${field}.inputs`, data.inputs, mod.meta.inputs, count, "input");
  if (withTargets) checkArrays(`${field}.targets`, data.targets, mod.meta.targets, count, "target");
}

/** Parameters of the module: each by name, an array of its size with finite values. */
export function checkParams(mod: CompiledModule, params: unknown, field: string): asserts params is ParamSet {
  checkArrays(field, params, mod.meta.params, 1, "parameter");
}

/** A learning-rate schedule or an optimizer: a known name, known arguments with finite values. */
function checkNamedArgs(field: string, value: unknown, table: Readonly<Record<string, Readonly<Record<string, number>>>>, what: string): void {
  if (!isObject(value)) throw new NncUsageError(field, `expected { name, args }, got ${shown(value)}`);
  const name = value.name;
  if (typeof name !== "string" || !Object.hasOwn(table, name)) throw new NncUsageError(`${field}.name`, `unknown ${what} ${shown(name)}: expected ${Object.keys(table).join(", ")}`);
  if (!isObject(value.args)) throw new NncUsageError(`${field}.args`, `expected an object of numbers, got ${shown(value.args)}`);
  const known = Object.keys(table[name]!);
  for (const [key, v] of Object.entries(value.args)) {
    const f = `${field}.args.${key}`;
    if (!known.includes(key)) throw new NncUsageError(f, `${what} ${name} has no argument '${key}'${known.length > 0 ? ` (its arguments: ${known.join(", ")})` : ""}`);
    // worded as the optimizers' own checks of their ranges word theirs (hyper, optimizers/common.ts)
    const rule = key === "lr" || key === "history" ? NUMBER_RULES[key] : null;
    if (typeof v !== "number" || (rule ? !fitsRule(v, rule) : !Number.isFinite(v)))
      throw new NncUsageError(f, `${what} ${name}: ${key} must be ${rule ? describeRule(rule) : "a finite number"}, got ${shown(v)}`);
  }
}

export function checkOptimizerConfig(value: unknown, field = "options.optimizer"): asserts value is OptimizerConfig {
  checkNamedArgs(field, value, OPTIMIZERS, "optimizer");
}

export function checkScheduleConfig(value: unknown, field = "options.schedule"): asserts value is ScheduleConfig {
  checkNamedArgs(field, value, SCHEDULES, "schedule");
}

/** Turns the Error a constructor throws for a bad argument (an optimizer's β, a schedule's factor) into an NncUsageError for `field`. */
export function asUsage<T>(field: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof NncUsageError || !(e instanceof Error)) throw e;
    throw new NncUsageError(field, e.message);
  }
}

const optionalFunction = (options: Record<string, unknown>, key: string) => {
  if (options[key] !== undefined && typeof options[key] !== "function") throw new NncUsageError(`options.${key}`, `expected a function, got ${shown(options[key])}`);
};

/** Everything of `train`'s options but the checkpoint to resume from (weights.ts checks that). */
export function checkTrainOptions(options: unknown): void {
  if (!isObject(options)) throw new NncUsageError("options", `expected an object { epochs, batch, optimizer, seed, … }, got ${shown(options)}`);
  checkNumber("options.epochs", options.epochs, "epochs");
  checkNumber("options.batch", options.batch, "batch");
  checkNumber("options.seed", options.seed, "seed");
  checkOptimizerConfig(options.optimizer);
  if (options.schedule !== undefined) checkScheduleConfig(options.schedule);
  const es = options.earlyStopping;
  if (es !== undefined && es !== null) {
    if (!isObject(es)) throw new NncUsageError("options.earlyStopping", `expected { patience, minDelta } or null, got ${shown(es)}`);
    checkNumber("options.earlyStopping.patience", es.patience, "patience");
    checkNumber("options.earlyStopping.minDelta", es.minDelta, "minDelta");
  }
  if (options.threads !== undefined) checkNumber("options.threads", options.threads, "threads");
  const url = options.moduleUrl;
  if (url !== undefined && typeof url !== "string" && !(url instanceof URL)) throw new NncUsageError("options.moduleUrl", `expected the URL or path of the compiled module (a string or URL), got ${shown(url)}`);
  if (options.snapshots !== undefined) checkNumber("options.snapshots", options.snapshots, "snapshots");
  const norm = options.normalize;
  if (norm !== undefined && typeof norm !== "boolean" && !["zscore", "none", "whiten", "zca"].includes(norm as string) && !(isObject(norm) && norm.name === "pca" && Number.isInteger(norm.components) && (norm.components as number) > 0))
    throw new NncUsageError("options.normalize", `expected true, false, "zscore", "none", "whiten", "zca" or { name: "pca", components: k } (k a positive integer), got ${shown(norm)}`);
  const aug = options.augment;
  if (aug !== undefined && aug !== null && !(isObject(aug) && aug.name === "shift" && isObject(aug.args) && Number.isInteger(aug.args.pixels) && (aug.args.pixels as number) >= 0))
    throw new NncUsageError("options.augment", `expected null or { name: "shift", args: { pixels } } (pixels a whole number ≥ 0), got ${shown(aug)}`);
  for (const key of ["onCheckpoint", "onEpoch", "onStart", "onProgress", "onStep", "onSnapshot"]) optionalFunction(options, key);
}
