/**
 * Crash safety: a real `nnc train` child process killed with SIGKILL mid-run leaves its last
 * checkpoint complete and loadable (files are written to a temporary file and renamed), and
 * `--resume` continues from it.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { CLI, requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-crash-");
  cpSync(join(ROOT, "examples", "data"), join(dir, "data"), { recursive: true, filter: (src) => !src.includes("mnist") });
});

function trainUntilKilled(args: string[], epochsSeen: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ${epochsSeen} epochs within 60 s:\n${out}`));
    }, 60_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const epochs = out.match(/^epoch +\d+\//gm)?.length ?? 0;
      if (epochs >= epochsSeen && existsSync(join(dir, "run.checkpoint.json"))) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve(out);
      else reject(new Error(`training ended by itself (${signal}):\n${out}`));
    });
  });
}

describe("killing nnc train", () => {
  it("leaves a loadable checkpoint, and --resume continues from it", async () => {
    const args = ["train", "digits.nn", "--epochs", "60", "--patience", "5000", "--checkpoint-seconds", "0", "-o", "run.weights.json"];
    await trainUntilKilled(args, 3);
    const checkpoint = JSON.parse(readFileSync(join(dir, "run.checkpoint.json"), "utf8"));
    expect(checkpoint.format).toBe("nnc-weights/1");
    const epoch: number = checkpoint.resume.epoch;
    expect(epoch).toBeGreaterThanOrEqual(2);
    expect(checkpoint.params["h.W"].values).toHaveLength(32 * 64);
    // a kill during a write may leave the writer's temporary file, never a partial checkpoint: the
    // only other file is hidden and named as the killed process's temporary
    const leftovers = () => readdirSync(dir).filter((f) => f.startsWith(".run.checkpoint.json"));
    for (const f of leftovers()) expect(f).toMatch(/^\.run\.checkpoint\.json\.\d+\.[0-9a-f]+\.tmp$/);
    expect(existsSync(join(dir, "run.weights.json"))).toBe(false);

    const r = runCli(["train", "digits.nn", "--epochs", String(epoch + 2), "--patience", "5000", "--resume", "run.checkpoint.json", "--checkpoint-seconds", "0", "-o", "run.weights.json"], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`resuming from run.checkpoint.json after epoch ${epoch}`);
    expect(r.stdout).toMatch(new RegExp(`epoch +${epoch + 2}/${epoch + 2}`));
    expect(r.stdout).not.toMatch(/epoch +1\//);
    expect(JSON.parse(readFileSync(join(dir, "run.weights.json"), "utf8")).metrics.epochs).toBe(epoch + 2);
    // the resumed run's first checkpoint write removed the killed process's temporary file
    expect(leftovers()).toHaveLength(0);
  });
});
