/** Validates a `train { … }` block into a TrainConfig (section 5 of the language). */
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import type { Arg, Expr, TrainBlock, TrainSetting } from "../syntax/ast.js";
import type { AugmentConfig, NormalizeMethod, OptimizerConfig, ScheduleConfig, TrainConfig } from "./model.js";

/** Optimizers, their arguments in positional order, and the defaults of the lecture notes. */
export const OPTIMIZERS: Readonly<Record<OptimizerConfig["name"], Readonly<Record<string, number>>>> = {
  sgd: { lr: 0.01 },
  momentum: { lr: 0.01, gamma: 0.9 },
  nesterov: { lr: 0.01, mu: 0.9 },
  adagrad: { lr: 0.01, eps: 1e-8 },
  rmsprop: { lr: 0.001, gamma: 0.9, eps: 1e-8 },
  adam: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  // Zeiler 2012: the step's scale comes from the running averages; lr (default 1) only scales it
  adadelta: { lr: 1, rho: 0.95, eps: 1e-6 },
  lbfgs: { history: 10, lr: 1 },
  newton: { damping: 1e-4 },
  newton_cg: { damping: 1e-4, iterations: 50 },
};

/** The optimizers that take one iteration per epoch on the whole training set (runtime/full-batch.ts). */
export const FULL_BATCH_OPTIMIZERS = ["lbfgs", "newton", "newton_cg"] as const satisfies readonly OptimizerConfig["name"][];

/**
 * What `nnc train` uses where the train block and the flags are silent: the one place for these
 * (runtime/cli-train.ts's resolveConfig puts the flags on top; the playground trains with them).
 */
export const TRAIN_DEFAULTS = {
  optimizer: (): OptimizerConfig => ({ name: "sgd", args: { ...OPTIMIZERS.sgd } }),
  schedule: (): ScheduleConfig => ({ name: "constant", args: {} }),
  batch: 32,
  /** a full-batch optimizer's epoch is one iteration */
  epochs: (optimizer: OptimizerConfig["name"]): number => ((FULL_BATCH_OPTIMIZERS as readonly string[]).includes(optimizer) ? 100 : 10),
  seed: 1,
  normalize: "zscore" as NormalizeMethod,
} as const;

/** An argument without a default, in OPTIMIZERS and SCHEDULES: it must be written. */
export const REQUIRED = NaN;

export const SCHEDULES: Readonly<Record<ScheduleConfig["name"], Readonly<Record<string, number>>>> = {
  constant: {},
  step: { every: 30, factor: 0.1 },
  cosine: {},
  linear: {},
  inverse_sqrt: {},
  // the rate itself, min_lr up to max_lr and back, each period (in epochs); the optimizer's lr is unused
  cyclic: { min_lr: REQUIRED, max_lr: REQUIRED, period: REQUIRED },
  // SGDR: the optimizer's lr down to 0 by a cosine, restarted; cycle i lasts period·multⁱ epochs
  cosine_restarts: { period: REQUIRED, mult: 1 },
};

/** The augmentations, their arguments and defaults (runtime/data/augment.ts). */
export const AUGMENTATIONS: Readonly<Record<AugmentConfig["name"], Readonly<Record<string, number>>>> = {
  shift: { pixels: 2 },
};

/** The largest shift: more than this moves most of any image out of the frame. */
export const MAX_SHIFT_PIXELS = 64;

/** The schedules whose rate follows cycles (snapshot ensembles save the weights at each cycle's end). */
export const CYCLIC_SCHEDULES = ["cyclic", "cosine_restarts"] as const satisfies readonly ScheduleConfig["name"][];

export function checkTrainBlock(block: TrainBlock, diags: Diagnostics): TrainConfig {
  const out: Record<string, unknown> = {};
  const written: { optimizer?: readonly string[]; schedule?: readonly string[] } = {};
  const seen = new Set<string>();
  for (const s of block.settings) {
    const key = s.key.name;
    if (seen.has(key)) {
      diags.error("NN4005", s.key.span, key);
      continue;
    }
    seen.add(key);
    switch (key) {
      case "data":
      case "validation": {
        const v = stringValue(s, diags);
        if (v !== null) out[key] = v;
        break;
      }
      case "split": {
        const v = numberValue(s, diags, "a number between 0 and 1", (x) => x > 0 && x < 1);
        if (v !== null) out.split = v;
        break;
      }
      case "batch":
      case "epochs":
      case "snapshots":
      case "seed": {
        const v = numberValue(s, diags, key === "seed" ? "a non-negative integer" : "a positive integer", (x) => Number.isInteger(x) && (key === "seed" ? x >= 0 : x > 0));
        if (v !== null) out[key] = v;
        break;
      }
      case "optimizer":
      case "schedule": {
        const c = key === "optimizer" ? namedCall(s, diags, OPTIMIZERS, "NN4002") : namedCall(s, diags, SCHEDULES, "NN4003");
        if (c) {
          out[key] = { name: c.name, args: c.args };
          written[key] = c.written;
        }
        break;
      }
      case "normalize": {
        const m = normalizeMethod(s, diags);
        if (m !== null) out.normalize = m;
        break;
      }
      case "augment": {
        const c = namedCall(s, diags, AUGMENTATIONS, "NN4004");
        if (c === null) break;
        const pixels = c.args.pixels!;
        if (Number.isInteger(pixels) && pixels >= 0 && pixels <= MAX_SHIFT_PIXELS) out.augment = { name: c.name, args: { pixels } } satisfies AugmentConfig;
        else diags.error("NN4004", s.value!.span, "shift's pixels", `a whole number of pixels from 0 to ${MAX_SHIFT_PIXELS}`);
        break;
      }
      case "early_stopping": {
        const args = bindKeywords("early_stopping", s.args ?? [], { patience: 5, min_delta: 0 }, diags);
        if (args) out.earlyStopping = { patience: args.patience!, minDelta: args.min_delta! };
        break;
      }
      default:
        diags.error("NN4001", s.key.span, key);
    }
  }
  if (out.validation !== undefined && out.split !== undefined) diags.error("NN4006", block.span);
  if (written.optimizer !== undefined || written.schedule !== undefined) out.written = written;
  return out as TrainConfig;
}

export const NORMALIZE_METHODS = "zscore, none, pca(k), whiten or zca";

/** `normalize zscore | none | whiten | zca | pca(k)` (k a positive integer, positional or `components = k`). */
function normalizeMethod(s: TrainSetting, diags: Diagnostics): NormalizeMethod | null {
  const v = s.value;
  if (v?.kind === "name" && (v.name === "zscore" || v.name === "none" || v.name === "whiten" || v.name === "zca")) return v.name;
  if (v?.kind === "call" && v.callee.name === "pca") {
    const args = bindKeywords("pca", v.args, { components: NaN }, diags);
    if (args === null) return null;
    const k = args.components!;
    if (Number.isInteger(k) && k > 0) return { name: "pca", components: k };
    diags.error("NN4004", v.span, "pca's components", "a positive whole number, e.g. pca(32): the number of principal components kept");
    return null;
  }
  diags.error("NN4004", v?.span ?? s.key.span, "normalize", NORMALIZE_METHODS);
  return null;
}

function stringValue(s: TrainSetting, diags: Diagnostics): string | null {
  if (s.value?.kind === "string") return s.value.value;
  diags.error("NN4004", s.value?.span ?? s.key.span, s.key.name, "a file name in double quotes");
  return null;
}

function numberValue(s: TrainSetting, diags: Diagnostics, what: string, ok: (x: number) => boolean): number | null {
  const v = s.value ? literal(s.value) : null;
  if (v !== null && ok(v)) return v;
  diags.error("NN4004", s.value?.span ?? s.key.span, s.key.name, what);
  return null;
}

function literal(e: Expr): number | null {
  if (e.kind === "number") return e.value;
  if (e.kind === "unary" && e.operand.kind === "number") return e.op === "-" ? -e.operand.value : e.operand.value;
  return null;
}

function namedCall<N extends string>(s: TrainSetting, diags: Diagnostics, table: Readonly<Record<N, Readonly<Record<string, number>>>>, code: "NN4002" | "NN4003" | "NN4004"): { name: N; args: Record<string, number>; written: string[] } | null {
  const v = s.value;
  const name = v?.kind === "name" ? v.name : v?.kind === "call" ? v.callee.name : null;
  const example = code === "NN4002" ? "an optimizer such as adam(lr = 0.001)" : code === "NN4003" ? "a schedule such as cosine" : "an augmentation such as shift(pixels = 2)";
  if (v === null || name === null) {
    diags.error("NN4004", v?.span ?? s.key.span, s.key.name, example);
    return null;
  }
  if (!Object.hasOwn(table, name)) {
    if (code === "NN4004") diags.error(code, v.span, s.key.name, example);
    else diags.error(code, v.span, name);
    return null;
  }
  const defaults = table[name as N];
  const given = v.kind === "call" ? v.args : [];
  const args = bindKeywords(name, given, defaults, diags);
  if (args === null) return null;
  const missing = Object.keys(args).filter((k) => Number.isNaN(args[k]));
  for (const k of missing) diags.error("NN4009", v.span, name, k);
  if (missing.length > 0) return null;
  return { name: name as N, args, written: given.map((a, i) => (a.name ? a.name.name : Object.keys(defaults)[i]!)) };
}

/** Keyword (or positional, in the table's order) constant arguments over defaults. */
function bindKeywords(fn: string, args: readonly Arg[], defaults: Readonly<Record<string, number>>, diags: Diagnostics): Record<string, number> | null {
  const out: Record<string, number> = { ...defaults };
  const names = Object.keys(defaults);
  let ok = true;
  args.forEach((a, i) => {
    const key = a.name ? a.name.name : names[i];
    if (key === undefined || !Object.hasOwn(defaults, key)) {
      diags.error("NN2009", a.name?.span ?? a.span, key ?? `#${i + 1}`, fn);
      ok = false;
      return;
    }
    const v = literal(a.value);
    if (v === null || !Number.isFinite(v)) {
      diags.error("NN4004", a.value.span, key, "a number");
      ok = false;
      return;
    }
    out[key] = v;
  });
  return ok ? out : null;
}

/**
 * `name` or `name(a, key = b)` as a flag gives it: the name and each argument's keyword (null when
 * positional) and text, or null when it is not of that form. The one reading of a call on the
 * command line (--optimizer, --schedule, --normalize, --augment); each checks the values itself.
 */
function splitCall(text: string): { name: string; args: [string | null, string][] } | null {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$/s.exec(text);
  if (m === null) return null;
  const args: [string | null, string][] = [];
  for (const part of m[2] === undefined || m[2].trim() === "" ? [] : m[2].split(",")) {
    const a = /^\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*=)?\s*([^=]*?)\s*$/.exec(part);
    if (a === null) return null;
    args.push([a[1] ?? null, a[2]!]);
  }
  return { name: m[1]!, args };
}

/** A number as a flag writes it, or NaN. */
const flagNumber = (text: string): number => (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN);

/** splitCall with every argument a number, or null. */
function parseCallText(text: string): { name: string; args: [string | null, number][] } | null {
  const c = splitCall(text);
  if (c === null) return null;
  const args = c.args.map(([k, v]) => [k, flagNumber(v)] as [string | null, number]);
  return args.every(([, v]) => Number.isFinite(v)) ? { name: c.name, args } : null;
}

/** A flag's parsed value, or the message saying what is expected. */
export type FlagValue<T> = { readonly value: T } | { readonly error: string };

/** `--normalize METHOD`. */
export function normalizeFlag(text: string): FlagValue<NormalizeMethod> {
  const c = parseCallText(text);
  const expected = { error: `--normalize ${text}: expected ${NORMALIZE_METHODS}` };
  if (c === null) return expected;
  if (c.args.length === 0 && (c.name === "zscore" || c.name === "none" || c.name === "whiten" || c.name === "zca")) return { value: c.name };
  if (c.name !== "pca") return expected;
  const [arg] = c.args;
  if (c.args.length !== 1 || (arg![0] !== null && arg![0] !== "components") || !Number.isInteger(arg![1]) || arg![1] < 1)
    return { error: `--normalize ${text}: pca takes one argument, the number of components kept: a positive whole number, e.g. pca(32)` };
  return { value: { name: "pca", components: arg![1] } };
}

/** `--augment SPEC` ("shift", "shift(3)", "shift(pixels = 3)" or "none": null). */
export function augmentFlag(text: string): FlagValue<AugmentConfig | null> {
  const c = parseCallText(text);
  if (c !== null && c.name === "none" && c.args.length === 0) return { value: null };
  if (c === null || c.name !== "shift") return { error: `--augment ${text}: expected shift(pixels = 2) or none` };
  if (c.args.length > 1 || (c.args[0] && c.args[0][0] !== null && c.args[0][0] !== "pixels")) return { error: `--augment ${text}: shift takes one argument, pixels` };
  const pixels = c.args[0]?.[1] ?? AUGMENTATIONS.shift.pixels!;
  if (!Number.isInteger(pixels) || pixels < 0 || pixels > MAX_SHIFT_PIXELS) return { error: `--augment ${text}: pixels must be a whole number from 0 to ${MAX_SHIFT_PIXELS}` };
  return { value: { name: "shift", args: { pixels } } };
}

/**
 * A command-line value such as `adam`, `adam(lr=0.01)` or `cyclic(0.01, 0.1, period = 4)`: the
 * name and the arguments written (keyword, or positional in the table's order), or a message
 * saying what is wrong. Defaults and the train block's arguments are the caller's (cli-train.ts).
 */
export function parseNamedCall<N extends string>(text: string, table: Readonly<Record<N, Readonly<Record<string, number>>>>, what: string): { name: N; args: Record<string, number> } | string {
  const c = splitCall(text);
  if (c === null) return `'${text}' is not ${what === "optimizer" ? "an optimizer such as adam or adam(lr = 0.01)" : "a schedule such as cosine or cosine_restarts(period = 5)"}`;
  const name = c.name;
  if (!Object.hasOwn(table, name)) return `unknown ${what} '${name}': expected ${Object.keys(table).join(", ")}`;
  const known = Object.keys(table[name as N]);
  const args: Record<string, number> = {};
  for (const [i, [keyword, raw]] of c.args.entries()) {
    const key = keyword ?? known[i];
    if (key === undefined) return `${what} ${name}: argument ${i + 1} ('${raw}'): ${name} takes ${known.length === 0 ? "no arguments" : known.join(", ")}`;
    if (!known.includes(key)) return `${what} ${name} has no argument '${key}'${known.length > 0 ? ` (its arguments: ${known.join(", ")})` : ""}`;
    if (Object.hasOwn(args, key)) return `${what} ${name}: '${key}' is given twice`;
    const value = flagNumber(raw);
    if (!Number.isFinite(value)) return `${what} ${name}: ${key} must be a number, got '${raw}'`;
    args[key] = value;
  }
  return { name: name as N, args };
}
