/**
 * `nnc export`: the model for another framework. Each format is one function from the checked
 * model to the files it writes; the CLI checks the paths and writes them (compiler/cli.ts).
 */
import { join } from "node:path";
import { reachable } from "../ir/walk.js";
import type { Model } from "../semantics/model.js";
import { resolveConfig } from "../../runtime/cli-train.js";
import { emitModelPy } from "./pytorch.js";
import { emitTrainPy, trainPyLimitation } from "./pytorch-train.js";

export { ExportError } from "./pytorch.js";

export interface ExportedFile {
  readonly path: string;
  readonly text: string;
}

/** The train block resolved as nnc train resolves it; a block without data leaves --data to train.py. */
const trainConfig = (modelFile: string, model: Model) => resolveConfig(modelFile, model.train, model.train.data === undefined ? { data: "" } : {});

/** What the exported train.py cannot do for this model's train block, or null (nnc export warns). */
export function pyTorchWarning(modelFile: string, model: Model): string | null {
  return trainPyLimitation(trainConfig(modelFile, model));
}

/** `--format pytorch -o DIR`: DIR/model.py and DIR/train.py (docs/scale-out.md). */
export function exportPyTorch(modelFile: string, model: Model, dir: string, version: string): ExportedFile[] {
  const file = modelFile.split("/").pop()!;
  const config = trainConfig(modelFile, model);
  const used = reachable(model.graph, [model.loss]);
  const unusedParams = model.params.some((p) => !used[p.node]);
  return [
    { path: join(dir, "model.py"), text: emitModelPy(model, { file, version }) },
    { path: join(dir, "train.py"), text: emitTrainPy(model, { file, version, dir, config, unusedParams }) },
  ];
}
