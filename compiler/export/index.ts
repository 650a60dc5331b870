/**
 * `nnc export`: the model for another framework. Each format is one function from the checked
 * model to the files it writes; the CLI checks the paths and writes them (compiler/cli.ts).
 */
import { join } from "node:path";
import { reachable } from "../ir/walk.js";
import type { Model } from "../semantics/model.js";
import { resolveConfig } from "../../runtime/cli-train.js";
import { emitModelPy } from "./pytorch.js";
import { emitTrainPy } from "./pytorch-train.js";

export { ExportError } from "./pytorch.js";

export interface ExportedFile {
  readonly path: string;
  readonly text: string;
}

/** `--format pytorch -o DIR`: DIR/model.py and DIR/train.py (docs/scale-out.md). */
export function exportPyTorch(modelFile: string, model: Model, dir: string, version: string): ExportedFile[] {
  const file = modelFile.split("/").pop()!;
  // the train block resolved as nnc train resolves it; a block without data leaves --data to train.py
  const config = resolveConfig(modelFile, model.train, model.train.data === undefined ? { data: "" } : {});
  const used = reachable(model.graph, [model.loss]);
  const unusedParams = model.params.some((p) => !used[p.node]);
  return [
    { path: join(dir, "model.py"), text: emitModelPy(model, { file, version }) },
    { path: join(dir, "train.py"), text: emitTrainPy(model, { file, version, dir, config, unusedParams }) },
  ];
}
