/**
 * Crash safety over the whole run (issue #14): `nnc train` killed with SIGKILL at any moment — while
 * compiling, between epochs, while a checkpoint is written, after the last epoch, while the weights
 * are written — and then resumed with `--resume` (again and again, if a resumed run is killed too)
 * ends with a weights file byte for byte the same as an uninterrupted run's.
 *
 * A kill before the first checkpoint leaves nothing to resume from: `--resume` of a checkpoint that
 * does not exist is a user error (exit 1, the file named, no stack trace), and the run starts over
 * without `--resume` (docs/training.md).
 *
 * The run: iris (Adam, a seeded validation split, early stopping with patience, so the optimizer's
 * moments, the best weights and the count of bad epochs all have to survive), a checkpoint after
 * every epoch. The random moments come from a seeded generator over the file events and times
 * of an uninterrupted run, so a failing trial is reproduced by its number; where exactly a kill
 * lands still depends on the machine's speed, which the assertions do not.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, hasStackTrace, requireBuiltCli } from "../helpers/cli.js";
import { rng } from "../helpers/random.js";

const SEED = Number(process.env.NNC_CRASH_SEED ?? 1414);
const TRIALS = Number(process.env.NNC_CRASH_TRIALS ?? 10);
const CHECKPOINT = "run.checkpoint.json";
const WEIGHTS = "run.weights.json";
const ARGS = ["train", "iris.nn", "--patience", "20", "--checkpoint-seconds", "0", "--checkpoint", CHECKPOINT, "-o", WEIGHTS];
/** a run that completes its epochs: its last checkpoint is of the last epoch */
const COMPLETE = ["train", "iris.nn", "--epochs", "12", "--checkpoint-seconds", "0", "--checkpoint", CHECKPOINT, "-o", WEIGHTS];

/**
 * When to kill: `ms` after the `after`-th event on the run's files (0: after the spawn); on a line
 * of stdout, or (with `file`) on the first event on a file whose name contains `file` after that
 * line; on the n-th event on such a file (a write under way); or never. Counting the run's own
 * writes rather than the time since the spawn puts a moment at the same point of the run however
 * busy the machine is.
 */
type Kill = { readonly after: number; readonly ms: number } | { readonly line: RegExp; readonly file?: string } | { readonly file: string; readonly n: number } | null;

interface Run {
  readonly killed: boolean;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from the spawn to the first line of training ("initial loss" / "loss at the checkpoint"), and to the exit */
  readonly trainingAt: number;
  readonly endedAt: number;
  /** events on the run's files (checkpoint, weights, loss curves) */
  readonly events: number;
}

let root = "";
const scratch: string[] = [];
beforeAll(() => {
  requireBuiltCli();
  root = mkdtempSync(join(tmpdir(), "nnc-crash-resume-"));
  cpSync(join(ROOT, "examples", "iris.nn"), join(root, "iris.nn"));
  cpSync(join(ROOT, "examples", "data", "iris.csv"), join(root, "data", "iris.csv"));
});
afterAll(() => {
  for (const d of [root, ...scratch]) if (d) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory with the model and its data. */
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nnc-crash-trial-"));
  scratch.push(dir);
  cpSync(root, dir, { recursive: true });
  return dir;
}

function runTrain(dir: string, extra: readonly string[], kill: Kill, args = ARGS): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args, ...extra], { cwd: dir, env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" } });
    let stdout = "", stderr = "", trainingAt = NaN, killed = false, events = 0, matching = 0, lineSeen = false;
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null && !killed) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    let timer = kill && "after" in kill && kill.after === 0 ? setTimeout(stop, kill.ms) : null;
    // the atomic writer makes a temporary file (named after the target) and renames it over the
    // target: an event on such a name is a moment inside a write
    const watcher = watch(dir, (_event, name) => {
      if (!name?.includes("run.")) return;
      events++;
      if (kill && "after" in kill && events === kill.after) timer = setTimeout(stop, kill.ms);
      if (kill && "n" in kill && name.includes(kill.file) && ++matching >= kill.n) stop();
      if (kill && "line" in kill && kill.file !== undefined && lineSeen && name.includes(kill.file)) stop();
    });
    const guard = setTimeout(() => {
      stop();
      reject(new Error(`nnc train did not end within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (Number.isNaN(trainingAt) && /^(initial loss|loss at the checkpoint) /m.test(stdout)) trainingAt = performance.now() - t0;
      if (kill && "line" in kill && kill.line.test(stdout)) {
        lineSeen = true;
        if (kill.file === undefined) stop();
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      watcher.close();
      resolve({ killed: signal === "SIGKILL", status, stdout, stderr, trainingAt, endedAt: performance.now() - t0, events });
    });
    child.on("error", reject);
  });
}

/** What a kill left: no checkpoint, or a whole one (never a partial one) after some epoch. */
function checkpointEpoch(dir: string): number | null {
  if (!existsSync(join(dir, CHECKPOINT))) return null;
  const c = JSON.parse(readFileSync(join(dir, CHECKPOINT), "utf8"));
  expect(c.format).toBe("nnc-weights/1");
  expect(Number.isInteger(c.resume.epoch)).toBe(true);
  return c.resume.epoch as number;
}

/**
 * Runs after a kill until one completes: `--resume` from the checkpoint, or from the start when
 * there is none (after checking, with `checkRefusal`, that `--resume` of the missing checkpoint
 * is refused cleanly); the next kill of `kills` is applied to each run in turn. Returns the log of
 * where the kills left the run, for the failure message.
 */
async function resumeUntilDone(dir: string, kills: Kill[], { checkRefusal = false, args = ARGS } = {}): Promise<string[]> {
  const log: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const epoch = checkpointEpoch(dir);
    if (epoch === null && attempt > 0 && checkRefusal) {
      // nothing to resume from: a clear error, then start over
      const r = await runTrain(dir, ["--resume", CHECKPOINT], null, args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(CHECKPOINT);
      expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
      expect(r.stderr).not.toMatch(/internal error/);
      log.push("no checkpoint: --resume refused, started over");
    }
    const r = await runTrain(dir, epoch === null ? [] : ["--resume", CHECKPOINT], kills.shift() ?? null, args);
    if (!r.killed) {
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      if (epoch !== null) expect(r.stdout).toContain(`resuming from ${CHECKPOINT} after epoch ${epoch}`);
      log.push(epoch === null ? "completed from the start" : `completed from epoch ${epoch}`);
      return log;
    }
    log.push(`killed after ${r.events} file events (${epoch === null ? "from the start" : `resumed from epoch ${epoch}`}), left ${checkpointEpoch(dir) ?? "no"} checkpoint`);
  }
  throw new Error(`no run completed:\n${log.join("\n")}`);
}

describe("SIGKILL anywhere in nnc train, then --resume", () => {
  let reference: Buffer;
  let timing: { trainingAt: number; endedAt: number; events: number };

  beforeAll(async () => {
    const dir = freshDir();
    const r = await runTrain(dir, [], null);
    expect(r.status, r.stderr).toBe(0);
    // early stopping ended the run before its 100 epochs: its state is part of what must survive
    expect(r.stdout).toMatch(/^early stopping after epoch \d+/m);
    reference = readFileSync(join(dir, WEIGHTS));
    timing = { trainingAt: r.trainingAt, endedAt: r.endedAt, events: r.events };
    expect(r.events).toBeGreaterThan(60); // a checkpoint after each of the 60-odd epochs
  }, 120_000);

  it("at fixed points (before the first checkpoint, while writing one, after the last epoch, while writing the weights): the same weights", async () => {
    const dir = freshDir();
    const log = await resumeUntilDone(dir, [
      // while it compiles (the target line comes before the compilation): no checkpoint yet
      { line: /^target /m },
      // inside a checkpoint write a few epochs in
      { file: "checkpoint", n: 16 },
      // the run has stopped early: its last checkpoint is written, the weights are about to be
      { line: /^early stopping after epoch/m },
      // inside the write of the weights file, which follows the final line (the first events on
      // its name are the check, before any work, that it can be written)
      { line: /^final: /m, file: "weights" },
    ], { checkRefusal: true });
    // the later kills come milliseconds before the run would end by itself, so on a busy machine
    // one may come too late: only the first, a second before any checkpoint, is sure to land
    expect(log[0]).toMatch(/^killed .* left no checkpoint/);
    expect(log[1]).toBe("no checkpoint: --resume refused, started over");
    expect(log.length).toBeGreaterThanOrEqual(3);
    console.log(`fixed points: ${log.join("; ")}`);
    expect(readFileSync(join(dir, WEIGHTS)).equals(reference), log.join("\n")).toBe(true);
    // every temporary file of the killed writers is gone or is one of theirs, never a partial checkpoint
    for (const f of readdirSync(dir)) expect(f).toMatch(/^(iris\.nn|data|run\.(weights|checkpoint)\.json|run\.loss\.svg|run\.history\.jsonl|\.run\..*\.tmp)$/);
  }, 200_000);

  it("after the last epoch's checkpoint of a run that completes, before its weights: --resume writes the same weights", async () => {
    const ref = freshDir();
    const r = await runTrain(ref, [], null, COMPLETE);
    expect(r.status, r.stderr).toBe(0);
    expect(checkpointEpoch(ref)).toBe(12);
    // what a kill between the last checkpoint and the weights leaves (the window is a few
    // milliseconds, too short to hit by a signal on a busy machine): that checkpoint, no weights
    const dir = freshDir();
    cpSync(join(ref, CHECKPOINT), join(dir, CHECKPOINT));
    const log = await resumeUntilDone(dir, [], { args: COMPLETE });
    expect(log).toEqual(["completed from epoch 12"]);
    expect(readFileSync(join(dir, WEIGHTS)).equals(readFileSync(join(ref, WEIGHTS)))).toBe(true);
  }, 200_000);

  it(`at ${TRIALS} random moments (seed ${SEED}), some resumed runs killed again: the same weights`, async () => {
    const random = rng(SEED);
    const { trainingAt, endedAt, events } = timing;
    // most moments fall while it trains (where the state to resume is): after a random one of the
    // reference run's file events, plus up to the mean time between two; one in ten while it
    // starts (compiling, loading the data), where the kill leaves nothing and the run starts over
    const between = (endedAt - trainingAt) / events;
    const moment = (): Kill => (random() < 0.1 ? { after: 0, ms: random() * trainingAt } : { after: 1 + Math.floor(random() * events), ms: random() * between });
    const logs: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = freshDir();
      const kills = trial % 4 === 3 ? [moment(), moment()] : [moment()];
      const log = await resumeUntilDone(dir, kills);
      logs.push(`trial ${trial}: ${log.join("; ")}`);
      expect(readFileSync(join(dir, WEIGHTS)).equals(reference), logs.join("\n")).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(logs.join("\n"));
    // (the time limits guard against a hang; on a machine shared by many processes a run takes seconds)
  }, 400_000);
});
