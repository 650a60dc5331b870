import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { format } from "./diagnostics/diagnostic.js";

/**
 * Every file nnc writes goes through here (docs/limits.md, "Output files"):
 * - before any work, `checkOutputs` validates each path the command will write (a probe
 *   temporary is created and removed in its directory) and that no two are the same file, nor an
 *   output the same file as an input;
 * - a file is written to a temporary in the same directory, created exclusively with a random
 *   name (O_CREAT | O_EXCL | O_NOFOLLOW: a planted file or symlink is never opened, so never
 *   written through), then renamed over the target: readers see the old content or the new, never
 *   a part, and a failed write leaves the old file as it was;
 * - a device or pipe (/dev/null, /dev/stdout, a FIFO) is written to directly, never replaced;
 * - a failure is a WriteError naming the path and the reason (NN9002).
 * A process killed while writing leaves its temporary behind (`.name.<pid>.<random>.tmp`); the
 * next write to the same path removes those of processes that no longer run.
 */

/** A user's mistake about an output path, found before any work or when a write fails. */
export class OutputError extends Error {
  override readonly name: string = "OutputError";
  /** the diagnostic code, when the message has one */
  readonly code: string | null = null;
}

/** A path that cannot be written: `cannot write 'p': ENOENT (no such directory)` (NN9002). */
export class WriteError extends OutputError {
  override readonly name = "WriteError";
  override readonly code = "NN9002";
  constructor(
    readonly path: string,
    readonly errno: string,
  ) {
    super(format("NN9002", [path, REASONS[errno] ? `${errno} (${REASONS[errno]})` : errno]));
  }
}

const REASONS: Record<string, string> = {
  ENOENT: "no such directory",
  ENOTDIR: "a part of the path is a file, not a directory",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EIO: "input/output error",
  ENXIO: "no reader on the other end",
};

function writeError(path: string, e: unknown): WriteError {
  if (e instanceof WriteError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== "string") throw e; // not a file-system failure: a bug, reported as such
  return new WriteError(path, code);
}

/** The file's status (links followed), null when nothing is there yet. */
function statusOf(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw writeError(path, e);
  }
}

/** A device, pipe or socket: written to in place, never replaced by a renamed file. */
export function isStream(path: string): boolean {
  const s = statusOf(path);
  return s !== null && !s.isFile() && !s.isDirectory();
}

/** Temporary names keep at most this much of the target's name: the name must stay within NAME_MAX (255). */
const KEPT_NAME = 200;
const tmpPrefix = (path: string) => `.${basename(path).slice(0, KEPT_NAME)}.`;
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Creates `.name.<pid>.<random>.tmp` next to `path`, exclusively (never an existing file or link). */
function createTemporary(path: string): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(path), `${tmpPrefix(path)}${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      return { fd: openSync(tmp, EXCLUSIVE, 0o666), tmp };
    } catch (e) {
      // EEXIST: 48 random bits met an existing name (planted, or astronomically unlucky): another
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && attempt < 8) continue;
      throw writeError(path, e);
    }
  }
}

/** Throws a WriteError when `path` cannot be written now; creates nothing that stays. */
export function checkWritable(path: string): void {
  const s = statusOf(path);
  if (s?.isDirectory()) throw new WriteError(path, "EISDIR");
  if (s !== null && !s.isFile()) {
    try {
      accessSync(path, constants.W_OK);
      // a device is asked with a write of no bytes, which /dev/full already refuses (ENOSPC) and
      // others ignore; a pipe is not opened (that would wait for its reader)
      if (s.isCharacterDevice()) {
        const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          writeSync(fd, Buffer.alloc(0));
        } finally {
          closeSync(fd);
        }
      }
    } catch (e) {
      throw writeError(path, e);
    }
    return;
  }
  // a regular file is replaced by a temporary renamed over it: what must work is creating one
  const { fd, tmp } = createTemporary(path);
  closeSync(fd);
  unlinkSync(tmp);
}

export interface Named {
  /** what the path is, for messages: "the weights (-o)", "--checkpoint" */
  readonly what: string;
  readonly path: string;
}

/** Same file: the same path, or the same existing regular file by another name (a link). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return !isStream(a);
  let sa: Stats | null, sb: Stats | null;
  try {
    sa = statSync(a);
    sb = statSync(b);
  } catch {
    return false;
  }
  return sa.isFile() && sb.isFile() && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Validates, before any work, every path a command will write: each can be written, no two are
 * the same file (one would overwrite the other), and none is one of the command's inputs.
 */
export function checkOutputs(outputs: readonly Named[], inputs: readonly Named[] = []): void {
  outputs.forEach((o, i) => {
    for (const other of outputs.slice(0, i))
      if (sameFile(o.path, other.path)) throw new OutputError(`${o.what} '${o.path}' is the same file as ${other.what} '${other.path}': one would overwrite the other; give different files`);
    for (const input of inputs)
      if (sameFile(o.path, input.path)) throw new OutputError(`${o.what} '${o.path}' is the same file as ${input.what} '${input.path}': writing it would destroy the input; give another file`);
  });
  for (const o of outputs) checkWritable(o.path);
}

/** A file being written: `write` as often as needed, then `commit` (or `abort`). */
export interface OutputFile {
  /** text is written as UTF-8; bytes as they are */
  write(content: string | Uint8Array): void;
  /** makes the new content visible at the path (the rename), closing the file */
  commit(): void;
  /** forgets what was written: the path keeps its old content */
  abort(): void;
}

/** Opens `path` for writing: a temporary to rename at `commit`, or the device or pipe itself. */
export function openOutput(path: string): OutputFile {
  const s = statusOf(path);
  if (s?.isDirectory()) throw new WriteError(path, "EISDIR");
  let fd: number;
  let tmp: string | null = null;
  if (s !== null && !s.isFile()) {
    try {
      fd = openSync(path, "w");
    } catch (e) {
      throw writeError(path, e);
    }
  } else {
    removeStaleTemporaries(path);
    ({ fd, tmp } = createTemporary(path));
  }
  const abort = () => {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // closing is all that is left to do
      }
      fd = -1;
    }
    if (tmp !== null) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      tmp = null;
    }
  };
  const guarded = (what: () => void) => {
    try {
      what();
    } catch (e) {
      abort();
      throw writeError(path, e);
    }
  };
  return {
    write: (content) =>
      guarded(() => {
        const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      }),
    commit: () =>
      guarded(() => {
        if (tmp !== null) fsyncSync(fd);
        closeSync(fd);
        fd = -1;
        if (tmp !== null) renameSync(tmp, path);
        tmp = null;
      }),
    abort,
  };
}

/** Writes a whole file atomically (see the top of this file); a WriteError leaves the old file intact. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const out = openOutput(path);
  out.write(content);
  out.commit();
}

/** Deletes `.name.<pid>[.<random>].tmp` files next to `path` whose process is gone (killed mid-write). */
function removeStaleTemporaries(path: string): void {
  const prefix = tmpPrefix(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)(\.[0-9a-f]+)?\.tmp$/.exec(name.slice(prefix.length));
    const pid = m ? Number(m[1]) : NaN;
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    try {
      // unlink removes a link itself, never its target
      unlinkSync(join(dirname(path), name));
    } catch {
      // gone already, or not ours to delete
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
