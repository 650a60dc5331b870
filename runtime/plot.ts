/**
 * Loss plots as small self-contained SVG. Hand-written on purpose: the plotting libraries that
 * render SVG in Node need a DOM (d3 + jsdom) or a browser, and what is drawn here is a few lines,
 * points and rectangles. The terminal chart uses asciichart.
 *
 * What a practitioner reads (the notes' step 6, "look at loss curves"): the per-step mini-batch
 * losses as a light scatter with their moving average over it, the per-epoch train and validation
 * losses, axes with rounded tick values (linear, or logarithmic with --log-scale), and a vertical
 * marker at the epoch early stopping restored. Rules: docs/training.md, "Loss plots".
 */
import asciichart from "asciichart";

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const f1 = (v: number) => v.toFixed(1);

// ── tick values ────────────────────────────────────────────────────────────────────────────

/** The 1, 2 or 5 × 10^k nearest `raw` (> 0) (Heckbert's "nice numbers", Graphics Gems 1990). */
export function niceStep(raw: number): number {
  const e = Math.floor(Math.log10(raw));
  const f = raw / 10 ** e;
  const m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return clean(m * 10 ** e);
}

/** A multiple of a power of ten without the binary noise of its computation (0.30000000000000004 → 0.3). */
const clean = (v: number) => Number(v.toPrecision(12));

export interface Ticks {
  /** the axis' range: the ticks' first and last */
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
}

/**
 * About `count` rounded ticks covering [lo, hi]: multiples of a step of 1, 2 or 5 × 10^k, the
 * range widened to the ticks around it. `integer`: the step is at least 1 (epochs).
 */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) (lo = 0), (hi = 1);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {
    const pad = lo === 0 ? 0.5 : Math.abs(lo) * 0.1;
    (lo -= pad), (hi += pad);
  }
  let step = niceStep((hi - lo) / count);
  if (integer) step = Math.max(1, step);
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(clean(k * step));
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks };
}

/**
 * Ticks of a logarithmic axis over [lo, hi] (both > 0): the powers of ten around them; with fewer
 * than three decades, also 2 and 5 times them.
 */
export function logTicks(lo: number, hi: number): Ticks {
  if (!(lo > 0) || !(hi > 0)) (lo = 1), (hi = 10);
  const a = Math.floor(Math.log10(lo) + 1e-9);
  let b = Math.ceil(Math.log10(hi) - 1e-9);
  if (b <= a) b = a + 1;
  const ticks: number[] = [];
  const dense = b - a < 3;
  for (let e = a; e <= b; e++)
    for (const m of dense && e < b ? [1, 2, 5] : [1]) {
      const v = clean(m * 10 ** e);
      if (m === 1 || (v >= lo && v <= hi)) ticks.push(v);
    }
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks };
}

/** A tick's label: "0.05", "120", "1e-4", "2.5e+6". */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential().replace("e+", "e");
  return String(clean(v));
}

// ── moving average ─────────────────────────────────────────────────────────────────────────

/**
 * Centered moving average: each point is the mean of the finite values among the `window` points
 * around it (window odd; near the ends, over the points there are). Centered rather than trailing,
 * so that the trend line is not shifted to the right of the points it summarizes.
 */
export function movingAverage(values: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  // prefix sums of the finite values and of their count: O(n) for any window
  const n = values.length;
  const sum = new Float64Array(n + 1), cnt = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const ok = Number.isFinite(v);
    sum[i + 1] = sum[i]! + (ok ? v : 0);
    cnt[i + 1] = cnt[i]! + (ok ? 1 : 0);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half), b = Math.min(n, i + half + 1);
    const c = cnt[b]! - cnt[a]!;
    out.push(c > 0 ? (sum[b]! - sum[a]!) / c : NaN);
  }
  return out;
}

/** The window for n points: about n/50, odd, between 5 and 201 (at most n). */
export function movingAverageWindow(n: number): number {
  const w = Math.min(201, Math.max(5, Math.round(n / 50)));
  const odd = w % 2 === 1 ? w : w + 1;
  return Math.max(1, Math.min(odd, n % 2 === 1 ? n : n - 1));
}

// ── charts ─────────────────────────────────────────────────────────────────────────────────

export type Point = readonly [x: number, y: number];

export interface ChartSpec {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  readonly x: { readonly label: string; readonly log?: boolean; readonly integer?: boolean };
  readonly y: { readonly label: string; readonly log?: boolean };
  /** light points (per-step losses) */
  readonly scatter?: readonly { readonly name: string; readonly color: string; readonly points: readonly Point[] }[];
  readonly lines?: readonly { readonly name: string; readonly color: string; readonly points: readonly Point[]; readonly dash?: boolean; readonly dots?: boolean }[];
  /** vertical lines, e.g. the epoch early stopping restored */
  readonly markers?: readonly { readonly x: number; readonly label: string; readonly color: string; readonly kind: string }[];
}

/** At most this many scatter points are drawn (evenly chosen); the moving average uses them all. */
export const MAX_SCATTER = 4000;

function thin<T>(points: readonly T[], max: number): readonly T[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  return Array.from({ length: max }, (_, i) => points[Math.floor(i * step)]!);
}

/** One chart as an `<svg>` element of its own (nested in a report, or the whole file). */
export function chartSvg(spec: ChartSpec, at: { x: number; y: number } | null = null): string {
  const W = spec.width ?? 640, H = spec.height ?? 360, L = 64, R = 20, T = 40, B = 45;
  const usable = (p: Point) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!spec.x.log || p[0] > 0) && (!spec.y.log || p[1] > 0);
  const groups = [...(spec.scatter ?? []), ...(spec.lines ?? [])];
  const all = groups.flatMap((g) => g.points.filter(usable));
  const hidden = groups.reduce((s, g) => s + g.points.filter((p) => Number.isFinite(p[1]) && !usable(p)).length, 0);
  const xs = [...all.map((p) => p[0]), ...(spec.markers ?? []).map((m) => m.x)], ys = all.map((p) => p[1]);
  const range = (v: number[], fallback: [number, number]): [number, number] => (v.length === 0 ? fallback : [Math.min(...v), Math.max(...v)]);
  const [x0, x1] = range(xs, spec.x.log ? [1, 10] : [0, 1]);
  const [y0, y1] = range(ys, spec.y.log ? [1, 10] : [0, 1]);
  const xt = spec.x.log ? logTicks(x0, x1) : niceTicks(x0, x1, 6, spec.x.integer);
  const yt = spec.y.log ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  const scale = (lo: number, hi: number, log: boolean | undefined, a: number, b: number) => {
    const t = log ? (v: number) => Math.log10(v) : (v: number) => v;
    const tl = t(lo), th = t(hi);
    return (v: number) => a + ((b - a) * (t(v) - tl)) / (th - tl);
  };
  const x = scale(xt.lo, xt.hi, spec.x.log, L, W - R);
  const y = scale(yt.lo, yt.hi, spec.y.log, H - B, T);
  const note = hidden > 0 ? ` (${hidden} value${hidden > 1 ? "s" : ""} ≤ 0 not shown on the log scale)` : "";
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg"${at ? ` x="${at.x}" y="${at.y}"` : ""} width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title + note)}</text>`,
  ];
  for (const v of yt.ticks) {
    parts.push(`<line class="grid" x1="${L}" y1="${f1(y(v))}" x2="${W - R}" y2="${f1(y(v))}" stroke="#e4e4e4"/>`);
    parts.push(`<text class="ytick" x="${L - 6}" y="${f1(y(v) + 4)}" text-anchor="end">${esc(formatTick(v))}</text>`);
  }
  for (const v of xt.ticks) {
    parts.push(`<line x1="${f1(x(v))}" y1="${H - B}" x2="${f1(x(v))}" y2="${H - B + 4}" stroke="black"/>`);
    parts.push(`<text class="xtick" x="${f1(x(v))}" y="${H - B + 17}" text-anchor="middle">${esc(formatTick(v))}</text>`);
  }
  parts.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(spec.x.label)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(spec.y.label)}</text>`,
  );
  for (const s of spec.scatter ?? []) {
    const pts = thin(s.points.filter(usable), MAX_SCATTER);
    // one path of dots: far smaller than a <circle> per point
    const d = pts.map((p) => `M${f1(x(p[0]))} ${f1(y(p[1]))}h0`).join("");
    parts.push(`<path class="scatter" d="${d}" stroke="${s.color}" stroke-opacity="0.3" stroke-width="3" stroke-linecap="round" fill="none"/>`);
  }
  for (const s of spec.lines ?? []) {
    // a gap where a value is missing: the line is split rather than drawn across it
    const runs: string[][] = [[]];
    for (const p of s.points) {
      if (usable(p)) runs[runs.length - 1]!.push(`${f1(x(p[0]))},${f1(y(p[1]))}`);
      else if (runs[runs.length - 1]!.length > 0) runs.push([]);
    }
    for (const run of runs.filter((r) => r.length > 0))
      parts.push(`<polyline class="line" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="6 4"` : ""} points="${run.join(" ")}"/>`);
    if (s.dots) for (const p of s.points.filter(usable)) parts.push(`<circle cx="${f1(x(p[0]))}" cy="${f1(y(p[1]))}" r="2.5" fill="${s.color}"/>`);
  }
  for (const m of spec.markers ?? []) {
    const mx = f1(x(m.x));
    parts.push(`<g class="marker ${esc(m.kind)}"><line x1="${mx}" y1="${T}" x2="${mx}" y2="${H - B}" stroke="${m.color}" stroke-dasharray="4 3" stroke-width="1.5"/>`);
    parts.push(`<text x="${mx}" y="${T - 4}" text-anchor="middle" fill="${m.color}">${esc(m.label)}</text></g>`);
  }
  const legend = [...(spec.scatter ?? []).map((s) => ({ ...s, light: true })), ...(spec.lines ?? []).map((s) => ({ ...s, light: false }))];
  const lx = W - R - 24 - 7 * Math.max(0, ...legend.map((s) => s.name.length));
  if (legend.length > 0) parts.push(`<rect x="${lx - 6}" y="${T}" width="${W - R - lx + 6}" height="${18 * legend.length + 4}" fill="white" fill-opacity="0.8"/>`);
  legend.forEach((s, k) => {
    parts.push(`<rect x="${lx}" y="${T + 4 + 18 * k}" width="12" height="${s.light ? 6 : 3}" fill="${s.color}"${s.light ? ` fill-opacity="0.3"` : ""}/>`);
    parts.push(`<text x="${lx + 18}" y="${T + 10 + 18 * k}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** A whole file: the charts (each an `<svg>` with its own size) stacked one under the other. */
export function svgDocument(parts: readonly { svg: (at: { x: number; y: number }) => string; height: number; width: number }[]): string {
  const W = Math.max(...parts.map((p) => p.width)), H = parts.reduce((s, p) => s + p.height, 0);
  const body: string[] = [];
  let top = 0;
  for (const p of parts) {
    body.push(p.svg({ x: 0, y: top }));
    top += p.height;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n<rect width="${W}" height="${H}" fill="white"/>\n${body.join("\n")}\n</svg>\n`;
}

/** Per-epoch curves (the second-order and optimizer comparisons, scripts/). */
export function lossCurvesSvg(title: string, series: readonly Series[], yLabel = "loss", xLabel = "epoch"): string {
  return (
    chartSvg({
      title,
      x: { label: xLabel, integer: true },
      y: { label: yLabel },
      lines: series.map((s) => ({ name: s.name, color: s.color, points: s.values.map((v, i) => [i + 1, v] as const) })),
    }) + "\n"
  );
}

export interface TrainingPlot {
  readonly title: string;
  /** per epoch (1-based), in order */
  readonly epochs: readonly { readonly epoch: number; readonly train: number; readonly validation: number | null }[];
  /** per step, in the order they ran (StepReport of train.ts) */
  readonly steps: readonly { readonly epoch: number; readonly step: number; readonly loss: number }[];
  /** the epoch whose weights early stopping restored, or null */
  readonly restoredEpoch: number | null;
  readonly logScale?: boolean;
}

/**
 * The k-th of the S steps reported for epoch e is drawn at e − 1 + k/S, so that an epoch's steps
 * end where its own point is, at x = e (counted from the reports, whatever `step` numbers them by).
 */
export function stepPoints(steps: TrainingPlot["steps"]): Point[] {
  const per = new Map<number, number>();
  for (const s of steps) per.set(s.epoch, (per.get(s.epoch) ?? 0) + 1);
  const seen = new Map<number, number>();
  return steps.map((s) => {
    const k = (seen.get(s.epoch) ?? 0) + 1;
    seen.set(s.epoch, k);
    return [s.epoch - 1 + k / per.get(s.epoch)!, s.loss] as const;
  });
}

/** The chart `nnc train` writes beside the weights (`<stem>.loss.svg`). */
export function trainingPlotSpec(p: TrainingPlot, size: { width?: number; height?: number } = {}): ChartSpec {
  const points = stepPoints(p.steps);
  const avg = movingAverage(points.map((q) => q[1]), movingAverageWindow(points.length));
  const hasValid = p.epochs.some((e) => e.validation !== null);
  return {
    title: p.title,
    ...size,
    x: { label: "epoch", integer: true },
    y: { label: p.logScale ? "loss (log scale)" : "loss", log: p.logScale },
    scatter: points.length > 0 ? [{ name: "loss per step", color: "#7f7f7f", points }] : [],
    lines: [
      ...(points.length > 0 ? [{ name: `moving average (${movingAverageWindow(points.length)} steps)`, color: "#444444", points: points.map((q, i) => [q[0], avg[i]!] as const) }] : []),
      { name: "train (epoch end)", color: "#1f77b4", points: p.epochs.map((e) => [e.epoch, e.train] as const), dots: p.epochs.length <= 60 },
      ...(hasValid ? [{ name: "validation", color: "#d62728", points: p.epochs.map((e) => [e.epoch, e.validation ?? NaN] as const), dots: p.epochs.length <= 60 }] : []),
    ],
    markers: p.restoredEpoch !== null ? [{ x: p.restoredEpoch, label: `restored epoch ${p.restoredEpoch}`, color: "#2ca02c", kind: "early-stopping" }] : [],
  };
}

export function trainingPlotSvg(p: TrainingPlot): string {
  return chartSvg(trainingPlotSpec(p)) + "\n";
}

// ── heat map ───────────────────────────────────────────────────────────────────────────────

export interface HeatmapSpec {
  readonly title: string;
  readonly rowLabel: string;
  readonly colLabel: string;
  readonly rows: readonly string[];
  readonly cols: readonly string[];
  /** cells[row][col]; null: not run */
  readonly cells: readonly (readonly (number | null)[])[];
  readonly format: (v: number) => string;
  /** which end of the values is good (drawn dark green) */
  readonly better: "high" | "low";
}

/** A table of colored cells with their values written in them. */
export function heatmapSvg(spec: HeatmapSpec, at: { x: number; y: number } | null = null): { svg: string; width: number; height: number } {
  const cw = 90, ch = 28, L = 110, T = 60;
  const W = Math.max(640, L + cw * spec.cols.length + 20), H = T + ch * spec.rows.length + 40;
  const vals = spec.cells.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const shade = (v: number) => {
    let t = hi > lo ? (v - lo) / (hi - lo) : 1;
    if (spec.better === "low") t = 1 - t;
    // white (worst) to green (best)
    const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
    return `rgb(${mix(247, 49)},${mix(252, 163)},${mix(245, 84)})`;
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg"${at ? ` x="${at.x}" y="${at.y}"` : ""} width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title)}</text>`,
    `<text x="${L + (cw * spec.cols.length) / 2}" y="${T - 24}" text-anchor="middle">${esc(spec.colLabel)}</text>`,
    `<text x="${L - 8}" y="${T - 6}" text-anchor="end">${esc(spec.rowLabel)}</text>`,
  ];
  spec.cols.forEach((c, j) => parts.push(`<text x="${L + cw * j + cw / 2}" y="${T - 6}" text-anchor="middle">${esc(c)}</text>`));
  spec.rows.forEach((r, i) => {
    parts.push(`<text x="${L - 8}" y="${T + ch * i + ch / 2 + 4}" text-anchor="end">${esc(r)}</text>`);
    spec.cols.forEach((_, j) => {
      const v = spec.cells[i]?.[j] ?? null;
      const ok = v !== null && Number.isFinite(v);
      parts.push(`<rect class="cell" x="${L + cw * j}" y="${T + ch * i}" width="${cw}" height="${ch}" fill="${ok ? shade(v) : "#eeeeee"}" stroke="white"/>`);
      parts.push(`<text x="${L + cw * j + cw / 2}" y="${T + ch * i + ch / 2 + 4}" text-anchor="middle">${esc(v === null ? "—" : ok ? spec.format(v) : String(v))}</text>`);
    });
  });
  parts.push("</svg>");
  return { svg: parts.join("\n"), width: W, height: H };
}

/** A small chart for the terminal (plain characters, no control codes). */
export function terminalChart(series: readonly Series[], height = 10, width = 60): string {
  // at most `width` columns: long runs are resampled (every k-th epoch, and the last)
  const resample = (v: number[]) => {
    if (v.length <= width) return v;
    const step = (v.length - 1) / (width - 1);
    return Array.from({ length: width }, (_, i) => v[Math.round(i * step)]!);
  };
  // asciichart needs a finite, not astronomically wide range
  const data = series.map((s) => resample(s.values.filter((v) => Number.isFinite(v) && Math.abs(v) < 1e12) as number[])).filter((v) => v.length > 0);
  if (data.length === 0) return "";
  const names = series.map((s) => s.name).join(" / ");
  return `${asciichart.plot(data, { height })}\n  ${names} by epoch\n`;
}
