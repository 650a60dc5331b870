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
import { DataError, type Dataset, type DataShape } from "../types.js";
import { targetViolation, type TargetDomain } from "./domains.js";
import { DATA_LIMITS, type DataLimits } from "./limits.js";

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

const QUOTE = 34;
const COMMA = 44;
const isSpace = (c: number) => c === 32 || c === 9 || c === 13;

/**
 * The cells of one record that holds a quote, by RFC 4180: a cell may be quoted whole ("4.54",
 * "a, b"), a quote inside it doubled (""); spaces around a quoted cell are allowed. Cells are
 * trimmed. A quote inside an unquoted cell, or text after a closing quote, is an error.
 */
export function splitQuoted(text: string, file: string, row: number): string[] {
  const cells: string[] = [];
  const n = text.length;
  for (let i = 0; ; ) {
    let j = i;
    while (j < n && isSpace(text.charCodeAt(j))) j++;
    if (j < n && text.charCodeAt(j) === QUOTE) {
      let value = "";
      let k = j + 1;
      for (;;) {
        const q = text.indexOf('"', k);
        if (q < 0) throw new DataError(file, "a quoted value is not closed (its closing quote is missing)", row, cells.length + 1);
        value += text.slice(k, q);
        if (text.charCodeAt(q + 1) !== QUOTE) {
          k = q + 1;
          break;
        }
        value += '"';
        k = q + 2;
      }
      while (k < n && isSpace(text.charCodeAt(k))) k++;
      if (k < n && text.charCodeAt(k) !== COMMA)
        throw new DataError(file, "text after the closing quote of a quoted value; a quote inside a value is written twice (\"\")", row, cells.length + 1);
      cells.push(value.trim());
      if (k >= n) return cells;
      i = k + 1;
    } else {
      const comma = text.indexOf(",", i);
      const cell = text.slice(i, comma < 0 ? n : comma);
      if (cell.includes('"'))
        throw new DataError(file, `a quote inside an unquoted value: quote the whole value, writing its quotes twice ("a ""b"" c")`, row, cells.length + 1);
      cells.push(cell.trim());
      if (comma < 0) return cells;
      i = comma + 1;
    }
  }
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

/** A target whose values must lie in a loss's domain, and the 1-based file column of each of its elements. */
interface Checked {
  readonly name: string;
  readonly rows: Rows;
  readonly domains: readonly TargetDomain[];
  readonly columns: Int32Array;
}

/**
 * The parser: text is pushed in pieces of any size (a record may span pieces) and handled one
 * record at a time, so a file is parsed without ever holding its text whole (see parseCsvBytes).
 *
 * Records end at LF, CRLF or a lone CR, except inside a quoted value (RFC 4180), which may hold
 * line breaks: a record ends only where the quotes before it are balanced. `row` counts lines.
 */
class CsvParser {
  /** lines ended so far; the current record starts on line `recordRow` */
  private lines = 0;
  private recordRow = 1;
  private count = 0;
  private capacity = INITIAL_ROWS;
  /** the most rows the values limit allows */
  private maxRows = Infinity;
  /** characters of the lines handled so far, with their line breaks, and of those up to the header */
  private seen = 0;
  private headerSeen = 0;
  /** the pieces of a record that has not ended yet, their length, and whether they hold an odd number of quotes */
  private pending: string[] = [];
  private pendingLength = 0;
  private inQuotes = false;
  private hasQuote = false;
  /** the last piece ended with CR: an LF starting the next one belongs to it */
  private skipLf = false;
  private header: string[] | null = null;
  private byName = false;
  private dest: Dest[] = [];
  private checked: Checked[] = [];
  private inputs: Record<string, Rows> = {};
  private targets: Record<string, Rows> = {};

  /** `size`: the whole input's length in characters (or bytes), 0 if unknown; it predicts the row count. */
  constructor(
    private readonly file: string,
    private readonly shape: DataShape,
    private readonly size: number,
    private readonly limits: DataLimits,
  ) {}

  push(text: string): void {
    const n = text.length;
    if (n === 0) return;
    let start = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // the next LF, CR and quote at or after `start`, looked up again only once passed (-1: none left)
    let lf = -2;
    let cr = -2;
    let q = -2;
    while (start < n) {
      if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const stop = end < 0 ? n : end;
      if (q !== -1 && q < start) q = text.indexOf('"', start);
      for (; q >= 0 && q < stop; q = text.indexOf('"', q + 1)) {
        this.inQuotes = !this.inQuotes;
        this.hasQuote = true;
      }
      if (end < 0) {
        this.append(text.slice(start));
        return;
      }
      let next = end + 1;
      if (text.charCodeAt(end) === 13) {
        if (next === n) this.skipLf = true;
        else if (text.charCodeAt(next) === 10) next++;
      }
      this.lines++;
      if (this.inQuotes) this.append(text.slice(start, next)); // a line break inside a quoted value
      else {
        this.seen += next - start;
        this.record(this.pending.length === 0 ? this.checkLength(text.slice(start, end)) : this.joined(text.slice(start, end)));
      }
      start = next;
    }
  }

  end(): Dataset<Float64Array> {
    if (this.inQuotes) {
      // a stray quote in an unquoted value is the likelier mistake: splitQuoted names its column
      splitQuoted(this.joined(""), this.file, this.recordRow);
      throw new DataError(this.file, "a quoted value opened on this line is not closed before the end of the file", this.recordRow);
    }
    // the text after the last line break (empty after a final one) is a record too
    this.record(this.joined(""));
    if (this.header === null) throw new DataError(this.file, "the file is empty; expected a header line and data rows");
    if (this.count === 0) throw new DataError(this.file, "the file has a header but no data rows");
    const take = (m: Record<string, Rows>) => Object.fromEntries(Object.entries(m).map(([k, r]) => [k, r.take(this.count)]));
    return { count: this.count, inputs: take(this.inputs), targets: take(this.targets) };
  }

  private append(piece: string): void {
    this.pending.push(piece);
    this.pendingLength += piece.length;
    this.seen += piece.length;
    if (this.pendingLength > this.limits.lineChars) this.tooLong();
  }

  private joined(last: string): string {
    const text = this.pending.length === 0 ? last : this.pending.join("") + last;
    this.pending = [];
    this.pendingLength = 0;
    return this.checkLength(text);
  }

  private checkLength(text: string): string {
    if (text.length > this.limits.lineChars) this.tooLong();
    return text;
  }

  private tooLong(): never {
    throw new DataError(
      this.file,
      `this line is longer than ${this.limits.lineChars.toLocaleString("en-US")} characters, the most a CSV record may have${this.inQuotes ? " (inside a quoted value that is never closed?)" : " (is this a CSV file?)"}`,
      this.recordRow,
    );
  }

  /** One record, without its line break. */
  private record(text: string): void {
    const row = this.recordRow;
    const quoted = this.hasQuote;
    this.recordRow = this.lines + 1;
    this.hasQuote = false;
    if (this.header === null) this.readHeader(row === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, row, quoted);
    else if (!isBlank(text)) {
      if (this.count === this.capacity) this.grow(row);
      if (quoted) this.readCells(splitQuoted(text, this.file, row), row);
      else this.readRow(text, row);
      if (this.checked.length > 0) this.checkTargets(row);
      this.count++;
    }
  }

  /** The header is the first non-blank line; lines before it are skipped but counted. */
  private readHeader(text: string, row: number, quoted: boolean): void {
    if (isBlank(text)) return;
    const header = quoted ? splitQuoted(text, this.file, row) : text.split(",").map((c) => c.trim());
    if (header.every((h) => h !== "" && isNumeric(h)))
      throw new DataError(
        this.file,
        "the first line holds numbers, not column names; a CSV data file must start with a header line (for example x_0,x_1,t)",
        row,
      );
    const layout = namedLayout(this.file, this.shape, header) ?? positionalLayout(this.file, this.shape, header.length);
    const values = [...Object.values(this.shape.inputs), ...Object.values(this.shape.targets)].reduce((s, d) => s + size(d), 0);
    this.maxRows = values > 0 ? Math.floor(this.limits.values / values) : Infinity;
    this.capacity = Math.min(this.capacity, this.maxRows);
    const alloc = (entries: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(entries).map(([k, d]) => [k, new Rows(size(d), this.capacity)]));
    this.inputs = alloc(this.shape.inputs);
    this.targets = alloc(this.shape.targets);
    this.dest = layout.columns.map((c) => ({ rows: (c.isTarget ? this.targets : this.inputs)[c.array]!, offset: c.offset, classes: c.classes, name: c.array }));
    this.checked = Object.entries(this.shape.targetDomains ?? {})
      .filter(([name, domains]) => domains.length > 0 && this.targets[name] !== undefined)
      .map(([name, domains]) => {
        const rows = this.targets[name]!;
        const columns = new Int32Array(rows.stride);
        layout.columns.forEach((c, j) => {
          if (!c.isTarget || c.array !== name) return;
          if (c.classes > 0) columns.fill(j + 1);
          else columns[c.offset] = j + 1;
        });
        return { name, rows, domains, columns };
      });
    this.byName = layout.byName;
    this.header = header;
    this.headerSeen = this.seen;
  }

  /** A record without quotes: cells are found as they are read (the fast path). */
  private readRow(text: string, row: number): void {
    const width = this.header!.length;
    const end = text.length;
    let cellStart = 0;
    let col = 0;
    for (;;) {
      let cellEnd = text.indexOf(",", cellStart);
      if (cellEnd < 0) cellEnd = end;
      if (col >= width) {
        let cells = col;
        for (let i = cellStart - 1; i < end; i++) if (text.charCodeAt(i) === COMMA) cells++;
        this.extraCells(cells, row);
      }
      this.cell(text.slice(cellStart, cellEnd).trim(), row, col);
      col++;
      if (cellEnd >= end) break;
      cellStart = cellEnd + 1;
    }
    if (col < width) this.missingCells(col, row);
  }

  /** A record split by splitQuoted. */
  private readCells(cells: string[], row: number): void {
    const width = this.header!.length;
    if (cells.length > width) this.extraCells(cells.length, row);
    cells.forEach((c, col) => this.cell(c, row, col));
    if (cells.length < width) this.missingCells(cells.length, row);
  }

  private extraCells(cells: number, row: number): never {
    const width = this.header!.length;
    throw new DataError(this.file, `this row has ${cells} cells but the header has ${width} columns (extra value)`, row, width + 1);
  }

  private missingCells(cells: number, row: number): never {
    const width = this.header!.length;
    throw new DataError(this.file, `this row has ${cells} ${cells === 1 ? "cell" : "cells"} but the header has ${width} columns (missing value)`, row, cells + 1);
  }

  /** One trimmed cell of column `col` (0-based) into the current row. */
  private cell(cell: string, row: number, col: number): void {
    const { file, count } = this;
    const d = this.dest[col]!;
    if (cell === "") throw new DataError(file, `empty value in column ${col + 1}${this.byName ? ` ('${this.header![col]}')` : ""}; expected a number`, row, col + 1);
    const v = isNumeric(cell) ? Number(cell) : NaN;
    if (!Number.isFinite(v)) throw new DataError(file, `'${cell}' is not a number${this.byName ? ` (column '${this.header![col]}')` : ""}`, row, col + 1);
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
  }

  /** The current row's targets against their losses' domains (domains.ts). */
  private checkTargets(row: number): void {
    for (const c of this.checked)
      for (const domain of c.domains) {
        const bad = targetViolation(domain, c.name, c.rows.data, this.count * c.rows.stride, c.rows.stride);
        if (bad !== null) throw new DataError(this.file, bad.detail, row, c.columns[bad.element]);
      }
  }

  /** At least doubles, so rows cost amortized O(1); with a known size, grows at once to the row
   * count the rows so far predict (plus 5%), so that a large file is not copied log₂(rows) times.
   * Never beyond the values limit. */
  private grow(row: number): void {
    if (this.count >= this.maxRows) {
      const values = this.limits.values.toLocaleString("en-US");
      throw new DataError(this.file, `more than ${this.maxRows.toLocaleString("en-US")} rows, which would be more than ${values} numbers, the most a data set may hold`, row);
    }
    const rowChars = (this.seen - this.headerSeen) / (this.count + 1); // with the row being read
    const predicted = this.size > 0 ? Math.ceil(((this.size - this.headerSeen) / rowChars) * 1.05) : 0;
    this.capacity = Math.min(Math.max(2 * this.capacity, predicted), this.maxRows);
    for (const r of [...Object.values(this.inputs), ...Object.values(this.targets)]) r.resize(this.capacity);
  }
}

/** Parses CSV text (see the module comment for the column mapping). */
export function parseCsv(text: string, file: string, shape: DataShape, limits: DataLimits = DATA_LIMITS): Dataset<Float64Array> {
  const parser = new CsvParser(file, shape, text.length, limits);
  parser.push(text);
  return parser.end();
}

/** A CSV parser fed UTF-8 bytes in chunks of any size: a record or a character may span chunks. */
export interface CsvBytesParser {
  write(bytes: Uint8Array): void;
  end(): Dataset<Float64Array>;
}

/** UTF-8 bytes → text, a character split between chunks kept for the next (StringDecoder's shape). */
export interface Utf8Decoder {
  write(bytes: Uint8Array): string;
  end(): string;
}

/** The decoder of the runtime's core: TextDecoder, streaming; it keeps a byte-order mark, for the
 * parser to remove as parseCsv does. On Node, data/index.ts passes a StringDecoder instead, whose
 * strings are ordinary ones (TextDecoder's piled up as external memory until a full GC). */
export function textDecoder(): Utf8Decoder {
  const d = new TextDecoder("utf-8", { ignoreBOM: true });
  return { write: (bytes) => d.decode(bytes, { stream: true }), end: () => d.decode() };
}

/** `size` is the total in bytes if known (else 0): it only predicts the row count. */
export function csvBytesParser(file: string, shape: DataShape, size = 0, limits: DataLimits = DATA_LIMITS, decoder: Utf8Decoder = textDecoder()): CsvBytesParser {
  const parser = new CsvParser(file, shape, size, limits);
  return {
    write: (bytes) => parser.push(decoder.write(bytes)),
    end: () => {
      parser.push(decoder.end());
      return parser.end();
    },
  };
}

/**
 * Parses UTF-8 CSV that arrives in chunks of bytes, e.g. a file read piece by piece. The result
 * is parseCsv's on the decoded text, errors included.
 */
export function parseCsvBytes(chunks: Iterable<Uint8Array>, file: string, shape: DataShape, size = 0, limits: DataLimits = DATA_LIMITS, decoder?: Utf8Decoder): Dataset<Float64Array> {
  const parser = csvBytesParser(file, shape, size, limits, decoder);
  for (const chunk of chunks) parser.write(chunk);
  return parser.end();
}
