/**
 * The loss plots (runtime/plot.ts): well-formed SVG, rounded tick values, the moving average on a
 * known series, the early-stopping marker, the log scale.
 */
import { describe, expect, it } from "vitest";
import { checkXml } from "../helpers/xml.js";
import { formatTick, heatmapSvg, logTicks, movingAverage, movingAverageWindow, niceTicks, stepPoints, svgDocument, chartSvg, trainingPlotSvg } from "../../runtime/plot.js";

/** A tick set is nice when every tick is a whole multiple of one step of 1, 2 or 5 × 10^k. */
function expectNice(ticks: readonly number[]): void {
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const step = ticks[1]! - ticks[0]!;
  const e = Math.floor(Math.log10(step) + 1e-9);
  const mant = Number((step / 10 ** e).toPrecision(6));
  expect([1, 2, 5, 10]).toContain(mant);
  for (const t of ticks) {
    const k = t / step;
    expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
    // and written without binary noise: at most 6 significant digits
    expect(formatTick(t).replace(/^-/, "").replace(/e.*/, "").replace(".", "").replace(/^0+/, "").length).toBeLessThanOrEqual(6);
  }
}

describe("the XML check the SVG tests rely on", () => {
  it("refuses what is not well-formed", () => {
    expect(checkXml('<svg a="1"><g/><text>x &amp; y</text></svg>').elements).toBe(3);
    for (const bad of ["<svg><g></svg>", '<svg a="1" a="2"/>', "<svg>&x</svg>", "<svg>a < b</svg>", "<svg/><svg/>", "<svg>", 'text<svg/>', '<svg a=1/>'])
      expect(() => checkXml(bad), bad).toThrow(/not well-formed/);
  });
});

describe("tick values", () => {
  it("are rounded multiples of 1, 2 or 5 × 10^k that cover the data", () => {
    for (const [lo, hi] of [[0.0523, 2.7997], [0.1, 0.3], [-3.7, 12.2], [1234, 98765], [1e-6, 3e-6], [0.42, 0.42], [0, 1]] as const) {
      const t = niceTicks(lo, hi);
      expectNice(t.ticks);
      expect(t.lo).toBeLessThanOrEqual(lo);
      expect(t.hi).toBeGreaterThanOrEqual(hi);
      expect(t.ticks.length).toBeLessThanOrEqual(12);
    }
    expect(niceTicks(0.0523, 2.7997).ticks).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(niceTicks(0.1, 0.3).ticks.map(formatTick)).toEqual(["0.1", "0.15", "0.2", "0.25", "0.3"]);
    // epochs: whole numbers
    expect(niceTicks(1, 3, 6, true).ticks).toEqual([1, 2, 3]);
  });
  it("on a log scale are powers of ten (and 2, 5 times them over a short range)", () => {
    expect(logTicks(0.0523, 2.7997).ticks).toEqual([0.01, 0.1, 1, 10]);
    expect(logTicks(0.3, 4).ticks).toEqual([0.1, 0.5, 1, 2, 10]);
    expect(logTicks(1e-6, 10).ticks).toEqual([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10]);
    expect(logTicks(1e-6, 10).ticks.map(formatTick)).toEqual(["1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "1", "10"]);
  });
});

describe("moving average", () => {
  it("is the centered mean over the window, shorter at the ends", () => {
    expect(movingAverage([1, 2, 3, 4, 5, 6], 3)).toEqual([1.5, 2, 3, 4, 5, 5.5]);
    expect(movingAverage([4, 0, 8, 0, 4], 5)).toEqual([4, 3, 3.2, 3, 4]);
    // window 1: the series itself
    expect(movingAverage([3, 1, 2], 1)).toEqual([3, 1, 2]);
  });
  it("skips values that are not finite", () => {
    expect(movingAverage([1, NaN, 3], 3)).toEqual([1, 2, 3]);
  });
  it("of a noisy line recovers the line away from the ends", () => {
    const n = 1001, line = (i: number) => 2 - 0.001 * i;
    const noisy = Array.from({ length: n }, (_, i) => line(i) + (i % 2 === 0 ? 0.5 : -0.5));
    const w = movingAverageWindow(n);
    expect(w % 2).toBe(1);
    const avg = movingAverage(noisy, w);
    // an odd window over alternating ±0.5 leaves ±0.5/w; the line itself is averaged exactly
    for (let i = w; i < n - w; i++) expect(Math.abs(avg[i]! - line(i))).toBeLessThanOrEqual(0.5 / w + 1e-12);
  });
});

describe("the training plot", () => {
  const epochs = [1, 2, 3, 4, 5, 6].map((e) => ({ epoch: e, train: 1 / e, validation: 1 / e + 0.01 * (e - 3) ** 2 }));
  const steps = epochs.flatMap((e) => [1, 2, 3, 4].map((s) => ({ epoch: e.epoch, step: s, loss: 1.2 / (e.epoch - 1 + s / 4) })));
  it("is well-formed SVG with the per-step scatter, its moving average, both curves and the restored epoch", () => {
    const svg = trainingPlotSvg({ title: "digits & <friends>", epochs, steps, restoredEpoch: 3 });
    expect(checkXml(svg).root).toBe("svg");
    expect(svg).toContain("digits &amp; &lt;friends&gt;");
    expect(svg).toMatch(/<path class="scatter" d="(M[\d.]+ [\d.]+h0){24}"/);
    expect(svg.match(/<polyline class="line"/g)).toHaveLength(3);
    expect(svg).toMatch(/<g class="marker early-stopping">[^]*restored epoch 3/);
    const ticks = [...svg.matchAll(/class="ytick"[^>]*>([^<]+)</g)].map((m) => Number(m[1]));
    expectNice(ticks);
  });
  it("has no marker when early stopping restored nothing", () => {
    const svg = trainingPlotSvg({ title: "t", epochs, steps, restoredEpoch: null });
    checkXml(svg);
    expect(svg).not.toContain("marker");
  });
  it("on a log scale: decade ticks, and says how many values ≤ 0 it left out", () => {
    const svg = trainingPlotSvg({ title: "t", epochs: [...epochs, { epoch: 7, train: -1, validation: 0.5 }], steps, restoredEpoch: null, logScale: true });
    checkXml(svg);
    expect(svg).toContain("(1 value ≤ 0 not shown on the log scale)");
    const ticks = [...svg.matchAll(/class="ytick"[^>]*>([^<]+)</g)].map((m) => Number(m[1]));
    for (const t of ticks) expect([1, 2, 5]).toContain(Number((t / 10 ** Math.floor(Math.log10(t) + 1e-9)).toPrecision(6)));
  });
  it("puts the k-th of an epoch's S steps at e − 1 + k/S", () => {
    expect(stepPoints([{ epoch: 1, step: 1, loss: 3 }, { epoch: 1, step: 2, loss: 2 }, { epoch: 2, step: 3, loss: 1 }])).toEqual([[0.5, 3], [1, 2], [2, 1]]);
  });
  it("a report of several charts and a heat map is one well-formed SVG", () => {
    const heat = heatmapSvg({ title: "grid", rowLabel: "lr", colLabel: "lambda", rows: ["0.001", "0.01"], cols: ["0", "1e-4"], cells: [[0.9, 0.95], [null, NaN]], format: (v) => v.toFixed(2), better: "high" });
    const doc = svgDocument([
      { svg: (at) => chartSvg({ title: "a", x: { label: "lr", log: true }, y: { label: "loss" }, lines: [{ name: "l", color: "#000", points: [[1e-5, 2], [1e-2, 1]] }] }, at), width: 640, height: 360 },
      { svg: (at) => heatmapSvg({ title: "grid", rowLabel: "lr", colLabel: "lambda", rows: ["0.001", "0.01"], cols: ["0", "1e-4"], cells: [[0.9, 0.95], [null, NaN]], format: (v) => v.toFixed(2), better: "high" }, at).svg, width: heat.width, height: heat.height },
    ]);
    const { root } = checkXml(doc);
    expect(root).toBe("svg");
    expect(doc.match(/<rect class="cell"/g)).toHaveLength(4);
    expect(doc).toContain(">0.95<");
    expect(doc).toContain(">—<");
  });
});
