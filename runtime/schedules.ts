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
 * Missing arguments take the defaults of `SCHEDULES`.
 */
import type { ScheduleConfig } from "../compiler/semantics/model.js";
import { SCHEDULES } from "../compiler/semantics/train-block.js";

export function createSchedule(config: ScheduleConfig | undefined, baseLr: number, totalEpochs: number): (epoch: number) => number {
  if (!Number.isFinite(baseLr)) throw new Error(`learning rate must be a finite number, got ${baseLr}`);
  const name = config?.name ?? "constant";
  const arg = (key: string): number => {
    const v = config?.args[key] ?? SCHEDULES[name][key];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`schedule ${name}: argument '${key}' must be a finite number, got ${v}`);
    return v;
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
    default: {
      const unknown: never = name;
      throw new Error(`unknown schedule '${String(unknown)}': expected constant, step, cosine, linear or inverse_sqrt`);
    }
  }
}
