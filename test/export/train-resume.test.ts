/**
 * train.py's checkpoints: 3 epochs in one run and 2 epochs then `--resume` to 3 write the same
 * weights (float64, 1 process, to 1e-12), with state in every part that could break it — Adam's
 * moments, a step schedule, dropout masks, early stopping's best weights on a split. A checkpoint
 * of the last epoch only writes the weights; one past the run's epochs, of another model, or not a
 * checkpoint at all is refused with exit 1 and a message, never a traceback.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportPyTorch } from "../../compiler/export/index.js";
import { check } from "../../compiler/pipeline.js";
import { mulberry32 } from "../../runtime/random.js";
import { readSafetensors } from "../helpers/safetensors.js";
import { TORCH_PYTHON, torchProblem } from "../helpers/torch.js";

const MODEL = (name: string, hidden: number, extra = "") => `model ${name}
input x[4]
target t
layer h = dense(x, ${hidden}, relu)
d = dropout(h, 0.3)
layer o = dense(d, 1, sigmoid)
y = o[0]
output y
loss binary_cross_entropy(y, t)
train { data "d.csv"; split 0.25; optimizer adam(lr = 0.02); schedule step(every = 1, factor = 0.7); batch 8; epochs 3${extra} }
`;

let root = "";
const exported = (name: string, hidden: number, extra = "") => {
  const dir = join(root, name);
  const file = join(root, `${name}.nn`);
  writeFileSync(file, MODEL(name, hidden, extra));
  const { model, diagnostics } = check(MODEL(name, hidden, extra), { file });
  if (!model) throw new Error(JSON.stringify(diagnostics));
  spawnSync("mkdir", ["-p", dir]);
  for (const f of exportPyTorch(file, model, dir, "test")) writeFileSync(f.path, f.text);
  return join(dir, "train.py");
};
const train = (script: string, ...args: string[]) => spawnSync(TORCH_PYTHON, [script, "--data", join(root, "d.csv"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
const weights = (file: string) => readSafetensors(join(root, file)).tensors;

let script = "";
beforeAll(() => {
  const problem = torchProblem();
  if (problem !== null) throw new Error(problem);
  root = mkdtempSync(join(tmpdir(), "nnc-torch-resume-"));
  const random = mulberry32(3);
  const rows = Array.from({ length: 60 }, () => {
    const x = Array.from({ length: 4 }, () => 2 * random() - 1);
    return [...x, x[0]! + x[1]! * x[2]! > 0 ? 1 : 0].join(",");
  });
  writeFileSync(join(root, "d.csv"), `x_0,x_1,x_2,x_3,t\n${rows.join("\n")}\n`);
  script = exported("net", 6);
}, 60_000);

describe("train.py --checkpoint and --resume", () => {
  it("3 epochs equal 2 epochs and a resume to 3, to 1e-12", () => {
    const whole = train(script, "-o", "whole.safetensors");
    expect(whole.status, whole.stderr).toBe(0);
    expect(existsSync(join(root, "whole.checkpoint.pt"))).toBe(true);
    const first = train(script, "--epochs", "2", "-o", "part.safetensors", "--checkpoint", "two.pt");
    expect(first.status, first.stderr).toBe(0);
    const rest = train(script, "--resume", "two.pt", "-o", "resumed.safetensors");
    expect(rest.status, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/resumed from two\.pt after epoch 2/);
    expect(rest.stdout).not.toMatch(/epoch 2\/3/);
    expect(rest.stdout).toMatch(/epoch 3\/3/);
    const a = weights("whole.safetensors");
    const b = weights("resumed.safetensors");
    const p = weights("part.safetensors");
    for (const name of Object.keys(a)) {
      // the third epoch moved the weights, so equal weights mean it was redone the same way
      expect(a[name]!.values.some((v, i) => Math.abs(v - p[name]!.values[i]!) > 1e-6), `epoch 3 moved ${name}`).toBe(true);
      a[name]!.values.forEach((v, i) => expect(Math.abs(v - b[name]!.values[i]!), `${name}[${i}]`).toBeLessThan(1e-12));
    }
  }, 120_000);

  it("a checkpoint of the last epoch only writes the weights", () => {
    const r = train(script, "--resume", "whole.checkpoint.pt", "-o", "again.safetensors", "--checkpoint", "unused.pt");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^epoch /m);
    expect(existsSync(join(root, "unused.pt"))).toBe(false);
    const a = weights("whole.safetensors");
    const b = weights("again.safetensors");
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.values)).toEqual(Array.from(a[name]!.values));
  }, 60_000);

  it("a checkpoint of an early stop resumes to the same stop and the same restored weights", () => {
    // min_delta 10: no epoch improves on the first, so patience 1 stops the run after epoch 2 of 3
    const stopping = exported("stopping", 6, "; early_stopping(patience = 1, min_delta = 10)");
    const whole = train(stopping, "-o", "stop.safetensors", "--checkpoint", "stop.pt");
    expect(whole.status, whole.stderr).toBe(0);
    expect(whole.stdout).toMatch(/early stopping after epoch 2: .* restored the weights of epoch 1/);
    const again = train(stopping, "--resume", "stop.pt", "-o", "stop-again.safetensors");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/^epoch /m);
    expect(again.stdout).toMatch(/early stopping after epoch 2: .* restored the weights of epoch 1/);
    const a = weights("stop.safetensors");
    const b = weights("stop-again.safetensors");
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.values)).toEqual(Array.from(a[name]!.values));
  }, 60_000);

  it("refuses a checkpoint past the run's epochs, of another model, of other flags, or not a checkpoint", () => {
    const refusals: [string[], RegExp][] = [
      [["--resume", "whole.checkpoint.pt", "--epochs", "2"], /the checkpoint is after epoch 3 and the run has only 2 epochs \(ask for at least 3 epochs\)/],
      [["--resume", "two.pt", "--batch", "4"], /the checkpoint was trained with batch 8; resume with the same flags/],
      [["--resume", "d.csv"], /--resume d\.csv: not a train\.py checkpoint/],
      [["--resume", "missing.pt"], /--resume missing\.pt: no such file/],
    ];
    const other = exported("wider", 7);
    const r = train(other, "--resume", "two.pt", "-o", "wider.safetensors");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the checkpoint is of model net with parameters .*'h\.W': \[6, 4\].*; this is wider with .*'h\.W': \[7, 4\]/);
    expect(r.stderr).not.toMatch(/Traceback/);
    for (const [args, message] of refusals) {
      const q = train(script, ...args, "-o", "refused.safetensors");
      expect(q.status, args.join(" ")).toBe(1);
      expect(q.stderr).toMatch(message);
      expect(q.stderr).not.toMatch(/Traceback/);
    }
    expect(existsSync(join(root, "refused.safetensors"))).toBe(false);
  }, 120_000);
});
