/**
 * Data augmentation of image inputs: `augment shift(pixels = p)` moves every training image by a
 * random whole number of pixels (dx, dy), each uniform in [−p, p], filling the uncovered border
 * with zeros (the raw pixel value, before normalization). Labels are untouched. The shifts are
 * fresh every epoch and follow from the seed and the epoch number alone, so a run resumed from a
 * checkpoint draws the same shifts as the uninterrupted run (docs/data.md, "Augmentation").
 */
import type { AugmentConfig } from "../../compiler/semantics/model.js";
import { mulberry32 } from "../random.js";
import type { Normalization } from "../types.js";
import { rowTransform, type RowTransform } from "./normalize.js";

export type { AugmentConfig };

/** An image input's layout per sample: channels × height × width, row-major (channel first). */
export interface ImageGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The image layout a declared input shape implies: [h, w] is one channel, [c, h, w] is channel
 * first; a vector or anything else is not an image by its shape (an IDX file can still say it is).
 */
export function geometryOfShape(shape: readonly number[]): ImageGeometry | null {
  if (shape.length === 2) return { channels: 1, height: shape[0]!, width: shape[1]! };
  if (shape.length === 3) return { channels: shape[0]!, height: shape[1]!, width: shape[2]! };
  return null;
}

/**
 * The shifts of one epoch, by position in the epoch's (shuffled) order: dx at 2i, dy at 2i + 1.
 * Its own generator, seeded from the run's seed and the epoch, so the shuffle, the dropout masks
 * and the shifts do not draw from one another's streams.
 */
export function epochShifts(seed: number, epoch: number, count: number, pixels: number, out: Int8Array = new Int8Array(2 * count)): Int8Array {
  const random = mulberry32(Math.imul(seed, 0x2c1b3c6d) ^ Math.imul(epoch + 1, 0x297a2d39) ^ 0x5bd1e995);
  const span = 2 * pixels + 1;
  for (let i = 0; i < 2 * count; i++) out[i] = Math.floor(random() * span) - pixels;
  return out;
}

/**
 * dst[c, y, x] = src[c, y − dy, x − dx], 0 where that lies outside the image: the content moves
 * dx pixels right and dy pixels down. Reads src from srcAt and writes dst from dstAt (one sample).
 */
export function shiftImage(
  src: ArrayLike<number>,
  srcAt: number,
  dst: { [i: number]: number },
  dstAt: number,
  g: ImageGeometry,
  dx: number,
  dy: number,
): void {
  const { channels, height, width } = g;
  for (let c = 0; c < channels; c++) {
    const plane = c * height * width;
    for (let y = 0; y < height; y++) {
      const row = dstAt + plane + y * width;
      const sy = y - dy;
      if (sy < 0 || sy >= height) {
        for (let x = 0; x < width; x++) dst[row + x] = 0;
        continue;
      }
      const from = srcAt + plane + sy * width - dx;
      const lo = Math.max(0, dx);
      const hi = Math.min(width, width + dx);
      for (let x = 0; x < lo; x++) dst[row + x] = 0;
      for (let x = lo; x < hi; x++) dst[row + x] = src[from + x]!;
      for (let x = hi; x < width; x++) dst[row + x] = 0;
    }
  }
}

/** An augmentation that cannot apply to this model or data: the message says why. */
export class AugmentError extends Error {
  override readonly name = "AugmentError";
}

/** One image input: its raw training rows, its layout, and the normalization applied after the shift (null: none). */
interface ImageInput {
  readonly name: string;
  readonly geometry: ImageGeometry;
  readonly raw: ArrayLike<number>;
  readonly transform: RowTransform | null;
}

/**
 * Rewrites the image inputs of each training batch as shifted copies of the raw images, then
 * normalized as the rest of the data was (shifting raw pixels keeps the zero fill a zero pixel,
 * and each pixel's statistics its own). Allocates nothing per batch.
 */
export class ShiftAugmenter {
  private readonly shifts: Int8Array;
  private readonly scratch: Float64Array;
  constructor(
    private readonly pixels: number,
    private readonly seed: number,
    private readonly images: readonly ImageInput[],
    count: number,
  ) {
    this.shifts = new Int8Array(2 * count);
    this.scratch = new Float64Array(Math.max(0, ...images.map((i) => i.geometry.channels * i.geometry.height * i.geometry.width)));
  }
  /** Draws the shifts of this epoch (0-based), for the samples by their position in its order. */
  startEpoch(epoch: number): void {
    epochShifts(this.seed, epoch, this.shifts.length / 2, this.pixels, this.shifts);
  }
  /** The batch of positions start … start + count − 1 of `order` into the batch buffers `inputs`. */
  fill(order: ArrayLike<number>, start: number, count: number, inputs: Record<string, { [i: number]: number }>): void {
    for (const { name, geometry, raw, transform } of this.images) {
      const dst = inputs[name]!;
      const width = geometry.channels * geometry.height * geometry.width;
      const out = transform?.outWidth ?? width;
      for (let r = 0; r < count; r++) {
        const at = start + r;
        const dx = this.shifts[2 * at]!;
        const dy = this.shifts[2 * at + 1]!;
        const from = order[at]! * width;
        if (transform === null) shiftImage(raw, from, dst, r * out, geometry, dx, dy);
        else {
          shiftImage(raw, from, this.scratch, 0, geometry, dx, dy);
          transform.apply(this.scratch, 0, dst, r * out);
        }
      }
    }
  }
}

/**
 * The augmenter for a run: every input that is an image — declared [h, w] or [c, h, w], or a
 * vector whose layout `images` gives (an IDX file's rows × columns) — is shifted; other inputs are
 * left alone. Throws an AugmentError when no input is an image or the shift is as large as one.
 */
export function createShiftAugmenter(
  config: AugmentConfig,
  seed: number,
  raw: { readonly count: number; readonly inputs: Readonly<Record<string, ArrayLike<number>>> },
  declared: Readonly<Record<string, readonly number[]>>,
  images: Readonly<Record<string, ImageGeometry>>,
  normalization: Normalization | null,
): ShiftAugmenter {
  const pixels = config.args.pixels;
  if (!Number.isInteger(pixels) || pixels < 0 || pixels > 127) throw new AugmentError(`shift: pixels must be a whole number from 0 to 127, got ${pixels}`);
  const found: ImageInput[] = [];
  for (const [name, shape] of Object.entries(declared)) {
    const geometry = images[name] ?? geometryOfShape(shape);
    if (!geometry) continue;
    const width = geometry.channels * geometry.height * geometry.width;
    const values = raw.inputs[name]!;
    if (raw.count > 0 && values.length !== raw.count * width)
      throw new AugmentError(`shift: the input '${name}' is a ${geometry.channels} × ${geometry.height} × ${geometry.width} image, but the data has ${values.length / raw.count} values per sample`);
    if (pixels >= Math.min(geometry.height, geometry.width))
      throw new AugmentError(`shift: ${pixels} pixels would move the ${geometry.height} × ${geometry.width} images of '${name}' out of the frame: give fewer than ${Math.min(geometry.height, geometry.width)}`);
    found.push({ name, geometry, raw: values, transform: normalization ? rowTransform(normalization, name) : null });
  }
  if (found.length === 0)
    throw new AugmentError(
      `shift moves images, and no input is one: ${Object.entries(declared).map(([n, s]) => `${n}[${s.join(", ")}]`).join(", ")}. Declare an image input with a 2-D shape [h, w] or [c, h, w], or read it from an IDX images file`,
    );
  return new ShiftAugmenter(pixels, seed, found, raw.count);
}
