/**
 * What every first-order optimizer shares: its hyperparameters read from the `train { }` block
 * (missing ones take the lecture notes' defaults from `OPTIMIZERS`), one Float64Array per
 * parameter per state buffer allocated once at creation, the step counter, and the JSON form of
 * all of it for checkpoints (`state()` / `restore()`). The parameters and gradient are the
 * module's arrays, Float32Arrays for an f32 module: each update then rounds the parameter to
 * float32, while the state (moments) stays float64.
 *
 * `step` walks the parameter names fixed at creation with plain indexed loops and calls `update`
 * once per parameter: nothing is allocated per step.
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import { OPTIMIZERS } from "../../compiler/semantics/train-block.js";
import type { FloatArray, Optimizer, OptimizerState, ParamSet } from "../types.js";
import { NncUsageError } from "../usage.js";

export type FirstOrderName = Exclude<OptimizerConfig["name"], "lbfgs" | "newton" | "newton_cg">;

/** A hyperparameter from the config, else the default of the notes; `ok` states its valid range. */
export function hyper(config: OptimizerConfig, key: string, ok: (x: number) => boolean, range: string): number {
  const value = config.args[key] ?? OPTIMIZERS[config.name][key];
  if (value === undefined) throw new Error(`optimizer ${config.name}: missing argument '${key}'`);
  if (!Number.isFinite(value) || !ok(value)) throw new NncUsageError(`options.optimizer.args.${key}`, `optimizer ${config.name}: ${key} must be ${range}, got ${value}`);
  return value;
}

export const inUnitInterval = (x: number) => x >= 0 && x < 1;
export const nonNegative = (x: number) => x >= 0;

export abstract class FirstOrderOptimizer implements Optimizer {
  /** steps taken so far (Adam's bias correction uses it) */
  protected t = 0;
  /** parameter names in a fixed order, and their element counts, as at creation */
  protected readonly names: readonly string[];
  protected readonly sizes: readonly number[];
  /** buffers[kind][j]: the `kind` state (e.g. "m", "v") of parameter names[j] */
  protected readonly buffers: Readonly<Record<string, readonly Float64Array[]>>;

  constructor(
    readonly name: FirstOrderName,
    params: ParamSet,
    kinds: readonly string[],
  ) {
    this.names = Object.keys(params);
    this.sizes = this.names.map((k) => params[k]!.length);
    const buffers: Record<string, Float64Array[]> = {};
    for (const kind of kinds) buffers[kind] = this.sizes.map((n) => new Float64Array(n));
    this.buffers = buffers;
  }

  /** θ ← update(θ, g) for parameter number j; `this.t` already counts this step */
  protected abstract update(j: number, p: FloatArray, g: FloatArray, lr: number): void;

  step(params: ParamSet, grad: ParamSet, lr: number): void {
    this.t++;
    for (let j = 0; j < this.names.length; j++) {
      const key = this.names[j]!;
      const p = params[key];
      const g = grad[key];
      const n = this.sizes[j]!;
      if (p === undefined || g === undefined || p.length !== n || g.length !== n) {
        throw new Error(`${this.name}: parameter '${key}' (${n} values) is missing or has another size in the ${p === undefined || p.length !== n ? "parameters" : "gradient"}`);
      }
      this.update(j, p, g, lr);
    }
  }

  state(): OptimizerState {
    const buffers: Record<string, Record<string, number[]>> = {};
    for (const [kind, arrays] of Object.entries(this.buffers)) {
      const byName: Record<string, number[]> = {};
      this.names.forEach((key, j) => (byName[key] = Array.from(arrays[j]!)));
      buffers[kind] = byName;
    }
    return { name: this.name, t: this.t, buffers };
  }

  /** Checks everything first, then copies: a state that does not fit leaves the optimizer as it was. */
  restore(state: OptimizerState): void {
    const where = `cannot resume ${this.name} from a saved state`;
    if (state.name !== this.name) throw new Error(`${where} of optimizer '${state.name}'`);
    if (!Number.isInteger(state.t) || state.t < 0) throw new Error(`${where}: bad step count ${state.t}`);
    const kinds = Object.keys(this.buffers);
    const saved = Object.keys(state.buffers ?? {});
    if (saved.length !== kinds.length || !kinds.every((k) => Object.hasOwn(state.buffers, k))) {
      throw new Error(`${where}: expected buffers [${kinds.join(", ")}], found [${saved.join(", ")}]`);
    }
    for (const kind of kinds) {
      const byName = state.buffers[kind]!;
      this.names.forEach((key, j) => {
        const values = Object.hasOwn(byName, key) ? byName[key] : undefined;
        if (!Array.isArray(values) || values.length !== this.sizes[j]) {
          throw new Error(`${where}: buffer ${kind} of parameter '${key}' should have ${this.sizes[j]} values, has ${Array.isArray(values) ? values.length : "none"}`);
        }
        if (!values.every((v) => typeof v === "number" && Number.isFinite(v))) throw new Error(`${where}: buffer ${kind} of parameter '${key}' holds a non-finite value`);
      });
    }
    for (const kind of kinds) this.names.forEach((key, j) => this.buffers[kind]![j]!.set(state.buffers[kind]![key]!));
    this.t = state.t;
  }
}
