/**
 * The loss plot `nnc train` writes beside the weights: well-formed SVG with the per-step scatter,
 * its moving average and the per-epoch curves, the early-stopping marker at the epoch the weights
 * file says was restored, rounded ticks, and --log-scale.
 */
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";
import { requireBuiltCli, runCli, scratchWithExamples } from "../helpers/cli.js";
import { checkXml } from "../helpers/xml.js";

let dir = "";
beforeAll(() => {
  requireBuiltCli();
  dir = scratchWithExamples("nnc-plot-");
  cpSync(join(ROOT, "examples", "data", "iris.csv"), join(dir, "data", "iris.csv"));
});

const yTicks = (svg: string) => [...svg.matchAll(/class="ytick"[^>]*>([^<]+)</g)].map((m) => Number(m[1]));

describe("nnc train's loss plot", () => {
  it("marks the epoch early stopping restored, over the per-step losses and their moving average", () => {
    // a high rate and little patience: the validation loss turns up and early stopping restores an earlier epoch
    const r = runCli(["train", "iris.nn", "--lr", "0.1", "--epochs", "80", "--patience", "3", "-o", "es.weights.json"], dir);
    expect(r.status).toBe(0);
    const w = JSON.parse(readFileSync(join(dir, "es.weights.json"), "utf8"));
    expect(w.metrics.stopped).toBe("early-stopping");
    const svg = readFileSync(join(dir, "es.loss.svg"), "utf8");
    expect(checkXml(svg).root).toBe("svg");
    expect(svg).toContain(`restored epoch ${w.metrics.bestEpoch}<`);
    expect(svg).toMatch(/<g class="marker early-stopping">/);
    // 120 training samples (150, split 0.2) in batches of 16: 8 steps an epoch
    const dots = (svg.match(/<path class="scatter" d="([^"]*)"/)![1]!.match(/M/g) ?? []).length;
    expect(dots).toBe(8 * w.metrics.epochs);
    expect(svg).toContain("moving average");
    expect(svg).toContain(">validation<");
    const ticks = yTicks(svg);
    const step = ticks[1]! - ticks[0]!;
    const mantissa = Number((step / 10 ** Math.floor(Math.log10(step) + 1e-9)).toPrecision(6));
    expect([1, 2, 5]).toContain(mantissa);
  });

  it("without early stopping has no marker; --log-scale ticks decades", () => {
    const r = runCli(["train", "iris.nn", "--epochs", "5", "--log-scale", "-o", "log.weights.json"], dir);
    expect(r.status).toBe(0);
    const svg = readFileSync(join(dir, "log.loss.svg"), "utf8");
    checkXml(svg);
    expect(svg).not.toContain("marker");
    expect(svg).toContain("loss (log scale)");
    for (const t of yTicks(svg)) expect([1, 2, 5]).toContain(Number((t / 10 ** Math.floor(Math.log10(t) + 1e-9)).toPrecision(6)));
  });
});
