/**
 * Training in a Web Worker: the emitted module (its JavaScript, imported from a blob: URL) trained
 * by runtime/train.ts — the same loop, optimizers, schedules, normalization, early stopping and
 * metrics as `nnc train` — on the data embedded in the page. The worker posts the initial loss,
 * the per-step losses (train's onStep, in bunches), a report per epoch and the final weights. The page stops a run
 * by terminating the worker: train() is synchronous, and a worker's thread is the page's to end.
 */
import { splitDataset } from "../../runtime/data/subsets.js";
import { parseCsv } from "../../runtime/data/csv.js";
import type { CompiledModule } from "../../runtime/load-module.js";
import { evaluate } from "../../runtime/metrics.js";
import { applyNormalization } from "../../runtime/data/normalize.js";
import { train } from "../../runtime/train.js";
import { DataError, type Dataset } from "../../runtime/types.js";
import { NncUsageError } from "../../runtime/usage.js";
import type { TrainMessage, TrainRequest } from "./protocol.js";

const post = (m: TrainMessage) => self.postMessage(m);

function load(req: TrainRequest, file: string, mod: CompiledModule): Dataset<Float64Array> {
  const text = req.files[file];
  if (text === undefined) throw new DataError(file, `the playground has no such file: it trains on ${Object.keys(req.files).join(", ")} (embedded in the page)`);
  return parseCsv(text, file, { inputs: mod.meta.inputs, targets: mod.meta.targets, targetDomains: req.targetDomains });
}

async function run(req: TrainRequest): Promise<void> {
  const url = URL.createObjectURL(new Blob([req.js], { type: "text/javascript" }));
  const mod = (await import(/* @vite-ignore */ url)) as CompiledModule;
  URL.revokeObjectURL(url);
  const cfg = req.config;
  let data = load(req, cfg.data, mod);
  let validation = cfg.validation !== null ? load(req, cfg.validation, mod) : null;
  if (cfg.split !== null) {
    const parts = splitDataset(data, cfg.split, cfg.seed);
    data = parts.train;
    validation = parts.validation;
  }
  const losses: number[] = [];
  let sent = performance.now();
  const flush = () => {
    if (losses.length > 0) post({ kind: "steps", losses: losses.splice(0) });
    sent = performance.now();
  };
  const stepsPerEpoch = Math.ceil(data.count / Math.max(1, Math.min(cfg.batch, data.count)));
  const result = train(mod, data, {
    epochs: cfg.epochs,
    batch: cfg.batch,
    optimizer: cfg.optimizer,
    schedule: cfg.schedule,
    seed: cfg.seed,
    validation,
    earlyStopping: cfg.earlyStopping,
    normalize: cfg.normalize,
    onStart: (initial) => post({ kind: "start", initial, trainCount: data.count, validationCount: validation?.count ?? 0, stepsPerEpoch }),
    // every step's batch loss (a full-batch optimizer's one step per epoch too), posted about 20
    // times a second whatever the speed of the steps
    onStep: ({ loss }) => {
      losses.push(loss);
      if (performance.now() - sent > 50) flush();
    },
    onEpoch: (r) => {
      flush();
      post({ kind: "epoch", epoch: r.epoch, epochs: cfg.epochs, train: r.train, validation: r.validation });
    },
  });
  flush();
  // the final evaluation and metrics as `nnc train` writes them into the weights file
  const norm = result.normalization;
  const finalTrain = evaluate(mod, result.params, norm ? applyNormalization(data, norm) : data);
  const finalValid = validation ? evaluate(mod, result.params, norm ? applyNormalization(validation, norm) : validation) : null;
  const last = result.history[result.history.length - 1];
  post({
    kind: "done",
    params: Object.fromEntries(Object.entries(result.params).map(([k, v]) => [k, Array.from(v)])),
    normalization: norm,
    stopped: result.stopped,
    message: result.message,
    metrics: {
      stopped: result.stopped,
      epochs: last?.epoch ?? 0,
      bestEpoch: result.bestEpoch,
      initialLoss: result.initial.loss,
      train: { loss: finalTrain.loss, accuracy: finalTrain.accuracy, rmse: finalTrain.rmse },
      validation: finalValid && { loss: finalValid.loss, accuracy: finalValid.accuracy, rmse: finalValid.rmse },
    },
  });
}

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  run(e.data).catch((err: unknown) => {
    // the user's mistakes (bad data for this model, a value train() refuses) read as nnc prints them
    const user = err instanceof DataError || err instanceof NncUsageError;
    post({ kind: "error", message: user ? `nnc: error: ${(err as Error).message}` : `internal error: ${(err as Error).stack ?? String(err)}` });
  });
};
