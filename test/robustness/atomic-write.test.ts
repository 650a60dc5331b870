/**
 * writeFileAtomic's temporary files: a writer killed mid-write leaves `.name.<pid>.tmp`; the next
 * write to the same path removes it, and leaves alone the temporaries of processes that still run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../compiler/io.js";

/** the pid of a process that has exited */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("writeFileAtomic", () => {
  it("removes the temporary file a killed writer left, keeps a running one's, and writes the target", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-atomic-"));
    const target = join(dir, "run.checkpoint.json");
    const stale = `.run.checkpoint.json.${deadPid()}.tmp`;
    const live = `.run.checkpoint.json.${process.ppid}.tmp`; // the parent of this test runs
    const other = `.other.json.${deadPid()}.tmp`; // another file's: not this write's business
    for (const f of [stale, live, other]) writeFileSync(join(dir, f), "partial");
    writeFileAtomic(target, "{}\n");
    expect(readFileSync(target, "utf8")).toBe("{}\n");
    expect(existsSync(join(dir, stale))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([live, other, "run.checkpoint.json"].sort());
  });
});
