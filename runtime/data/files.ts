/**
 * Opening and reading data files within limits (docs/limits.md, "Data input"): only regular
 * files, of bounded size, with gzip inflated in bounded pieces, so that no file — /dev/zero, a
 * FIFO, a gzip bomb — can hang the process or take unbounded memory.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import * as zlib from "node:zlib";
import { constants, gunzipSync } from "node:zlib";
import { Gunzip } from "fflate";
import { DataError } from "../types.js";
import { showBytes, type DataLimits } from "./limits.js";

export { DATA_LIMITS, isGzip, showBytes, type DataLimits } from "./limits.js";

/** Runs a file operation, turning its failure into a DataError. */
export function io<T>(file: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Opens a data file for reading, after checking (before opening: opening a FIFO without a writer
 * blocks forever) that it is a regular file no larger than the limit. Returns the descriptor and
 * the size.
 */
export function openDataFile(file: string, limits: DataLimits): { fd: number; size: number } {
  const st = io(file, () => statSync(file));
  if (st.isDirectory()) throw new DataError(file, "is a directory; give a data file (.csv, .csv.gz, or an IDX images file)");
  if (!st.isFile())
    throw new DataError(
      file,
      `is not a regular file but a ${st.isFIFO() ? "FIFO (named pipe)" : st.isCharacterDevice() || st.isBlockDevice() ? "device" : st.isSocket() ? "socket" : "special file"}; ` +
        "data is read only from regular files, whose end is known: save the data to a file first",
    );
  if (st.size > limits.inputBytes) throw new DataError(file, `is ${showBytes(st.size)}, more than the ${showBytes(limits.inputBytes)} a data file may have`);
  const fd = io(file, () => openSync(file, "r"));
  return { fd, size: st.size };
}

/** The whole of a regular data file (IDX files are read whole). */
export function readDataFile(file: string, limits: DataLimits): Uint8Array {
  const { fd, size } = openDataFile(file, limits);
  try {
    const bytes = Buffer.allocUnsafe(size);
    let n = 0;
    for (let k; n < size && (k = io(file, () => readSync(fd, bytes, n, size - n, n))) > 0; ) n += k;
    return bytes.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The size of an open file (for the parser's row-count prediction). */
export function fileSize(fd: number, file: string): number {
  return io(file, () => fstatSync(fd)).size;
}

/** Compressed bytes inflated per step: at most ~1032 times as many come out, so ≤ 8 MiB. */
const GZIP_STEP = 8 * 1024;

/**
 * Inflates gzip data piece by piece (zlib has no synchronous streaming; fflate's Gunzip has),
 * handing each piece to `sink` (which must be done with it when it returns) and stopping with a
 * DataError once more than `limits.inputBytes` have come out. Multi-member files are read whole.
 * fflate checks no checksum, so a one-member file's CRC-32 and size (its last 8 bytes) are checked
 * here, as zlib would (a damaged byte could otherwise inflate to other numbers without an error);
 * a multi-member file relies on deflate's own structure.
 */
export function gunzipChunks(compressed: Iterable<Uint8Array>, file: string, limits: DataLimits, sink: (piece: Uint8Array) => void): void {
  const crc32 = typeof zlib.crc32 === "function" ? zlib.crc32 : null; // Node ≥ 20.15
  let total = 0;
  let crc = 0;
  let members = 1;
  const gunzip = new Gunzip((piece) => {
    total += piece.length;
    if (total > limits.inputBytes) throw new DataError(file, `inflates to more than ${showBytes(limits.inputBytes)}, the most a data file may hold`);
    if (crc32 !== null) crc = crc32(piece, crc);
    sink(piece);
  });
  gunzip.onmember = () => members++;
  const fail = (e: unknown): never => {
    if (e instanceof DataError) throw e;
    throw new DataError(file, `the file starts like gzip but cannot be decompressed: ${(e as Error).message}`);
  };
  const tail = new Uint8Array(8);
  let tailLength = 0;
  try {
    for (const chunk of compressed) {
      // copies (not Buffer#slice, a view): Gunzip may keep input it has not used yet, and the chunks' buffer is reused
      for (let i = 0; i < chunk.length; i += GZIP_STEP) gunzip.push(new Uint8Array(chunk.subarray(i, i + GZIP_STEP)));
      const keep = Math.min(8, chunk.length);
      tail.copyWithin(0, keep);
      tail.set(chunk.subarray(chunk.length - keep), 8 - keep);
      tailLength = Math.min(8, tailLength + chunk.length);
    }
    gunzip.push(new Uint8Array(0), true);
  } catch (e) {
    fail(e);
  }
  if (crc32 === null || members > 1) return;
  const trailer = new DataView(tail.buffer);
  if (tailLength < 8 || trailer.getUint32(0, true) !== crc >>> 0 || trailer.getUint32(4, true) !== total % 2 ** 32)
    throw new DataError(file, "the file is damaged or cut short: its gzip checksum and size do not match what it inflates to");
}

/**
 * The first bytes that gzip data inflates to (at least `want` if there are that many), without
 * inflating the rest: for reading a header before deciding how much may follow.
 */
export function gunzipHead(bytes: Uint8Array, want: number, file: string): Uint8Array {
  for (let n = 1024; ; n *= 4) {
    let out: Uint8Array;
    try {
      // Z_SYNC_FLUSH: a truncated stream gives what it has instead of an error
      out = gunzipSync(bytes.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new DataError(file, `the file starts like gzip but cannot be decompressed: ${(e as Error).message}`);
    }
    if (out.length >= want || n >= bytes.length) return out;
  }
}

/** Inflates gzip data whole, refusing (without inflating further) more than `max` bytes. */
export function gunzipAtMost(bytes: Uint8Array, max: number, file: string, tooMuch: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, max) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new DataError(file, tooMuch);
    throw new DataError(file, `the file starts like gzip but cannot be decompressed: ${(e as Error).message}`);
  }
}
