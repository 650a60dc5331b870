/**
 * Draw a digit, get it as the digits data has it. The data (examples/data/README.md) are UCI's
 * optdigits: 32×32 black-and-white bitmaps cut into 4×4 blocks, each pixel of the 8×8 image the
 * count of set bits in its block, 0..16. The pad does the same: the drawing (a canvas of 256×256
 * pixels) becomes a 32×32 bitmap — a bit set where at least half of its 8×8 canvas pixels are
 * inked — and the bitmap's 4×4 blocks are counted. Draw large: the data's digits fill the square.
 */
export const GRID = 8;
const BITMAP = 32;

export class DigitPad {
  private readonly g: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | null = null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly changed: () => void,
  ) {
    this.g = canvas.getContext("2d", { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.at(e);
      this.stroke(this.last, this.last);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.drawing) return;
      const p = this.at(e);
      this.stroke(this.last!, p);
      this.last = p;
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.changed();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  clear(): void {
    this.g.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The drawing as 64 values in 0..16, row-major (the data's p0 … p63). */
  pixels(): Float64Array {
    const { width } = this.canvas;
    const alpha = this.g.getImageData(0, 0, width, this.canvas.height).data;
    const cell = width / BITMAP;
    const out = new Float64Array(GRID * GRID);
    for (let by = 0; by < BITMAP; by++)
      for (let bx = 0; bx < BITMAP; bx++) {
        let ink = 0;
        for (let y = by * cell; y < (by + 1) * cell; y++) for (let x = bx * cell; x < (bx + 1) * cell; x++) ink += alpha[4 * (y * width + x) + 3]!;
        if (ink >= 0.5 * 255 * cell * cell) out[Math.floor(by / 4) * GRID + Math.floor(bx / 4)]! += 1;
      }
    return out;
  }

  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.canvas.width) / r.width, y: ((e.clientY - r.top) * this.canvas.height) / r.height };
  }

  private stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const g = this.g;
    g.strokeStyle = "#000";
    g.lineCap = "round";
    g.lineJoin = "round";
    // about three of the bitmap's pixels wide, as the data's pen strokes are
    g.lineWidth = (this.canvas.width / BITMAP) * 3;
    g.beginPath();
    g.moveTo(a.x, a.y);
    g.lineTo(b.x, b.y);
    g.stroke();
  }
}

/** Draws 64 values in 0..16 as an 8×8 grey image (the model's view of the drawing). */
export function drawPixels(canvas: HTMLCanvasElement, pixels: ArrayLike<number>): void {
  const g = canvas.getContext("2d")!;
  const s = canvas.width / GRID;
  for (let i = 0; i < GRID * GRID; i++) {
    const v = Math.round(255 * (1 - pixels[i]! / 16));
    g.fillStyle = `rgb(${v},${v},${v})`;
    g.fillRect((i % GRID) * s, Math.floor(i / GRID) * s, s, s);
  }
}
