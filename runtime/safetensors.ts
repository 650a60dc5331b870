/**
 * The safetensors format (the weights format the deep-learning ecosystem shares), read and written
 * without a library: 8 bytes of little-endian u64 header length N, N bytes of UTF-8 JSON header
 * (padded with spaces to a multiple of 8, as the reference implementation writes it), then the
 * tensors' little-endian data. The header maps each tensor's name to `{ dtype, shape,
 * data_offsets: [begin, end] }` (offsets into the data) and may hold `__metadata__`, an object of
 * strings. Pure (no node: imports): the browser can use it too.
 *
 * The decoder checks the container, not what the tensors mean (weights.ts does that against the
 * model): the header's length and JSON, each entry's fields, one name once, a byte range per tensor
 * of exactly dtype size × elements, the ranges tiling the data from 0 to its end (no gap, overlap
 * or trailing byte, as the reference implementation requires). Every failure calls `fail(field,
 * detail)`, which throws; fields are named `header`, `header["h.W"].shape`, `__metadata__`.
 */
import { escapeControls, shown } from "./usage.js";

/** The dtypes read: floating point, converted exactly to float64. Integers and 8-bit floats are refused. */
export const READ_DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2 } as const;
export type ReadDtype = keyof typeof READ_DTYPES;
/** The dtypes written: the module's storage types. */
export type WriteDtype = "F64" | "F32";

/** The largest header read: 100,000,000 bytes, the reference implementation's limit. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface Tensor {
  readonly name: string;
  readonly dtype: ReadDtype;
  readonly shape: number[];
  readonly values: Float64Array;
}

export interface SafetensorsContent {
  /** in the header's order */
  readonly tensors: Tensor[];
  /** null: the header has no `__metadata__` */
  readonly metadata: Record<string, string> | null;
}

type Fail = (field: string, detail: string) => never;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const key = (name: string) => `[${JSON.stringify(name)}]`;
/** A value as found: shown (usage.ts), and a short array (a shape, offsets) with its elements. */
const quote = (v: unknown) => (Array.isArray(v) && v.length <= 8 ? `[${v.map((x) => shown(x)).join(", ")}]` : shown(v));

/**
 * The tensors and metadata as a safetensors file. Tensors are laid out in the order given,
 * contiguously from offset 0; the header lists them in that order, then `__metadata__`. An F32
 * tensor must hold float32 values exactly (the caller's module stores them so): nothing is rounded
 * here.
 */
export function encodeSafetensors(
  tensors: readonly { readonly name: string; readonly dtype: WriteDtype; readonly shape: readonly number[]; readonly values: ArrayLike<number> }[],
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  // written entry by entry, not with JSON.stringify of one object: an object puts integer-like keys first
  const entries: string[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__") throw new Error("a tensor cannot be named __metadata__ in safetensors");
    const bytes = t.values.length * READ_DTYPES[t.dtype];
    entries.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  entries.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const text = new TextEncoder().encode(`{${entries.join(",")}}`);
  const n = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + n);
  let at = 8 + n;
  for (const t of tensors) {
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i]!;
      if (t.dtype === "F64") view.setFloat64(at, v, true);
      else {
        if (Math.fround(v) !== v && !Number.isNaN(v)) throw new RangeError(`tensor ${t.name}[${i}] = ${v} is not a float32 value: an F32 tensor is written from float32 values only`);
        view.setFloat32(at, v, true);
      }
      at += READ_DTYPES[t.dtype];
    }
  }
  return out;
}

/** Reads a safetensors file; see the top of this file for what is checked. */
export function decodeSafetensors(bytes: Uint8Array, fail: Fail): SafetensorsContent {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) fail("", `not a safetensors file: ${bytes.length} bytes, fewer than the 8 of the header length`);
  const declared = view.getBigUint64(0, true);
  const looksJson = bytes[0] === 0x7b; // '{': a JSON weights file given a .safetensors name
  const hint = looksJson ? " (the file starts with '{': it looks like JSON weights; name it .json)" : "";
  if (declared > BigInt(MAX_HEADER_BYTES)) fail("header", `the header length is ${declared} bytes, more than the limit of ${MAX_HEADER_BYTES}${hint}`);
  const n = Number(declared);
  if (8 + n > bytes.length) fail("header", `the header length is ${n} bytes, but the file has only ${bytes.length - 8} after the length${hint}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header", "not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail("header", `not valid JSON: ${escapeControls((e as Error).message)}`);
  }
  if (!isObject(header)) return fail("header", `expected a JSON object of tensors by name, found ${quote(header)}`);
  const names = topLevelKeys(text);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) fail(`header${key(name)}`, "the name appears twice in the header (JSON would keep only the last)");
    seen.add(name);
  }

  let metadata: Record<string, string> | null = null;
  if (Object.hasOwn(header, "__metadata__")) {
    const m = header.__metadata__;
    if (!isObject(m)) fail("__metadata__", `expected an object of strings, found ${quote(m)}`);
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) if (typeof v !== "string") fail(`__metadata__${key(k)}`, `expected a string (safetensors metadata values are strings), found ${quote(v)}`);
    metadata = m as Record<string, string>;
  }

  const dataLength = bytes.length - 8 - n;
  const ranges: { name: string; begin: number; end: number }[] = [];
  const entries: { name: string; dtype: ReadDtype; shape: number[]; begin: number; count: number }[] = [];
  for (const name of names) {
    if (name === "__metadata__") continue;
    const f = `header${key(name)}`;
    const entry = header[name];
    if (!isObject(entry)) fail(f, `expected { dtype, shape, data_offsets }, found ${quote(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string") fail(`${f}.dtype`, `expected a dtype such as "F64", found ${quote(dtype)}`);
    if (!Object.hasOwn(READ_DTYPES, dtype as string))
      fail(`${f}.dtype`, `${quote(dtype)} is not read: nnc reads the floating-point dtypes ${Object.keys(READ_DTYPES).join(", ")} (converted exactly to float64)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${f}.shape`, `expected an array of non-negative integers, found ${quote(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      fail(`${f}.data_offsets`, `expected [begin, end], two non-negative integers, found ${quote(offsets)}`);
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${f}.data_offsets`, `the end ${end} is before the begin ${begin}`);
    if (end > dataLength) fail(`${f}.data_offsets`, `[${begin}, ${end}] reaches beyond the data, which has ${dataLength} bytes`);
    const size = READ_DTYPES[dtype as ReadDtype];
    // the product of the shape can exceed 2^53; the byte range cannot (it lies within the file)
    let count = 1;
    for (const d of shape as number[]) count *= d;
    if (count * size !== end - begin)
      fail(`${f}.data_offsets`, `shape [${(shape as number[]).join(", ")}] of ${dtype} takes ${count} × ${size} = ${count * size} bytes, the offsets [${begin}, ${end}] give ${end - begin}`);
    ranges.push({ name, begin, end });
    entries.push({ name, dtype: dtype as ReadDtype, shape: shape as number[], begin, count });
  }
  // the ranges must tile the data: sorted by begin, each starts where the one before ends
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of ranges) {
    if (r.begin < at) fail(`header${key(r.name)}.data_offsets`, `[${r.begin}, ${r.end}] overlaps another tensor's data (which ends at ${at})`);
    if (r.begin > at) fail(`header${key(r.name)}.data_offsets`, `[${r.begin}, ${r.end}] leaves bytes ${at} to ${r.begin} of the data unused (tensors must be contiguous)`);
    at = r.end;
  }
  if (at !== dataLength) fail("", `${dataLength - at} bytes after the last tensor's data (the tensors end at byte ${at} of ${dataLength}): the file is corrupt or has trailing bytes`);

  const start = 8 + n;
  const tensors = entries.map(({ name, dtype, shape, begin, count }) => ({ name, dtype, shape, values: readValues(view, start + begin, count, dtype) }));
  return { tensors, metadata };
}

function readValues(view: DataView, at: number, count: number, dtype: ReadDtype): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === "F64") out[i] = view.getFloat64(at + 8 * i, true);
    else if (dtype === "F32") out[i] = view.getFloat32(at + 4 * i, true);
    else if (dtype === "F16") out[i] = half(view.getUint16(at + 2 * i, true));
    else out[i] = bfloat16(view.getUint16(at + 2 * i, true));
  }
  return out;
}

/** IEEE 754 binary16 → float64, exactly. */
export function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

const scratch = new DataView(new ArrayBuffer(4));
/** bfloat16 (the upper half of a float32) → float64, exactly. */
export function bfloat16(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

/** The keys of the outermost object of a valid JSON text, in order and with repetitions (JSON.parse keeps the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}
