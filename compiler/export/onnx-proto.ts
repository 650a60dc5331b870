/**
 * The ONNX messages the exporter writes, with their field numbers from onnx.proto (onnx/onnx,
 * onnx/onnx.proto): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto (with TypeProto.Tensor and TensorShapeProto), OperatorSetIdProto. Only the
 * fields nnc fills are listed.
 */
import { Message } from "./protobuf.js";

/** TensorProto.DataType */
export const DOUBLE = 11;
export const INT64 = 7;
export type ElemType = typeof DOUBLE | typeof INT64;

/** A tensor with its values: float64 weights and constants, or int64 shapes, axes and indices. */
export interface TensorValue {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: ElemType;
  readonly values: readonly number[] | Float64Array;
}

export type AttributeValue = { readonly int: number } | { readonly ints: readonly number[] };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** the `.nn` statement the node computes */
  readonly doc?: string;
}

/** A graph input or output: its element type and dimensions, a string being a symbolic one ("N"). */
export interface ValueSpec {
  readonly name: string;
  readonly type: ElemType;
  readonly dims: readonly (number | string)[];
}

export interface ModelSpec {
  readonly irVersion: number;
  readonly opset: number;
  readonly producer: { readonly name: string; readonly version: string };
  readonly doc: string;
  readonly graph: {
    readonly name: string;
    readonly doc: string;
    readonly nodes: readonly NodeSpec[];
    readonly initializers: readonly TensorValue[];
    readonly inputs: readonly ValueSpec[];
    readonly outputs: readonly ValueSpec[];
  };
}

/** AttributeProto.AttributeType */
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

function tensor(t: TensorValue): Message {
  const m = new Message().packedInts(1, t.dims).int(2, t.type).string(8, t.name);
  // raw_data: little-endian, as ONNX requires whatever the machine
  const bytes = new Uint8Array(t.values.length * 8);
  const view = new DataView(bytes.buffer);
  t.values.forEach((v, i) => (t.type === DOUBLE ? view.setFloat64(i * 8, v, true) : view.setBigInt64(i * 8, BigInt(v), true)));
  return m.bytes(9, bytes);
}

function attribute(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if ("int" in value) return m.int(20, ATTRIBUTE_INT).int(3, value.int);
  return m.int(20, ATTRIBUTE_INTS).packedInts(8, value.ints);
}

function node(n: NodeSpec): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) m.bytes(5, attribute(k, v));
  if (n.doc) m.string(6, n.doc);
  return m;
}

function valueInfo(v: ValueSpec): Message {
  const shape = new Message();
  for (const d of v.dims) shape.bytes(1, typeof d === "number" ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, v.type).bytes(2, shape);
  return new Message().string(1, v.name).bytes(2, new Message().bytes(1, tensorType));
}

/** The serialized ModelProto. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const g = new Message();
  for (const n of spec.graph.nodes) g.bytes(1, node(n));
  g.string(2, spec.graph.name);
  for (const t of spec.graph.initializers) g.bytes(5, tensor(t));
  if (spec.graph.doc) g.string(10, spec.graph.doc);
  for (const i of spec.graph.inputs) g.bytes(11, valueInfo(i));
  for (const o of spec.graph.outputs) g.bytes(12, valueInfo(o));
  return new Message()
    .int(1, spec.irVersion)
    .string(2, spec.producer.name)
    .string(3, spec.producer.version)
    .string(6, spec.doc)
    .bytes(7, g)
    .bytes(8, new Message().string(1, "").int(2, spec.opset))
    .finish();
}
