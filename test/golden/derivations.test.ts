/**
 * The derivation in the emitted code (section 6 of the language): the comment above each backward
 * block carries, verbatim, the equations `nnc explain` prints for that statement, then the whole
 * gradient of each parameter accumulated in that block — one source of text for both
 * (compiler/plan/derivations.ts). The text only ever reaches the module as comment lines.
 */
import { describe, expect, it } from "vitest";
import { emitModule } from "../../compiler/codegen/emit-module.js";
import { explain, explainHessian } from "../../compiler/explain.js";
import { MAX_EQUATION } from "../../compiler/plan/derivations.js";
import { check, compile, plan, VERSION } from "../../compiler/pipeline.js";
import { validModels } from "../helpers/corpus.js";

/** What `nnc explain` printed: the equations of each statement, by line, and the parameter gradients. */
function parseExplain(text: string): { statements: Map<number, string[]>; params: string[] } {
  const statements = new Map<number, string[]>();
  const params: string[] = [];
  let list: string[] | null = null;
  for (const line of text.split("\n")) {
    const head = /^line (\d+): /.exec(line);
    if (head) statements.set(Number(head[1]), (list = []));
    else if (line.startsWith("parameter gradients")) list = params;
    else if (line === "") list = null;
    else if (list !== null) list.push(list === params ? /^  (.+?)    (scalar|\[[\d, ]*\])$/.exec(line)![1]! : line.slice(2));
  }
  return { statements, params };
}

/** Each backward header of the module, its line, and the comment lines right below it. */
function backwardBlocks(ts: string): { fn: string; line: number; comments: string[] }[] {
  const lines = ts.split("\n");
  const out: { fn: string; line: number; comments: string[] }[] = [];
  let fn = "";
  lines.forEach((l, i) => {
    const f = /^function (\w+)\(/.exec(l);
    if (f) fn = f[1]!;
    const m = /^\s*\/\/ ── backward through line (\d+): /.exec(l);
    if (!m) return;
    const comments: string[] = [];
    for (let j = i + 1; /^\s*\/\/ {4}/.test(lines[j]!); j++) comments.push(lines[j]!.replace(/^\s*\/\/ {4}/, ""));
    out.push({ fn, line: Number(m[1]), comments });
  });
  return out;
}

/** What `nnc explain --hessian` printed: the tangent equations of each statement, by pass and line, and H·v per parameter. */
function parseExplainHessian(text: string): { forward: Map<number, string[]>; backward: Map<number, string[]>; params: string[] } {
  const forward = new Map<number, string[]>();
  const backward = new Map<number, string[]>();
  const params: string[] = [];
  let pass = forward;
  let list: string[] | null = null;
  for (const line of text.split("\n")) {
    const head = /^line (\d+): /.exec(line);
    if (line.startsWith("tangent of the backward pass")) pass = backward;
    if (head) pass.set(Number(head[1]), (list = []));
    else if (line.startsWith("Hessian-vector product, per parameter")) list = params;
    else if (line === "") list = null;
    else if (list !== null) list.push(list === params ? /^  (.+?)    (scalar|\[[\d, ]*\])$/.exec(line)![1]! : line.slice(2));
  }
  return { forward, backward, params };
}

describe("tangent blocks of the Hessian-vector products carry the equations nnc explain --hessian prints", () => {
  for (const e of validModels())
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path });
      const { forward, backward, params } = parseExplainHessian(explainHessian(r.model!, plan(r.model!)));
      const lines = r.ts!.split("\n");
      let fn = "";
      let blocks = 0;
      const shown = new Set<string>();
      lines.forEach((l, i) => {
        const f = /^function (\w+)\(/.exec(l);
        if (f) fn = f[1]!;
        const m = /^\s*\/\/ ── H·v: tangent along v of the (forward|backward) pass through line (\d+): /.exec(l);
        if (!m) return;
        expect(fn).toMatch(/^(sampleHessianVector|regularizerHessianVector)$/);
        blocks++;
        const comments: string[] = [];
        for (let j = i + 1; /^\s*\/\/ {4}/.test(lines[j]!); j++) comments.push(lines[j]!.replace(/^\s*\/\/ {4}/, ""));
        const own = (m[1] === "forward" ? forward : backward).get(Number(m[2])) ?? [];
        expect(comments.slice(0, own.length), `${fn}, ${m[1]} line ${m[2]}`).toEqual(own);
        for (const c of comments.slice(own.length)) expect(params, `${fn}, line ${m[2]}`).toContain(c);
        for (const c of comments) shown.add(c);
      });
      expect(blocks).toBeGreaterThan(0);
      // every parameter's part of H·v that is not zero is shown where a function accumulates it
      for (const p of params) if (!/ = 0$/.test(p)) expect(shown, p).toContain(p);
    });
});

describe("backward blocks carry the equations nnc explain prints", () => {
  for (const e of validModels())
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path });
      const { statements, params } = parseExplain(explain(r.model!, plan(r.model!)));
      const blocks = backwardBlocks(r.ts!);
      expect(blocks.filter((b) => b.fn === "sampleGradient").length).toBeGreaterThan(0);
      for (const b of blocks) {
        const own = statements.get(b.line) ?? [];
        // the statement's equations first, verbatim and in explain's order; then parameter gradients
        expect(b.comments.slice(0, own.length), `${b.fn}, line ${b.line}`).toEqual(own);
        for (const c of b.comments.slice(own.length)) expect(params, `${b.fn}, line ${b.line}`).toContain(c);
        expect(new Set(b.comments).size).toBe(b.comments.length);
      }
      // every parameter's whole gradient is shown where some function accumulates it
      const shown = new Set(blocks.flatMap((b) => b.comments));
      for (const p of params) expect(shown, p).toContain(p);
    });

  it("mnist: sampleGradient's backward header of the hidden layer shows ∂L/∂h_z and the layer's gradients", async () => {
    const e = validModels().find((m) => m.key === "examples/mnist")!;
    const r = await compile(e.source, { file: e.path });
    const at = r.ts!.indexOf("function sampleGradient(");
    const block = r.ts!.slice(r.ts!.indexOf("// ── backward through line 6:", at)).split("\n").slice(0, 5);
    expect(block.map((l) => l.trim())).toEqual([
      "// ── backward through line 6: layer h = dense(x, 128, relu)",
      "//    ∂L/∂h_z = 𝟙[h > 0] ⊙ ∂L/∂h",
      "//    ∂L/∂h.W = ∂L/∂h_z xᵀ",
      "//    ∂L/∂h.b = ∂L/∂h_z",
      "for (let i = 0; i < 128; i++) {",
    ]);
  });

  it("an equation too long to read is a note, in explain and the comments alike (a 2000-factor product)", () => {
    // its gradient is a sum of 2000 products of 1999 factors: printed whole, it overflowed the stack
    const { model } = check(`input x\nparam w\nloss x * ${Array(2000).fill("w").join(" * ")}\n`, { file: "p.nn" });
    const p = plan(model!);
    const note = `∂L/∂w = (an expression of more than ${MAX_EQUATION} characters: nnc explain --ir shows it as a graph)`;
    expect(explain(model!, p)).toContain(`\n  ${note}    scalar\n`);
    const sampleGradient = p.functions.find((f) => f.name === "sampleGradient")!;
    expect([...sampleGradient.derivations.values()].flat()).toContain(note);
  });

  it("a derivation's text stays inside its comment, whatever it holds", () => {
    const { model } = check("input x[2]\ntarget t\nlayer h = dense(x, 2, tanh)\nloss (sum(h) - t)^2\n", { file: "m.nn" });
    const p = plan(model!);
    const hostile = ["a\nglobalThis.pwned = 1", "b\r\nthrow 1", "c\u2028throw 2", "d\u2029throw 3", "*/ throw 4 /*"];
    const functions = p.functions.map((f) => ({ ...f, derivations: new Map([[3, hostile]]) }));
    const ts = emitModule(model!, { ...p, functions }, { file: "m.nn", unroll: 64, version: VERSION });
    const lines = ts.split(/\r\n|[\r\n\u2028\u2029]/).map((l) => l.trim());
    expect(lines).toContain("//    a globalThis.pwned = 1");
    expect(lines).toContain("//    *\/ throw 4 /*");
    expect(lines).toContain("//    b  throw 1");
    for (const l of lines) if (/pwned|throw \d/.test(l)) expect(l).toMatch(/^\/\/ {4}/);
  });
});
