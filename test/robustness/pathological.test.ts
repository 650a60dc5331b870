/**
 * Pathological sources, each through compile() and through the built CLI: deep nesting, a very
 * long line, huge dimensions, empty and comment-only files, a 10,000-character name, 100,000
 * characters of garbage, NUL and invalid UTF-8 bytes, an unclosed `train` block, an oversized
 * file. Each ends in a clear diagnostic (the stated limit where one applies) or a module, never
 * in a stack overflow, an out-of-memory or a hang (each is time-boxed).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ERRORS } from "../../compiler/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { LIMITS } from "../../compiler/semantics/elaborate.js";
import { MAX_NESTING } from "../../compiler/syntax/parser.js";
import { compile, MAX_SOURCE_LENGTH } from "../../compiler/pipeline.js";
import { gradCheck } from "../../runtime/gradcheck.js";
import { loadModule } from "../../runtime/load-module.js";
import { hasStackTrace, requireBuiltCli, runCli } from "../helpers/cli.js";

/** wall-clock box per input, for compile() and for the CLI alike */
// a bound that catches hangs and quadratic blow-ups, not a speed assertion (CI machines are shared)
const MAX_MS = 20_000;
const LONG = "a".repeat(10_000);
const OVERSIZED = "input x\nparam w\nloss w * x\n" + "#".repeat(MAX_SOURCE_LENGTH);

/** deterministic garbage: printable ASCII, no line break */
function garbage(length: number): string {
  let s = 12345;
  let out = "";
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out += String.fromCharCode(33 + (s % 94));
  }
  return out;
}

interface Case {
  readonly name: string;
  readonly file: string;
  /** the file's bytes (a string is written as UTF-8) */
  readonly content: string | Buffer;
  /** null: compiles to a module; otherwise error codes that must all be reported */
  readonly codes: readonly string[] | null;
  /** text every rendering must contain */
  readonly text?: string;
  /** a placed (file:line:col) diagnostic is expected */
  readonly placed?: boolean;
  /** --unroll */
  readonly unroll?: number;
  /** warning codes that must be reported */
  readonly warnings?: readonly string[];
  /** the module's gradient is checked */
  readonly gradient?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: "3000 nested parentheses",
    file: "parens.nn",
    content: `input x[2]\nparam W[2, 2]\nloss sum(${"(".repeat(3000)}W @ x${")".repeat(3000)})\n`,
    codes: ["NN5001"],
    text: `more than ${MAX_NESTING} levels`,
    placed: true,
  },
  {
    name: "3000 nested calls",
    file: "calls.nn",
    content: `input x\nparam w\nloss ${"exp(".repeat(3000)}w * x${")".repeat(3000)}\n`,
    codes: ["NN5001"],
    placed: true,
  },
  {
    name: "a 5000-term line without a parameter (loss x + x + …)",
    file: "terms-x.nn",
    content: `input x\nloss ${Array(5000).fill("x").join(" + ")}\n`,
    codes: null,
    warnings: ["NN2018"],
  },
  {
    name: "a 5000-term line that compiles (loss w*x + w*x + …)",
    file: "terms.nn",
    content: `input x\ntarget t\nparam w ~ constant(0.5)\nloss ${Array(5000).fill("w * x").join(" + ")} - t * w\n`,
    codes: null,
    gradient: true,
  },
  {
    name: "a 2000-factor product (its gradient is a 2000-term sum of products)",
    file: "product.nn",
    content: `input x\nparam w\nloss x * ${Array(2000).fill("w").join(" * ")}\n`,
    codes: null,
  },
  {
    name: "a 1024-term unrolled sum (--unroll 4096)",
    file: "unrolled.nn",
    content: "input x[1024]\ntarget t\nparam w[1024] ~ normal(0, 0.1)\nloss (dot(w, x) - t)^2 + sumsq(w)\n",
    unroll: 4096,
    codes: null,
    gradient: true,
  },
  {
    name: "a dimension of 10^8",
    file: "bigdim.nn",
    content: "input x[100000000]\nparam w\nloss w * sum(x)\n",
    codes: ["NN5002"],
    text: `'x' has 100000000 elements; the limit is ${LIMITS.maxDimension}`,
    placed: true,
  },
  {
    name: "a tensor of 10^8 elements from two allowed dimensions",
    file: "bigtensor.nn",
    content: "input x[10000]\nparam W[10000, 10000]\nloss sum(W @ x)\n",
    codes: ["NN5002"],
    text: `the limit is ${LIMITS.maxElements}`,
    placed: true,
  },
  {
    name: "a layer whose weights exceed the element limit",
    file: "biglayer.nn",
    content: "input x[10000]\nlayer h = dense(x, 100000, relu)\nloss sum(h)\n",
    codes: ["NN5002"],
    text: `'h.W' has 1000000000 elements; the limit is ${LIMITS.maxElements}`,
    placed: true,
  },
  { name: "an empty file", file: "empty.nn", content: "", codes: ["NN2004"], text: "there is no loss" },
  { name: "a file of only comments", file: "comments.nn", content: "# one\n   # two\n#\n# loss x\n", codes: ["NN2004"] },
  {
    name: "a 10,000-character identifier (valid)",
    file: "longname.nn",
    content: `input x[2]\ntarget t\nparam ${LONG}[2] ~ normal(0, 1)\nloss (dot(${LONG}, x) - t)^2\n`,
    codes: null,
    gradient: true,
  },
  {
    name: "a 10,000-character identifier (undefined)",
    file: "longundef.nn",
    content: `input x\nparam w\nloss w * x + ${LONG}\n`,
    codes: ["NN2001"],
    placed: true,
  },
  { name: "a line of 100,000 characters of garbage", file: "garbage.nn", content: garbage(100_000) + "\n", codes: ["NN1001"], placed: true },
  {
    name: "50,000 separate bad characters (more errors than are shown)",
    file: "many.nn",
    content: "$a".repeat(50_000) + "\n",
    codes: ["NN1001", "NN5004"],
    text: `only the first ${MAX_ERRORS} are shown`,
    placed: true,
  },
  {
    name: "NUL bytes",
    file: "nul.nn",
    content: "input x\0\nparam w\0\0\nloss w * x\n",
    codes: ["NN1001"],
    text: "unexpected character 'U+0000'",
    placed: true,
  },
  {
    name: "invalid UTF-8 bytes",
    file: "utf8.nn",
    content: Buffer.concat([Buffer.from("input x\nparam w\nloss w * x "), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]), Buffer.from("\n")]),
    codes: ["NN1001"],
    text: "unexpected character '\ufffd'",
    placed: true,
  },
  {
    name: "a train block never closed",
    file: "train.nn",
    content: "input x\ntarget t\nparam w\nloss (w * x - t)^2\ntrain {\n  batch 4\n  epochs 3\n",
    codes: ["NN1008"],
    text: "unterminated 'train' block",
    placed: true,
  },
  {
    name: `a source over ${MAX_SOURCE_LENGTH} characters`,
    file: "huge.nn",
    content: OVERSIZED,
    codes: ["NN5003"],
    text: `huge.nn: error NN5003: the source file is too large (${OVERSIZED.length} characters; the limit is ${MAX_SOURCE_LENGTH} characters)`,
  },
];

const decoded = (c: Case) => (typeof c.content === "string" ? c.content : c.content.toString("utf8"));
const PLACED = (file: string) => new RegExp(`^${file.replace(/\./g, "\\.")}:\\d+:\\d+: error NN\\d{4}: `, "m");

describe("pathological sources through compile()", () => {
  for (const c of CASES)
    it(c.name, async () => {
      const source = decoded(c);
      const t0 = performance.now();
      const r = await compile(source, { file: c.file, ...(c.unroll === undefined ? {} : { unroll: c.unroll }) });
      const ms = performance.now() - t0;
      expect(ms).toBeLessThan(MAX_MS);
      const errors = r.diagnostics.list.filter((d) => d.severity === "error");
      const text = renderDiagnostics(c.file, source, r.diagnostics.sorted());
      for (const code of c.warnings ?? []) expect(r.diagnostics.list.map((d) => d.code)).toContain(code);
      if (c.codes === null) {
        expect(errors, text).toEqual([]);
        expect(r.ts).not.toBeNull();
        if (c.gradient) {
          const mod = await loadModule(r.js!);
          expect(gradCheck(mod).worst).toBeLessThan(1e-6);
        }
        return;
      }
      expect(r.ts).toBeNull();
      const codes = new Set(errors.map((d) => d.code));
      for (const code of c.codes) expect([...codes], text.slice(0, 2000)).toContain(code);
      if (c.text) expect(text).toContain(c.text);
      if (c.placed) expect(text).toMatch(PLACED(c.file));
      // bounded output: a long line is shown as a window, at most MAX_ERRORS errors, short messages
      expect(errors.length).toBeLessThanOrEqual(MAX_ERRORS + 1);
      expect(text.length).toBeLessThan(64 * 1024);
      for (const line of text.split("\n")) expect(line.length).toBeLessThan(400);
    });
});

describe("pathological sources through the built CLI", () => {
  let dir = "";
  beforeAll(() => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), "nnc-patho-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES)
    it(c.name, () => {
      writeFileSync(join(dir, c.file), c.content);
      const before = readdirSync(dir).sort();
      const t0 = performance.now();
      const r = runCli(["compile", c.file, ...(c.unroll === undefined ? [] : ["--unroll", String(c.unroll)])], dir);
      const ms = performance.now() - t0;
      const out = join(dir, c.file.replace(/\.nn$/, ".ts"));
      expect(hasStackTrace(r.stderr), r.stderr.slice(0, 2000)).toBe(false);
      expect(r.stderr).not.toMatch(/internal error|heap out of memory|Maximum call stack/);
      expect(ms).toBeLessThan(MAX_MS);
      for (const code of c.warnings ?? []) expect(r.stderr).toContain(` warning ${code}: `);
      if (c.codes === null) {
        expect(r.status, r.stderr.slice(0, 2000)).toBe(0);
        expect(existsSync(out)).toBe(true);
        rmSync(out);
      } else {
        expect(r.status).toBe(1);
        for (const code of c.codes) expect(r.stderr).toContain(` error ${code}: `);
        if (c.text) expect(r.stderr).toContain(c.text);
        if (c.placed) expect(r.stderr).toMatch(PLACED(c.file));
        expect(r.stderr.length).toBeLessThan(64 * 1024);
        expect(readdirSync(dir).sort()).toEqual(before);
      }
      rmSync(join(dir, c.file));
    });

  it("a sparse 3 GB source: NN5003 from its size, without reading it", () => {
    const file = join(dir, "sparse.nn");
    writeFileSync(file, "input x\nparam w\nloss w * x\n");
    truncateSync(file, 3 * 2 ** 30); // a hole: no disk space used
    const before = readdirSync(dir).sort();
    for (const command of ["compile", "check", "explain"]) {
      const t0 = performance.now();
      const r = runCli([command, "sparse.nn"], dir);
      expect(r.stderr, command).toBe(`sparse.nn: error NN5003: the source file is too large (${3 * 2 ** 30} bytes; the limit is ${MAX_SOURCE_LENGTH} characters)\n`);
      expect(r.status, command).toBe(1);
      expect(r.stdout, command).toBe("");
      expect(performance.now() - t0).toBeLessThan(MAX_MS); // reading it took 40 s and 4 GB, then failed (NN9001)
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    rmSync(file);
  });
});
