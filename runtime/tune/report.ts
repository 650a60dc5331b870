/**
 * What `nnc tune` leaves behind (the notes' step 6, "look at the loss curves"): the final table,
 * `<model>.tune.json`, the SVG report (the range test's curve, per-step losses with their moving
 * average for the best trials, the validation curves of the refined trials, the grid as a heat
 * map), and the `nnc train` command that reproduces the best trial.
 */
import { chartSvg, heatmapSvg, movingAverage, movingAverageWindow, svgDocument, type ChartSpec, type Point } from "../plot.js";
import { compareTrials, showRate } from "./grid.js";
import type { Trial, TuneResult } from "./recipe.js";

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));
const pct = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)}%`);
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/** A word for a POSIX shell: quoted when it holds anything but safe characters. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CommandContext {
  readonly modelFile: string;
  readonly optimizer: string;
  /** flags of the tune run that the train run needs as they were: --data, --split, --seed, --target … */
  readonly passOn: readonly string[];
  /** consts set on the tune command line besides the regularization weights */
  readonly fixed: Readonly<Record<string, number>>;
  /** the model's train block has another schedule than constant */
  readonly scheduleDiffers: boolean;
}

/** The `nnc train` command line of a trial: it trains exactly that trial's weights. */
export function trainCommand(t: Trial, c: CommandContext): string {
  const words = ["nnc", "train", c.modelFile, ...c.passOn];
  if (t.lr !== null) words.push("--optimizer", c.optimizer, "--lr", showRate(t.lr));
  for (const [k, v] of Object.entries({ ...c.fixed, ...t.set })) words.push("--set", `${k}=${v}`);
  words.push("--epochs", String(t.epochs), "--patience", String(t.patience));
  if (c.scheduleDiffers) words.push("--schedule", "constant");
  return words.map(shellWord).join(" ");
}

export function finalTable(r: TuneResult, regNames: readonly string[]): string[] {
  const ranked = [...r.trials].sort(compareTrials);
  const head = ["rank", "trial", "phase", "lr", ...regNames, "epochs", "valid loss", "data loss", ...(r.classification ? ["valid acc"] : []), "train loss", "seconds"];
  const rows = ranked.map((t, i) => [
    String(i + 1),
    String(t.id),
    t.phase,
    showRate(t.lr),
    ...regNames.map((k) => String(t.set[k])),
    `${t.epochs}${t.bestEpoch !== null && t.bestEpoch !== t.epochs ? ` (${t.bestEpoch})` : ""}`,
    fmt(t.validation.loss),
    fmt(t.validation.dataLoss),
    ...(r.classification ? [pct(t.validation.accuracy)] : []),
    fmt(t.train.loss),
    t.seconds.toFixed(1),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j >= 3 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join("  ");
  return [line(head), ...rows.map(line)];
}

export function tuneJson(r: TuneResult, c: CommandContext, extra: Record<string, unknown>): unknown {
  const trialJson = (t: Trial) => ({
    id: t.id,
    phase: t.phase,
    lr: t.lr,
    set: t.set,
    epochs: t.epochs,
    patience: t.patience,
    stopped: t.stopped,
    bestEpoch: t.bestEpoch,
    train: t.train,
    validation: t.validation,
    seconds: Number(t.seconds.toFixed(3)),
    command: trainCommand(t, c),
  });
  return {
    ...extra,
    seconds: Number(r.seconds.toFixed(3)),
    best: { ...trialJson(r.best), trial: r.best.id },
    initialLoss: r.initial,
    overfit: r.overfit,
    lrRangeTest: r.range && { suggested: r.range.suggested, minimum: r.range.minimum, stoppedEarly: r.range.stoppedEarly, points: r.range.points.map((p) => [p.lr, p.loss]) },
    grid: { lr: r.lrs, set: r.regValues, epochs: r.gridEpochs },
    trials: r.trials.map(trialJson),
  };
}

export function reportSvg(r: TuneResult, regNames: readonly string[], title: string, logScale: boolean): string {
  const ranked = [...r.trials].sort(compareTrials);
  const panels: { svg: (at: { x: number; y: number }) => string; width: number; height: number }[] = [];
  const chart = (spec: ChartSpec) => panels.push({ svg: (at) => chartSvg({ width: 760, height: 380, ...spec }, at), width: 760, height: 380 });
  if (r.range !== null && r.range.points.length > 0) {
    const pts = r.range.points.map((p) => [p.lr, p.loss] as Point);
    const finite = r.range.points.filter((p) => Number.isFinite(p.loss));
    chart({
      title: `${title}: learning-rate range test`,
      x: { label: "learning rate (log scale)", log: true },
      y: { label: logScale ? "mini-batch loss (log scale)" : "mini-batch loss", log: logScale },
      scatter: [{ name: "loss per step", color: "#7f7f7f", points: pts }],
      lines: [{ name: `moving average (${r.range.window} steps)`, color: "#444444", points: finite.map((p, i) => [p.lr, r.range!.smoothed[i]!] as Point) }],
      markers: r.range.suggested !== null ? [{ x: r.range.suggested, label: `falls fastest: lr ${Number(r.range.suggested.toPrecision(2))}`, color: "#2ca02c", kind: "suggested-lr" }] : [],
    });
  }
  const best = ranked.filter((t) => t.steps.length > 0).slice(0, 3);
  if (best.length > 0)
    chart({
      title: `${title}: loss per step, the ${best.length} best trials`,
      x: { label: "epoch", integer: true },
      y: { label: logScale ? "mini-batch loss (log scale)" : "mini-batch loss", log: logScale },
      scatter: best.map((t, i) => ({ name: `trial ${t.id}`, color: COLORS[i]!, points: t.steps.map((l, k) => [(k + 1) / t.stepsPerEpoch, l] as Point) })),
      lines: best.map((t, i) => {
        const avg = movingAverage(t.steps, movingAverageWindow(t.steps.length));
        return { name: `trial ${t.id}, moving average`, color: COLORS[i]!, points: avg.map((v, k) => [(k + 1) / t.stepsPerEpoch, v] as Point) };
      }),
      markers: best[0]!.bestEpoch !== null ? [{ x: best[0]!.bestEpoch, label: `trial ${best[0]!.id}: restored epoch ${best[0]!.bestEpoch}`, color: "#2ca02c", kind: "early-stopping" }] : [],
    });
  const refined = ranked.filter((t) => t.phase === "refine").slice(0, 6);
  if (refined.length > 0)
    chart({
      title: `${title}: validation loss by epoch, refined trials`,
      x: { label: "epoch", integer: true },
      y: { label: logScale ? "validation loss (log scale)" : "validation loss", log: logScale },
      lines: refined.map((t, i) => ({ name: `trial ${t.id}: lr ${showRate(t.lr)}${regNames.map((k) => ` ${k} ${t.set[k]}`).join("")}`, color: COLORS[i]!, points: t.history.map((h) => [h.epoch, h.validation ?? NaN] as Point) })),
    });
  const grid = r.trials.filter((t) => t.phase === "grid");
  if (grid.length > 0) {
    const setName = (set: Readonly<Record<string, number>>) => (regNames.length === 0 ? "—" : regNames.map((k) => (regNames.length === 1 ? String(set[k]) : `${k}=${set[k]}`)).join(" "));
    // columns in increasing order of the weights (the first weight first)
    const sets = [...new Map(grid.map((t) => [setName(t.set), t.set])).entries()].sort(([, a], [, b]) => {
      for (const k of regNames) if (a[k] !== b[k]) return a[k]! - b[k]!;
      return 0;
    });
    const cols = sets.map(([name]) => name);
    const rows = [...new Set(grid.map((t) => t.lr))].sort((a, b) => (a ?? 0) - (b ?? 0));
    const cell = (lr: number | null, col: string) => grid.find((t) => t.lr === lr && setName(t.set) === col) ?? null;
    const value = (t: Trial | null) => (t === null ? null : r.classification ? t.validation.accuracy : t.validation.dataLoss);
    const spec = {
      title: `${title}: coarse grid, ${r.gridEpochs} epochs — validation ${r.classification ? "accuracy" : "data loss"}`,
      rowLabel: "lr",
      colLabel: regNames.length === 1 ? regNames[0]! : regNames.length === 0 ? "" : "regularization",
      rows: rows.map(showRate),
      cols,
      cells: rows.map((lr) => cols.map((c) => value(cell(lr, c)))),
      format: r.classification ? (v: number) => `${(100 * v).toFixed(1)}%` : fmt,
      better: r.classification ? ("high" as const) : ("low" as const),
    };
    const { width, height } = heatmapSvg(spec);
    panels.push({ svg: (at) => heatmapSvg(spec, at).svg, width, height });
  }
  return svgDocument(panels);
}
