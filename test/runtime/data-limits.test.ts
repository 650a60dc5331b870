/**
 * Data input within limits (docs/limits.md, "Data input"): what is not a regular file is refused
 * before it is opened; a line that never ends, a gzip bomb, too many numbers and an oversized
 * file stop with a DataError naming the file (and the line), having used bounded memory.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DATA_LIMITS, loadByContent, loadDataset, loadIdxPair, parseCsv, parseIdx, type DataLimits } from "../../runtime/data/index.js";
import type { DataShape } from "../../runtime/types.js";
import { dataError } from "../helpers/data-error.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-data-limits-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const xor: DataShape = { inputs: { x: [2] }, targets: { t: [] } };
const mnist: DataShape = { inputs: { x: [4] }, targets: { t: [3] } };
const limits = (l: Partial<DataLimits>): DataLimits => ({ ...DATA_LIMITS, ...l });


/** An IDX file: magic, dims, bytes. */
function idx(magic: number, dims: number[], data: number[]): Uint8Array {
  const b = Buffer.alloc(4 + 4 * dims.length + data.length);
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  Buffer.from(data).copy(b, 4 + 4 * dims.length);
  return b;
}

describe("only regular files are read", () => {
  it("refuses a FIFO without opening it (opening one with no writer blocks forever)", () => {
    const fifo = join(tmp, "pipe.csv");
    execFileSync("mkfifo", [fifo]);
    const e = dataError(() => loadDataset(fifo, xor));
    expect(e.message).toBe(`${fifo}: is not a regular file but a FIFO (named pipe); data is read only from regular files, whose end is known: save the data to a file first`);
  });

  it("refuses a device and a directory", () => {
    expect(dataError(() => loadDataset("/dev/zero", xor)).message).toMatch(/^\/dev\/zero: is not a regular file but a device;/);
    expect(dataError(() => loadDataset(tmp, xor)).detail).toMatch(/^is a directory/);
    expect(dataError(() => loadDataset(join(tmp, "d-images-idx3-ubyte"), { inputs: { x: [4] }, targets: {} })).detail).toMatch(/ENOENT/);
  });
});

describe("a CSV record is at most lineChars characters", () => {
  it("stops a line that never ends at the limit, across chunks, naming its line", () => {
    const f = join(tmp, "long.csv");
    writeFileSync(f, `a,b,c\n1,2,3\n${"0".repeat(1000)}`);
    for (const size of [7, 64, 4096]) {
      const e = dataError(() => loadByContent(f, xor, size, limits({ lineChars: 999 })));
      expect(e.message).toBe(`${f}:3: this line is longer than 999 characters, the most a CSV record may have (is this a CSV file?)`);
    }
    // at 1000 characters the line is read, and found to be one cell of a three-column file
    expect(dataError(() => loadByContent(f, xor, 64, limits({ lineChars: 1000 }))).detail).toMatch(/this row has 1 cell/);
  });

  it("stops a quoted value that is never closed at the limit, naming the line it opened on", () => {
    const e = dataError(() => parseCsv(`a,b,c\n1,2,3\n1,"2,3\n${"4,5,6\n".repeat(100)}`, "q.csv", xor, limits({ lineChars: 100 })));
    expect([e.row, e.detail]).toEqual([3, "this line is longer than 100 characters, the most a CSV record may have (inside a quoted value that is never closed?)"]);
  });

  it("stops 20 MB of zeros without a line break at the default limit, with memory bounded", () => {
    const f = join(tmp, "zeros.csv");
    writeFileSync(f, Buffer.alloc(20 * 2 ** 20));
    const before = process.memoryUsage();
    const e = dataError(() => loadDataset(f, xor));
    expect(e.row).toBe(1);
    expect(e.detail).toMatch(/^this line is longer than 16,777,216 characters/);
    // the pending pieces of the line, not more (a 20 M-character line would hold 40 MB as UTF-16)
    expect(process.memoryUsage().heapUsed - before.heapUsed).toBeLessThan(200e6);
  });
});

describe("gzip is inflated in pieces, at most inputBytes", () => {
  it("stops a gzip bomb of zeros at the line limit without inflating it whole", () => {
    // 64 MiB of zeros, 64 KB on disk: with the line limit at 1 MiB, at most a few pieces are inflated
    const f = join(tmp, "bomb.csv.gz");
    writeFileSync(f, gzipSync(Buffer.alloc(64 * 2 ** 20), { level: 9 }));
    const e = dataError(() => loadByContent(f, xor, 65536, limits({ lineChars: 2 ** 20 })));
    expect(e.message).toBe(`${f}:1: this line is longer than 1,048,576 characters, the most a CSV record may have (is this a CSV file?)`);
  });

  it("stops a gzip bomb of valid rows at the inflated-bytes limit", () => {
    const f = join(tmp, "rows.csv.gz");
    writeFileSync(f, gzipSync(`a,b,c\n${"1,2,3\n".repeat(100_000)}`));
    const e = dataError(() => loadByContent(f, xor, 65536, limits({ inputBytes: 100_000 })));
    expect(e.message).toBe(`${f}: inflates to more than 100,000 bytes, the most a data file may hold`);
    expect(loadByContent(f, xor, 65536).count).toBe(100_000);
  });

  it("checks a one-member file's CRC-32 and size, as zlib does (fflate does not)", () => {
    const gz = gzipSync(`a,b,c\n${"1,2,3\n".repeat(1000)}`);
    const damaged = Buffer.from(gz);
    damaged[gz.length - 6] = damaged[gz.length - 6]! ^ 1; // in the CRC
    const f = join(tmp, "damaged.csv.gz");
    for (const bytes of [damaged, gz.subarray(0, gz.length - 4)]) {
      writeFileSync(f, bytes);
      for (const size of [7, 65536])
        expect(dataError(() => loadByContent(f, xor, size)).message).toBe(`${f}: the file is damaged or cut short: its gzip checksum and size do not match what it inflates to`);
    }
    writeFileSync(f, Buffer.concat([gz, gzipSync("4,5,6\n")])); // two members
    expect(loadByContent(f, xor, 7).count).toBe(1001);
  });

  it("refuses a plain file larger than inputBytes before reading it", () => {
    const f = join(tmp, "big.csv");
    writeFileSync(f, `a,b,c\n${"1,2,3\n".repeat(1000)}`);
    expect(dataError(() => loadByContent(f, xor, 65536, limits({ inputBytes: 6005 }))).message).toBe(`${f}: is 6,006 bytes, more than the 6,005 bytes a data file may have`);
  });
});

describe("a data set holds at most `values` numbers", () => {
  it("stops a CSV file at the row that would pass the limit", () => {
    const text = `a,b,c\n${"1,2,3\n".repeat(10)}`;
    expect(parseCsv(text, "v.csv", xor, limits({ values: 30 })).count).toBe(10);
    const e = dataError(() => parseCsv(text, "v.csv", xor, limits({ values: 29 })));
    expect(e.message).toBe("v.csv:11: more than 9 rows, which would be more than 29 numbers, the most a data set may hold");
  });

  it("refuses IDX images whose header asks for more, before allocating them", () => {
    const img = join(tmp, "v-images-idx3-ubyte");
    writeFileSync(img, idx(0x803, [3, 2, 2], Array(12).fill(255)));
    writeFileSync(join(tmp, "v-labels-idx1-ubyte"), idx(0x801, [3], [0, 1, 2]));
    expect(loadIdxPair(img, join(tmp, "v-labels-idx1-ubyte"), mnist, limits({ values: 21 })).count).toBe(3);
    const e = dataError(() => loadIdxPair(img, join(tmp, "v-labels-idx1-ubyte"), mnist, limits({ values: 20 })));
    expect(e.message).toBe(`${img}: 3 images are 21 numbers with their labels, more than the 20 a data set may hold`);
  });
});

describe("IDX files", () => {
  it("reports images with 0 images as a user's error", () => {
    const img = join(tmp, "e-images-idx3-ubyte");
    writeFileSync(img, idx(0x803, [0, 2, 2], []));
    writeFileSync(join(tmp, "e-labels-idx1-ubyte"), idx(0x801, [0], []));
    expect(dataError(() => loadDataset(img, mnist)).message).toBe(`${img}: holds 0 images; a data set needs at least one sample`);
    expect(dataError(() => loadDataset(img, { inputs: { x: [4] }, targets: {} })).detail).toMatch(/holds 0 images/);
  });

  it("inflates a gzipped IDX file no further than its header says", () => {
    const good = idx(0x803, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIdx(gzipSync(good), "g.gz").dims).toEqual([2, 2, 2]);
    // the header says 8 bytes of data; 16 MiB of zeros follow
    const bomb = gzipSync(Buffer.concat([good, Buffer.alloc(16 * 2 ** 20)]));
    const e = dataError(() => parseIdx(bomb, "bomb.gz"));
    expect(e.message).toBe("bomb.gz: inflates to more bytes than its header says (2 x 2 x 2, so 24 bytes in all)");
    // a header asking for more than the input limit is refused before inflating
    const huge = gzipSync(idx(0x803, [60000, 1000, 1000], [1]));
    expect(dataError(() => parseIdx(huge, "huge.gz")).detail).toMatch(/^its header says 60000 x 1000 x 1000, so 60,000,000,016 bytes: more than the 2048 MiB/);
  });

  it("refuses a sniffed IDX name that is not a regular file, as CSV does", () => {
    const fifo = join(tmp, "x-images-idx3-ubyte");
    execFileSync("mkfifo", [fifo]);
    expect(dataError(() => loadDataset(fifo, { inputs: { x: [4] }, targets: {} })).detail).toMatch(/FIFO/);
  });
});
