/**
 * A large CSV file (~50 MB) is streamed: the process's memory grows by about the loaded numbers,
 * not by the file's text on top of them. In a file of its own, so that it runs in a fresh worker
 * whose peak memory is this test's.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/index.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-large-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const COLUMNS = 10;
const ROWS = 500_000;
const value = (r: number, i: number) => ((r * 7919 + i * 104729) % 1000003) / 1000003;

/** Writes the file a thousand rows at a time (the test never holds its text whole either). */
function writeLargeCsv(file: string): void {
  const fd = openSync(file, "w");
  writeSync(fd, `${Array.from({ length: COLUMNS }, (_, i) => `x_${i}`).join(",")},t\n`);
  for (let r0 = 0; r0 < ROWS; r0 += 1000) {
    let block = "";
    for (let r = r0; r < r0 + 1000; r++) block += `${Array.from({ length: COLUMNS }, (_, i) => value(r, i).toFixed(8)).join(",")},${r % 3}\n`;
    writeSync(fd, block);
  }
  closeSync(fd);
}

describe("loadDataset on a large CSV file", () => {
  it("loads ~50 MB with memory growth near the size of the numbers, well below twice the file", () => {
    const file = join(tmp, "large.csv");
    writeLargeCsv(file);
    const fileBytes = statSync(file).size;
    expect(fileBytes).toBeGreaterThan(50e6);

    const before = process.memoryUsage();
    const ds = loadDataset(file, { inputs: { x: [COLUMNS] }, targets: { t: [3] } });
    const after = process.memoryUsage();
    const peakRss = process.resourceUsage().maxRSS * 1024;

    expect(ds.count).toBe(ROWS);
    const x = ds.inputs.x!;
    expect(x.length).toBe(ROWS * COLUMNS);
    for (const r of [0, 1, 123_456, ROWS - 1]) expect(x[r * COLUMNS + 3]).toBe(Number(value(r, 3).toFixed(8)));
    expect(Array.from(ds.targets.t!.subarray(3 * (ROWS - 1), 3 * ROWS))).toEqual([0, 1, 0]); // class (ROWS − 1) % 3 = 1

    const numbers = ROWS * (COLUMNS + 3) * 8;
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `file ${mb(fileBytes)}, numbers ${mb(numbers)}; growth: peak rss ${mb(peakRss - before.rss)}, rss ${mb(after.rss - before.rss)}, ` +
        `heap used ${mb(after.heapUsed - before.heapUsed)}, array buffers ${mb(after.arrayBuffers - before.arrayBuffers)}`,
    );
    // The arrays are allocated about once (their final size predicted from the file's size), and
    // the text is never held whole (reading the file and decoding it first added twice its size).
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(numbers * 1.2);
    expect(peakRss - before.rss).toBeLessThan(numbers + fileBytes);
  });
});
