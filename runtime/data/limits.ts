/**
 * The limits of data input (docs/limits.md, "Data input"), apart from the files (files.ts, Node):
 * the CSV parser of the runtime's core checks them on bytes from anywhere.
 */
export interface DataLimits {
  /** characters in one CSV record (a line, or the lines of a quoted value holding line breaks) */
  readonly lineChars: number;
  /** bytes of input: a plain file's size, or what a gzipped file inflates to */
  readonly inputBytes: number;
  /** numbers in the loaded data set, inputs and targets together (8 bytes each as Float64) */
  readonly values: number;
}

const MiB = 2 ** 20;

export const DATA_LIMITS: DataLimits = {
  lineChars: 16 * MiB,
  inputBytes: 2048 * MiB,
  values: 2 ** 28,
};

/** "16 MiB" for a power-of-two multiple of 1 MiB, else the exact number with separators. */
export function showBytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n.toLocaleString("en-US")} bytes`;
}

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
