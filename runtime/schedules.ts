/**
 * Learning-rate schedules ("learning rate decay" in the lecture notes): the learning rate of each
 * epoch from the base rate α₀ = `baseLr` and the number of epochs T = `totalEpochs`. `epoch` is
 * 0-based, so the first epoch always runs at α₀:
 *
 *   constant        α_t = α₀
 *   step(every, factor)
 *                   α_t = α₀ · factor^⌊t / every⌋      ("multiply LR by 0.1 after epochs 30, 60
 *                                                     and 90": every = 30, factor = 0.1)
 *   cosine          α_t = ½ α₀ (1 + cos(π t / T))
 *   linear          α_t = α₀ (1 − t / T)
 *   inverse_sqrt    α_t = α₀ / √(1 + t)              (the notes' α₀/√t with t counted from 1)
 *
 * cosine and linear take t = min(epoch, T), so an epoch past the planned end (a resumed run given
 * more epochs) gets the final rate rather than a rising (cosine) or negative (linear) one.
 *
 * Two cyclic schedules change the rate every step (mini-batch), as cyclical learning rates
 * (Smith 2017) and SGDR (Loshchilov & Hutter 2017) do: t = epoch + the fraction of the epoch's
 * steps taken, and u ∈ [0, 1) the position of t inside its cycle:
 *
 *   cyclic(min_lr, max_lr, period)
 *                   α_t = min_lr + (max_lr − min_lr)(1 − |2u − 1|)     (triangular: up, then down)
 *                   every cycle lasts `period` epochs; the optimizer's lr is not used
 *   cosine_restarts(period, mult)
 *                   α_t = ½ α₀ (1 + cos(π u))                        (SGDR with η_min = 0)
 *                   cycle i (from 0) lasts period·multⁱ epochs
 *
 * Both end every cycle at their lowest rate: where snapshot ensembles save the weights
 * (cycleAt, train.ts). Missing arguments take the defaults of `SCHEDULES`.
 */
import type { ScheduleConfig } from "../compiler/semantics/model.js";
import { CYCLIC_SCHEDULES, SCHEDULES } from "../compiler/semantics/train-block.js";

/** The rate for a step: `epoch` 0-based, `within` ∈ [0, 1) the fraction of that epoch's steps already taken. */
export type LearningRate = (epoch: number, within?: number) => number;

/** Whether the schedule's rate changes from step to step (else once per epoch, at its start). */
export function isPerStep(config: ScheduleConfig | undefined): boolean {
  return (CYCLIC_SCHEDULES as readonly string[]).includes(config?.name ?? "constant");
}

/** a position this close to a cycle's end counts as the next cycle's start (t = 0.3 / 0.1 is 2.9999999999999996) */
const SNAP = 1e-9;

/**
 * The cycle (0-based) that time t (in epochs) falls in, and the position u ∈ [0, 1) in it, for a
 * cyclic schedule; null for the others. The one place that says where a cycle ends: the rate
 * and the snapshots (train.ts) both use it.
 */
export function cycleAt(config: ScheduleConfig | undefined, t: number): { cycle: number; u: number } | null {
  if (config === undefined || !isPerStep(config)) return null;
  const arg = (key: string) => config.args[key] ?? SCHEDULES[config.name][key]!;
  const period = arg("period");
  const mult = config.name === "cosine_restarts" ? arg("mult") : 1;
  if (mult === 1) {
    const q = t / period;
    const cycle = Math.floor(q + SNAP);
    return { cycle, u: Math.min(1, Math.max(0, q - cycle)) };
  }
  // cycle k starts at period·(multᵏ − 1)/(mult − 1) and lasts period·multᵏ
  const cycle = Math.floor(Math.log1p((t * (mult - 1)) / period) / Math.log(mult) + SNAP);
  const start = (period * (Math.pow(mult, cycle) - 1)) / (mult - 1);
  return { cycle, u: Math.min(1, Math.max(0, (t - start) / (period * Math.pow(mult, cycle)))) };
}

export function createSchedule(config: ScheduleConfig | undefined, baseLr: number, totalEpochs: number): LearningRate {
  if (!Number.isFinite(baseLr)) throw new Error(`learning rate must be a finite number, got ${baseLr}`);
  const name = config?.name ?? "constant";
  const arg = (key: string): number => {
    const v = config?.args[key] ?? SCHEDULES[name][key];
    if (v !== undefined && Number.isNaN(v) && config?.args[key] === undefined) throw new Error(`schedule ${name} needs the argument '${key}' (it has no default)`);
    if (v === undefined || !Number.isFinite(v)) throw new Error(`schedule ${name}: argument '${key}' must be a finite number, got ${v}`);
    return v;
  };
  const checkPeriod = () => {
    const period = arg("period");
    if (!(period > 0)) throw new Error(`schedule ${name}: period must be a positive number of epochs, got ${period}`);
  };
  const needsTotal = () => {
    if (!(totalEpochs > 0)) throw new Error(`schedule ${name} needs a positive number of epochs, got ${totalEpochs}`);
  };
  switch (name) {
    case "constant":
      return () => baseLr;
    case "step": {
      const every = arg("every");
      const factor = arg("factor");
      if (!(every > 0)) throw new Error(`schedule step: every must be positive, got ${every}`);
      if (!(factor >= 0)) throw new Error(`schedule step: factor must be ≥ 0, got ${factor}`);
      return (epoch) => baseLr * Math.pow(factor, Math.floor(epoch / every));
    }
    case "cosine":
      needsTotal();
      return (epoch) => 0.5 * baseLr * (1 + Math.cos((Math.PI * Math.min(epoch, totalEpochs)) / totalEpochs));
    case "linear":
      needsTotal();
      return (epoch) => baseLr * (1 - Math.min(epoch, totalEpochs) / totalEpochs);
    case "inverse_sqrt":
      return (epoch) => baseLr / Math.sqrt(1 + epoch);
    case "cyclic": {
      const lo = arg("min_lr");
      const hi = arg("max_lr");
      arg("period");
      if (!(lo >= 0)) throw new Error(`schedule cyclic: min_lr must be ≥ 0, got ${lo}`);
      if (!(hi > 0 && hi >= lo)) throw new Error(`schedule cyclic: max_lr must be positive and at least min_lr (${lo}), got ${hi}`);
      checkPeriod();
      return (epoch, within = 0) => {
        const { u } = cycleAt(config, epoch + within)!;
        return lo + (hi - lo) * (1 - Math.abs(2 * u - 1));
      };
    }
    case "cosine_restarts": {
      checkPeriod();
      const mult = arg("mult");
      if (!(mult >= 1)) throw new Error(`schedule cosine_restarts: mult must be ≥ 1 (each cycle as long as the last, or longer), got ${mult}`);
      return (epoch, within = 0) => 0.5 * baseLr * (1 + Math.cos(Math.PI * cycleAt(config, epoch + within)!.u));
    }
    default: {
      const unknown: never = name;
      throw new Error(`unknown schedule '${String(unknown)}': expected ${Object.keys(SCHEDULES).join(", ")}`);
    }
  }
}
