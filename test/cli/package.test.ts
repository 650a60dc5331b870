/**
 * The package as a user gets it (package.json `exports`, docs/packaging.md): `require("nnc")` from
 * CommonJS (Node ≥ 20.19 loads the ES module synchronously: nothing in it awaits at top level),
 * the same exports as `import`, the core entry without Node's loaders, and the files it ships.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireBuiltCli } from "../helpers/cli.js";
import { ROOT } from "../helpers/corpus.js";

/** A project with the package installed as node_modules/nnc (a link to this checkout). */
function consumer(): string {
  const dir = mkdtempSync(join(tmpdir(), "nnc-consumer-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "nnc"), "dir");
  return dir;
}

function node(dir: string, file: string, text: string): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(join(dir, file), text);
  return spawnSync(process.execPath, [file], { cwd: dir, encoding: "utf8" });
}

describe("the package's entries", () => {
  it("require('nnc') from a .cjs file gives what import gives", () => {
    requireBuiltCli();
    const dir = consumer();
    const cjs = node(
      dir,
      "keys.cjs",
      `const nnc = require("nnc");
const core = require("nnc/core");
console.log(JSON.stringify({ nnc: Object.keys(nnc).sort(), core: Object.keys(core).sort(), train: typeof nnc.train }));`,
    );
    expect(cjs.status, cjs.stderr).toBe(0);
    expect(cjs.stderr).toBe(""); // no experimental warning either
    const esm = node(dir, "keys.mjs", `import * as nnc from "nnc";\nimport * as core from "nnc/core";\nconsole.log(JSON.stringify({ nnc: Object.keys(nnc).sort(), core: Object.keys(core).sort(), train: typeof nnc.train }));`);
    expect(esm.status, esm.stderr).toBe(0);
    const a = JSON.parse(cjs.stdout);
    expect(a).toEqual(JSON.parse(esm.stdout));
    expect(a.train).toBe("function");
    // the core is the Node entry without files and threads
    expect(a.nnc).toEqual(expect.arrayContaining(["loadDataset", "loadWeights", "saveWeights", "defaultThreads", ...a.core]));
    expect(a.core).not.toContain("loadDataset");
    expect(a.core).toEqual(expect.arrayContaining(["train", "parseCsv", "parseWeights", "computeNormalization", "createOptimizer", "loadModule"]));
  });

  it("ships its license, docs and README, and declares its license as the LICENSE file states it", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.files).toEqual(expect.arrayContaining(["docs", "README.md", "LICENSE"]));
    expect(pkg.license).toBe("MIT");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    // every docs page the README links to is shipped
    const links = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) expect(existsSync(join(ROOT, l)), l).toBe(true);
  });

  it("needs no compiler toolchain at run time: typescript, ts-morph and acorn are devDependencies, prettier and wabt optional", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const dev of ["typescript", "ts-morph", "acorn"]) {
      expect(pkg.dependencies[dev]).toBeUndefined();
      expect(pkg.devDependencies[dev]).toBeDefined();
    }
    // wabt: a convolution's kernels are assembled for its shapes when a model is compiled (only the dense ones are prebuilt)
    for (const optional of ["prettier", "wabt"]) {
      expect(pkg.optionalDependencies[optional]).toBeDefined();
      expect(pkg.dependencies[optional]).toBeUndefined();
      expect(pkg.devDependencies[optional]).toBeUndefined();
    }
  });
});
