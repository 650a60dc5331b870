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

/** The index just past the end of the line starting at `start` (excluding '\n'). */
function lineEnd(text: string, start: number): number {
  const nl = text.indexOf("\n", start);
  return nl < 0 ? text.length : nl;
}

function isNumeric(s: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s);
}

/** Parses CSV text (see the module comment for the column mapping). */
export function parseCsv(text: string, file: string, shape: DataShape): Dataset {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
  if (text.trim() === "") throw new DataError(file, "the file is empty; expected a header line and data rows");

  // upper bound on the number of rows, so that the arrays are allocated once
  let lines = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;

  // header: the first non-blank line
  let pos = 0;
  let row = 0;
  let headerLine = "";
  while (pos <= text.length) {
    const end = lineEnd(text, pos);
    row++;
    headerLine = text.slice(pos, end).trim();
    pos = end + 1;
    if (headerLine !== "") break;
  }
  const headerRow = row;
  const header = headerLine.split(",").map(unquote);
  if (header.every((h) => h !== "" && isNumeric(h)))
    throw new DataError(
      file,
      "the first line holds numbers, not column names; a CSV data file must start with a header line (for example x_0,x_1,t)",
      headerRow,
    );
  const width = header.length;
  const layout = namedLayout(file, shape, header) ?? positionalLayout(file, shape, width);

  const maxRows = Math.max(lines - headerRow, 0);
  const rowSizes: Record<string, number> = {};
  const alloc = (entries: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(entries).map(([k, d]) => {
        rowSizes[k] = size(d);
        return [k, new Float64Array(maxRows * size(d))];
      }),
    );
  const inputs = alloc(shape.inputs);
  const targets = alloc(shape.targets);
  const dest = layout.columns.map((c) => ({
    data: (c.isTarget ? targets : inputs)[c.array]!,
    stride: rowSizes[c.array]!,
    offset: c.offset,
    classes: c.classes,
    name: c.array,
  }));

  let count = 0;
  while (pos <= text.length) {
    const end = lineEnd(text, pos);
    row++;
    const start = pos;
    pos = end + 1;
    // skip blank (or whitespace-only) lines; a final newline leaves one such empty line
    let blank = true;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 13) {
        blank = false;
        break;
      }
    }
    if (blank) continue;

    let cellStart = start;
    let col = 0;
    for (;;) {
      let cellEnd = text.indexOf(",", cellStart);
      if (cellEnd < 0 || cellEnd > end) cellEnd = end;
      if (col >= width) {
        let cells = col;
        for (let i = cellStart - 1; i < end; i++) if (text.charCodeAt(i) === 44) cells++;
        throw new DataError(file, `this row has ${cells} cells but the header has ${width} columns (extra value)`, row, width + 1);
      }
      const cell = text.slice(cellStart, cellEnd).trim();
      const d = dest[col]!;
      if (cell === "") throw new DataError(file, `empty value in column ${col + 1}${layout.byName ? ` ('${header[col]}')` : ""}; expected a number`, row, col + 1);
      const v = isNumeric(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(v))
        throw new DataError(file, `'${cell}' is not a number${layout.byName ? ` (column '${header[col]}')` : ""}`, row, col + 1);
      if (d.classes > 0) {
        if (!Number.isInteger(v) || v < 0 || v >= d.classes)
          throw new DataError(
            file,
            `class label '${cell}' is not valid: the target ${d.name}[${d.classes}] takes one integer class 0..${d.classes - 1} in this column`,
            row,
            col + 1,
          );
        d.data[count * d.stride + v] = 1;
      } else {
        d.data[count * d.stride + d.offset] = v;
      }
      col++;
      if (cellEnd >= end) break;
      cellStart = cellEnd + 1;
    }
    if (col < width)
      throw new DataError(file, `this row has ${col} ${col === 1 ? "cell" : "cells"} but the header has ${width} columns (missing value)`, row, col + 1);
    count++;
  }
  if (count === 0) throw new DataError(file, "the file has a header but no data rows");

  const trim = (m: Record<string, Float64Array>) =>
    Object.fromEntries(Object.entries(m).map(([k, a]) => [k, count === maxRows ? a : a.slice(0, count * rowSizes[k]!)]));
  return { count, inputs: trim(inputs), targets: trim(targets) };
}
