/**
 * `nnc convert-weights IN OUT`: weights from nnc's JSON to safetensors or back, each format chosen
 * by its file's extension. Both formats carry the parameters' names and shapes, so no model is
 * needed: the file is checked against the shapes it declares (validateWeightsAlone), or, with
 * `--model`, against the model's (validateWeights). Values are copied exactly: safetensors is
 * written in F64, which holds every number of a JSON file (and of an F32, F16 or BF16 tensor).
 */
import { checkOutputs } from "../compiler/io.js";
import { CliError } from "./cli-train.js";
import { NncUsageError } from "./usage.js";
import { validateWeights, validateWeightsAlone, weightsFormat, type WeightsFile, type WeightsModule } from "./weights.js";
import { readWeights, saveWeights } from "./node/weights-files.js";

/** Both paths must name their format: a conversion to "JSON by default" would hide a typo. */
function checkExtension(what: string, path: string): void {
  if (!/\.json$/.test(path) && weightsFormat(path) !== "safetensors")
    throw new CliError(`nnc: error: ${what} '${path}': the format is chosen by the extension: .json (nnc-weights) or .safetensors`);
}

/** Validates the paths before any work (io.ts, checkOutputs); `model`: the .nn file given with --model. */
export function checkConvertPaths(input: string, output: string, model: string | undefined): void {
  checkExtension("the input", input);
  checkExtension("the output", output);
  checkOutputs([{ what: "the output", path: output }], [{ what: "the input", path: input }, ...(model !== undefined ? [{ what: "--model", path: model }] : [])]);
}

export function runConvert(input: string, output: string, mod: WeightsModule | null, out: (s: string) => void): number {
  try {
    return convert(input, output, mod, out);
  } catch (e) {
    if (e instanceof NncUsageError) throw new CliError(`nnc: error: ${e.message}`);
    throw e;
  }
}

function convert(input: string, output: string, mod: WeightsModule | null, out: (s: string) => void): number {
  const { raw, fields } = readWeights(input);
  let file = (mod !== null ? validateWeights(raw, mod, input, fields) : validateWeightsAlone(raw, input, fields)).file;
  const to = weightsFormat(output);
  if (file.resume !== undefined && to === "safetensors") {
    out(`note: ${input} is a checkpoint: its weights are converted; its state for --resume (epoch ${file.resume.epoch}, optimizer, history) is not, since checkpoints are JSON`);
    const { resume: _, ...weights } = file;
    file = weights;
  }
  saveWeights(output, file, "F64");
  const values = Object.values(file.params).reduce((n, p) => n + p.values.length, 0);
  const tensors = Object.keys(file.params).length;
  out(`${input} → ${output} (${to === "safetensors" ? "safetensors, F64" : "JSON"}): ${tensors} parameter${tensors === 1 ? "" : "s"}, ${values} values${file.normalization !== null ? ", with the inputs' normalization" : ""}`);
  return 0;
}
