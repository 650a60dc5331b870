/**
 * Loss curves as a small self-contained SVG (written next to the weights). Hand-written on purpose:
 * the plotting libraries that render SVG in Node need a DOM (d3 + jsdom) or a browser; a line
 * chart of two series is forty lines. The terminal chart uses asciichart.
 */
import asciichart from "asciichart";

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function lossCurvesSvg(title: string, series: readonly Series[], yLabel = "loss"): string {
  const W = 640, H = 360, L = 60, R = 20, T = 40, B = 45;
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!Number.isFinite(lo)) (lo = 0), (hi = 1);
  if (hi - lo < 1e-12) (hi += 0.5), (lo -= 0.5);
  const x = (i: number) => L + ((W - L - R) * (n === 1 ? 0.5 : i / (n - 1)));
  const y = (v: number) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<line x1="${L - 4}" y1="${y(v).toFixed(1)}" x2="${W - R}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toPrecision(3)}</text>`);
  }
  for (let k = 0; k < Math.min(n, 6); k++) {
    const i = n === 1 ? 0 : Math.round(((n - 1) * k) / Math.max(1, Math.min(n, 6) - 1));
    parts.push(`<text x="${x(i).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${i + 1}</text>`);
  }
  const legend = W - R - 24 - 7 * Math.max(...series.map((s) => s.name.length));
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null)).filter((p) => p !== null);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    parts.push(`<rect x="${legend}" y="${T + 4 + 18 * k}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${legend + 18}" y="${T + 9 + 18 * k}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
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
