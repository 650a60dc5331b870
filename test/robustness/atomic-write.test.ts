/**
 * writeFileAtomic's temporary files (compiler/io.ts): created exclusively with a random name, so
 * a file or symlink planted where the temporary would go is never written through; a writer killed
 * mid-write leaves `.name.<pid>.<random>.tmp`, which the next write to the same path removes
 * (leaving alone the temporaries of processes that still run); a failed write leaves the old file.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import { existsSync, linkSync, lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkOutputs, openOutput, OutputError, writeFileAtomic, WriteError } from "../../compiler/io.js";

// the random part of the temporary's name, made predictable where a test plants a file there
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  return { ...real, randomBytes: vi.fn(real.randomBytes) };
});
const FIXED = "00112233aabb";
const nextRandom = (hex: string) => vi.mocked(crypto.randomBytes).mockImplementationOnce((() => Buffer.from(hex, "hex")) as never);
afterEach(() => vi.mocked(crypto.randomBytes).mockReset());

/** the pid of a process that has exited */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

const scratch = () => mkdtempSync(join(tmpdir(), "nnc-atomic-"));

describe("writeFileAtomic", () => {
  it("removes the temporaries killed writers left (both name forms), keeps a running one's, and writes the target", () => {
    const dir = scratch();
    const target = join(dir, "run.checkpoint.json");
    const stale = `.run.checkpoint.json.${deadPid()}.9f8e7d6c5b4a.tmp`;
    const staleOld = `.run.checkpoint.json.${deadPid()}.tmp`; // the name before random suffixes
    const live = `.run.checkpoint.json.${process.ppid}.0123456789ab.tmp`; // the parent of this test runs
    const other = `.other.json.${deadPid()}.0123456789ab.tmp`; // another file's: not this write's business
    for (const f of [stale, staleOld, live, other]) writeFileSync(join(dir, f), "partial");
    writeFileAtomic(target, "{}\n");
    expect(readFileSync(target, "utf8")).toBe("{}\n");
    expect(readdirSync(dir).sort()).toEqual([live, other, "run.checkpoint.json"].sort());
  });

  it("never writes through a symlink planted at the temporary's name (random or the old pid-only one)", () => {
    const dir = scratch();
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    const target = join(dir, "p.csv");
    const planted = join(dir, `.p.csv.${process.pid}.${FIXED}.tmp`);
    symlinkSync(victim, planted);
    symlinkSync(victim, join(dir, `.p.csv.${process.pid}.tmp`));
    // a dangling link: following it would create the file it names
    const dangling = join(dir, `.p.csv.${process.pid}.ffffffffffff.tmp`);
    symlinkSync(join(dir, "created-through-link"), dangling);
    nextRandom(FIXED);
    nextRandom("ffffffffffff");
    writeFileAtomic(target, "y\n1\n");
    expect(vi.mocked(crypto.randomBytes).mock.calls.length).toBe(3); // two names taken, the third free
    expect(readFileSync(target, "utf8")).toBe("y\n1\n");
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(existsSync(join(dir, "created-through-link"))).toBe(false);
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
  });

  it("gives up with a WriteError (EEXIST) rather than open a planted name, when every name is taken", () => {
    const dir = scratch();
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(dir, `.w.json.${process.pid}.${FIXED}.tmp`));
    vi.mocked(crypto.randomBytes).mockImplementation((() => Buffer.from(FIXED, "hex")) as never);
    expect(() => writeFileAtomic(join(dir, "w.json"), "{}")).toThrow(/cannot write '.*w\.json': EEXIST/);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(existsSync(join(dir, "w.json"))).toBe(false);
  });

  it("a failed or abandoned write leaves the previous file as it was, and no temporary", () => {
    const dir = scratch();
    const target = join(dir, "w.json");
    writeFileSync(target, "old\n");
    const out = openOutput(target);
    out.write("new, half written");
    expect(readFileSync(target, "utf8")).toBe("old\n");
    out.abort();
    expect(readFileSync(target, "utf8")).toBe("old\n");
    expect(readdirSync(dir)).toEqual(["w.json"]);
    // a device that refuses every byte: the error names the path and the reason
    let error: unknown;
    try {
      writeFileAtomic("/dev/full", "x");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toBe("cannot write '/dev/full': ENOSPC (no space left on the device)");
  });
});

describe("checkOutputs", () => {
  it("finds the same file under another name (a hard link) and a directory as the target, creating nothing", () => {
    const dir = scratch();
    writeFileSync(join(dir, "a.json"), "a");
    linkSync(join(dir, "a.json"), join(dir, "b.json"));
    expect(() => checkOutputs([{ what: "-o", path: join(dir, "a.json") }, { what: "--checkpoint", path: join(dir, "b.json") }])).toThrow(OutputError);
    expect(() => checkOutputs([{ what: "-o", path: join(dir, "new.json") }], [{ what: "--data", path: join(dir, "b.json") }])).not.toThrow();
    expect(() => checkOutputs([{ what: "-o", path: dir }])).toThrow(/EISDIR/);
    // /dev/null twice is no conflict: a device is not overwritten
    expect(() => checkOutputs([{ what: "-o", path: "/dev/null" }, { what: "--checkpoint", path: "/dev/null" }])).not.toThrow();
    expect(readdirSync(dir).sort()).toEqual(["a.json", "b.json"]);
  });
});
