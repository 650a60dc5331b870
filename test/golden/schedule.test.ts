/**
 * Golden schedules: the printed schedule (compiler/schedule/print.ts) of every function the
 * compiler makes for a few models — loops, lanes, blocked and update sweeps, softmax from its
 * log-sum-exp, update order and its fallback to grad, dropout masks —, compared byte for byte with
 * test/baselines/schedules/; `npm run test:accept` rewrites them. The schedules are the compiler's
 * own: a wrapper around scheduleFunction records them while a module is compiled.
 */
import { describe, expect, it, vi } from "vitest";
import { printFunction } from "../../compiler/codegen/ts/function.js";
import { compile } from "../../compiler/pipeline.js";
import { printSchedule } from "../../compiler/schedule/print.js";
import type { Schedule } from "../../compiler/schedule/types.js";
import { baselineFiles, compareBaseline, SCHEDULES } from "../helpers/baselines.js";
import { validModels } from "../helpers/corpus.js";

const recorded = vi.hoisted(() => [] as Schedule[]);
vi.mock("../../compiler/schedule/schedule.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../compiler/schedule/schedule.js")>();
  return {
    ...real,
    scheduleFunction: (...args: Parameters<typeof real.scheduleFunction>) => {
      const s = real.scheduleFunction(...args);
      recorded.push(s);
      return s;
    },
  };
});

const MODELS = ["examples/xor", "examples/digits", "examples/mnist", "graph/update-order", "ops/softmax", "ops/dropout"];
const models = validModels().filter((e) => MODELS.includes(e.key));

async function schedulesOf(path: string, source: string): Promise<Schedule[]> {
  recorded.length = 0;
  const r = await compile(source, { file: path });
  expect(r.ts).not.toBeNull();
  return [...recorded];
}

describe("golden schedules", () => {
  it("cover the models they name", () => expect(models.map((e) => e.key).sort()).toEqual([...MODELS].sort()));
  for (const e of models)
    it(e.path, async () => {
      const schedules = await schedulesOf(e.path, e.source);
      compareBaseline(`${SCHEDULES}/${e.key}.txt`, schedules.map(printSchedule).join("\n"));
      // printing decides nothing: the same schedule prints the same function twice
      for (const s of schedules) expect(printFunction(s).code).toBe(printFunction(s).code);
    });
  it("every golden schedule has a case", () => {
    const expected = new Set(models.map((e) => `${SCHEDULES}/${e.key}.txt`));
    const orphans = baselineFiles().filter((f) => f.startsWith(`${SCHEDULES}/`) && !expected.has(f));
    expect(orphans, "golden schedules without a case: delete them or restore the case").toEqual([]);
  });
});
