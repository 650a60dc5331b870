/**
 * CSV as RFC 4180 writes it: quoted cells (numbers, text, commas, doubled quotes, line breaks)
 * and every line ending (LF, CRLF, lone CR), whatever the chunk boundaries; malformed quoting
 * is reported by row and column.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { csvHeaderWidth, loadByContent, parseCsv } from "../../runtime/data/index.js";
import type { DataShape } from "../../runtime/types.js";
import { dataError } from "../helpers/data-error.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-data-csv-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const xor: DataShape = { inputs: { x: [2] }, targets: { t: [] } };
const arr = (a: Float64Array | Float32Array | undefined) => Array.from(a ?? []);


/** parseCsv, and loadByContent on the same text in chunks of several sizes, agree; returns parseCsv's. */
function parseEveryWay(text: string, shape: DataShape) {
  const whole = parseCsv(text, "f.csv", shape);
  const file = join(tmp, "f.csv");
  writeFileSync(file, text);
  for (const size of [1, 2, 3, 5, 64]) {
    const ds = loadByContent(file, shape, size);
    expect(ds, `chunks of ${size} bytes`).toEqual(whole);
  }
  return whole;
}

describe("CSV quoting (RFC 4180)", () => {
  it("reads quoted numbers as numbers", () => {
    const ds = parseEveryWay('x_0,x_1,t\n"4.54", "-1e-3" ,"1"\n" 2 ",3,"0"\n', xor);
    expect(ds.count).toBe(2);
    expect(arr(ds.inputs.x)).toEqual([4.54, -1e-3, 2, 3]);
    expect(arr(ds.targets.t)).toEqual([1, 0]);
  });

  it("keeps a quoted header cell with a comma, a doubled quote or a line break as one column", () => {
    // by position: three header cells, whatever they hold
    const ds = parseEveryWay('"a, b","say ""hi""","two\nlines"\n1,2,3\n4,5,6\n', xor);
    expect(ds.count).toBe(2);
    expect(arr(ds.inputs.x)).toEqual([1, 2, 4, 5]);
    // the header took lines 1-2, so the bad cell below is on line 4
    const e = dataError(() => parseCsv('"a, b","c","two\nlines"\n1,2,3\n4,x,6\n', "q.csv", xor));
    expect([e.row, e.column]).toEqual([4, 2]);
    // named columns may be quoted
    expect(arr(parseCsv('"t","x_1","x_0"\n1,20,10\n', "q.csv", xor).inputs.x)).toEqual([10, 20]);
  });

  it("reports a quoted text cell as not a number at its own column, not a shifted one", () => {
    const e = dataError(() => parseCsv('x_0,x_1,t\n1,"setosa, Iris",0\n', "iris.csv", xor));
    expect(e.message).toBe("iris.csv:2:2: 'setosa, Iris' is not a number (column 'x_1')");
  });

  it("reports malformed quoting by row and column", () => {
    let e = dataError(() => parseCsv('a,b,c\n1,2,3\n1,2"5,3\n', "m.csv", xor));
    expect([e.row, e.column]).toEqual([3, 2]);
    expect(e.detail).toMatch(/a quote inside an unquoted value/);
    e = dataError(() => parseCsv('a,b,c\n1,"2"5,3\n', "m.csv", xor));
    expect([e.row, e.column]).toEqual([2, 2]);
    expect(e.detail).toMatch(/text after the closing quote/);
    e = dataError(() => parseCsv('a,b,c\n1,2,3\n1,"2,3\n4,5,6\n', "m.csv", xor));
    expect([e.row, e.column]).toEqual([3, 2]);
    expect(e.detail).toMatch(/not closed/);
  });
});

describe("CSV line endings", () => {
  it("reads lone-CR files as rows, with line numbers in errors", () => {
    const ds = parseEveryWay("x1,x2,t\r0,0,0\r0,1,1\r1,0,1\r1,1,0\r", xor);
    expect(ds.count).toBe(4);
    expect(arr(ds.targets.t)).toEqual([0, 1, 1, 0]);
    const e = dataError(() => parseCsv("x1,x2,t\r0,0,0\r\r0,oops,1\r", "cr.csv", xor));
    expect([e.row, e.column]).toEqual([4, 2]);
  });

  it("counts LF, CRLF and CR alike, a CRLF split between chunks once", () => {
    const text = "a,b,c\r\n1,2,3\r4,5,6\n\r\n7,8,9\r\n\r10,11,12";
    const ds = parseEveryWay(text, xor);
    expect(arr(ds.targets.t)).toEqual([3, 6, 9, 12]);
    const e = dataError(() => parseCsv(text.replace("10", "?"), "mix.csv", xor));
    expect(e.row).toBe(7);
  });
});

describe("csvHeaderWidth (predict's check for an inputs-only file)", () => {
  it("counts the header's columns as the parser does", () => {
    const f = join(tmp, "h.csv");
    writeFileSync(f, '\r\n"a,b",c\r1,2\r');
    expect(csvHeaderWidth(f)).toBe(2);
    writeFileSync(f, "x_0,x_1,t\n1,2,3\n");
    expect(csvHeaderWidth(f)).toBe(3);
    expect(dataError(() => csvHeaderWidth(tmp)).detail).toMatch(/is a directory/);
  });
});
