/**
 * The values `nnc tune` tries and how it ranks what they gave (docs/training.md, "Tuning"): rates
 * and weights rounded to 1, 2, 3 or 5 × 10^k, the coarse grid around the range test's suggestion
 * and the model's weights, the grid's length, and the order of the trials.
 */
import type { Trial } from "./recipe.js";

/** The nearest of 1, 2, 3, 5 × 10^k (in log distance): rates and weights a reader can type. */
export function roundNice(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return v;
  const e = Math.floor(Math.log10(v));
  let best = v, dist = Infinity;
  for (const k of [e - 1, e, e + 1])
    for (const m of [1, 2, 3, 5]) {
      const c = Number((m * 10 ** k).toPrecision(6));
      const d = Math.abs(Math.log(c / v));
      if (d < dist) (best = c), (dist = d);
    }
  return best;
}

/** The coarse grid's learning rates around the range test's suggestion (or the configured rate). */
export function gridRates(center: number): number[] {
  return [...new Set([center / 10, center / 3, center, center * 3].map(roundNice))].sort((a, b) => a - b);
}

/** The notes: "good weight decay to try: 1e-4, 1e-5, 0" — 0, and a decade either side of the model's value. */
export function gridWeights(value: number): number[] {
  const around = value > 0 ? [value / 10, value, value * 10] : [1e-5, 1e-4, 1e-3];
  return [...new Set([0, ...around.map(roundNice)])].sort((a, b) => a - b);
}

/** The grid's length in epochs: a tenth of the refined length, at least min(5, E) (the notes: "~1–5 epochs"). */
export function gridEpochsFor(epochs: number): number {
  return Math.max(Math.min(5, epochs), Math.ceil(epochs / 10));
}

/**
 * Better first: not diverged; refined before grid trials (the grid only screens: the notes pick
 * from the models trained longer, step 5, and a few epochs at a high rate can win on a small
 * validation set and lose on the test set: docs/training.md, "Tuning"); then, for classification, the higher
 * validation accuracy; then the lower validation data loss.
 */
export function compareTrials(a: Trial, b: Trial): number {
  const bad = (t: Trial) => (t.stopped === "diverged" || !Number.isFinite(t.validation.dataLoss) ? 1 : 0);
  if (bad(a) !== bad(b)) return bad(a) - bad(b);
  const screened = (t: Trial) => (t.phase === "grid" ? 1 : 0);
  if (screened(a) !== screened(b)) return screened(a) - screened(b);
  const acc = (t: Trial) => t.validation.accuracy ?? -1;
  if (acc(a) !== acc(b)) return acc(b) - acc(a);
  if (a.validation.dataLoss !== b.validation.dataLoss) return (a.validation.dataLoss || 0) - (b.validation.dataLoss || 0);
  return a.id - b.id;
}

export const showRate = (lr: number | null) => (lr === null ? "—" : String(Number(lr.toPrecision(6))));
