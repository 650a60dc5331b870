/**
 * Targets are checked against the domain of the loss they are given to (Model.targetDomains,
 * declared per loss in compiler/semantics/builtins.ts; runtime/data/domains.ts), as the data is
 * loaded: an error names the file, the line and the target's column.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { check } from "../../compiler/pipeline.js";
import type { TargetDomain } from "../../compiler/semantics/model.js";
import { targetViolation } from "../../runtime/data/domains.js";
import { loadIdxPair, parseCsv } from "../../runtime/data/index.js";
import type { DataShape } from "../../runtime/types.js";
import { dataError } from "../helpers/data-error.js";

const tmp = mkdtempSync(join(tmpdir(), "nnc-data-domains-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


const domainsOf = (source: string) => {
  const { model, diagnostics } = check(source, { file: "m.nn" });
  expect(model, diagnostics.list.map((d) => d.message ?? d.code).join("; ")).not.toBeNull();
  return model!.targetDomains;
};

describe("the loss a target is given to sets its domain", () => {
  const head = "input x[2]\nparam w[2]\n";
  it("records the domain of each loss that takes a target as is", () => {
    expect(domainsOf(`${head}target t\ny = sigmoid(dot(w, x))\nloss binary_cross_entropy(y, t)\n`)).toEqual({ t: ["probability"] });
    expect(domainsOf(`${head}target t[2]\ny = softmax(w * x)\nloss cross_entropy(y, t)\n`)).toEqual({ t: ["distribution"] });
    expect(domainsOf(`${head}target t\ntarget u\ny = dot(w, x)\nloss hinge(y, t) + mse(y, u) + hinge(y, t)\n`)).toEqual({ t: ["sign"] });
    expect(domainsOf(`${head}target t\ny = dot(w, x)\nloss mse(y, t) + gaussian_nll(y, t, 1)\n`)).toEqual({});
  });

  it("leaves a target that the model transforms first (label smoothing) unchecked", () => {
    expect(domainsOf(`${head}target t\ny = sigmoid(dot(w, x))\nloss binary_cross_entropy(y, 0.9 * t + 0.05)\n`)).toEqual({});
  });
});

describe("targetViolation", () => {
  const cases: [TargetDomain, number[], number | null][] = [
    ["probability", [0, 1, 0.25], null],
    ["probability", [0.5, 7], 1],
    ["probability", [-3], 0],
    ["probability", [NaN], 0],
    ["sign", [1, -1], null],
    ["sign", [1, 0], 1],
    ["distribution", [0, 1, 0], null],
    ["distribution", [0.2, 0.3, 0.5], null],
    ["distribution", [1 / 3, 1 / 3, 1 / 3], null],
    ["distribution", [0.333333, 0.333333, 0.333334], null],
    ["distribution", [0, 5, 0], 0], // sums to 5
    ["distribution", [0.5, -3, 3.5], 1],
    ["distribution", [0.5, 0, 0], 0], // sums to 0.5
    ["distribution", [2], null], // a scalar: only ≥ 0
    ["distribution", [-1], 0],
  ];
  it.each(cases)("%s %j → element %s", (domain, values, element) => {
    const bad = targetViolation(domain, "t", [9, ...values], 1, values.length);
    expect(bad?.element ?? null).toBe(element);
  });
});

describe("loading checks targets against the domains", () => {
  const bce: DataShape = { inputs: { x: [2] }, targets: { t: [] }, targetDomains: { t: ["probability"] } };
  const ce: DataShape = { inputs: { x: [2] }, targets: { t: [3] }, targetDomains: { t: ["distribution"] } };
  const hinge: DataShape = { inputs: { x: [2] }, targets: { t: [] }, targetDomains: { t: ["sign"] } };

  it("BCE: 7 and −3 are refused at their row and column", () => {
    let e = dataError(() => parseCsv("x1,x2,t\n0,0,7\n0,1,1\n", "xor.csv", bce));
    expect(e.message).toBe("xor.csv:2:3: the target t is 7, outside [0, 1]: binary_cross_entropy takes targets in [0, 1]");
    e = dataError(() => parseCsv("t,x_0,x_1\n1,0,0\n\n-3,0,1\n", "xor.csv", bce));
    expect([e.row, e.column]).toEqual([4, 1]);
    expect(parseCsv("x1,x2,t\n0,0,0\n0,1,0.75\n", "xor.csv", bce).count).toBe(2);
  });

  it("CE: one-hot columns holding 5, −3 or 0.5 are refused; a distribution and a class column are not", () => {
    let e = dataError(() => parseCsv("a,b,c0,c1,c2\n1,2,0,5,0\n", "ce.csv", ce));
    expect(e.message).toBe("ce.csv:2:3: the target t sums to 5 in this sample, not 1: cross_entropy takes targets ≥ 0 that sum to 1 in each sample (one-hot, a distribution, or a class column)");
    e = dataError(() => parseCsv("a,b,c0,c1,c2\n1,2,1,0,0\n1,2,0,-3,4\n", "ce.csv", ce));
    expect([e.row, e.column, e.detail]).toEqual([3, 4, "the target t[1] is -3, negative: cross_entropy takes targets ≥ 0 that sum to 1 in each sample (one-hot, a distribution, or a class column)"]);
    // by name, the columns in another order: the error points at t_2's column
    e = dataError(() => parseCsv("t_2,x_0,t_0,x_1,t_1\n-1,0,1,0,1\n", "ce.csv", ce));
    expect([e.row, e.column]).toEqual([2, 1]);
    e = dataError(() => parseCsv("a,b,c0,c1,c2\n1,2,0.5,0,0\n", "ce.csv", ce));
    expect(e.detail).toMatch(/^the target t sums to 0.5 in this sample, not 1/);
    expect(parseCsv("a,b,c0,c1,c2\n1,2,0.2,0.3,0.5\n", "ce.csv", ce).count).toBe(1);
    expect(parseCsv("a,b,label\n1,2,2\n", "ce.csv", ce).count).toBe(1);
  });

  it("hinge: ±1 only", () => {
    expect(parseCsv("a,b,t\n1,2,1\n1,2,-1\n", "h.csv", hinge).count).toBe(2);
    const e = dataError(() => parseCsv("a,b,t\n1,2,1\n1,2,0\n", "h.csv", hinge));
    expect(e.message).toBe("h.csv:3:3: the target t is 0, not −1 or +1: hinge takes targets −1 or +1");
  });

  it("IDX labels into a scalar BCE target: the label and sample are named", () => {
    const idx = (magic: number, dims: number[], data: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length + data.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      Buffer.from(data).copy(b, 4 + 4 * dims.length);
      return b;
    };
    const img = join(tmp, "d-images-idx3-ubyte");
    const lab = join(tmp, "d-labels-idx1-ubyte");
    writeFileSync(img, idx(0x803, [3, 1, 2], [0, 1, 2, 3, 4, 5]));
    writeFileSync(lab, idx(0x801, [3], [1, 0, 7]));
    const e = dataError(() => loadIdxPair(img, lab, bce));
    expect(e.message).toBe(`${lab}: label 7 of sample 3: the target t is 7, outside [0, 1]: binary_cross_entropy takes targets in [0, 1]`);
    expect(loadIdxPair(img, lab, { inputs: { x: [2] }, targets: { t: [8] }, targetDomains: { t: ["distribution"] } }).count).toBe(3);
  });
});
