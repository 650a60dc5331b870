/**
 * train.py's learning rates are nnc's: the `cycle_at` and `learning_rate` functions train.py
 * defines (run by plain Python, no torch needed) against runtime/schedules.ts at every step of a
 * few epochs, for every schedule, the cyclic ones included (they change every step).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { emitTrainPy } from "../../compiler/export/pytorch-train.js";
import { check } from "../../compiler/pipeline.js";
import type { ScheduleConfig } from "../../compiler/semantics/model.js";
import { resolveConfig } from "../../runtime/cli-train.js";
import { createSchedule } from "../../runtime/schedules.js";
import { TORCH_PYTHON } from "../helpers/torch.js";

const SCHEDULES = ["constant", "step(every = 2, factor = 0.5)", "cosine", "linear", "inverse_sqrt", "cyclic(min_lr = 0.01, max_lr = 0.3, period = 1.5)", "cosine_restarts(period = 1, mult = 2)", "cosine_restarts(period = 0.7)"];
const EPOCHS = 6;
const STEPS = 7;

describe("train.py's learning_rate against runtime/schedules.ts", () => {
  it.each(SCHEDULES)("%s, every step of %s epochs", (schedule) => {
    const source = `input x\ntarget t\nparam w\nloss (w * x - t)^2\ntrain { data "d.csv"; optimizer momentum(lr = 0.2); schedule ${schedule}; epochs ${EPOCHS} }\n`;
    const { model } = check(source, { file: "m.nn" });
    const config = resolveConfig("m.nn", model!.train, {});
    const py = emitTrainPy(model!, { file: "m.nn", version: "test", dir: ".", config, unusedParams: false });
    // the configuration and the two functions, without the imports of torch
    const functions = py.slice(py.indexOf("def cycle_at"), py.indexOf("def scoring"));
    const settings = py.slice(py.indexOf("SCHEDULE = "), py.indexOf("\n", py.indexOf("SCHEDULE = ")));
    const program = `import json, math\n${settings}\nEPOCHS = ${EPOCHS}\n${functions}\nprint(json.dumps([learning_rate(s / ${STEPS}, 0.2) for s in range(${EPOCHS * STEPS})]))\n`;
    const r = spawnSync(TORCH_PYTHON, ["-c", program], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as number[];
    const lrAt = createSchedule(config.schedule as ScheduleConfig, 0.2, EPOCHS);
    const want = Array.from({ length: EPOCHS * STEPS }, (_, s) => lrAt(Math.floor(s / STEPS), (s % STEPS) / STEPS));
    got.forEach((v, s) => expect(v, `step ${s}`).toBeCloseTo(want[s]!, 12));
    // the rates differ from step to step exactly when the schedule is cyclic
    expect(new Set(want.slice(0, STEPS)).size > 1).toBe(/cyclic|restarts/.test(schedule));
  });
});
