/**
 * The learning-rate range test (the notes' step 3, "find a learning rate that makes the loss drop
 * significantly within ~100 iterations"; the procedure is L. Smith's, 2015/2017): from the model's
 * initial weights, one mini-batch step per learning rate, the rate growing exponentially from
 * `from` to `to` over `steps` steps, on the training data with regularization as written. It stops
 * early when the loss blows up (not finite, or 4× the lowest moving average so far).
 *
 * The suggested rate is where the moving average of the loss falls fastest against log(lr), looked
 * for only before the average's minimum (beyond it the rate is already too high). When the loss
 * never fell by 5 % there is nothing to read, and the suggestion is null.
 */
import type { OptimizerConfig } from "../../compiler/semantics/model.js";
import type { CompiledModule } from "../load-module.js";
import { createOptimizer } from "../optimizers/index.js";
import { arrayOf, forModule, modulePrecision } from "../precision.js";
import { mulberry32 } from "../random.js";
import { movingAverage } from "../plot.js";
import type { Dataset, FloatArray } from "../types.js";

export interface RangePoint {
  readonly lr: number;
  readonly loss: number;
}

export interface RangeTest {
  readonly points: readonly RangePoint[];
  /** the moving average the suggestion is read from (one per point) */
  readonly smoothed: readonly number[];
  readonly window: number;
  readonly suggested: number | null;
  /** the rate at the moving average's minimum */
  readonly minimum: number | null;
  readonly stoppedEarly: boolean;
}

export interface RangeOptions {
  readonly from?: number;
  readonly to?: number;
  readonly steps?: number;
  readonly batch: number;
  readonly seed: number;
  /** true when the time for it is up: the test ends with the points it has */
  readonly expired?: () => boolean;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** `data` already normalized as training would normalize it. */
export function lrRangeTest(mod: CompiledModule, data: Dataset, optimizer: OptimizerConfig, o: RangeOptions): RangeTest {
  const from = o.from ?? 1e-6, to = o.to ?? 10, steps = o.steps ?? 150;
  const set = forModule(data, mod);
  const params = mod.createParams();
  mod.initParams(params, o.seed);
  const grad = mod.createParams();
  const opt = createOptimizer({ name: optimizer.name, args: { ...optimizer.args, lr: from } }, params);
  const batch = Math.max(1, Math.min(o.batch, set.count));
  const buffers = (shapes: Record<string, number[]>, src: Record<string, FloatArray>) =>
    Object.entries(shapes).map(([k, s]) => ({ name: k, width: size(s), src: src[k]!, dst: arrayOf(modulePrecision(mod), batch * size(s)) }));
  const ins = buffers(mod.meta.inputs, set.inputs), tgs = buffers(mod.meta.targets, set.targets);
  const inputs = Object.fromEntries(ins.map((b) => [b.name, b.dst])), targets = Object.fromEntries(tgs.map((b) => [b.name, b.dst]));
  const order = Array.from({ length: set.count }, (_, i) => i);
  const rand = mulberry32(o.seed * 31 + 7);
  const points: RangePoint[] = [];
  let pos = set.count, best = Infinity, stoppedEarly = false;
  // a trailing average, online, for the blow-up test only (the suggestion uses the centered one)
  let ema = 0;
  const random = mod.createRandom(o.seed);
  for (let i = 0; i < steps; i++) {
    if (o.expired?.()) {
      stoppedEarly = true;
      break;
    }
    if (pos + batch > set.count) {
      // a fresh shuffle for each pass over the data
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(rand() * (k + 1));
        [order[k], order[j]] = [order[j]!, order[k]!];
      }
      pos = 0;
    }
    const count = Math.min(batch, set.count - pos);
    for (const b of [...ins, ...tgs])
      for (let r = 0; r < count; r++) b.dst.set(b.src.subarray(order[pos + r]! * b.width, (order[pos + r]! + 1) * b.width), r * b.width);
    pos += count;
    const lr = from * (to / from) ** (i / Math.max(1, steps - 1));
    const loss = mod.gradientBatchTrain(params, inputs, targets, count, grad, random);
    points.push({ lr, loss });
    if (!Number.isFinite(loss)) {
      stoppedEarly = true;
      break;
    }
    ema = i === 0 ? loss : 0.8 * ema + 0.2 * loss;
    best = Math.min(best, ema);
    if (i >= 10 && ema > 4 * best) {
      stoppedEarly = true;
      break;
    }
    opt.step(params, grad, lr);
  }
  return analyse(points, stoppedEarly);
}

/** The suggestion read from the points (exported for the tests: a known curve gives a known rate). */
export function analyse(points: readonly RangePoint[], stoppedEarly = false): RangeTest {
  const finite = points.filter((p) => Number.isFinite(p.loss));
  const window = Math.max(3, 2 * Math.round(finite.length / 30) + 1);
  const smoothed = movingAverage(finite.map((p) => p.loss), window);
  const none = { points, smoothed, window, suggested: null, minimum: null, stoppedEarly };
  if (finite.length < 2 * window) return none;
  let m = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i]! < smoothed[m]!) m = i;
  if (!(smoothed[m]! < 0.95 * smoothed[0]!)) return { ...none, minimum: finite[m]!.lr };
  // the slope of the average against log10(lr), over ±h points
  const h = Math.max(1, Math.floor(window / 2));
  let steepest = -1, slope = 0;
  for (let i = h; i + h <= m; i++) {
    const s = (smoothed[i + h]! - smoothed[i - h]!) / (Math.log10(finite[i + h]!.lr) - Math.log10(finite[i - h]!.lr));
    if (steepest < 0 || s < slope) (steepest = i), (slope = s);
  }
  return { ...none, minimum: finite[m]!.lr, suggested: finite[steepest < 0 ? m : steepest]!.lr };
}
