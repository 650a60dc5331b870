/**
 * A minimal reader of the .safetensors files train.py writes (the layout docs/scale-out.md fixes:
 * 8-byte little-endian header length, JSON header, float64 little-endian data), for the export
 * tests: it does not depend on nnc's own reader.
 */
import { readFileSync } from "node:fs";

export interface SafetensorsFile {
  readonly tensors: Record<string, { shape: number[]; values: Float64Array }>;
  /** the names in the header's order */
  readonly order: string[];
  readonly metadata: Record<string, string>;
}

export function readSafetensors(path: string): SafetensorsFile {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, unknown>;
  const tensors: SafetensorsFile["tensors"] = {};
  const order: string[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== "F64") throw new Error(`${path}: ${name} is ${dtype}, not F64`);
    const data = bytes.subarray(8 + n + begin, 8 + n + end);
    const values = new Float64Array(data.length / 8);
    for (let i = 0; i < values.length; i++) values[i] = data.readDoubleLE(i * 8);
    tensors[name] = { shape, values };
    order.push(name);
  }
  return { tensors, order, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}
