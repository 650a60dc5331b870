/** The models the tests run over: every example, and the per-op-family cases under test/cases. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BASELINES = join(ROOT, "test", "baselines");

export interface CorpusEntry {
  /** path relative to the project root, e.g. examples/xor.nn */
  readonly path: string;
  /** baseline path without extension, relative to test/baselines, e.g. examples/xor */
  readonly key: string;
  readonly source: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".nn") ? [p] : [];
    });
}

function entries(dir: string, keyPrefix: (rel: string) => string): CorpusEntry[] {
  return walk(join(ROOT, dir)).map((p) => ({
    path: relative(ROOT, p),
    key: keyPrefix(relative(join(ROOT, dir), p).replace(/\.nn$/, "")),
    source: readFileSync(p, "utf8"),
  }));
}

/** Models that compile. */
export function validModels(): CorpusEntry[] {
  return [
    ...entries("examples", (r) => `examples/${r}`),
    ...entries("test/cases", (r) => r).filter((e) => !e.key.startsWith("errors/")),
  ];
}

/** Sources that must be rejected, with golden diagnostics. */
export function invalidModels(): CorpusEntry[] {
  return entries("test/cases/errors", (r) => `errors/${r}`);
}

/** The --set values a case is compiled with, read from its `# nnc: --set a=1` header lines. */
export function setOf(source: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of source.matchAll(/^# nnc: --set (\w+)=(\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * Models written with §11's image ops (conv2d, pooling, flatten, concat, slices). The Hessian
 * oracle (tfjs-hessian.test.ts) leaves them out: its nested tapes through tfjs's convolution and
 * pooling gradients are not set up yet.
 */
export function usesImageOps(e: CorpusEntry): boolean {
  return /\b(conv2d|maxpool|avgpool|flatten|concat)\s*\(|\[[^\]\n]*:/.test(e.source.replace(/#.*$/gm, ""));
}
