/**
 * CSV data files (the language contract, §7 "Data files").
 *
 * The first line is a header. Each later non-blank line is one sample. Columns map to the model
 * in one of two ways:
 *
 * - **By name**, when every header cell names something the model has:
 *   a scalar input or target `x` is the column `x`; an element of a tensor `x[4]` or `x[2, 3]`
 *   is `x_<i>`, where `i` is the element's row-major (flattened) index: `x_0 … x_3`, or
 *   `x_0 … x_5` for `x[2, 3]`. For a one-hot-able target `t[C]` (see below) the bare name `t` is
 *   its class column. Columns may then come in any order, but every value must be present once.
 *   (This is the naming that `nnc predict` uses for the columns it writes.)
 * - **Positionally** otherwise: the inputs, then the targets, in declaration order, each
 *   flattened row-major, so `x[64]` takes 64 columns. Header names are then ignored.
 *
 * **Class columns.** When the model has exactly one target, a vector `t[C]` (C ≥ 2), and the file
 * has exactly one column for it instead of C, that column holds an integer class label
 * 0 … C−1, which becomes a one-hot row of `t`.
 *
 * Every problem is a {@link DataError} whose row is the 1-based line number in the file (the
 * header is row 1; blank lines are skipped but still counted) and whose column is 1-based.
 */
import { StringDecoder } from "node:string_decoder";
import { DataError, type Dataset, type DataShape } from "../types.js";

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Where one CSV column goes. */
interface Column {
  /** destination array (row-major [count, …shape]) */
  readonly array: string;
  readonly isTarget: boolean;
  /** element index inside one sample's row of that array (ignored for class columns) */
  readonly offset: number;
  /** > 0: this is a class column for a one-hot target of this many classes */
  readonly classes: number;
}

interface Layout {
  readonly columns: Column[];
  readonly byName: boolean;
}

/** The element names of a tensor, following the naming convention in the module comment. */
export function columnNames(name: string, shape: readonly number[]): string[] {
  if (shape.length === 0) return [name];
  return Array.from({ length: size(shape) }, (_, i) => `${name}_${i}`);
}

/** The single target that an integer class column can stand for, if there is one. */
function oneHotTarget(shape: DataShape): { name: string; classes: number } | null {
  const targets = Object.entries(shape.targets);
  if (targets.length !== 1) return null;
  const [name, dims] = targets[0]!;
  if (dims.length !== 1 || dims[0]! < 2) return null;
  return { name, classes: dims[0]! };
}

function unquote(cell: string): string {
  const s = cell.trim();
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).trim() : s;
}

function positionalLayout(file: string, shape: DataShape, found: number): Layout {
  const inputs = Object.entries(shape.inputs);
  const targets = Object.entries(shape.targets);
  const inputCount = inputs.reduce((s, [, d]) => s + size(d), 0);
  const targetCount = targets.reduce((s, [, d]) => s + size(d), 0);
  const columns: Column[] = [];
  const addAll = (entries: [string, number[]][], isTarget: boolean) => {
    for (const [name, dims] of entries)
      for (let i = 0; i < size(dims); i++) columns.push({ array: name, isTarget, offset: i, classes: 0 });
  };
  if (found === inputCount + targetCount) {
    addAll(inputs, false);
    addAll(targets, true);
    return { columns, byName: false };
  }
  const hot = oneHotTarget(shape);
  if (hot && found === inputCount + 1) {
    addAll(inputs, false);
    columns.push({ array: hot.name, isTarget: true, offset: 0, classes: hot.classes });
    return { columns, byName: false };
  }
  let need = `the model needs ${plural(inputCount, "input value")}`;
  if (targets.length > 0) need += ` and ${plural(targetCount, "target value")}${hot ? " (or 1 class column)" : ""}`;
  const names = [...inputs, ...targets].map(([n, d]) => (d.length === 0 ? n : `${n}[${d.join(", ")}]`)).join(", ");
  throw new DataError(file, `${need}; the file has ${plural(found, "column")} (the model's values, in column order: ${names})`, 1);
}

/**
 * The by-name layout, or null when some header cell is not one of the model's column names (or
 * the model's own names collide), in which case the caller falls back to positions.
 */
function namedLayout(file: string, shape: DataShape, header: string[]): Layout | null {
  const known = new Map<string, Column>();
  let collision = false;
  const add = (key: string, col: Column) => {
    if (known.has(key)) collision = true;
    known.set(key, col);
  };
  for (const [isTarget, entries] of [
    [false, Object.entries(shape.inputs)],
    [true, Object.entries(shape.targets)],
  ] as const)
    for (const [name, dims] of entries) columnNames(name, dims).forEach((c, i) => add(c, { array: name, isTarget, offset: i, classes: 0 }));
  const hot = oneHotTarget(shape);
  if (hot) add(hot.name, { array: hot.name, isTarget: true, offset: 0, classes: hot.classes });
  if (collision) return null;
  if (!header.every((h) => known.has(h))) return null;

  // every name matches: now every value must be given exactly once
  const columns: Column[] = [];
  const seen = new Map<string, number>();
  header.forEach((h, j) => {
    const prev = seen.get(h);
    if (prev !== undefined) throw new DataError(file, `the column '${h}' appears twice (also column ${prev})`, 1, j + 1);
    seen.set(h, j + 1);
    columns.push(known.get(h)!);
  });
  const usesClass = hot !== null && seen.has(hot.name);
  const missing: string[] = [];
  for (const [name, dims] of [...Object.entries(shape.inputs), ...Object.entries(shape.targets)]) {
    const names = columnNames(name, dims);
    if (hot !== null && usesClass && name === hot.name) {
      const both = names.filter((n) => seen.has(n));
      if (both.length > 0)
        throw new DataError(file, `'${name}' is given both as a class column and as one-hot column '${both[0]}'; use one or the other`, 1, seen.get(both[0]!));
      continue;
    }
    missing.push(...names.filter((n) => !seen.has(n)));
  }
  if (missing.length > 0) {
    const list = missing.length > 4 ? `${missing.slice(0, 4).join(", ")}, … (${missing.length} in all)` : missing.join(", ");
    const hint = hot && !usesClass && missing.some((m) => m.startsWith(`${hot.name}_`)) ? ` (or a single class column '${hot.name}')` : "";
    throw new DataError(file, `the header names the model's columns but lacks ${list}${hint}`, 1);
  }
  return { columns, byName: true };
}

function isNumeric(s: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s);
}

/** Only space, tab and CR: a line of other whitespace is a row with empty cells. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Rows allocated before the first growth. */
const INITIAL_ROWS = 64;

/** One array of the data set (row-major [count, …shape]), grown as rows arrive. */
class Rows {
  data: Float64Array;
  constructor(
    readonly stride: number,
    capacity: number,
  ) {
    this.data = new Float64Array(stride * capacity);
  }

  resize(capacity: number): void {
    const data = new Float64Array(this.stride * capacity);
    data.set(this.data);
    this.data = data;
  }

  /** The first `count` rows: a view when little is unused (a copy would briefly need both),
   * else a copy, so that the slack of a doubling is not kept for the life of the data set. */
  take(count: number): Float64Array {
    const n = count * this.stride;
    return n >= this.data.length - (this.data.length >> 3) ? this.data.subarray(0, n) : this.data.slice(0, n);
  }
}

/** Where a column's value goes. */
interface Dest {
  readonly rows: Rows;
  readonly offset: number;
  readonly classes: number;
  readonly name: string;
}

/**
 * The parser: text is pushed in pieces of any size (a line may span pieces) and handled one line
 * at a time, so a file is parsed without ever holding its text whole (see parseCsvBytes).
 */
class CsvParser {
  /** the 1-based number of the current line */
  private row = 0;
  private count = 0;
  private capacity = INITIAL_ROWS;
  /** characters of the lines handled so far, with their '\n', and of those up to the header */
  private seen = 0;
  private headerSeen = 0;
  /** the pieces of a line that has not ended yet */
  private pending: string[] = [];
  private header: string[] | null = null;
  private byName = false;
  private dest: Dest[] = [];
  private inputs: Record<string, Rows> = {};
  private targets: Record<string, Rows> = {};

  /** `size`: the whole input's length in characters (or bytes), 0 if unknown; it predicts the row count. */
  constructor(
    private readonly file: string,
    private readonly shape: DataShape,
    private readonly size: number,
  ) {}

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const piece = text.slice(start, nl);
      if (this.pending.length === 0) this.line(piece);
      else {
        this.pending.push(piece);
        this.line(this.pending.join(""));
        this.pending = [];
      }
      start = nl + 1;
    }
    if (start < text.length) this.pending.push(text.slice(start));
  }

  end(): Dataset<Float64Array> {
    // the text after the last '\n' (empty after a final newline) is a line too
    this.line(this.pending.join(""));
    this.pending = [];
    if (this.header === null) throw new DataError(this.file, "the file is empty; expected a header line and data rows");
    if (this.count === 0) throw new DataError(this.file, "the file has a header but no data rows");
    const take = (m: Record<string, Rows>) => Object.fromEntries(Object.entries(m).map(([k, r]) => [k, r.take(this.count)]));
    return { count: this.count, inputs: take(this.inputs), targets: take(this.targets) };
  }

  /** One line, without its '\n' (a CR before it is whitespace to every rule). */
  private line(text: string): void {
    this.row++;
    this.seen += text.length + 1;
    if (this.header === null) this.readHeader(this.row === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    else if (!isBlank(text)) this.readRow(text);
  }

  /** The header is the first non-blank line; lines before it are skipped but counted. */
  private readHeader(text: string): void {
    const line = text.trim();
    if (line === "") return;
    const header = line.split(",").map(unquote);
    if (header.every((h) => h !== "" && isNumeric(h)))
      throw new DataError(
        this.file,
        "the first line holds numbers, not column names; a CSV data file must start with a header line (for example x_0,x_1,t)",
        this.row,
      );
    const layout = namedLayout(this.file, this.shape, header) ?? positionalLayout(this.file, this.shape, header.length);
    const alloc = (entries: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(entries).map(([k, d]) => [k, new Rows(size(d), this.capacity)]));
    this.inputs = alloc(this.shape.inputs);
    this.targets = alloc(this.shape.targets);
    this.dest = layout.columns.map((c) => ({ rows: (c.isTarget ? this.targets : this.inputs)[c.array]!, offset: c.offset, classes: c.classes, name: c.array }));
    this.byName = layout.byName;
    this.header = header;
    this.headerSeen = this.seen;
  }

  private readRow(text: string): void {
    if (this.count === this.capacity) this.grow();
    const { file, row, count, dest } = this;
    const header = this.header!;
    const width = header.length;
    const end = text.length;
    let cellStart = 0;
    let col = 0;
    for (;;) {
      let cellEnd = text.indexOf(",", cellStart);
      if (cellEnd < 0) cellEnd = end;
      if (col >= width) {
        let cells = col;
        for (let i = cellStart - 1; i < end; i++) if (text.charCodeAt(i) === 44) cells++;
        throw new DataError(file, `this row has ${cells} cells but the header has ${width} columns (extra value)`, row, width + 1);
      }
      const cell = text.slice(cellStart, cellEnd).trim();
      const d = dest[col]!;
      if (cell === "") throw new DataError(file, `empty value in column ${col + 1}${this.byName ? ` ('${header[col]}')` : ""}; expected a number`, row, col + 1);
      const v = isNumeric(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(v)) throw new DataError(file, `'${cell}' is not a number${this.byName ? ` (column '${header[col]}')` : ""}`, row, col + 1);
      if (d.classes > 0) {
        if (!Number.isInteger(v) || v < 0 || v >= d.classes)
          throw new DataError(
            file,
            `class label '${cell}' is not valid: the target ${d.name}[${d.classes}] takes one integer class 0..${d.classes - 1} in this column`,
            row,
            col + 1,
          );
        d.rows.data[count * d.rows.stride + v] = 1;
      } else {
        d.rows.data[count * d.rows.stride + d.offset] = v;
      }
      col++;
      if (cellEnd >= end) break;
      cellStart = cellEnd + 1;
    }
    if (col < width)
      throw new DataError(file, `this row has ${col} ${col === 1 ? "cell" : "cells"} but the header has ${width} columns (missing value)`, row, col + 1);
    this.count++;
  }

  /** At least doubles, so rows cost amortized O(1); with a known size, grows at once to the row
   * count the rows so far predict (plus 5%), so that a large file is not copied log₂(rows) times. */
  private grow(): void {
    const rowChars = (this.seen - this.headerSeen) / (this.count + 1); // with the row being read
    const predicted = this.size > 0 ? Math.ceil(((this.size - this.headerSeen) / rowChars) * 1.05) : 0;
    this.capacity = Math.max(2 * this.capacity, predicted);
    for (const r of [...Object.values(this.inputs), ...Object.values(this.targets)]) r.resize(this.capacity);
  }
}

/** Parses CSV text (see the module comment for the column mapping). */
export function parseCsv(text: string, file: string, shape: DataShape): Dataset<Float64Array> {
  const parser = new CsvParser(file, shape, text.length);
  parser.push(text);
  return parser.end();
}

/**
 * Parses UTF-8 CSV that arrives in chunks of bytes, e.g. a file read piece by piece: a line or a
 * character may span chunks. `size` is the total in bytes if known (else 0). The result is
 * parseCsv's on the decoded text, errors included.
 */
export function parseCsvBytes(chunks: Iterable<Uint8Array>, file: string, shape: DataShape, size = 0): Dataset<Float64Array> {
  const parser = new CsvParser(file, shape, size);
  // StringDecoder decodes exactly as Buffer#toString (invalid bytes become U+FFFD alike), into
  // ordinary strings (TextDecoder's piled up as external memory until a full GC), and keeps a
  // byte-order mark, for the parser to remove as parseCsv does
  const decoder = new StringDecoder("utf8");
  for (const chunk of chunks) parser.push(decoder.write(chunk));
  parser.push(decoder.end());
  return parser.end();
}
