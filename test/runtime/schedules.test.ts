/** The learning-rate schedules at a few epochs (0-based) against the notes' formulas. */
import { describe, expect, it } from "vitest";
import { createSchedule, cycleAt, isPerStep } from "../../runtime/schedules.js";
import { snapshotCycles } from "../../runtime/train.js";

describe("learning-rate schedules (α₀ = 0.2, T = 10 epochs)", () => {
  it("no schedule and constant keep α₀", () => {
    for (const lrAt of [createSchedule(undefined, 0.2, 10), createSchedule({ name: "constant", args: {} }, 0.2, 10)]) {
      expect([0, 3, 9].map(lrAt)).toEqual([0.2, 0.2, 0.2]);
    }
  });

  it("step(every = 3, factor = 0.5): α₀·0.5^⌊t/3⌋", () => {
    const lrAt = createSchedule({ name: "step", args: { every: 3, factor: 0.5 } }, 0.2, 10);
    expect(lrAt(0)).toBe(0.2);
    expect(lrAt(2)).toBe(0.2);
    expect(lrAt(3)).toBeCloseTo(0.1, 15);
    expect(lrAt(5)).toBeCloseTo(0.1, 15);
    expect(lrAt(6)).toBeCloseTo(0.05, 15);
    expect(lrAt(9)).toBeCloseTo(0.025, 15);
  });

  it("step with the defaults (every 30, factor 0.1): ×0.1 after epochs 30, 60 and 90", () => {
    const lrAt = createSchedule({ name: "step", args: {} }, 1, 100);
    expect(lrAt(29)).toBe(1);
    expect(lrAt(30)).toBeCloseTo(0.1, 15);
    expect(lrAt(60)).toBeCloseTo(0.01, 15);
    expect(lrAt(95)).toBeCloseTo(0.001, 15);
  });

  it("cosine: ½α₀(1 + cos(πt/T))", () => {
    const lrAt = createSchedule({ name: "cosine", args: {} }, 0.2, 10);
    expect(lrAt(0)).toBeCloseTo(0.2, 15);
    expect(lrAt(5)).toBeCloseTo(0.1, 15); // cos(π/2) = 0
    expect(lrAt(2)).toBeCloseTo(0.1 * (1 + Math.cos(0.2 * Math.PI)), 15); // 0.1809…
    expect(lrAt(2)).toBeCloseTo(0.180901699437, 11);
    expect(lrAt(9)).toBeCloseTo(0.1 * (1 - Math.cos(0.1 * Math.PI)), 15); // 0.00489…
    expect(lrAt(12)).toBeCloseTo(0, 15); // past the end: stays at the final value
  });

  it("linear: α₀(1 − t/T)", () => {
    const lrAt = createSchedule({ name: "linear", args: {} }, 0.2, 10);
    expect(lrAt(0)).toBeCloseTo(0.2, 15);
    expect(lrAt(4)).toBeCloseTo(0.12, 15);
    expect(lrAt(9)).toBeCloseTo(0.02, 15);
    expect(lrAt(15)).toBe(0);
  });

  it("inverse_sqrt: α₀/√(1 + t)", () => {
    const lrAt = createSchedule({ name: "inverse_sqrt", args: {} }, 0.2, 10);
    expect(lrAt(0)).toBeCloseTo(0.2, 15);
    expect(lrAt(3)).toBeCloseTo(0.1, 15);
    expect(lrAt(8)).toBeCloseTo(0.2 / 3, 15);
  });

  it("rejects arguments it cannot use", () => {
    expect(() => createSchedule({ name: "step", args: { every: 0, factor: 0.1 } }, 0.2, 10)).toThrow(/every must be positive/);
    expect(() => createSchedule({ name: "cosine", args: {} }, 0.2, 0)).toThrow(/positive number of epochs/);
  });
});

describe("cyclic schedules: the rate of every step, t = epoch + fraction of the epoch's steps", () => {
  it("cyclic(min_lr = 0.01, max_lr = 0.11, period = 4): triangular, min at the start and end of each cycle, max halfway", () => {
    const lrAt = createSchedule({ name: "cyclic", args: { min_lr: 0.01, max_lr: 0.11, period: 4 } }, 123, 20);
    expect(lrAt(0)).toBeCloseTo(0.01, 15);
    expect(lrAt(1)).toBeCloseTo(0.06, 15); // a quarter: halfway up
    expect(lrAt(2)).toBeCloseTo(0.11, 15); // the top
    expect(lrAt(3, 0.5)).toBeCloseTo(0.01 + 0.1 * (1 - Math.abs(2 * (3.5 / 4) - 1)), 15); // 0.035
    expect(lrAt(3, 0.5)).toBeCloseTo(0.035, 15);
    expect(lrAt(4)).toBeCloseTo(0.01, 15); // the next cycle starts at the bottom
    expect(lrAt(6, 0.25)).toBeCloseTo(0.01 + 0.1 * (1 - Math.abs(2 * (2.25 / 4) - 1)), 15); // 0.0975
    expect(lrAt(6, 0.25)).toBeCloseTo(0.0975, 15);
  });

  it("cosine_restarts(period = 2): ½α₀(1 + cos(πu)), restarting at α₀ every 2 epochs", () => {
    const lrAt = createSchedule({ name: "cosine_restarts", args: { period: 2, mult: 1 } }, 0.2, 10);
    expect(lrAt(0)).toBeCloseTo(0.2, 15);
    expect(lrAt(1)).toBeCloseTo(0.1, 15); // u = ½
    expect(lrAt(1, 0.5)).toBeCloseTo(0.1 * (1 + Math.cos(0.75 * Math.PI)), 15); // 0.0292…
    expect(lrAt(1, 0.5)).toBeCloseTo(0.029289321881, 11);
    expect(lrAt(2)).toBeCloseTo(0.2, 15); // restart
    expect(lrAt(2, 0.999)).toBeLessThan(0.2);
  });

  it("cosine_restarts(period = 1, mult = 2): cycles of 1, 2, 4 epochs start at epochs 0, 1, 3, 7", () => {
    const config = { name: "cosine_restarts" as const, args: { period: 1, mult: 2 } };
    const lrAt = createSchedule(config, 1, 20);
    for (const start of [0, 1, 3, 7]) expect(lrAt(start), `epoch ${start}`).toBeCloseTo(1, 12);
    expect(lrAt(2)).toBeCloseTo(0.5, 12); // halfway through the 2-epoch cycle [1, 3)
    expect(lrAt(5)).toBeCloseTo(0.5, 12); // halfway through [3, 7)
    expect(lrAt(4)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect([0.5, 1, 2.9, 3, 6.99, 7].map((t) => cycleAt(config, t)!.cycle)).toEqual([0, 1, 1, 2, 2, 3]);
  });

  it("a boundary that floating point misses by an ulp still starts the next cycle (0.3 / 0.1)", () => {
    const config = { name: "cosine_restarts" as const, args: { period: 0.1, mult: 1 } };
    expect(cycleAt(config, 0.3)).toEqual({ cycle: 3, u: 0 });
    expect(createSchedule(config, 1, 1)(0, 0.3)).toBe(1);
  });

  it("only the cyclic schedules change per step; the others ignore the fraction of the epoch", () => {
    expect(isPerStep({ name: "cyclic", args: {} })).toBe(true);
    expect(isPerStep({ name: "cosine", args: {} })).toBe(false);
    expect(isPerStep(undefined)).toBe(false);
    const lrAt = createSchedule({ name: "cosine", args: {} }, 0.2, 10);
    expect(lrAt(2, 0.9)).toBe(lrAt(2));
  });

  it("refuses what it cannot use, naming the argument", () => {
    expect(() => createSchedule({ name: "cyclic", args: { min_lr: 0.1, max_lr: 0.05, period: 2 } }, 1, 10)).toThrow(/max_lr must be positive and at least min_lr \(0.1\), got 0.05/);
    expect(() => createSchedule({ name: "cyclic", args: { min_lr: 0.1, max_lr: 0.5 } }, 1, 10)).toThrow(/cyclic needs the argument 'period'/);
    expect(() => createSchedule({ name: "cosine_restarts", args: { period: 0 } }, 1, 10)).toThrow(/period must be a positive number of epochs, got 0/);
    expect(() => createSchedule({ name: "cosine_restarts", args: { period: 2, mult: 0.5 } }, 1, 10)).toThrow(/mult must be ≥ 1/);
  });
});

describe("snapshot cycles", () => {
  it("the last K of the cycles that end by the last epoch", () => {
    expect(snapshotCycles({ name: "cyclic", args: { min_lr: 0, max_lr: 1, period: 3 } }, 10, 2, 5)).toEqual({ first: 1, completed: 3 });
    expect(snapshotCycles({ name: "cosine_restarts", args: { period: 1, mult: 2 } }, 7, 3, 1)).toEqual({ first: 0, completed: 3 });
  });

  it("refuses schedules without cycles, too few cycles, and cycles shorter than a step", () => {
    expect(() => snapshotCycles({ name: "cosine", args: {} }, 10, 2, 5)).toThrow(/needs a schedule with cycles .* the schedule is cosine/);
    expect(() => snapshotCycles(undefined, 10, 2, 5)).toThrow(/the schedule is constant/);
    expect(() => snapshotCycles({ name: "cyclic", args: { min_lr: 0, max_lr: 1, period: 4 } }, 10, 3, 5)).toThrow(/needs 3 cycles of the schedule to end by epoch 10, and 2 do/);
    expect(() => snapshotCycles({ name: "cosine_restarts", args: { period: 0.1, mult: 1 } }, 1, 3, 5)).toThrow(/shorter than one step \(5 steps per epoch\)/);
  });
});
