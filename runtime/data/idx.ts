/**
 * MNIST's IDX format: a big-endian header (magic 0x00000803 = unsigned bytes in 3 dimensions for
 * images, 0x00000801 = unsigned bytes in 1 dimension for labels; then one 32-bit size per
 * dimension), followed by the bytes, row-major. Files may be gzip-compressed (detected by the
 * 1f 8b signature, not by the name).
 */
import { DataError, type Dataset, type DataShape } from "../types.js";
import { targetViolation } from "./domains.js";
import { DATA_LIMITS, gunzipAtMost, gunzipHead, isGzip, readDataFile, showBytes, type DataLimits } from "./files.js";

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxFile {
  /** e.g. [count, rows, columns] for images, [count] for labels */
  readonly dims: number[];
  /** the unsigned bytes after the header (a view, not a copy) */
  readonly data: Uint8Array;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/** The header of an IDX file: its dimensions and the file's size that they imply. */
function idxHeader(raw: Uint8Array, file: string): { dims: number[]; headerSize: number; expected: number } {
  if (raw.length < 4) throw new DataError(file, `too short for an IDX file: ${raw.length} bytes (the header alone takes at least 8)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC)
    throw new DataError(
      file,
      `not an IDX file of MNIST's kind: the magic number is ${hex(magic)}; expected ${hex(IDX_IMAGES_MAGIC)} (images) or ${hex(IDX_LABELS_MAGIC)} (labels)`,
    );
  const ndims = magic & 0xff;
  const headerSize = 4 + 4 * ndims;
  if (raw.length < headerSize) throw new DataError(file, `truncated: the IDX header needs ${headerSize} bytes, the file has ${raw.length}`);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { dims, headerSize, expected: headerSize + dims.reduce((a, b) => a * b, 1) };
}

/**
 * Inflates a gzipped IDX file, no further than its header says it holds (so a gzip bomb stops
 * there), and never beyond the input limit.
 */
function gunzipIdx(bytes: Uint8Array, file: string, limits: DataLimits): Uint8Array {
  const head = gunzipHead(bytes, 4 + 4 * 3, file);
  // the whole stream gives less than a header: a truncated stream is an error of gzip's, else parseIdx's
  if (head.length < 4 + 4 * 3) return gunzipAtMost(bytes, 4 + 4 * 3, file, "");
  const { dims, expected } = idxHeader(head, file);
  if (expected > limits.inputBytes)
    throw new DataError(file, `its header says ${dims.join(" x ")}, so ${showBytes(expected)}: more than the ${showBytes(limits.inputBytes)} a data file may hold`);
  return gunzipAtMost(bytes, expected, file, `inflates to more bytes than its header says (${dims.join(" x ")}, so ${expected} bytes in all)`);
}

/** Parses an IDX images (3-d) or labels (1-d) file of unsigned bytes, plain or gzipped. */
export function parseIdx(bytes: Uint8Array, file: string, limits: DataLimits = DATA_LIMITS): IdxFile {
  const raw = isGzip(bytes) ? gunzipIdx(bytes, file, limits) : bytes;
  const { dims, headerSize, expected } = idxHeader(raw, file);
  if (raw.length < expected)
    throw new DataError(file, `truncated: the header says ${dims.join(" x ")} bytes of data, so ${expected} bytes in all, but the file has ${raw.length}`);
  if (raw.length > expected)
    throw new DataError(file, `${raw.length - expected} unexpected bytes after the data: the header says ${dims.join(" x ")}, so ${expected} bytes in all`);
  return { dims, data: raw.subarray(headerSize, expected) };
}

/**
 * Reads an images file and its labels file into the model's layout: pixels scaled to [0, 1]
 * (divided by 255) into the one input (whose size must equal rows × columns); labels one-hot
 * into a vector target `t[C]`, or the class index into a scalar target. `labelsFile` may be null
 * only when the model has no targets (prediction).
 */
export function loadIdxPair(imagesFile: string, labelsFile: string | null, shape: DataShape, limits: DataLimits = DATA_LIMITS): Dataset<Float64Array> {
  const inputs = Object.entries(shape.inputs);
  const targets = Object.entries(shape.targets);
  if (inputs.length !== 1)
    throw new DataError(imagesFile, `IDX images can feed a model with exactly one input; this one has ${inputs.length} (${inputs.map(([k]) => k).join(", ")})`);
  if (targets.length > 1)
    throw new DataError(imagesFile, `IDX labels can feed a model with one target; this one has ${targets.length} (${targets.map(([k]) => k).join(", ")})`);

  const images = parseIdx(readDataFile(imagesFile, limits), imagesFile, limits);
  if (images.dims.length !== 3) throw new DataError(imagesFile, `expected an IDX images file (magic ${hex(IDX_IMAGES_MAGIC)}); this is a labels file`);
  const [count, rows, cols] = images.dims as [number, number, number];
  const [inputName, inputDims] = inputs[0]!;
  const pixels = rows * cols;
  const inputSize = inputDims.reduce((a, b) => a * b, 1);
  if (inputSize !== pixels)
    throw new DataError(
      imagesFile,
      `the images are ${rows} x ${cols} = ${pixels} pixels, but the model's input ${inputName}[${inputDims.join(", ")}] takes ${inputSize} values`,
    );
  if (count === 0) throw new DataError(imagesFile, "holds 0 images; a data set needs at least one sample");
  const values = count * (pixels + (targets.length === 1 ? targets[0]![1].reduce((a, b) => a * b, 1) : 0));
  if (values > limits.values)
    throw new DataError(imagesFile, `${count} images are ${values.toLocaleString("en-US")} numbers with their labels, more than the ${limits.values.toLocaleString("en-US")} a data set may hold`);
  const x = new Float64Array(count * pixels);
  const src = images.data;
  for (let i = 0; i < x.length; i++) x[i] = src[i]! / 255;

  const out: Record<string, Float64Array> = {};
  if (targets.length === 1) {
    if (labelsFile === null) throw new DataError(imagesFile, "the model has a target, so a labels file is needed");
    const labels = parseIdx(readDataFile(labelsFile, limits), labelsFile, limits);
    if (labels.dims.length !== 1) throw new DataError(labelsFile, `expected an IDX labels file (magic ${hex(IDX_LABELS_MAGIC)}); this is an images file`);
    if (labels.dims[0] !== count)
      throw new DataError(labelsFile, `has ${labels.dims[0]} labels but ${imagesFile} has ${count} images; the counts must match`);
    const [targetName, targetDims] = targets[0]!;
    const lab = labels.data;
    if (targetDims.length === 0) {
      const t = new Float64Array(count);
      for (let i = 0; i < count; i++) t[i] = lab[i]!;
      out[targetName] = t;
    } else if (targetDims.length === 1) {
      const classes = targetDims[0]!;
      const t = new Float64Array(count * classes);
      for (let i = 0; i < count; i++) {
        const c = lab[i]!;
        if (c >= classes)
          throw new DataError(labelsFile, `label ${c} of sample ${i + 1} is out of range: the target ${targetName}[${classes}] has classes 0..${classes - 1}`);
        t[i * classes + c] = 1;
      }
      out[targetName] = t;
    } else {
      throw new DataError(labelsFile, `IDX labels need a scalar or vector target; ${targetName} has shape [${targetDims.join(", ")}]`);
    }
    const t = out[targetName]!;
    const width = t.length / count;
    for (const domain of shape.targetDomains?.[targetName] ?? [])
      for (let i = 0; i < count; i++) {
        const bad = targetViolation(domain, targetName, t, i * width, width);
        if (bad !== null) throw new DataError(labelsFile, `label ${lab[i]} of sample ${i + 1}: ${bad.detail}`);
      }
  }
  return { count, inputs: { [inputName]: x }, targets: out };
}
