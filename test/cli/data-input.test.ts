/**
 * Data files a user may hand `nnc train` and `nnc predict` that are not what they should be: each
 * is refused with exit 1, a message naming the file (and line:column where there is one), no stack
 * trace, in bounded memory and time. And CSV as RFC 4180 writes it trains.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, hasStackTrace, requireBuiltCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";

let dir = "";
beforeAll(async () => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-data-input-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
  // weights for predict
  const r = await run(["train", "xor.nn", "--epochs", "2", "-o", "xor.weights.json"]);
  expect(r.status, r.stderr).toBe(0);
});

/**
 * Runs `node [nodeArgs] dist/compiler/cli.js ...args` in the scratch directory without blocking
 * this worker (a long spawnSync starves vitest's messages on a busy machine).
 */
function run(args: string[], nodeArgs: string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: dir, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A user's error: exit 1, one line on stderr that starts with `nnc: error: <expected>`, no stack trace. */
async function refused(args: string[], expected: string | RegExp) {
  const r = await run(args);
  expect(r.status, r.stderr).toBe(1);
  expect(hasStackTrace(r.stderr)).toBe(false);
  const line = r.stderr.trim();
  expect(line.split("\n")).toHaveLength(1);
  if (typeof expected === "string") expect(line).toBe(`nnc: error: ${expected}`);
  else expect(line).toMatch(expected);
  return r;
}

/** Runs the CLI and returns its exit status, stderr and peak resident memory (bytes). */
async function runMeasured(args: string[]) {
  const report = "process.on('exit', () => process.stderr.write('\\nmaxRSS ' + process.resourceUsage().maxRSS + '\\n'))";
  const r = await run(args, ["--import", `data:text/javascript,${encodeURIComponent(report)}`]);
  const rss = Number(/maxRSS (\d+)/.exec(r.stderr)?.[1]) * 1024;
  return { status: r.status, stderr: r.stderr.replace(/\nmaxRSS \d+\n$/, ""), rss };
}

describe("files that are not data files", () => {
  it("/dev/zero, given with --data or in the model's train block", async () => {
    await refused(["train", "xor.nn", "--data", "/dev/zero"], "/dev/zero: is not a regular file but a device; data is read only from regular files, whose end is known: save the data to a file first");
    writeFileSync(join(dir, "zero.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace('data "data/xor.csv"', 'data "/dev/zero"'));
    await refused(["train", "zero.nn"], /^nnc: error: \/dev\/zero: is not a regular file but a device;/);
  });

  it("a FIFO with no writer (refused before opening, which would block)", async () => {
    expect(spawnSync("mkfifo", [join(dir, "pipe.csv")]).status).toBe(0);
    await refused(["train", "xor.nn", "--data", "pipe.csv"], /^nnc: error: pipe\.csv: is not a regular file but a FIFO \(named pipe\);/);
    await refused(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "pipe.csv"], /^nnc: error: pipe\.csv: is not a regular file but a FIFO/);
  });

  it("a directory, for train and for predict (even when named like a CSV file)", async () => {
    mkdirSync(join(dir, "folder.csv"), { recursive: true });
    const msg = "data: is a directory; give a data file (.csv, .csv.gz, or an IDX images file)";
    await refused(["train", "xor.nn", "--data", "data"], msg);
    await refused(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "data"], msg);
    await refused(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "folder.csv"], msg.replace("data:", "folder.csv:"));
  });

  it("a gzip bomb (1 GiB of zeros in 1 MB) stops at the line limit with memory bounded", async () => {
    // gzip members may be concatenated: one member of 1 MiB of zeros, 1024 times
    const member = gzipSync(Buffer.alloc(2 ** 20), { level: 9 });
    writeFileSync(join(dir, "bomb.csv.gz"), Buffer.concat([gzipSync("x1,x2,t\n"), ...Array<Buffer>(1024).fill(member)]));
    const r = await runMeasured(["train", "xor.nn", "--data", "bomb.csv.gz", "-o", "bomb.weights.json"]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^nnc: error: bomb\.csv\.gz:2: this line is longer than 16,777,216 characters, the most a CSV record may have/m);
    expect(hasStackTrace(r.stderr)).toBe(false);
    // whole, it would take 1 GiB as bytes and more as text; the cap leaves room for node and the compiler
    expect(r.rss).toBeGreaterThan(0);
    expect(r.rss).toBeLessThan(512 * 2 ** 20);
    expect(existsSync(join(dir, "bomb.weights.json"))).toBe(false);
  });

  it("an IDX images file with 0 images", async () => {
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    writeFileSync(join(dir, "none-images-idx3-ubyte"), header(0x803, [0, 28, 28]));
    writeFileSync(join(dir, "none-labels-idx1-ubyte"), header(0x801, [0]));
    await refused(["train", "mnist.nn", "--data", "none-images-idx3-ubyte", "--epochs", "1"], "none-images-idx3-ubyte: holds 0 images; a data set needs at least one sample");
  });
});

describe("CSV as RFC 4180 writes it", () => {
  it("trains on quoted cells and on lone-CR line endings", async () => {
    writeFileSync(join(dir, "quoted.csv"), '"x1","x2","t"\n"0","0","0"\n"0",1,"1"\n1,"0",1\n"1","1","0"\n');
    writeFileSync(join(dir, "cr.csv"), "x1,x2,t\r0,0,0\r0,1,1\r1,0,1\r1,1,0\r");
    for (const f of ["quoted.csv", "cr.csv"]) {
      const r = await run(["train", "xor.nn", "--data", f, "--epochs", "2", "-o", `${f}.weights.json`]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`4 training samples from ${f}`);
    }
  });

  it("reports a quoted text cell and malformed quoting by line and column", async () => {
    writeFileSync(join(dir, "text.csv"), 'x1,x2,t\n0,0,0\n0,"a, b",1\n');
    await refused(["train", "xor.nn", "--data", "text.csv"], "text.csv:3:2: 'a, b' is not a number");
    writeFileSync(join(dir, "stray.csv"), 'x1,x2,t\r0,0,0\r0,1"5,1\r');
    await refused(["train", "xor.nn", "--data", "stray.csv"], /^nnc: error: stray\.csv:3:2: a quote inside an unquoted value/);
  });
});

describe("targets outside their loss's domain", () => {
  it("BCE targets 7 and −3 are refused, naming file, line and column", async () => {
    writeFileSync(join(dir, "bce.csv"), "x1,x2,t\n0,0,0\n0,1,7\n1,0,-3\n");
    await refused(["train", "xor.nn", "--data", "bce.csv", "-o", "bce.weights.json"], "bce.csv:3:3: the target t is 7, outside [0, 1]: binary_cross_entropy takes targets in [0, 1]");
    expect(existsSync(join(dir, "bce.weights.json"))).toBe(false);
    // predict checks the targets it scores with, too
    await refused(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "bce.csv"], /^nnc: error: bce\.csv:3:3: the target t is 7/);
  });

  it("cross-entropy one-hot columns holding 5, −3 or 0.5 are refused", async () => {
    // iris (4 measurements, t[3]) with one-hot columns; the bad value in t_1 (column 6)
    for (const [bad, col, what] of [
      ["5", 5, "t sums to 5 in this sample, not 1"],
      ["-3", 6, "t[1] is -3, negative"],
      ["0.5", 5, "t sums to 0.5 in this sample, not 1"],
    ] as const) {
      const f = `iris-${bad}.csv`;
      writeFileSync(join(dir, f), `a,b,c,d,t_0,t_1,t_2\n5.1,3.5,1.4,0.2,1,0,0\n4.9,3.0,1.4,0.2,0,${bad},0\n`);
      await refused(
        ["train", "iris.nn", "--data", f, "--epochs", "1"],
        `${f}:3:${col}: the target ${what}: cross_entropy takes targets ≥ 0 that sum to 1 in each sample (one-hot, a distribution, or a class column)`,
      );
    }
  });

});
