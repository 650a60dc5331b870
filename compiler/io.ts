import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

/**
 * Writes a file so that readers see the old content or the new, never a part: the bytes go to a
 * temporary file in the same directory, which is then renamed over the target.
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
