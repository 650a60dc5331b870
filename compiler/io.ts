import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

/**
 * Writes a file so that readers see the old content or the new, never a part: the bytes go to a
 * temporary file in the same directory (`.name.<pid>.tmp`), which is then renamed over the target.
 * A process killed while writing leaves its temporary file behind; the next write to the same path
 * removes those of processes that no longer run.
 */
export function writeFileAtomic(path: string, content: string): void {
  // a device or pipe (/dev/null, /dev/stdout) is written to, never replaced by a renamed file
  let special = false;
  try {
    special = !statSync(path).isFile();
  } catch {
    // does not exist yet: the normal case
  }
  if (special) return writeFileSync(path, content);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  removeStaleTemporaries(path);
  try {
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
}

/** Deletes `.name.<pid>.tmp` files next to `path` whose process is gone (killed mid-write). */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length, -".tmp".length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    try {
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
