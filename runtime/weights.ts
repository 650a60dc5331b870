/**
 * The weights file `nnc train` writes and `nnc predict` reads (JSON): the model's name and graph
 * identity, each parameter's shape and values, the input normalization, the training configuration
 * and the final metrics. A checkpoint is the same file plus what resuming needs (optimizer state,
 * epoch, history). Weights are JSON or, by the extension `.safetensors`, safetensors (the codec:
 * safetensors.ts; the mapping: toSafetensors / fromSafetensors; docs/weights.md); checkpoints are
 * JSON.
 *
 * A file is untrusted input: every field it is read for is checked before anything uses it, and a
 * bad one is a WeightsError naming the file, the field and what was expected and found
 * (docs/limits.md, "Weights files and checkpoints").
 */
import type { OptimizerConfig } from "../compiler/semantics/model.js";
import type { CompiledModule } from "./load-module.js";
import { createFullBatchOptimizer, isFullBatch } from "./full-batch.js";
import { createOptimizer } from "./optimizers/index.js";
import type { Normalization, OptimizerState, ParamSet } from "./types.js";
import { MAX_COVARIANCE_FEATURES } from "./data/normalize.js";
import { describeShapes, escapeControls, NncUsageError, NUMBER_RULES, shown } from "./usage.js";
import { decodeSafetensors, encodeSafetensors, type WriteDtype } from "./safetensors.js";

export const WEIGHTS_FORMAT = "nnc-weights/1";

/** The largest weights file or checkpoint read: 256 MiB. V8's longest string is 2²⁹ − 24
 * characters (512 MiB of ASCII), and JSON.parse holds the text and the numbers at once; a
 * checkpoint of Adam on mnist-800 (636,010 parameters) is about 60 MB. */
export const MAX_WEIGHTS_BYTES = 256 * 2 ** 20;

export interface WeightsFile {
  readonly format: typeof WEIGHTS_FORMAT;
  readonly model: string;
  /** the model's graph identity (identity.ts); absent in files written before it was recorded */
  readonly graph?: string;
  readonly params: Record<string, { readonly shape: number[]; readonly values: number[] }>;
  readonly normalization: Normalization | null;
  readonly training: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  /** present in checkpoints */
  readonly resume?: {
    readonly epoch: number;
    readonly optimizer: OptimizerState | null;
    readonly history: unknown[];
    readonly best: { readonly epoch: number; readonly loss: number; readonly params: Record<string, number[]> } | null;
    readonly badEpochs: number;
  };
}

export function toWeightsFile(mod: CompiledModule, params: ParamSet, rest: Omit<WeightsFile, "format" | "model" | "params">): WeightsFile {
  const out: WeightsFile["params"] = {};
  for (const [name, shape] of Object.entries(mod.meta.params)) out[name] = { shape, values: Array.from(params[name]!) };
  const { graph, ...others } = rest;
  return { format: WEIGHTS_FORMAT, model: mod.meta.name, ...(graph !== undefined ? { graph } : {}), params: out, ...others };
}

/** The format of a weights file, by its extension: `.safetensors`, or else nnc's JSON. */
export type WeightsFormat = "json" | "safetensors";
export const weightsFormat = (path: string): WeightsFormat => (/\.safetensors$/i.test(path) ? "safetensors" : "json");

/**
 * A weights file as safetensors: a tensor per parameter (its DSL name and shape, in the file's
 * order of parameters), and in `__metadata__`, as strings: `format`, `model`, `graph` (when
 * present), `normalization` (JSON text, "null" for none), `training` and `metrics` (JSON texts,
 * when present).
 */
export function toSafetensors(w: WeightsFile, dtype: WriteDtype = "F64"): Uint8Array {
  const tensors = Object.entries(w.params).map(([name, p]) => ({ name, dtype, shape: p.shape, values: p.values }));
  for (const t of tensors) {
    if (t.name === "__metadata__") throw new NncUsageError(`params${key(t.name)}`, "safetensors keeps the name __metadata__ for its metadata: a parameter of that name cannot be written (rename it)");
    // F32 is for an f32 module's values, which float32 holds exactly: nothing is rounded on the way
    const inexact = dtype === "F32" ? t.values.findIndex((v) => Math.fround(v) !== v) : -1;
    if (inexact >= 0) throw new NncUsageError(`params${key(t.name)}.values[${inexact}]`, `${t.values[inexact]} is not a float32 value: write F64 (F32 holds only the weights of an f32 module exactly)`);
  }
  const metadata: Record<string, string> = { format: w.format, model: w.model };
  if (w.graph !== undefined) metadata.graph = w.graph;
  metadata.normalization = JSON.stringify(w.normalization);
  if (w.training !== undefined) metadata.training = JSON.stringify(w.training);
  if (w.metrics !== undefined) metadata.metrics = JSON.stringify(w.metrics);
  return encodeSafetensors(tensors, metadata);
}

/**
 * A safetensors file as the object a JSON weights file parses to (for validateWeights, with
 * SAFETENSORS_FIELDS): the container is checked here (decodeSafetensors), what it holds there.
 * Metadata keys other than nnc's are ignored (other tools add their own).
 */
export function fromSafetensors(bytes: Uint8Array, file: string): Record<string, unknown> {
  const fail = (field: string, detail: string): never => {
    throw new WeightsError(file, field, detail);
  };
  const { tensors, metadata } = decodeSafetensors(bytes, fail);
  if (metadata === null)
    fail("__metadata__", `absent: nnc reads safetensors with the metadata {"format": "${WEIGHTS_FORMAT}", "model": <the model's name>, "normalization": <JSON text of { mean, std }, or "null">} (without it the inputs' normalization would be unknown)`);
  const md = metadata!;
  const json = (name: string, required: boolean): unknown => {
    let text = md[name];
    if (text === undefined) {
      if (required) fail(`__metadata__.${name}`, `absent: expected the JSON text of { mean, std }, or "null" for inputs used as they are`);
      return undefined;
    }
    // Python's json.dumps writes NaN and ±Infinity (a diverged loss in train.py's metrics): in the
    // descriptive fields they become null, as nnc's own JSON writes them; the normalization stays strict
    if (name !== "normalization") text = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (t) => (t.startsWith('"') ? t : "null"));
    try {
      return JSON.parse(text);
    } catch (e) {
      return fail(`__metadata__.${name}`, `not valid JSON text: ${escapeControls((e as Error).message)}`);
    }
  };
  // fromEntries defines each name as its own property, "__proto__" too (an assignment would set the prototype)
  const params = Object.fromEntries(tensors.map((t) => [t.name, { shape: t.shape, values: Array.from(t.values) }]));
  // the JSON file's order of fields, so that converting back gives the same text
  const raw: Record<string, unknown> = { format: md.format, model: md.model };
  if (md.graph !== undefined) raw.graph = md.graph;
  raw.params = params;
  raw.normalization = json("normalization", md.format === WEIGHTS_FORMAT);
  for (const name of ["training", "metrics"]) {
    const v = json(name, false);
    if (v !== undefined) raw[name] = v;
  }
  return raw;
}

/** How validateWeights names a file's fields in messages. */
export interface WeightsFields {
  readonly format: string;
  readonly model: string;
  readonly graph: string;
  readonly params: string;
  /** a parameter's values, after the parameter's name */
  readonly values: string;
  /** values are JSON numbers (an infinite one was a number beyond ±1.8e308), not binary */
  readonly json: boolean;
  readonly normalization: string;
  readonly training: string;
  readonly metrics: string;
}
export const JSON_FIELDS: WeightsFields = { format: "format", model: "model", graph: "graph", params: "params", values: "values", json: true, normalization: "normalization", training: "training", metrics: "metrics" };
/** `w.safetensors: header["h.W"].shape: expected [4, 2] (the model's), found [8]` */
export const SAFETENSORS_FIELDS: WeightsFields = {
  format: "__metadata__.format",
  model: "__metadata__.model",
  graph: "__metadata__.graph",
  params: "header",
  values: "data",
  json: false,
  normalization: "__metadata__.normalization",
  training: "__metadata__.training",
  metrics: "__metadata__.metrics",
};

/** What validateWeights needs of a module: the parameters' and inputs' shapes, and its parameter arrays. */
export type WeightsModule = { readonly meta: Pick<CompiledModule["meta"], "name" | "params" | "inputs"> } & Pick<CompiledModule, "createParams">;

/** A weights file or checkpoint that cannot be used: `file` (a path, or `options.resume`), the field, what is wrong. */
export class WeightsError extends NncUsageError {
  override readonly name = "WeightsError";
  constructor(
    readonly file: string,
    field: string,
    detail: string,
  ) {
    super(field, detail);
    this.message = `${file}: ${field === "" ? "" : `${field}: `}${detail}`;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const showShape = (shape: readonly unknown[]) => `[${shape.map((x) => shown(x)).join(", ")}]`;
const key = (name: string) => `[${shown(name)}]`;

/** A number as found, with why it is not finite when JSON made it so. */
function foundNumber(v: unknown): string {
  if (v === Infinity || v === -Infinity) return `${v} (a number beyond ±1.8e308)`;
  return shown(v);
}

/**
 * A weights file's bytes, by the format of its name (weightsFormat): the parsed JSON, or the
 * safetensors file as the same object (fromSafetensors), with the names of its fields for
 * messages. Not checked against a model: validateWeights does that. (Reading the file is Node's:
 * runtime/node/weights-files.ts.)
 */
export function parseWeights(bytes: Uint8Array, path: string): { raw: unknown; fields: WeightsFields } {
  if (weightsFormat(path) === "safetensors") return { raw: fromSafetensors(bytes, path), fields: SAFETENSORS_FIELDS };
  try {
    // ignoreBOM keeps a byte order mark, as Buffer#toString did: JSON.parse rejects it, as before
    return { raw: JSON.parse(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)), fields: JSON_FIELDS };
  } catch (e) {
    // V8's message quotes the text around the error: the file's bytes, escaped
    // safetensors: a header length that fits the file (JSON text's first 8 bytes make a huge one), then '{'
    const binary =
      bytes.length >= 9 && bytes[8] === 0x7b && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true) <= BigInt(bytes.length - 8)
        ? " (it looks like safetensors: a header length, then '{'; name it .safetensors)"
        : "";
    throw new WeightsError(path, "", `not valid JSON: ${escapeControls((e as Error).message)}${binary}`);
  }
}

/**
 * Checks a weights file without a model, against the shapes it declares itself (nnc
 * convert-weights): the format, every parameter's shape an array of non-negative integers with as
 * many finite values, the normalization with as many finite values (and positive deviations) in
 * `std` as in `mean`, and a checkpoint's `resume` — validateWeights's rules, with the file's own
 * shapes for the model's.
 */
export function validateWeightsAlone(raw: unknown, file: string, fields: WeightsFields = JSON_FIELDS): { file: WeightsFile; params: ParamSet } {
  const w = isObject(raw) ? raw : {};
  const declared = isObject(w.params) ? w.params : {};
  const entries = Object.entries(declared).map(([name, p]) => {
    const shape = isObject(p) ? p.shape : undefined;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new WeightsError(file, `${fields.params}${key(name)}.shape`, `expected an array of non-negative integers, found ${Array.isArray(shape) ? showShape(shape) : shown(shape)}`);
    // an array as long as the values given (a mismatch with the shape is reported before it is filled): never larger than the file
    return { name, shape: shape as number[], length: isObject(p) && Array.isArray(p.values) ? p.values.length : 0 };
  });
  const norm = isObject(w.normalization) && isObject(w.normalization.mean) ? w.normalization.mean : {};
  const projection = isObject(w.normalization) && isObject(w.normalization.projection) && w.normalization.method !== "zscore" ? w.normalization.projection : {};
  // objects from entries: a name such as "__proto__" is an own property, as JSON.parse made it
  const self: WeightsModule = {
    meta: {
      name: typeof w.model === "string" ? w.model : "",
      params: Object.fromEntries(entries.map((e) => [e.name, e.shape])),
      // the model's input sizes: the projection's rows (pca(k): k), else one per mean
      inputs: Object.fromEntries(Object.entries(norm).map(([name, m]) => [name, [Array.isArray(projection[name]) ? projection[name].length : Array.isArray(m) ? m.length : 0]])),
    },
    createParams: () => Object.fromEntries(entries.map((e) => [e.name, new Float64Array(e.length)])),
  };
  return validateWeights(raw, self, file, fields);
}

/**
 * Checks a parsed weights file against the module and gives its parameters in the module's array
 * type: the format; exactly the model's parameters, each with the model's shape and as many finite
 * numbers (and within float32's range for an f32 module); the normalization (null, or per input
 * as many finite means and positive standard deviations as the input has elements); and, in a
 * checkpoint, the structure of `resume` (checkResume checks it against the run). `training` and
 * `metrics` are descriptive: objects, not read.
 */
export function validateWeights(raw: unknown, mod: WeightsModule, file: string, fields: WeightsFields = JSON_FIELDS): { file: WeightsFile; params: ParamSet } {
  const fail = (field: string, detail: string): never => {
    throw new WeightsError(file, field, detail);
  };
  if (!isObject(raw)) fail("", `not an nnc weights file (a JSON object with format "${WEIGHTS_FORMAT}"), found ${shown(raw)}`);
  const w = raw as Record<string, unknown>;
  if (w.format !== WEIGHTS_FORMAT) fail(fields.format, `not an nnc weights file: expected "${WEIGHTS_FORMAT}", found ${shown(w.format)}`);
  if (typeof w.model !== "string") fail(fields.model, `expected the model's name, found ${shown(w.model)}`);
  if (w.graph !== undefined && (typeof w.graph !== "string" || !/^sha256:[0-9a-f]{64}$/.test(w.graph))) fail(fields.graph, `expected "sha256:" and 64 hexadecimal digits, found ${shown(w.graph)}`);
  for (const field of ["training", "metrics"] as const) if (w[field] !== undefined && !isObject(w[field])) fail(fields[field], `expected an object, found ${shown(w[field])}`);

  const params = mod.createParams();
  readParams(w.params, mod, fields.params, fail, (name, values, f) => {
    const into = params[name]!;
    into.set(values);
    // an f32 module rounds each value to float32 here: 1e39 becomes Infinity
    for (let i = 0; i < into.length; i++) if (!Number.isFinite(into[i]!)) fail(`${f}[${i}]`, `${values[i]} is beyond float32's range (the module is compiled with --precision f32)`);
  }, fields);
  checkNormalization(w.normalization, mod, fields.normalization, fail);
  if (w.resume !== undefined) checkResumeShape(w.resume, mod, fail);
  return { file: w as unknown as WeightsFile, params };
}

/** `params` (or a checkpoint's best params): by parameter name, finite numbers of the model's sizes. */
function readParams(
  value: unknown,
  mod: WeightsModule,
  field: string,
  fail: (field: string, detail: string) => never,
  use: (name: string, values: number[], field: string) => void,
  /** each parameter is { shape, values } (named as in `fields`); false: an array of values (JSON) */
  withShape: WeightsFields | false,
): void {
  const model = mod.meta.params;
  if (!isObject(value)) fail(field, `expected an object of parameters by name (model ${shown(mod.meta.name)}: ${describeShapes(model)}), found ${shown(value)}`);
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) if (!Object.hasOwn(model, name)) fail(`${field}${key(name)}`, `model ${shown(mod.meta.name)} has no parameter ${shown(name)} (its parameters: ${describeShapes(model)})`);
  for (const [name, shape] of Object.entries(model)) {
    let f = `${field}${key(name)}`;
    if (!Object.hasOwn(given, name)) fail(field, `no values for parameter ${shown(name)} ${showShape(shape)} of model ${shown(mod.meta.name)}`);
    let values = given[name];
    if (withShape !== false) {
      const p = values;
      if (!isObject(p)) fail(f, `expected { shape, ${withShape.values} }, found ${shown(p)}`);
      const entry = p as Record<string, unknown>;
      if (!Array.isArray(entry.shape) || entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]))
        fail(`${f}.shape`, `expected ${showShape(shape)} (the model's), found ${Array.isArray(entry.shape) ? showShape(entry.shape) : shown(entry.shape)}`);
      values = entry.values;
      f = `${f}.${withShape.values}`;
    }
    const n = size(shape);
    if (!Array.isArray(values)) fail(f, `expected an array of ${n} numbers, found ${shown(values)}`);
    const list = values as unknown[];
    if (list.length !== n) fail(f, `expected ${n} values for shape ${showShape(shape)}, found ${list.length}`);
    const binary = withShape !== false && !withShape.json;
    for (let i = 0; i < n; i++) if (typeof list[i] !== "number" || !Number.isFinite(list[i])) fail(`${f}[${i}]`, `expected a finite number, found ${binary ? shown(list[i]) : foundNumber(list[i])}`);
    use(name, list as number[], f);
  }
}

/**
 * null, or { mean, std } with, per input of the model, as many values as it has elements; with a
 * `method` of pca, whiten or zca (data/normalize.ts) also a `projection` per input, as many rows
 * as the input has elements and as many columns as `mean` has values (the data's width, which
 * pca(k) reduces to the model's k), plus `eigenvalues` and, for whiten and zca, `epsilon`.
 */
function checkNormalization(value: unknown, mod: WeightsModule, field: string, fail: (field: string, detail: string) => never): void {
  if (value === null) return;
  const inputs = mod.meta.inputs;
  if (!isObject(value)) fail(field, `expected null or { mean, std }, found ${shown(value)}`);
  const norm = value as Record<string, unknown>;
  const method = norm.method ?? "zscore";
  if (!["zscore", "pca", "whiten", "zca"].includes(method as string)) fail(`${field}.method`, `expected "zscore", "pca", "whiten" or "zca" (or no method: z-scores), found ${shown(method)}`);
  const projected = method !== "zscore";
  const projections = projected ? norm.projection : undefined;
  if (projected && !isObject(projections)) fail(`${field}.projection`, `expected an object of matrices by input name (${describeShapes(inputs)}) for method ${shown(method)}, found ${shown(projections)}`);
  if (projected) for (const name of Object.keys(projections as object)) if (!Object.hasOwn(inputs, name)) fail(`${field}.projection${key(name)}`, `model ${shown(mod.meta.name)} has no input ${shown(name)} (its inputs: ${describeShapes(inputs)})`);
  // per input, the data's width: the projection's columns, else the model's size
  const widths: Record<string, number> = {};
  for (const [name, shape] of Object.entries(inputs)) {
    const n = size(shape);
    widths[name] = n;
    if (!projected) continue;
    const g = `${field}.projection${key(name)}`;
    const rows = Object.hasOwn(projections as object, name) ? (projections as Record<string, unknown>)[name] : undefined;
    if (!Array.isArray(rows) || rows.length !== n) fail(g, `expected ${n} rows (one per element of ${name}${showShape(shape)}), found ${Array.isArray(rows) ? `${rows.length}` : shown(rows)}`);
    const cols = Array.isArray((rows as unknown[])[0]) ? ((rows as unknown[][])[0]!.length) : -1;
    if (!(cols >= 1 && cols <= MAX_COVARIANCE_FEATURES)) fail(`${g}[0]`, `expected an array of 1 to ${MAX_COVARIANCE_FEATURES} numbers, found ${shown((rows as unknown[])[0])}`);
    (rows as unknown[]).forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== cols) fail(`${g}[${r}]`, `expected ${cols} numbers (as many as row 0), found ${Array.isArray(row) ? row.length : shown(row)}`);
      (row as unknown[]).forEach((v, c) => {
        if (typeof v !== "number" || !Number.isFinite(v)) fail(`${g}[${r}][${c}]`, `expected a finite number, found ${foundNumber(v)}`);
      });
    });
    widths[name] = cols;
  }
  for (const part of ["mean", "std"] as const) {
    const f = `${field}.${part}`;
    const byName = norm[part];
    if (!isObject(byName)) fail(f, `expected an object of arrays by input name (${describeShapes(inputs)}), found ${shown(byName)}`);
    const given = byName as Record<string, unknown>;
    for (const name of Object.keys(given)) if (!Object.hasOwn(inputs, name)) fail(`${f}${key(name)}`, `model ${shown(mod.meta.name)} has no input ${shown(name)} (its inputs: ${describeShapes(inputs)})`);
    for (const [name, shape] of Object.entries(inputs)) {
      const g = `${f}${key(name)}`;
      const a = Object.hasOwn(given, name) ? given[name] : undefined;
      const n = widths[name]!;
      const what = projected ? `one per column of the projection of ${name}` : `one per element of ${name}${showShape(shape)}`;
      if (!Array.isArray(a)) fail(g, `expected an array of ${n} numbers (${what}), found ${shown(a)}`);
      const list = a as unknown[];
      if (list.length !== n) fail(g, `expected ${n} values (${what}), found ${list.length}`);
      list.forEach((v, i) => {
        if (typeof v !== "number" || !Number.isFinite(v)) fail(`${g}[${i}]`, `expected a finite number, found ${foundNumber(v)}`);
        // z-scoring divides by it: 0 or a negative or subnormal deviation would make the inputs non-finite or flip them
        if (part === "std" && !(v > 0 && Number.isFinite(1 / v)))
          fail(`${g}[${i}]`, `expected a positive standard deviation (nnc writes 1 for a constant input), found ${shown(v)}`);
      });
    }
  }
  // descriptive: what the projection was made from
  if (norm.eigenvalues !== undefined && !(isObject(norm.eigenvalues) && Object.values(norm.eigenvalues).every((l) => Array.isArray(l) && l.every((v) => typeof v === "number" && Number.isFinite(v)))))
    fail(`${field}.eigenvalues`, `expected an object of arrays of finite numbers by input name, found ${shown(norm.eigenvalues)}`);
  if (norm.epsilon !== undefined && !(typeof norm.epsilon === "number" && norm.epsilon >= 0 && Number.isFinite(norm.epsilon)))
    fail(`${field}.epsilon`, `expected a finite number ≥ 0, found ${shown(norm.epsilon)}`);
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isNumberOrNull = (v: unknown) => v === null || typeof v === "number";

/** One Evaluation of the history: loss (null when it was NaN), accuracy, rmse, confusion. */
function checkEvaluation(v: unknown, f: string, fail: (field: string, detail: string) => never): void {
  if (!isObject(v)) fail(f, `expected an evaluation { loss, accuracy, confusion, rmse }, found ${shown(v)}`);
  const e = v as Record<string, unknown>;
  for (const k of ["loss", "accuracy", "rmse"]) if (!isNumberOrNull(e[k])) fail(`${f}.${k}`, `expected a number or null, found ${shown(e[k])}`);
  const c = e.confusion;
  if (c !== null && !(Array.isArray(c) && c.every((row) => Array.isArray(row) && row.length === c.length && row.every((x) => isInt(x, 0, Number.MAX_SAFE_INTEGER)))))
    fail(`${f}.confusion`, `expected null or a square array of counts, found ${shown(c)}`);
}

/** The structure of a checkpoint's `resume`, as far as it does not depend on the run's options. */
function checkResumeShape(value: unknown, mod: WeightsModule, fail: (field: string, detail: string) => never): void {
  if (!isObject(value)) fail("resume", `expected the checkpoint state { epoch, optimizer, history, best, badEpochs }, found ${shown(value)}`);
  const r = value as Record<string, unknown>;
  const maxEpochs = NUMBER_RULES.epochs.max;
  // a checkpoint is written after an epoch
  if (!isInt(r.epoch, 1, maxEpochs)) fail("resume.epoch", `expected an integer from 1 to ${maxEpochs} (the epochs done), found ${shown(r.epoch)}`);
  const epoch = r.epoch as number;
  if (!Array.isArray(r.history)) fail("resume.history", `expected an array of ${epoch} epoch reports, found ${shown(r.history)}`);
  const history = r.history as unknown[];
  if (history.length !== epoch) fail("resume.history", `expected ${epoch} epoch reports (one per epoch done), found ${history.length}`);
  history.forEach((h, i) => {
    const f = `resume.history[${i}]`;
    if (!isObject(h)) fail(f, `expected an epoch report, found ${shown(h)}`);
    const report = h as Record<string, unknown>;
    if (report.epoch !== i + 1) fail(`${f}.epoch`, `expected ${i + 1}, found ${shown(report.epoch)}`);
    if (typeof report.lr !== "number" || !Number.isFinite(report.lr)) fail(`${f}.lr`, `expected a finite number, found ${foundNumber(report.lr)}`);
    if (typeof report.seconds !== "number" || !(report.seconds >= 0)) fail(`${f}.seconds`, `expected a number ≥ 0, found ${shown(report.seconds)}`);
    if (typeof report.best !== "boolean") fail(`${f}.best`, `expected true or false, found ${shown(report.best)}`);
    checkEvaluation(report.train, `${f}.train`, fail);
    if (report.validation !== null) checkEvaluation(report.validation, `${f}.validation`, fail);
  });
  if (!isInt(r.badEpochs, 0, epoch)) fail("resume.badEpochs", `expected an integer from 0 to ${epoch} (epochs without improvement), found ${shown(r.badEpochs)}`);
  if (r.best !== null) {
    if (!isObject(r.best)) fail("resume.best", `expected null or { epoch, loss, params }, found ${shown(r.best)}`);
    const best = r.best as Record<string, unknown>;
    if (!isInt(best.epoch, 1, epoch)) fail("resume.best.epoch", `expected an integer from 1 to ${epoch}, found ${shown(best.epoch)}`);
    if (!isNumberOrNull(best.loss)) fail("resume.best.loss", `expected a number or null, found ${shown(best.loss)}`);
    readParams(best.params, mod, "resume.best.params", fail, () => {}, false);
  }
  if (r.optimizer !== null) {
    if (!isObject(r.optimizer)) fail("resume.optimizer", `expected null or { name, t, buffers }, found ${shown(r.optimizer)}`);
    const o = r.optimizer as Record<string, unknown>;
    if (typeof o.name !== "string") fail("resume.optimizer.name", `expected an optimizer's name, found ${shown(o.name)}`);
    if (!isInt(o.t, 0, Number.MAX_SAFE_INTEGER)) fail("resume.optimizer.t", `expected an integer ≥ 0 (the steps taken), found ${shown(o.t)}`);
    if (!isObject(o.buffers)) fail("resume.optimizer.buffers", `expected an object, found ${shown(o.buffers)}`);
  }
}

/**
 * Checks a checkpoint (validated by validateWeights) against the run that resumes from it, before
 * training starts: it is a checkpoint; of this model (its name, and its graph identity when both
 * are known); with epochs left to train; written by the run's optimizer, with state that fits it.
 * Returns whether the graph identity was checked (a checkpoint written before nnc recorded it is
 * accepted on its name and parameter shapes).
 */
export function checkResume(
  w: WeightsFile,
  mod: CompiledModule,
  run: { readonly epochs: number; readonly optimizer: OptimizerConfig; readonly graph?: string },
  file: string,
): { graphChecked: boolean } {
  const fail = (field: string, detail: string): never => {
    throw new WeightsError(file, field, detail);
  };
  if (w.resume === undefined) fail("resume", "this is a weights file without checkpoint state (give a .checkpoint.json)");
  const r = w.resume!;
  if (w.model !== mod.meta.name) fail("model", `the checkpoint is of model ${shown(w.model)}, not of ${shown(mod.meta.name)}`);
  const graphChecked = w.graph !== undefined && run.graph !== undefined;
  if (graphChecked && w.graph !== run.graph)
    fail("graph", `the checkpoint was written for another graph of model ${shown(mod.meta.name)} (its layers, operations, constants or loss differ from the model's now: ${w.graph!.slice(0, 19)}… in the file, ${run.graph!.slice(0, 19)}… now)`);
  // epoch = epochs is a run killed between its last checkpoint and its weights: resuming writes them
  if (r.epoch > run.epochs) fail("resume.epoch", `the checkpoint is after epoch ${r.epoch} and the run has only ${run.epochs} epochs (ask for at least ${r.epoch} epochs)`);
  if (r.optimizer !== null) {
    if (r.optimizer.name !== run.optimizer.name) fail("resume.optimizer.name", `the checkpoint was written by optimizer ${shown(r.optimizer.name)}, the run uses ${run.optimizer.name} (resume with the same optimizer)`);
    // the optimizer's own restore checks its buffers (kinds, names, sizes, finite values); its
    // constructor checks the run's hyperparameters (an NncUsageError of the options, not of the file)
    const params = mod.createParams();
    const optimizer = isFullBatch(run.optimizer.name) ? createFullBatchOptimizer(run.optimizer, params) : createOptimizer(run.optimizer, params);
    try {
      optimizer.restore(r.optimizer);
    } catch (e) {
      if (e instanceof NncUsageError) throw e;
      fail("resume.optimizer", (e as Error).message);
    }
  }
  return { graphChecked };
}
