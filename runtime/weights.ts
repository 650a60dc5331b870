/**
 * The weights file `nnc train` writes and `nnc predict` reads (JSON): the model's name, each
 * parameter's shape and values, the input normalization, the training configuration and the final
 * metrics. A checkpoint is the same file plus what resuming needs (optimizer state, epoch, history).
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../compiler/io.js";
import type { CompiledModule } from "./load-module.js";
import type { Normalization, OptimizerState, ParamSet } from "./types.js";

export const WEIGHTS_FORMAT = "nnc-weights/1";

export interface WeightsFile {
  readonly format: typeof WEIGHTS_FORMAT;
  readonly model: string;
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
  return { format: WEIGHTS_FORMAT, model: mod.meta.name, params: out, ...rest };
}

export function saveWeights(path: string, w: WeightsFile): void {
  writeFileAtomic(path, JSON.stringify(w) + "\n");
}

export class WeightsError extends Error {}

/** Reads a weights file and checks it against the module: same parameter names and shapes. */
export function loadWeights(path: string, mod: CompiledModule): { file: WeightsFile; params: ParamSet } {
  let file: WeightsFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as WeightsFile;
  } catch (e) {
    throw new WeightsError(`${path}: cannot read weights: ${(e as Error).message}`);
  }
  if (file?.format !== WEIGHTS_FORMAT) throw new WeightsError(`${path}: not an nnc weights file (format ${JSON.stringify(file?.format)})`);
  const params = mod.createParams();
  for (const [name, shape] of Object.entries(mod.meta.params)) {
    const p = file.params[name];
    if (p === undefined) throw new WeightsError(`${path}: no values for parameter '${name}' of model ${mod.meta.name}`);
    if (p.shape.join() !== shape.join() || p.values.length !== params[name]!.length)
      throw new WeightsError(`${path}: parameter '${name}' has shape [${p.shape}] in the file but [${shape}] in the model`);
    params[name]!.set(p.values);
  }
  return { file, params };
}
