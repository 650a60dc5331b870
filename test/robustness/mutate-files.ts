/**
 * Mutations of valid data and weights files for the property tests over `nnc train` / `nnc
 * predict` inputs (issue #14), the counterpart of mutate.ts for sources.
 *
 * CSV: cells deleted, inserted and replaced by awkward values (huge numbers, NaN, control
 * characters, quotes, classes out of range), rows deleted, duplicated and swapped, line endings
 * mixed, quoted fields with separators and newlines, the text truncated; or the whole file replaced
 * by an empty one, a header alone, or binary garbage.
 *
 * JSON (weights files and checkpoints): at a node reached by a random walk from the root, its type
 * swapped, its key removed or renamed, an array lengthened or shortened, a number out of range
 * (written as raw JSON text: 1e999, -0), a deeply nested value, a huge string; the text then maybe
 * truncated or given a stray byte.
 */
import { gzipSync } from "node:zlib";
import fc from "fast-check";

// ---------------------------------------------------------------------------------------------
// CSV

export type CsvMutationKind =
  | "replaceCell"
  | "deleteCell"
  | "insertCell"
  | "quoteCell"
  | "deleteRow"
  | "duplicateRow"
  | "swapRows"
  | "lineEndings"
  | "insertText"
  | "truncate";

export interface CsvMutation {
  readonly kind: CsvMutationKind;
  readonly a: number;
  readonly b: number;
  readonly text: string;
}

/** Values a cell should not hold, and some it may. */
const CELLS = [
  "",
  " ",
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "1e309",
  "-1e309",
  "1e-400",
  "9".repeat(400),
  "0x10",
  "1_000",
  "١٢",
  "\0",
  "\u001b[31m",
  "\u007f",
  "\t1",
  "1 ",
  '"',
  '""',
  '"1,2"',
  '"1\n2"',
  '"3"',
  "-0",
  "+1",
  ".5",
  "5.",
  "1e",
  "true",
  "null",
  "__proto__",
  "é",
  "😀",
  "\ufeff",
  "\ud800",
  // classes of a 3-class target: out of range, not integers
  "3",
  "-1",
  "1.5",
  "2",
  "100000",
  "4294967296",
  "1e100",
  "0.5",
];

const CSV_KINDS: readonly CsvMutationKind[] = ["replaceCell", "deleteCell", "insertCell", "quoteCell", "deleteRow", "duplicateRow", "swapRows", "lineEndings", "insertText", "truncate"];
const LINE_ENDINGS = ["\r\n", "\r", "\n\n", "\n\r", ""];

export const csvMutationArb: fc.Arbitrary<CsvMutation> = fc.record({
  kind: fc.constantFrom(...CSV_KINDS),
  a: fc.nat(),
  b: fc.nat(),
  text: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CELLS) }, { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 4 }) }),
});

function applyCsvMutation(text: string, m: CsvMutation): string {
  const rows = text.split("\n");
  const r = m.a % rows.length;
  const cells = rows[r]!.split(",");
  const c = m.b % cells.length;
  const withCells = (cs: string[]) => [...rows.slice(0, r), cs.join(","), ...rows.slice(r + 1)].join("\n");
  const withRows = (rs: string[]) => rs.join("\n");
  switch (m.kind) {
    case "replaceCell":
      return withCells(cells.map((x, i) => (i === c ? m.text : x)));
    case "deleteCell":
      return withCells(cells.filter((_, i) => i !== c));
    case "insertCell":
      return withCells([...cells.slice(0, c), m.text, ...cells.slice(c)]);
    case "quoteCell": {
      // a quoted cell: plain, with an escaped quote, with a separator or a line break inside, or unclosed
      const forms = [`"${cells[c]}"`, `"${cells[c]}"""`, `"${cells[c]},${m.text}"`, `"${cells[c]}\n${m.text}"`, `"${cells[c]}`, `${cells[c]}"x"`];
      return withCells(cells.map((x, i) => (i === c ? forms[m.a % forms.length]! : x)));
    }
    case "deleteRow":
      return withRows(rows.filter((_, i) => i !== r));
    case "duplicateRow":
      return withRows([...rows.slice(0, r + 1), ...rows.slice(r)]);
    case "swapRows": {
      const out = [...rows];
      const s = m.b % rows.length;
      [out[r], out[s]] = [out[s]!, out[r]!];
      return withRows(out);
    }
    case "lineEndings": {
      // one line ending, or every one from row r on, changed
      const eol = LINE_ENDINGS[m.b % LINE_ENDINGS.length]!;
      return m.b % 2 === 0 ? [rows.slice(0, r + 1).join("\n"), ...rows.slice(r + 1)].join(eol) : [...rows.slice(0, r), rows.slice(r).join(eol)].join("\n");
    }
    case "insertText": {
      const i = m.a % (text.length + 1);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    case "truncate":
      return text.slice(0, m.a % (text.length + 1));
  }
}

/** A data file's bytes: the valid text mutated, or a whole-file oddity; `gzip` is a .csv.gz (the mutated text compressed, then maybe cut short). */
export type CsvInput =
  | { readonly kind: "mutated"; readonly mutations: readonly CsvMutation[] }
  | { readonly kind: "empty" }
  | { readonly kind: "headerOnly" }
  | { readonly kind: "garbage"; readonly bytes: Uint8Array }
  | { readonly kind: "bom"; readonly mutations: readonly CsvMutation[] }
  | { readonly kind: "gzip"; readonly mutations: readonly CsvMutation[]; readonly cut: number };

export const csvInputArb: fc.Arbitrary<CsvInput> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ kind: fc.constant("mutated" as const), mutations: fc.array(csvMutationArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "empty" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "headerOnly" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("garbage" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bom" as const), mutations: fc.array(csvMutationArb, { maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("gzip" as const), mutations: fc.array(csvMutationArb, { maxLength: 2 }), cut: fc.nat() }) },
);

export function csvBytes(valid: string, input: CsvInput): Buffer {
  switch (input.kind) {
    case "empty":
      return Buffer.alloc(0);
    case "headerOnly":
      return Buffer.from(valid.split("\n")[0]! + "\n");
    case "garbage":
      return Buffer.from(input.bytes);
    case "bom":
      return Buffer.from("\ufeff" + input.mutations.reduce(applyCsvMutation, valid));
    case "mutated":
      return Buffer.from(input.mutations.reduce(applyCsvMutation, valid));
    case "gzip": {
      const gz = gzipSync(input.mutations.reduce(applyCsvMutation, valid));
      // half whole, half cut short (a download that stopped)
      return input.cut % 2 === 0 ? gz : gz.subarray(0, (input.cut >> 1) % gz.length);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// IDX (MNIST's format): an images file and its labels file

export type ByteMutation =
  /** a 32-bit big-endian word (the header's magic number and sizes are words 0..3) set to an awkward value */
  | { readonly kind: "setWord"; readonly at: number; readonly value: number }
  | { readonly kind: "setByte"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "append"; readonly bytes: Uint8Array };

const WORDS = [0, 1, 2, 3, 4, 11, 12, 13, 255, 256, 0x801, 0x803, 0x804, 0x80d, 0x0c03, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff];

const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("setWord" as const), at: fc.nat({ max: 5 }), value: fc.constantFrom(...WORDS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("setByte" as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 9, 10, 127, 128, 255) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
);

export interface IdxInput {
  readonly images: readonly ByteMutation[];
  readonly labels: readonly ByteMutation[];
  readonly gzipImages: boolean;
  readonly gzipLabels: boolean;
}

export const idxInputArb: fc.Arbitrary<IdxInput> = fc.record({
  images: fc.array(byteMutationArb, { maxLength: 2 }),
  labels: fc.array(byteMutationArb, { maxLength: 2 }),
  gzipImages: fc.boolean(),
  gzipLabels: fc.boolean(),
});

function applyByteMutation(bytes: Buffer, m: ByteMutation): Buffer {
  const out = Buffer.from(bytes);
  switch (m.kind) {
    case "setWord":
      if (4 * m.at + 4 <= out.length) out.writeUInt32BE(m.value, 4 * m.at);
      return out;
    case "setByte":
      if (out.length > 0) out[m.at % out.length] = m.value;
      return out;
    case "truncate":
      return out.subarray(0, m.at % (out.length + 1));
    case "append":
      return Buffer.concat([out, m.bytes]);
  }
}

/** Valid IDX files of `count` images of rows × cols pixels and their labels (classes 0..classes−1), then mutated. */
export function idxBytes(input: IdxInput, count: number, rows: number, cols: number, classes: number): { images: Buffer; labels: Buffer } {
  const images = Buffer.alloc(16 + count * rows * cols);
  images.writeUInt32BE(0x803, 0);
  [count, rows, cols].forEach((d, i) => images.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 16; i < images.length; i++) images[i] = (i * 37) % 256;
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = i % classes;
  const im = input.images.reduce(applyByteMutation, images);
  const lb = input.labels.reduce(applyByteMutation, labels);
  return { images: input.gzipImages ? gzipSync(im) : im, labels: input.gzipLabels ? gzipSync(lb) : lb };
}

// ---------------------------------------------------------------------------------------------
// JSON

export type JsonMutationKind = "swapType" | "removeKey" | "renameKey" | "resize" | "outOfRange" | "deepNesting" | "hugeString";

export interface JsonMutation {
  readonly kind: JsonMutationKind;
  /** the random walk: at each level, stop here when the step is 0 mod 4, else go to child step mod n */
  readonly walk: readonly number[];
  readonly pick: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Replacement values of another type */
const OTHER_VALUES: readonly Json[] = [null, true, false, 0, 1, -1, 0.5, "", "x", "1", [], {}, [1, 2], [[]], { a: 1 }, { values: [] }];
/** Raw JSON number texts JSON.stringify cannot write */
const RAW_NUMBERS = ["1e999", "-1e999", "1e-999", "-0", "1.7976931348623157e308", "4294967296", "9007199254740993", "-1", "0", "1e20", "-1e20", "0.5", "123456789"];
const RENAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "", "x", " ", "0"];
const DEPTHS = [64, 1000, 20000, 200000];
const STRING_BYTES = [100, 10_000, 1 << 20];

export const jsonMutationArb: fc.Arbitrary<JsonMutation> = fc.record({
  kind: fc.constantFrom<JsonMutationKind>("swapType", "swapType", "removeKey", "removeKey", "renameKey", "resize", "resize", "outOfRange", "outOfRange", "deepNesting", "hugeString"),
  walk: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  pick: fc.nat(),
});

export type JsonInput = {
  readonly mutations: readonly JsonMutation[];
  /** the serialized text: kept, cut at a position, or given a stray character at one */
  readonly text: { readonly kind: "keep" } | { readonly kind: "truncate"; readonly at: number } | { readonly kind: "insert"; readonly at: number; readonly char: string };
};

export const jsonInputArb: fc.Arbitrary<JsonInput> = fc.record({
  mutations: fc.array(jsonMutationArb, { minLength: 1, maxLength: 3 }),
  text: fc.oneof(
    { weight: 8, arbitrary: fc.constant({ kind: "keep" as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), char: fc.constantFrom(",", "]", "}", "{", '"', "\\", "\0", "\ufffd", "x") }) },
  ),
});

/** Sets key k of object o as an own data property, __proto__ included. */
function setOwn(o: { [k: string]: Json }, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Applies the mutations to a copy of `value` and serializes it; raw texts replace their markers. */
export function jsonText(value: unknown, input: JsonInput): string {
  return mutateJson(value, input).text;
}

/** jsonText, and what each mutation did where ("resume.epoch: outOfRange → -1"), for the failure messages. */
export function mutateJson(value: unknown, input: JsonInput): { text: string; changes: string[] } {
  const root: { [k: string]: Json } = { root: structuredClone(value) as Json };
  const raws: string[] = [];
  const raw = (text: string): Json => {
    raws.push(text);
    return `@@raw${raws.length - 1}@@`;
  };
  const changes = input.mutations.map((m) => applyJsonMutation(root, m, raw, raws));
  let text = JSON.stringify(root.root ?? null);
  if (input.text.kind === "truncate") text = text.slice(0, input.text.at % (text.length + 1));
  if (input.text.kind === "insert") {
    const at = input.text.at % (text.length + 1);
    text = text.slice(0, at) + input.text.char + text.slice(at);
  }
  if (input.text.kind === "truncate") changes.push(`text cut to ${text.length} characters`);
  if (input.text.kind === "insert") changes.push(`${JSON.stringify(input.text.char)} inserted at ${input.text.at % text.length}`);
  const short = (v: string) => (v.length > 40 ? `${v.slice(0, 40)}… (${v.length} characters)` : v);
  return { text: text.replace(/"@@raw(\d+)@@"/g, (_, i: string) => raws[Number(i)]!), changes: changes.map(short) };
}

function applyJsonMutation(root: { [k: string]: Json }, m: JsonMutation, raw: (text: string) => Json, raws: readonly string[]): string {
  // walk from the root's child down: parent and key of the chosen node
  let parent: Json[] | { [k: string]: Json } = root;
  let key: string | number = "root";
  const path: (string | number)[] = [];
  for (const step of m.walk) {
    const node: Json = (parent as Record<string, Json>)[key as string]!;
    if (node === null || typeof node !== "object") break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0 || step % 4 === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    path.push(key);
  }
  const where = path.length === 0 ? "(the whole file)" : path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("").slice(1);
  const node = (parent as Record<string, Json>)[key as string]!;
  const put = (v: Json) => {
    if (Array.isArray(parent)) parent[key as number] = v;
    else setOwn(parent, key as string, v);
    const marker = typeof v === "string" ? /^@@raw(\d+)@@$/.exec(v) : null;
    const text = marker ? raws[Number(marker[1])]! : JSON.stringify(v);
    return `${where}: ${m.kind} → ${text.length > 40 ? `${text.slice(0, 40)}… (${text.length} characters)` : text}`;
  };
  switch (m.kind) {
    case "swapType":
      // a copy: a later mutation may walk into it, and must change neither the table nor another input
      return put(structuredClone(OTHER_VALUES[m.pick % OTHER_VALUES.length]!));
    case "removeKey":
      if (parent === root) return put(null);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      return `${where}: removed`;
    case "renameKey": {
      if (parent === root || Array.isArray(parent)) return `${where}: not renamed (not a key)`;
      const name = m.pick % 3 === 0 ? `${key}s` : RENAMES[m.pick % RENAMES.length]!;
      delete parent[key as string];
      setOwn(parent, name, node);
      return `${where}: renamed ${JSON.stringify(name)}`;
    }
    case "resize": {
      if (!Array.isArray(node)) return put([node]);
      // lengthen by one or double, shorten by one or empty
      const forms = [[...node, node[0] ?? 0], [...node, ...node], node.slice(0, -1), []];
      return put(structuredClone(forms[m.pick % forms.length]!));
    }
    case "outOfRange":
      return put(raw(RAW_NUMBERS[m.pick % RAW_NUMBERS.length]!));
    case "deepNesting": {
      const depth = DEPTHS[m.pick % DEPTHS.length]!;
      return put(raw(m.pick % 2 === 0 ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth)));
    }
    case "hugeString":
      return put("x".repeat(STRING_BYTES[m.pick % STRING_BYTES.length]!));
  }
}
