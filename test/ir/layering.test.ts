/**
 * Dependencies point one way (docs/architecture.md): ir/ is the bottom of the compiler and imports
 * nothing above it — no rewrite rules, no front end, no middle end, no code generator.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/corpus.js";

const IR = join(ROOT, "compiler", "ir");

function imports(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

describe("compiler/ir imports nothing above it", () => {
  for (const file of readdirSync(IR).filter((f) => f.endsWith(".ts")).sort())
    it(file, () => {
      const outside = imports(readFileSync(join(IR, file), "utf8")).filter((s) => !s.startsWith("./") && !s.startsWith("node:"));
      expect(outside).toEqual([]);
    });
});
