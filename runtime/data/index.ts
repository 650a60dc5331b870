/**
 * Data sets for training and prediction on Node: loading files (CSV, gzipped CSV, MNIST IDX); the
 * in-memory part (z-score normalization, seeded train/validation splits and subsets) is
 * normalize.ts's, re-exported here.
 */
import { closeSync, existsSync, readSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { DataError, type Dataset, type DataShape } from "../types.js";
import { csvBytesParser, parseCsvBytes, splitQuoted } from "./csv.js";
import { DATA_LIMITS, fileSize, gunzipChunks, gunzipHead, io, isGzip, openDataFile, type DataLimits } from "./files.js";
import { IDX_IMAGES_MAGIC, loadIdxPair } from "./idx.js";
import type { ImageGeometry } from "./augment.js";

export { columnNames, parseCsv } from "./csv.js";
export { loadIdxPair, parseIdx, type IdxFile } from "./idx.js";
export { DATA_LIMITS, type DataLimits } from "./files.js";
export { applyNormalization, computeNormalization, fitNormalization, NormalizationError, rowTransform } from "./normalize.js";

const IMAGES_PART = "images-idx3";
const LABELS_PART = "labels-idx1";

/** Bytes read at a time when streaming a CSV file: a chunk's text stays below V8's large-object
 * size, so it dies young (1 MiB chunks piled up until a full GC: +48 MB resident on a 56 MB file). */
export const CSV_CHUNK_BYTES = 1 << 16;

/** The rest of an open file in chunks of at most `size` bytes, all in one reused buffer (the
 * consumer decodes a chunk before asking for the next). */
function* fileChunks(fd: number, file: string, size: number): Generator<Uint8Array> {
  const buffer = Buffer.allocUnsafe(size);
  for (let n; (n = io(file, () => readSync(fd, buffer, 0, size, null))) > 0; ) yield buffer.subarray(0, n);
}

function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const isIdxImages = (b: Uint8Array) => b.length >= 4 && new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false) === IDX_IMAGES_MAGIC;

/** The labels file that goes with an IDX images file: `…images-idx3…` → `…labels-idx1…`. */
export function idxLabelsFile(imagesFile: string): string {
  return join(dirname(imagesFile), basename(imagesFile).replace(IMAGES_PART, LABELS_PART));
}

/**
 * Loads a data file into the model's layout, by its name: `.csv` / `.csv.gz` are CSV (see
 * csv.ts); an IDX images file (`*-images-idx3-ubyte`, optionally `.gz`) is paired with the labels
 * file of the same name with `images-idx3` replaced by `labels-idx1` (needed only when the model
 * has targets). Any other name is sniffed: IDX images by their magic number, else CSV. Only
 * regular files are read, within DATA_LIMITS (docs/limits.md).
 */
export function loadDataset(file: string, shape: DataShape, limits: DataLimits = DATA_LIMITS): Dataset<Float64Array> {
  const name = basename(file);
  const needLabels = Object.keys(shape.targets).length > 0;
  if (name.includes(LABELS_PART))
    throw new DataError(file, `this is an IDX labels file; give the images file (${name.replace(LABELS_PART, IMAGES_PART)}) and the labels are found next to it`);
  if (name.includes(IMAGES_PART)) return loadIdxPair(file, pairedLabels(file, needLabels), shape, limits);
  return loadByContent(file, shape, CSV_CHUNK_BYTES, limits);
}

/**
 * loadDataset for a name that does not say IDX: IDX images if the (decompressed) bytes start with
 * their magic number and the name does not end in .csv[.gz], else CSV. A CSV file is streamed in
 * chunks of `chunkBytes` (a parameter for tests), inflated piece by piece when gzipped, so its
 * text is never held whole.
 */
export function loadByContent(file: string, shape: DataShape, chunkBytes: number, limits: DataLimits = DATA_LIMITS): Dataset<Float64Array> {
  const csvName = /\.csv(\.gz)?$/i.test(basename(file));
  const idx = () => loadIdxPair(file, pairedLabels(file, Object.keys(shape.targets).length > 0), shape, limits);
  const { fd, size } = openDataFile(file, limits);
  try {
    const head = new Uint8Array(4096);
    const start = head.subarray(0, io(file, () => readSync(fd, head, 0, head.length, 0))); // at 0: the file position stays
    if (isGzip(start)) {
      if (!csvName && isIdxImages(gunzipHead(start, 4, file))) return idx();
      const parser = csvBytesParser(file, shape, 0, limits, new StringDecoder("utf8"));
      gunzipChunks(fileChunks(fd, file, chunkBytes), file, limits, (piece) => {
        for (const s of slices(piece, chunkBytes)) parser.write(s);
      });
      return parser.end();
    }
    if (!csvName && isIdxImages(start)) return idx();
    return parseCsvBytes(fileChunks(fd, file, chunkBytes), file, shape, size, limits, new StringDecoder("utf8"));
  } finally {
    closeSync(fd);
  }
}

/**
 * The number of columns in a CSV file's header (its first non-blank line, quotes read as RFC 4180
 * says), or null when the file is gzipped or its first 64 KiB hold no complete line. The file must
 * be a data file loadDataset would read (a regular file within the limits), else a DataError.
 */
export function csvHeaderWidth(file: string, limits: DataLimits = DATA_LIMITS): number | null {
  return csvHeaderNames(file, limits)?.length ?? null;
}

/** The cells of a CSV file's header, as csvHeaderWidth finds it, or null. */
export function csvHeaderNames(file: string, limits: DataLimits = DATA_LIMITS): string[] | null {
  const { fd } = openDataFile(file, limits);
  try {
    const buf = Buffer.alloc(65536);
    const bytes = buf.subarray(0, io(file, () => readSync(fd, buf, 0, buf.length, 0)));
    if (isGzip(bytes)) return null;
    const lines = bytes.toString("utf8").replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
    lines.pop(); // perhaps cut short
    const first = lines.findIndex((l) => l.trim() !== "");
    if (first < 0) return null;
    try {
      return splitQuoted(lines[first]!, file, first + 1).map((c) => c.trim());
    } catch {
      return null; // a quoted line break, or a malformed header: loading will say
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The image size an IDX images file's header gives ({ channels: 1, height: rows, width: columns }),
 * or null for any other file: the layout augmentation needs for an input declared as a vector.
 */
export function idxImageGeometry(file: string, limits: DataLimits = DATA_LIMITS): ImageGeometry | null {
  if (/\.csv(\.gz)?$/i.test(basename(file))) return null;
  const { fd } = openDataFile(file, limits);
  try {
    const buf = new Uint8Array(4096);
    let head: Uint8Array = buf.subarray(0, io(file, () => readSync(fd, buf, 0, buf.length, 0)));
    if (isGzip(head)) head = gunzipHead(head, 16, file);
    if (head.length < 16 || !isIdxImages(head)) return null;
    const view = new DataView(head.buffer, head.byteOffset, 16);
    return { channels: 1, height: view.getUint32(8, false), width: view.getUint32(12, false) };
  } finally {
    closeSync(fd);
  }
}

function pairedLabels(imagesFile: string, needed: boolean): string | null {
  const labels = idxLabelsFile(imagesFile);
  if (labels !== imagesFile && existsSync(labels)) return labels;
  if (!needed) return null;
  throw new DataError(
    imagesFile,
    labels === imagesFile
      ? `cannot tell where the labels are: the name does not contain '${IMAGES_PART}' (the labels file is expected under the same name with '${LABELS_PART}')`
      : `the labels file ${labels} is missing (it is looked for next to the images, with '${IMAGES_PART}' replaced by '${LABELS_PART}')`,
  );
}

export { splitDataset, subset } from "./subsets.js";
