/**
 * The live loss chart: every step's loss (light) and its moving average over the last WINDOW steps
 * (dark) on a canvas, with the epoch losses of the validation set as dots when there is one.
 * Redrawn at most once per frame; a long run is drawn by the column (each pixel column shows the
 * range of the steps it covers), so 10⁵ steps draw as fast as 10².
 */
const WINDOW = 50;

export class LossChart {
  private readonly steps: number[] = [];
  private readonly averages: number[] = [];
  private readonly validation: { step: number; loss: number }[] = [];
  private windowSum = 0;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  reset(): void {
    this.steps.length = 0;
    this.averages.length = 0;
    this.validation.length = 0;
    this.windowSum = 0;
    this.request();
  }

  addSteps(losses: readonly number[]): void {
    for (const loss of losses) {
      this.steps.push(loss);
      this.windowSum += loss;
      if (this.steps.length > WINDOW) this.windowSum -= this.steps[this.steps.length - 1 - WINDOW]!;
      this.averages.push(this.windowSum / Math.min(WINDOW, this.steps.length));
    }
    this.request();
  }

  addValidation(loss: number): void {
    this.validation.push({ step: this.steps.length, loss });
    this.request();
  }

  get count(): number {
    return this.steps.length;
  }

  /** the moving average at the last step, or null before the first */
  get average(): number | null {
    return this.averages.length > 0 ? this.averages[this.averages.length - 1]! : null;
  }

  private request(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private legend(g: CanvasRenderingContext2D, x: number, y: number): void {
    const items: [string, (x: number, y: number) => void][] = [
      ["loss of each step", (x, y) => ((g.strokeStyle = "rgba(31, 119, 180, 0.35)"), g.beginPath(), g.moveTo(x, y), g.lineTo(x + 18, y), g.stroke())],
      [`moving average (${WINDOW} steps)`, (x, y) => ((g.strokeStyle = "#1f4e79"), (g.lineWidth = 1.6), g.beginPath(), g.moveTo(x, y), g.lineTo(x + 18, y), g.stroke(), (g.lineWidth = 1))],
    ];
    if (this.validation.length > 0) items.push(["validation, per epoch", (x, y) => ((g.fillStyle = "#d62728"), g.beginPath(), g.arc(x + 9, y, 2.2, 0, 2 * Math.PI), g.fill())]);
    items.forEach(([text, mark], i) => {
      mark(x, y + 14 * i);
      g.fillStyle = "#444";
      g.fillText(text, x + 24, y + 14 * i + 4);
    });
  }

  private draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext("2d")!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { left: 52, right: 10, top: 10, bottom: 22 };
    const n = this.steps.length;
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#666";
    if (n === 0) {
      g.fillText("the loss of every step appears here while training", pad.left, h / 2);
      return;
    }
    const finite = this.steps.filter(Number.isFinite).concat(this.validation.map((v) => v.loss).filter(Number.isFinite));
    // a logarithmic axis when every loss is positive: losses fall by decades
    const log = finite.every((v) => v > 0);
    const f = (v: number) => (log ? Math.log10(v) : v);
    let lo = Math.min(...finite.map(f));
    let hi = Math.max(...finite.map(f));
    if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
    const x = (i: number) => pad.left + ((w - pad.left - pad.right) * i) / Math.max(1, n - 1);
    const y = (v: number) => pad.top + ((h - pad.top - pad.bottom) * (hi - f(v))) / (hi - lo);
    // axes and labels
    g.strokeStyle = "#ccc";
    g.beginPath();
    g.moveTo(pad.left, pad.top);
    g.lineTo(pad.left, h - pad.bottom);
    g.lineTo(w - pad.right, h - pad.bottom);
    g.stroke();
    const label = (v: number) => (log ? 10 ** v : v).toPrecision(3);
    g.fillText(label(hi), 4, pad.top + 8);
    g.fillText(label(lo), 4, h - pad.bottom);
    g.fillText(`step ${n}`, w - pad.right - 60, h - 6);
    g.fillText(log ? "loss (log scale)" : "loss", pad.left + 6, pad.top + 8);
    // per-step losses: one vertical range per pixel column
    const columns = Math.max(1, Math.floor(w - pad.left - pad.right));
    g.strokeStyle = "rgba(31, 119, 180, 0.35)";
    g.beginPath();
    for (let col = 0; col < columns; col++) {
      const a = Math.floor((col * n) / columns);
      const b = Math.max(a + 1, Math.floor(((col + 1) * n) / columns));
      let min = Infinity;
      let max = -Infinity;
      for (let i = a; i < b && i < n; i++) {
        const v = this.steps[i]!;
        if (!Number.isFinite(v) || (log && v <= 0)) continue;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      if (min > max) continue;
      g.moveTo(x(a), y(max));
      g.lineTo(x(a), y(min) + 0.5);
    }
    g.stroke();
    g.strokeStyle = "#1f4e79";
    g.lineWidth = 1.6;
    g.beginPath();
    for (let col = 0; col <= columns; col++) {
      const i = Math.min(n - 1, Math.floor((col * (n - 1)) / columns));
      const v = this.averages[i]!;
      if (col === 0) g.moveTo(x(i), y(v));
      else g.lineTo(x(i), y(v));
    }
    g.stroke();
    g.lineWidth = 1;
    this.legend(g, w - pad.right - 190, pad.top + 4);
    g.fillStyle = "#d62728";
    for (const v of this.validation) {
      if (!Number.isFinite(v.loss)) continue;
      g.beginPath();
      g.arc(x(Math.max(0, v.step - 1)), y(v.loss), 2.2, 0, 2 * Math.PI);
      g.fill();
    }
  }
}
