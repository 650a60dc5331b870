/**
 * onnxruntime-web in Node, as the ONNX export's tests run it: WebAssembly, single-threaded, the
 * .wasm loaded from node_modules/onnxruntime-web/dist (its Node build finds it beside itself; no
 * network). onnxruntime-node is not used: its install script downloads binaries.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { ROOT } from "./corpus.js";

ort.env.wasm.numThreads = 1;

/** Runs an ONNX model on float64 inputs ([count, …shape] each); returns every output's values. */
export async function runOnnx(bytes: Uint8Array, inputs: Record<string, { data: Float64Array; dims: number[] }>): Promise<Record<string, { data: Float64Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of Object.entries(inputs)) feeds[name] = new ort.Tensor("float64", v.data, v.dims);
    const result = await session.run(feeds);
    const out: Record<string, { data: Float64Array; dims: readonly number[] }> = {};
    for (const [name, t] of Object.entries(result)) {
      if (t.type !== "float64") throw new Error(`output ${name} is ${t.type}, not float64`);
      out[name] = { data: t.data as Float64Array, dims: t.dims };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The names a session reports for the model's inputs and outputs. */
export async function onnxInterface(bytes: Uint8Array): Promise<{ inputs: readonly string[]; outputs: readonly string[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const names = { inputs: [...session.inputNames], outputs: [...session.outputNames] };
  await session.release();
  return names;
}

/** The ModelProto decoded by the protobufjs classes onnxruntime-web ships: a parser independent of nnc's encoder. */
export interface DecodedModel {
  irVersion: unknown;
  producerName: string;
  opsetImport: { domain: string; version: unknown }[];
  graph: {
    name: string;
    node: { opType: string; name: string; input: string[]; output: string[]; docString: string }[];
    initializer: { name: string; dims: unknown[]; dataType: number; rawData: Uint8Array }[];
    input: { name: string }[];
    output: { name: string }[];
  };
}

export function decodeOnnx(bytes: Uint8Array): DecodedModel {
  const require = createRequire(import.meta.url);
  const { onnx } = require(join(ROOT, "node_modules", "onnxruntime-web", "lib", "onnxjs", "ort-schema", "protobuf", "onnx.js"));
  return onnx.ModelProto.decode(bytes) as DecodedModel;
}
