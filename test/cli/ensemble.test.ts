/**
 * `nnc predict` with several --weights and with --mc-dropout (language §10, docs/training.md
 * "Ensembles and MC dropout"), end to end through the built CLI: the written predictions are the
 * members' predictions averaged (as each file alone predicts them), each member's metrics are what
 * `nnc predict` reports for its file alone, MC dropout writes means and `_std` columns reproducibly
 * from --seed, and every misuse is a clear error (exit 1), never a silently ignored file.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { spawn } from "node:child_process";
import { CLI, hasStackTrace, requireBuiltCli, scratchWithExamples, type CliResult } from "../helpers/cli.js";

let dir = "";
const DROPOUT = `# digits with dropout on the hidden layer
input x[64]
target t[10]
layer h = dense(x, 24, relu)
d = dropout(h, 0.3)
layer y = dense(d, 10, softmax)
loss cross_entropy(y, t)
train {
  data "data/digits-train.csv"
  optimizer adam(lr = 0.003)
  batch 16
}
`;

const ok = (r: CliResult) => {
  expect(r.status, r.stderr).toBe(0);
  return r;
};

/** runCli, but without blocking the test worker for the minutes these runs take (vitest's RPC times out) */
function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-ensemble-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
  writeFileSync(join(dir, "dropout.nn"), DROPOUT);
  for (const seed of ["1", "2", "3"]) ok(await runCli(["train", "digits.nn", "--epochs", "3", "--seed", seed, "-o", `d${seed}.json`], dir));
  for (const seed of ["1", "2"]) ok(await runCli(["train", "dropout.nn", "--epochs", "3", "--seed", seed, "-o", `m${seed}.json`], dir));
}, 300_000); // five short trainings

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const predict = (model: string, ...args: string[]) => runCli(["predict", model, "--data", "data/digits-test.csv", ...args], dir);

/** A predictions CSV: its header and its rows as numbers (String(v) of a double reads back exactly). */
function csv(file: string): { header: string[]; rows: number[][] } {
  const [head, ...lines] = readFileSync(join(dir, file), "utf8").trimEnd().split("\n");
  return { header: head!.split(","), rows: lines.map((l) => l.split(",").map(Number)) };
}

/** "loss 0.1234, accuracy 95.3%" of a single predict's report line */
const metricsOf = (r: CliResult) => /: (loss \S+, accuracy \S+%)/.exec(r.stdout)![1]!;

function expectCleanFailure(r: CliResult, message: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(hasStackTrace(r.stderr)).toBe(false);
}

describe("an ensemble of weights files", () => {
  it("writes the mean of the members' predictions and reports each member's metrics as predict does for it alone", async () => {
    const singles: CliResult[] = [];
    for (const i of [1, 2, 3]) singles.push(ok(await predict("digits.nn", "--weights", `d${i}.json`, "-o", `p${i}.csv`)));
    const r = ok(await predict("digits.nn", "--weights", "d1.json", "--weights", "d2.json", "--weights", "d3.json", "-o", "ensemble.csv"));
    expect(r.stdout).toMatch(/ensemble of 3 members: the predictions are the mean of their outputs \(y: softmax probabilities, averaged before the argmax\)/);
    const members = [1, 2, 3].map((i) => csv(`p${i}.csv`));
    const ensemble = csv("ensemble.csv");
    expect(ensemble.header).toEqual(members[0]!.header);
    expect(ensemble.header.at(-1)).toBe("class");
    expect(ensemble.rows.length).toBe(members[0]!.rows.length);
    let disagreements = 0;
    ensemble.rows.forEach((row, r) => {
      const probabilities = row.slice(0, 10);
      const byHand = probabilities.map((_, k) => (members[0]!.rows[r]![k]! + members[1]!.rows[r]![k]! + members[2]!.rows[r]![k]!) / 3);
      expect(probabilities).toEqual(byHand);
      expect(row[10]).toBe(byHand.indexOf(Math.max(...byHand)));
      if (members.some((m) => m.rows[r]![10] !== row[10])) disagreements++;
    });
    // three differently seeded models do not agree on every digit: the average decides
    expect(disagreements).toBeGreaterThan(0);
    singles.forEach((s, i) => expect(r.stdout).toContain(`member ${i + 1}  d${i + 1}.json  ${metricsOf(s)}, nll `));
    expect(r.stdout).toMatch(/^ {2}ensemble: accuracy \d+\.\d%, nll \d\.\d{4} {3}\(359 samples\)$/m);
    expect(r.stdout).toMatch(/confusion matrix of the ensemble/);
  });

  it("refuses a file given twice, weights of another graph, and weights of another model", async () => {
    expectCleanFailure(await predict("digits.nn", "--weights", "d1.json", "--weights", "./d1.json"), /--weights \.\/d1\.json is given twice \(as d1\.json\)/);
    expectCleanFailure(await predict("digits.nn", "--set", "lambda=0.01", "--weights", "d1.json", "--weights", "d2.json"), /--weights d1\.json: written for another graph of model digits .*other --set values/);
    expectCleanFailure(await predict("digits.nn", "--weights", "d1.json", "--weights", "m1.json"), /m1\.json.*h\.W/);
  });
});

describe("--mc-dropout", () => {
  it("writes each output's mean and, in _std columns, its standard deviation, reproducibly from --seed", async () => {
    const a = ok(await predict("dropout.nn", "--weights", "m1.json", "--mc-dropout", "8", "--seed", "3", "-o", "mc-a.csv"));
    ok(await predict("dropout.nn", "--weights", "m1.json", "--mc-dropout", "8", "--seed", "3", "-o", "mc-b.csv"));
    ok(await predict("dropout.nn", "--weights", "m1.json", "--mc-dropout", "8", "--seed", "4", "-o", "mc-c.csv"));
    expect(readFileSync(join(dir, "mc-b.csv"), "utf8")).toBe(readFileSync(join(dir, "mc-a.csv"), "utf8"));
    expect(readFileSync(join(dir, "mc-c.csv"), "utf8")).not.toBe(readFileSync(join(dir, "mc-a.csv"), "utf8"));
    const { header, rows } = csv("mc-a.csv");
    expect(header).toEqual([...Array.from({ length: 10 }, (_, k) => `y_${k}`), ...Array.from({ length: 10 }, (_, k) => `y_${k}_std`), "class"]);
    for (const row of rows) {
      // the mean of probability vectors is one; deviations are non-negative and some positive
      expect(Math.abs(row.slice(0, 10).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
      expect(row.slice(10, 20).every((v) => v >= 0)).toBe(true);
    }
    expect(rows.some((row) => row.slice(10, 20).some((v) => v > 0))).toBe(true);
    expect(a.stdout).toMatch(/MC dropout: 8 passes with dropout active \(seed 3\)/);
    // the member's line is predict's (dropout off); the MC mean is scored beside it
    const single = ok(await predict("dropout.nn", "--weights", "m1.json"));
    expect(a.stdout).toContain(`dropout off (predict): ${/(loss \S+, accuracy \S+%)/.exec(single.stderr)![1]}`);
    expect(a.stdout).toMatch(/MC dropout, the mean of 8 passes: accuracy \d+\.\d%, nll /);
  });

  it("with several --weights: the mean and deviation over every member's passes, member i from seed + i", async () => {
    const r = ok(await predict("dropout.nn", "--weights", "m1.json", "--weights", "m2.json", "--mc-dropout", "4", "-o", "mc-2.csv"));
    expect(r.stdout).toMatch(/4 passes with dropout active for each of 2 members \(seeds 1…2, one per member\); the predictions are the mean over all 8 passes/);
    expect(r.stdout).toMatch(/member 2 {2}m2\.json {2}dropout off \(predict\): loss .*MC mean: accuracy/);
    expect(r.stdout).toMatch(/ensemble, the mean of all 8 passes: accuracy/);
    expect(csv("mc-2.csv").header.length).toBe(21);
  });

  it("is refused for a model without dropout, for fewer than 2 passes, and --seed is refused without it", async () => {
    expectCleanFailure(await predict("digits.nn", "--weights", "d1.json", "--mc-dropout", "5"), /--mc-dropout 5: model digits has no dropout/);
    expectCleanFailure(await predict("dropout.nn", "--weights", "m1.json", "--mc-dropout", "1"), /'--mc-dropout <N>' argument '1' is invalid\. expected an integer from 2 to 100000/);
    expectCleanFailure(await predict("digits.nn", "--weights", "d1.json", "--seed", "4"), /--seed 4 without --mc-dropout/);
  });
});
