/**
 * The files `nnc compile`, `train` and `predict` write (docs/limits.md, "Output files"): every
 * path is checked before any work, a failed write names the path and the reason and exits 1,
 * `-o -` means stdout where it makes sense, the checkpoint a run announces exists, predictions that
 * are not finite are counted, and no control character of a file or a name reaches the terminal.
 * Runs as root too: the unwritable directory is one no one may create files in (/sys), not a
 * chmod that root ignores.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, hasStackTrace, requireBuiltCli, runCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-outputs-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
  // weights for predict, trained once
  const r = runCli(["train", "xor.nn", "--epochs", "300", "-o", "xor.weights.json"], dir);
  expect(r.status, r.stderr).toBe(0);
});

/** A clean failure before any work: status 1, NN9002 naming the path and the reason, no training. */
function expectWriteFailure(r: CliResult, path: string, errno: string): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toContain(`error NN9002: cannot write '${path}': ${errno}`);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.stdout).not.toMatch(/^epoch /m);
}

const train = (...args: string[]) => runCli(["train", "xor.nn", "--epochs", "20", ...args], dir);
const predict = (...args: string[]) => runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "data/xor.csv", ...args], dir);
const compile = (...args: string[]) => runCli(["compile", "xor.nn", ...args], dir);

describe("an output path that cannot be written is reported before any work", () => {
  it("a missing directory, for the weights and for each side file", () => {
    expectWriteFailure(train("-o", "missing/w.json"), "missing/w.json", "ENOENT");
    expectWriteFailure(train("-o", "w.json", "--checkpoint", "missing/c.json"), "missing/c.json", "ENOENT");
    expectWriteFailure(predict("-o", "missing/p.csv"), "missing/p.csv", "ENOENT");
    expectWriteFailure(compile("-o", "missing/x.ts"), "missing/x.ts", "ENOENT");
    expectWriteFailure(compile("--emit", "js", "-o", "missing/x.js"), "missing/x.js", "ENOENT");
    expect(existsSync(join(dir, "w.json"))).toBe(false);
  });

  it("a directory no one may create files in (root included), and a path under a file", () => {
    expect(existsSync("/sys")).toBe(true);
    expectWriteFailure(train("-o", "/sys/w.json"), "/sys/w.json", "EACCES");
    expectWriteFailure(predict("-o", "/sys/p.csv"), "/sys/p.csv", "EACCES");
    expectWriteFailure(compile("-o", "/sys/x.ts"), "/sys/x.ts", "EACCES");
    expectWriteFailure(train("-o", "xor.nn/w.json"), "xor.nn/w.json", "ENOTDIR");
  });

  it("a directory as the target", () => {
    mkdirSync(join(dir, "adir"), { recursive: true });
    expectWriteFailure(train("-o", "adir"), "adir", "EISDIR");
    expectWriteFailure(train("-o", "w.json", "--checkpoint", "adir"), "adir", "EISDIR");
    expectWriteFailure(predict("-o", "adir"), "adir", "EISDIR");
    expectWriteFailure(compile("-o", "adir"), "adir", "EISDIR");
    expect(readdirSync(join(dir, "adir"))).toEqual([]);
  });

  it("leaves the previous weights as they were when a side file cannot be written", () => {
    writeFileSync(join(dir, "old.json"), "old\n");
    expectWriteFailure(train("-o", "old.json", "--checkpoint", "missing/c.json"), "missing/c.json", "ENOENT");
    expect(readFileSync(join(dir, "old.json"), "utf8")).toBe("old\n");
  });
});

describe("a write that fails after the check (the directory removed mid-run)", () => {
  it("warns about the checkpoint and goes on, then names each file that failed and exits 1", async () => {
    mkdirSync(join(dir, "gone"));
    const child = spawn(process.execPath, [CLI, "train", "digits.nn", "--epochs", "40", "--patience", "1000", "--checkpoint-seconds", "0", "-o", "gone/w.json"], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      // after the first epoch, long before the 40th
      // (retried: the training may create a file in it between the listing and the rmdir, ENOTEMPTY)
      if (/^epoch +1\//m.test(stdout) && existsSync(join(dir, "gone"))) rmSync(join(dir, "gone"), { recursive: true, maxRetries: 20, retryDelay: 5 });
    });
    const status = await new Promise<number | null>((done) => child.on("close", done));
    expect(stdout, `status ${status}, stderr: ${stderr}`).toMatch(/^epoch 40\/40/m); // the training went on to the end
    expect(status).toBe(1);
    expect(stderr.match(/warning: checkpoint not written/g)).toHaveLength(1);
    expect(stderr).toContain("cannot write 'gone/w.checkpoint.json': ENOENT (no such directory); training goes on");
    for (const f of ["gone/w.json", "gone/w.loss.svg", "gone/w.checkpoint.json"]) expect(stderr).toContain(`error NN9002: cannot write '${f}': ENOENT`);
    expect(stdout).not.toMatch(/→/);
    expect(hasStackTrace(stderr)).toBe(false);
  });
});

describe("a device as the target", () => {
  it("/dev/full: refused before any work (a write of no bytes finds it), exit 1 (train, predict, compile)", () => {
    expectWriteFailure(train("-o", "/dev/full"), "/dev/full", "ENOSPC");
    expectWriteFailure(predict("-o", "/dev/full"), "/dev/full", "ENOSPC");
    expectWriteFailure(compile("-o", "/dev/full"), "/dev/full", "ENOSPC");
  });

  it("-o /dev/null: trains, writes no side files beside the device, announces none", () => {
    for (const f of ["/dev/null.checkpoint.json", "/dev/null.loss.svg"]) rmSync(f, { force: true });
    const r = train("-o", "/dev/null");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("weights → /dev/null");
    expect(r.stdout).not.toMatch(/checkpoint →|loss curves →/);
    expect(existsSync("/dev/null.checkpoint.json")).toBe(false);
    expect(existsSync("/dev/null.loss.svg")).toBe(false);
    // a checkpoint asked for is written
    const c = train("-o", "/dev/null", "--checkpoint", "null.checkpoint.json");
    expect(c.stdout).toContain("checkpoint → null.checkpoint.json");
    expect(JSON.parse(readFileSync(join(dir, "null.checkpoint.json"), "utf8")).resume.epoch).toBe(20);
  });
});

describe("-o -", () => {
  it("compile prints the module; train prints the weights JSON (messages on stderr); predict prints the CSV; no file named '-'", () => {
    const c = compile("-o", "-");
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/export const meta/);
    const t = train("-o", "-");
    expect(t.status, t.stderr).toBe(0);
    const w = JSON.parse(t.stdout);
    expect(w.format).toBe("nnc-weights/1");
    expect(w.params["h.W"].values).toHaveLength(8);
    expect(t.stderr).toMatch(/^epoch 20\/20/m);
    expect(t.stderr).toContain("weights → stdout");
    const p = predict("-o", "-");
    expect(p.status).toBe(0);
    expect(p.stdout).toBe(predict().stdout);
    expect(p.stdout.split("\n")[0]).toBe("y");
    expect(readdirSync(dir).filter((f) => f.startsWith("-"))).toEqual([]);
  });

  it("--checkpoint - is an error: a checkpoint is a file for --resume", () => {
    const r = train("--checkpoint", "-");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--checkpoint -: a checkpoint is a file/);
    expect(r.stdout).not.toMatch(/^epoch /m);
  });
});

describe("outputs that are the same file", () => {
  it("--checkpoint equal to -o (also spelt differently) is an error before training; the file is unchanged", () => {
    writeFileSync(join(dir, "same.json"), "kept\n");
    for (const cp of ["same.json", "./same.json", join(dir, "same.json")]) {
      const r = train("-o", "same.json", "--checkpoint", cp);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--checkpoint '.*same\.json' is the same file as the weights \(-o\) 'same\.json'/);
      expect(r.stdout).not.toMatch(/^epoch /m);
    }
    expect(readFileSync(join(dir, "same.json"), "utf8")).toBe("kept\n");
  });

  it("an output equal to an input (predict -o the data, compile -o the model) is an error", () => {
    const data = readFileSync(join(dir, "data", "xor.csv"), "utf8");
    const p = predict("-o", "data/xor.csv");
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/the predictions \(-o\) 'data\/xor\.csv' is the same file as --data/);
    expect(readFileSync(join(dir, "data", "xor.csv"), "utf8")).toBe(data);
    const c = compile("-o", "xor.nn");
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/is the same file as the model/);
  });
});

describe("the checkpoint a run announces", () => {
  it("is written at the end of a run stopped early, and --resume continues from it", () => {
    // the default throttle (5 s) held back every epoch's write of this short run
    const r = runCli(["train", "iris.nn", "--epochs", "500", "--patience", "2", "-o", "iris-es.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    const stopped = Number(/early stopping after epoch (\d+)/.exec(r.stdout)![1]);
    expect(stopped).toBeLessThan(500);
    expect(r.stdout).toContain("checkpoint → iris-es.checkpoint.json");
    const checkpoint = JSON.parse(readFileSync(join(dir, "iris-es.checkpoint.json"), "utf8"));
    expect(checkpoint.resume.epoch).toBe(stopped);
    const resumed = runCli(["train", "iris.nn", "--epochs", String(stopped + 3), "--patience", "2", "-o", "iris-es.json", "--resume", "iris-es.checkpoint.json"], dir);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resuming from iris-es.checkpoint.json after epoch ${stopped}`);
  });

  it("is not announced when no epoch completed (divergence in the first step)", () => {
    const r = runCli(["train", "regression.nn", "--lr", "1e10", "-o", "diverged.json"], dir);
    // an error: on stderr, not among the progress lines on stdout
    expect(r.stderr).toMatch(/training diverged at epoch 1, step \d+ /);
    expect(r.stdout).not.toMatch(/training diverged/);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/checkpoint →/);
    expect(existsSync(join(dir, "diverged.checkpoint.json"))).toBe(false);
    expect(r.stdout).toContain("weights → diverged.json");
  });
});

describe("predict", () => {
  it("counts predictions that are not finite, exits 1 (still writing them), and 0 with --allow-non-finite", () => {
    writeFileSync(join(dir, "huge.csv"), "x1,x2\n1e308,1e308\n0,1\n-1e308,1e308\n1,0\n");
    const strict = runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "huge.csv", "-o", "huge-p.csv"], dir);
    const rows = readFileSync(join(dir, "huge-p.csv"), "utf8").trim().split("\n").slice(1);
    const bad = rows.map((row, i) => (/NaN|Infinity/.test(row) ? i + 1 : 0)).filter((i) => i > 0);
    expect(bad.length).toBeGreaterThan(0);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain(`error: ${bad.length} of 4 predictions are not finite (NaN or ±Infinity): sample${bad.length > 1 ? "s" : ""} ${bad.join(", ")} (counted from 1)`);
    const lenient = runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "huge.csv", "--allow-non-finite"], dir);
    expect(lenient.status).toBe(0);
    expect(lenient.stderr).toContain(`warning: ${bad.length} of 4 predictions are not finite`);
    const clean = predict();
    expect(clean.status).toBe(0);
    expect(clean.stderr).not.toMatch(/not finite/);
  });

  it("streams many rows: the file and stdout hold the same CSV, one row per sample", () => {
    const args = ["predict", "digits.nn", "--weights", "digits-s.json", "--data", "data/digits-test.csv"];
    expect(runCli(["train", "digits.nn", "--epochs", "1", "-o", "digits-s.json"], dir).status).toBe(0);
    const toFile = runCli([...args, "-o", "digits-p.csv"], dir);
    expect(toFile.status, toFile.stderr).toBe(0);
    const file = readFileSync(join(dir, "digits-p.csv"), "utf8");
    const samples = readFileSync(join(dir, "data", "digits-test.csv"), "utf8").trim().split("\n").length - 1;
    expect(file.length).toBeGreaterThan(1 << 16); // more than one of the writer's 64 KiB pieces
    expect(file.trimEnd().split("\n")).toHaveLength(samples + 1);
    expect(runCli(args, dir).stdout).toBe(file);
  });
});

describe("no control character from a file or a name reaches the terminal", () => {
  const ESC = "\u001b]0;pwned\u0007";
  const clean = (r: CliResult) => {
    expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout + r.stderr).toContain("\ufffd]0;pwned\ufffd");
  };
  it("a data cell, a data path from the model's train block, a path given as a flag", () => {
    writeFileSync(join(dir, "esc.csv"), `x1,x2\n${ESC},1\n`);
    const cell = runCli(["predict", "xor.nn", "--weights", "xor.weights.json", "--data", "esc.csv"], dir);
    expect(cell.status).toBe(1);
    clean(cell);
    writeFileSync(join(dir, "esc.nn"), readFileSync(join(dir, "xor.nn"), "utf8").replace("data/xor.csv", `data/${ESC}.csv`));
    const model = runCli(["train", "esc.nn"], dir);
    expect(model.status).toBe(1);
    clean(model);
    const flag = train("-o", `missing/${ESC}.json`);
    expect(flag.status).toBe(1);
    clean(flag);
  });
});
