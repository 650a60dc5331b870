/**
 * `nnc export model.nn --format onnx -o model.onnx [--weights W]`: the paths checked before any
 * work, the weights read with the runtime's loader, the model written atomically (io.ts).
 */
import { basename, dirname, join } from "node:path";
import { checkOutputs, writeFileAtomic } from "../io.js";
import type { Model } from "../semantics/model.js";
import type { CompiledModule } from "../../runtime/load-module.js";
import { WeightsError } from "../../runtime/weights.js";
import { loadWeights } from "../../runtime/node/weights-files.js";
import { exportOnnx, OnnxExportError, OPSET } from "./onnx.js";

export interface OnnxExportFlags {
  /** the file to write; '-' is stdout */
  readonly output: string;
  /** absent: where `nnc train` writes them by default */
  readonly weights?: string;
}

export interface OnnxExportPaths {
  readonly output: string;
  readonly weights: string;
}

/** `nnc train`'s default weights path (runtime/cli-train.ts, trainOutputs): `<model>.weights.json` beside the model. */
export function defaultWeights(modelFile: string, model: Model): string {
  return join(dirname(modelFile), `${model.name}.weights.json`);
}

/** Validates the output path before any work (io.ts, checkOutputs). */
export function checkOnnxOutputs(modelFile: string, model: Model, flags: OnnxExportFlags): OnnxExportPaths {
  const paths = { output: flags.output, weights: flags.weights ?? defaultWeights(modelFile, model) };
  if (paths.output !== "-")
    checkOutputs([{ what: "the ONNX model (-o)", path: paths.output }], [
      { what: "the model", path: modelFile },
      { what: "--weights", path: paths.weights },
    ]);
  return paths;
}

/** Exports and writes; a problem the user can fix is thrown as an OnnxExportError. */
export function runExportOnnx(modelFile: string, model: Model, mod: CompiledModule, paths: OnnxExportPaths, version: string, say: (line: string) => void): void {
  let weights;
  try {
    weights = loadWeights(paths.weights, mod);
  } catch (e) {
    if (!(e instanceof WeightsError)) throw e; // a bug, reported as one
    const implicit = paths.weights === defaultWeights(modelFile, model) ? " (the default: where nnc train writes them; give --weights)" : "";
    throw new OnnxExportError(`${(e as Error).message}${implicit}`);
  }
  // the graph z-scores; a projection (pca, whiten, zca) would need its MatMul, and is refused rather than dropped
  const method = weights.file.normalization?.method;
  if (method !== undefined && method !== "zscore")
    throw new OnnxExportError(`${paths.weights}: the weights' inputs are normalized with ${method} (a projection of the data), which the ONNX export does not write into the graph: export weights trained with normalize zscore or none`);
  const onnx = exportOnnx(model, { params: weights.params, normalization: weights.file.normalization ?? null }, { name: "nnc", version, source: basename(modelFile) });
  if (paths.output === "-") process.stdout.write(onnx.bytes);
  else writeFileAtomic(paths.output, onnx.bytes);
  const show = (v: { name: string; dims: readonly (number | string)[] }) => `${v.name}[${v.dims.join(", ")}]`;
  const norm = weights.file.normalization ? " (z-scored in the graph)" : "";
  const line = `ONNX opset ${OPSET}, float64: inputs ${onnx.inputs.map(show).join(", ")}${norm} → outputs ${onnx.outputs.map(show).join(", ")}; ${onnx.nodes} nodes, ${onnx.initializers} initializers, ${onnx.bytes.length} bytes`;
  // with the model on stdout, the summary goes to stderr (the caller's `say`)
  say(paths.output === "-" ? line : `${line} → ${paths.output}`);
}
