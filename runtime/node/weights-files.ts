/**
 * Weights files on disk (Node): reading within the size limit, and writing atomically. Parsing
 * and checking are the core's (runtime/weights.ts), which reads no file.
 */
import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../../compiler/io.js";
import { MAX_WEIGHTS_BYTES, parseWeights, toSafetensors, validateWeights, weightsFormat, WeightsError, type WeightsFields, type WeightsFile, type WeightsModule } from "../weights.js";
import type { WriteDtype } from "../safetensors.js";
import type { ParamSet } from "../types.js";

/** Reads a weights file or checkpoint and checks it against the module (see validateWeights). */
export function loadWeights(path: string, mod: WeightsModule): { file: WeightsFile; params: ParamSet } {
  const { raw, fields } = readWeights(path);
  return validateWeights(raw, mod, path, fields);
}

/** Reads a weights file by its extension (parseWeights); not checked against a model. */
export function readWeights(path: string): { raw: unknown; fields: WeightsFields } {
  let bytes: Uint8Array;
  try {
    const size = statSync(path).size;
    if (size > MAX_WEIGHTS_BYTES) throw new WeightsError(path, "", `the file has ${size} bytes; the limit for a weights file is ${MAX_WEIGHTS_BYTES} bytes (256 MiB)`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(path, "", `cannot read weights: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseWeights(bytes, path);
}

/**
 * Writes weights by the path's extension (weightsFormat), atomically. In safetensors, `dtype` is
 * the tensors' (F64 holds every JSON number exactly; F32 only the values of an f32 module), and a
 * checkpoint's `resume` is left out: checkpoints are JSON.
 */
export function saveWeights(path: string, w: WeightsFile, dtype: WriteDtype = "F64"): void {
  if (w.resume !== undefined && weightsFormat(path) === "safetensors") throw new WeightsError(path, "resume", "a checkpoint is written as JSON (.json): safetensors cannot hold its optimizer state and history");
  writeFileAtomic(path, weightsFormat(path) === "safetensors" ? toSafetensors(w, dtype) : JSON.stringify(w) + "\n");
}
