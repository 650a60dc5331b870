/**
 * Training driven from outside: step by step (trainer), or as an async loop that yields to the
 * event loop between steps, reports each step's loss and stops on an AbortSignal (trainAsync) —
 * what a page or a Web Worker needs to train without freezing and to stop on a button. Both drive
 * train.ts's one training loop (trainLoop), so a run stepped to its end is train()'s run, bit for
 * bit (test/runtime/train-steps.test.ts).
 */
import type { CompiledModule } from "./load-module.js";
import type { ShardPool } from "./threads/pool.js";
import { checkTrainArguments, trainLoop, type StepReport, type TrainOptions, type TrainResult } from "./train.js";
import type { Dataset } from "./types.js";

export type { StepReport };

export interface Trainer {
  /** Takes one step and reports it; null once training has ended (then `result` is set). */
  step(): StepReport | null;
  /** Ends training now, with the weights of the last step taken; the result (the same on later
   * calls; null after a step threw). */
  stop(): TrainResult | null;
  /** The result once training has ended (all epochs, early stopping, divergence, or stop), else null. */
  readonly result: TrainResult | null;
}

/**
 * Training one step at a time: the arguments are checked, the data normalized and the initial loss
 * evaluated here; each step() then takes one optimizer step (and, after an epoch's last step, the
 * epoch's evaluation, checkpoint and early-stopping decision, as train() does).
 */
export function trainer(mod: CompiledModule, data: Dataset, options: TrainOptions): Trainer {
  checkTrainArguments(mod, data, options);
  const pools: ShardPool[] = [];
  const loop = trainLoop(mod, data, options, pools, true);
  let result: TrainResult | null = null;
  let ended = false;
  // the threads end however training does
  const end = () => {
    ended = true;
    for (const pool of pools) pool.close();
  };
  const advance = (command?: "stop"): StepReport | null => {
    if (ended) return null;
    let next: IteratorResult<StepReport | null, TrainResult>;
    try {
      next = loop.next(command);
    } catch (e) {
      end(); // a generator that threw is done
      throw e;
    }
    if (!next.done) return next.value;
    result = next.value;
    end();
    return null;
  };
  // to the loop's first yield: ready, before the first step (or already ended, resuming a finished run)
  advance();
  return {
    step: advance,
    stop() {
      advance("stop");
      return result;
    },
    get result() {
      return result;
    },
  };
}

/** TrainOptions' onStep reports each step's loss (the loop calls it, as in train()). */
export interface AsyncTrainOptions extends TrainOptions {
  /** stops training before the next step once aborted; the result is "aborted", with the weights of the last step */
  readonly signal?: AbortSignal;
  /** the longest the loop runs before it yields to the event loop, in milliseconds (default 10; 0: after every step) */
  readonly sliceMs?: number;
}

/**
 * train() as an async loop: it yields to the event loop at least every `sliceMs` (so a page stays
 * responsive and an abort can arrive), and checks the signal before every step.
 */
export async function trainAsync(mod: CompiledModule, data: Dataset, options: AsyncTrainOptions): Promise<TrainResult> {
  const t = trainer(mod, data, options);
  const pause = yielder();
  try {
    let slice = performance.now();
    for (;;) {
      if (options.signal?.aborted) return t.stop()!;
      if (t.step() === null) return t.result!;
      if (performance.now() - slice >= (options.sliceMs ?? 10)) {
        await pause.next();
        slice = performance.now();
      }
    }
  } finally {
    t.stop(); // a callback that threw leaves the loop: end it (closes its threads)
    pause.close();
  }
}

/** A macrotask turn of the event loop: a MessageChannel message where there is one (no 4 ms
 * clamping of nested timers, as browsers do to setTimeout), else setTimeout. */
function yielder(): { next(): Promise<void>; close(): void } {
  if (typeof MessageChannel === "undefined") return { next: () => new Promise((resolve) => setTimeout(resolve, 0)), close: () => {} };
  const channel = new MessageChannel();
  let resolve: (() => void) | null = null;
  channel.port1.onmessage = () => resolve?.();
  return {
    next: () =>
      new Promise<void>((r) => {
        resolve = r;
        channel.port2.postMessage(null);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}
