/**
 * What the runtime's entries import (docs/packaging.md). The core (runtime/core.ts, "nnc/core")
 * imports nothing from Node and uses no Node global, so that it runs in a browser's Web Worker;
 * the Node entry ("nnc") and the CLI's startup import no compiler toolchain. Static checks of the
 * import graph, of the sources and of the built package (dist/), not timings.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importGraph } from "../helpers/import-graph.js";
import { ROOT } from "../helpers/corpus.js";
import { requireBuiltCli } from "../helpers/cli.js";

const NODE = new Set(builtinModules);
const isNode = (spec: string) => spec.startsWith("node:") || NODE.has(spec.split("/")[0]!);
const TOOLCHAIN = ["typescript", "ts-morph", "prettier", "wabt", "acorn"];

describe("the runtime's core", () => {
  const core = importGraph("runtime/core.ts");

  it("imports nothing from Node, directly or through any module it reaches", () => {
    const node = [...core.external].filter(([spec]) => isNode(spec)).map(([spec, by]) => `${spec} (imported by ${by.join(", ")})`);
    expect(node).toEqual([]);
    // the walk itself works: it reaches the training loop, the optimizers and the CSV parser
    for (const f of ["runtime/train.ts", "runtime/optimizers/adam.ts", "runtime/data/csv.ts", "runtime/weights.ts", "runtime/identity.ts"]) expect(core.files).toContain(f);
  });

  it("imports no package at all (a bundle of it is its own code)", () => {
    expect([...core.external.keys()]).toEqual([]);
  });

  it("uses no Node global (Buffer, process, __dirname, require)", () => {
    const uses = core.files.flatMap((f) => {
      const code = readFileSync(join(ROOT, f), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      return [...code.matchAll(/\b(Buffer|process|__dirname|__filename|require)\s*[.(]/g)].map((m) => `${f}: ${m[1]}`);
    });
    expect(uses).toEqual([]);
  });

  it("the Node entry adds files and threads to it, and still no toolchain", () => {
    const node = importGraph("runtime/index.ts");
    expect(node.files).toEqual(expect.arrayContaining(["runtime/core.ts", "runtime/threads/pool.ts", "runtime/node/weights-files.ts", "runtime/data/files.ts"]));
    expect([...node.external.keys()].filter((s) => TOOLCHAIN.includes(s))).toEqual([]);
  });
});

describe("the built package (dist/)", () => {
  it("the runtime's entries import no typescript, ts-morph, prettier, wabt or acorn, statically or dynamically", () => {
    requireBuiltCli();
    for (const entry of ["dist/runtime/index.js", "dist/runtime/core.js"]) {
      const g = importGraph(entry);
      expect(g.files.length).toBeGreaterThan(20);
      expect([...g.external.keys()].filter((s) => TOOLCHAIN.includes(s))).toEqual([]);
      expect(g.files.filter((f) => f.startsWith("dist/compiler/") && !/\/(semantics\/(model|train-block)|codegen\/update-rules|ir\/walk|io|target|diagnostics\/diagnostic|diagnostics\/messages)\.js$/.test(f))).toEqual([]);
    }
  });

  it("the CLI's startup (--version, --help) imports no toolchain and not the compiler: its commands import them", () => {
    const startup = importGraph("dist/compiler/cli.js");
    // dynamic imports are followed too: the toolchain is reached only through the compiler
    const staticOnly = new Set(startup.files);
    expect(staticOnly.has("dist/compiler/pipeline.js")).toBe(true); // through the lazy import
    const text = readFileSync(join(ROOT, "dist/compiler/cli.js"), "utf8");
    expect(text).not.toMatch(/^import [^;]*from "\.\/pipeline\.js"/m);
    expect(text).toMatch(/import\("\.\/cli-compiler\.js"\)/);
    for (const spec of ["prettier", "wabt", "typescript", "ts-morph"]) expect(text).not.toContain(`"${spec}"`);
  });
});
