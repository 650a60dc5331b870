/**
 * The import graph of a module, read from its text: every relative import followed, every other
 * specifier (a package, `node:…`) collected with the file that imports it. Type-only imports are
 * skipped (erased), dynamic `import("…")` with a literal specifier is followed like a static one.
 * Works on TypeScript sources (`.js` specifiers resolved to `.ts`) and on the built JavaScript.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { ROOT } from "./corpus.js";

export interface ImportGraph {
  /** the files reached, relative to the project root */
  readonly files: readonly string[];
  /** non-relative specifiers, each with the files (relative to the root) that import it */
  readonly external: ReadonlyMap<string, readonly string[]>;
}

const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /(?<!typeof )\bimport\(\s*["']([^"']+)["']\s*\)/g;

export function importGraph(entry: string): ImportGraph {
  const seen = new Set<string>();
  const external = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // comments may quote imports: drop them first (a block comment, or a line comment at a line's start)
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of [...text.matchAll(STATIC), ...text.matchAll(DYNAMIC)]) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) {
        external.set(spec, [...(external.get(spec) ?? []), relative(ROOT, file)]);
        continue;
      }
      const js = resolve(dirname(file), spec);
      const ts = js.replace(/\.js$/, ".ts");
      visit(file.endsWith(".ts") && existsSync(ts) ? ts : js);
    }
  };
  visit(resolve(ROOT, entry));
  return { files: [...seen].map((f) => relative(ROOT, f)).sort(), external };
}
