/** The learning-rate schedules at a few epochs (0-based) against the notes' formulas. */
import { describe, expect, it } from "vitest";
import { createSchedule } from "../../runtime/schedules.js";

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
