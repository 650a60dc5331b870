import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../compiler/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import type { Span } from "../../compiler/diagnostics/span.js";
import type { Expr, Program, Stmt, TrainBlock } from "../../compiler/syntax/ast.js";
import { lex } from "../../compiler/syntax/lexer.js";
import { MAX_NESTING, parse } from "../../compiler/syntax/parser.js";

const ROOT = join(import.meta.dirname, "..", "..");

function parseWith(source: string): { program: Program; diags: Diagnostics } {
  const diags = new Diagnostics();
  const program = parse(source, diags);
  return { program, diags };
}

/** Parses a source that must have no diagnostics. */
function ok(source: string): Program {
  const { program, diags } = parseWith(source);
  expect(renderDiagnostics("t.nn", source, diags.sorted())).toBe("");
  return program;
}

function codes(source: string): string[] {
  return parseWith(source).diags.sorted().map((d) => d.code);
}

/** The one expression of `y = <expr>`. */
function exprOf(source: string): Expr {
  const stmt = ok(`y = ${source}`).statements[0];
  if (stmt?.kind !== "equation") throw new Error(`not an equation: ${stmt?.kind}`);
  return stmt.value;
}

/** An expression as an S-expression, to check structure at a glance. */
function sexp(e: Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "string":
      return JSON.stringify(e.value);
    case "name":
      return e.name;
    case "unary":
      return `(${e.op} ${sexp(e.operand)})`;
    case "binary":
      return `(${e.op} ${sexp(e.left)} ${sexp(e.right)})`;
    case "call":
      return `(${e.callee.name}${e.args.map((a) => " " + (a.name ? `${a.name.name}=` : "") + sexp(a.value)).join("")})`;
    case "index":
      return `([] ${sexp(e.target)}${e.indices.map((i) => " " + sexp(i)).join("")})`;
    case "range":
      return `(: ${e.start ? sexp(e.start) : "_"} ${e.stop ? sexp(e.stop) : "_"})`;
    case "error":
      return "<error>";
  }
}

const slice = (source: string, s: Span): string => source.slice(s.start, s.end);

function train(program: Program): TrainBlock {
  const t = program.statements.find((s): s is TrainBlock => s.kind === "train");
  if (!t) throw new Error("no train block");
  return t;
}

// The four examples of section 9 of the language.
const EXAMPLES: Record<string, { source: string; kinds: Stmt["kind"][] }> = {
  logistic: {
    source: `# regularized logistic least squares: the scalar computation graph of the lecture notes
input x
target t
param w ~ normal(0, 0.1)
param b
const lambda = 0.01
z = w * x + b
y = sigmoid(z)
L = 0.5 * (y - t)^2
R = 0.5 * w^2
loss L + lambda * R
`,
    kinds: ["input", "target", "param", "param", "const", "equation", "equation", "equation", "equation", "loss"],
  },
  xor: {
    source: `# XOR with a hidden layer
input x[2]
target t
layer h = dense(x, 4, tanh)
layer o = dense(h, 1, sigmoid)
y = o[0]
output y
loss binary_cross_entropy(y, t)
train { optimizer sgd(lr = 0.5); epochs 2000; batch 4 }
`,
    kinds: ["input", "target", "layer", "layer", "equation", "output", "loss", "train"],
  },
  digits: {
    source: `# handwritten digits (8x8), softmax classifier with weight decay
input x[64]
target t[10]
layer h = dense(x, 32, relu)
layer y = dense(h, 10, softmax)
const lambda = 1e-4
loss cross_entropy(y, t) + lambda * 0.5 * (sumsq(h.W) + sumsq(y.W))
train { optimizer adam(lr = 0.001); batch 32; epochs 30; early_stopping(patience = 5) }
`,
    kinds: ["input", "target", "layer", "layer", "const", "loss", "train"],
  },
  regression: {
    source: `# regression with a learned noise level
input x[1]
target t[1]
param sigma ~ constant(1)
layer h = dense(x, 16, elu)
layer mu = dense(h, 1, identity)
loss gaussian_nll(mu, t, sigma)
`,
    kinds: ["input", "target", "param", "layer", "layer", "loss"],
  },
};

describe("lexer", () => {
  it("produces the token kinds of the language", () => {
    const diags = new Diagnostics();
    const toks = lex('param W1[4, 2] ~ xavier # comment\r\n\n\nloss a@b^-c/d; "x\\"y" .5 2.5E+3 1e-4', diags);
    expect(diags.list).toEqual([]);
    expect(toks.map((t) => (t.kind === t.text || t.text === "" ? t.kind : `${t.kind}:${t.text}`))).toEqual([
      "keyword:param", "ident:W1", "[", "number:4", ",", "number:2", "]", "~", "ident:xavier", "newline:\r\n",
      "keyword:loss", "ident:a", "@", "ident:b", "^", "-", "ident:c", "/", "ident:d", ";",
      'string:"x\\"y"', "number:.5", "number:2.5E+3", "number:1e-4", "eof",
    ]);
    expect(toks.filter((t) => t.kind === "number").map((t) => t.value)).toEqual([4, 2, 0.5, 2500, 1e-4]);
  });

  it("reports malformed numbers, bad characters and unterminated strings, and goes on", () => {
    const diags = new Diagnostics();
    const toks = lex('a = 1e + 1.2.3 $ b\ns = "abc\nt = 1', diags);
    expect(diags.sorted().map((d) => [d.code, d.message])).toEqual([
      ["NN1003", "malformed number '1e'"],
      ["NN1003", "malformed number '1.2.3'"],
      ["NN1001", "unexpected character '$'"],
      ["NN1002", "unterminated string literal"],
    ]);
    expect(toks.filter((t) => t.kind === "number").map((t) => t.text)).toEqual(["1e", "1.2.3", "1"]);
    expect(toks.some((t) => t.kind === "ident" && t.text === "t")).toBe(true);
  });
});

describe("parser: whole files", () => {
  for (const [name, { source, kinds }] of Object.entries(EXAMPLES)) {
    it(`parses the ${name} example of section 9 with no diagnostics`, () => {
      const program = ok(source);
      expect(program.statements.map((s) => s.kind)).toEqual(kinds);
      for (const s of program.statements) expect(slice(source, s.span)).not.toMatch(/^\s|\s$/);
    });
  }

  it("parses every shipped example with no diagnostics", () => {
    const dir = join(ROOT, "examples");
    const files = readdirSync(dir).filter((f) => f.endsWith(".nn"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) ok(readFileSync(join(dir, f), "utf8"));
  });

  it("parses the declarations of the logistic example into their parts", () => {
    const [input, target, w, b, lambda, z] = ok(EXAMPLES.logistic!.source).statements;
    expect(input).toMatchObject({ kind: "input", name: { name: "x" }, dims: [] });
    expect(target).toMatchObject({ kind: "target", name: { name: "t" }, dims: [] });
    expect(w?.kind === "param" && w.init ? sexp(w.init) : null).toBe("(normal 0 0.1)");
    expect(b).toMatchObject({ kind: "param", name: { name: "b" }, dims: [], init: null });
    expect(lambda).toMatchObject({ kind: "const", name: { name: "lambda" }, value: { kind: "number", value: 0.01 } });
    expect(z?.kind === "equation" ? sexp(z.value) : null).toBe("(+ (* w x) b)");
  });

  it("parses dimensions, initializers, layers, outputs and model names", () => {
    const src = "model net\ninput x[2, 3]\nparam W[4, 2] ~ xavier\nparam c ~ constant(-1)\nlayer h = dense(x, 4, tanh, init = xavier)\noutput y, p";
    const [model, x, W, c, h, out] = ok(src).statements;
    expect(model).toMatchObject({ kind: "model", name: { name: "net" } });
    expect(x?.kind === "input" ? x.dims.map(sexp) : null).toEqual(["2", "3"]);
    expect(W?.kind === "param" ? [W.dims.map(sexp), W.init && sexp(W.init)] : null).toEqual([["4", "2"], "xavier"]);
    expect(c?.kind === "param" && c.init ? sexp(c.init) : null).toBe("(constant (- 1))");
    expect(h?.kind === "layer" ? sexp(h.value) : null).toBe("(dense x 4 tanh init=xavier)");
    expect(out?.kind === "output" ? out.names.map((n) => n.name) : null).toEqual(["y", "p"]);
  });

  it("accepts blank lines, comments, `;` separators and CRLF line ends", () => {
    const program = ok("\n\n# c\ninput x ; target t   # trailing\r\n\r\n  z = x + t;;\r\nloss z");
    expect(program.statements.map((s) => s.kind)).toEqual(["input", "target", "equation", "loss"]);
  });

  it("returns zero statements for an empty or comment-only file", () => {
    for (const src of ["", "\n\n", "# just a comment", "# a\n\n   # b\r\n"]) {
      const { program, diags } = parseWith(src);
      expect(program.statements).toEqual([]);
      expect(diags.list).toEqual([]);
      expect(program.span).toEqual({ start: 0, end: src.length });
    }
  });
});

describe("parser: expressions", () => {
  it("binds ^ tighter than unary minus", () => {
    const e = exprOf("-x^2");
    expect(e.kind).toBe("unary");
    expect(e.kind === "unary" && e.operand.kind).toBe("binary");
    expect(sexp(e)).toBe("(- (^ x 2))");
  });

  it("follows the precedence table", () => {
    expect(sexp(exprOf("a + b * c @ d"))).toBe("(+ a (@ (* b c) d))");
    expect(sexp(exprOf("a - b - c"))).toBe("(- (- a b) c)");
    expect(sexp(exprOf("a / b * c"))).toBe("(* (/ a b) c)");
    expect(sexp(exprOf("(a + b) * c"))).toBe("(* (+ a b) c)");
    expect(sexp(exprOf("-a * b"))).toBe("(* (- a) b)");
    expect(sexp(exprOf("W1 @ x + b1"))).toBe("(+ (@ W1 x) b1)");
    expect(sexp(exprOf("0.5 * (y - t)^2"))).toBe("(* 0.5 (^ (- y t) 2))");
    expect(sexp(exprOf("- - +a"))).toBe("(- (- (+ a)))");
  });

  it("takes a unary operand on the right of ^, and is right associative", () => {
    expect(sexp(exprOf("2^-1"))).toBe("(^ 2 (- 1))");
    expect(sexp(exprOf("a^b^c"))).toBe("(^ a (^ b c))");
    expect(sexp(exprOf("v[0]^2"))).toBe("(^ ([] v 0) 2)");
    expect(sexp(exprOf("f(x)^2"))).toBe("(^ (f x) 2)");
  });

  it("parses calls, keyword arguments, indexing and literals", () => {
    expect(sexp(exprOf("leaky_relu(a, alpha = 0.01)"))).toBe("(leaky_relu a alpha=0.01)");
    expect(sexp(exprOf("f()"))).toBe("(f)");
    expect(sexp(exprOf("A[i, j] + v[1]"))).toBe("(+ ([] A i j) ([] v 1))");
    expect(sexp(exprOf("softmax(v)[0]"))).toBe("([] (softmax v) 0)");
    expect(sexp(exprOf(".5 + 1e-4 + 2.5E+3"))).toBe("(+ (+ 0.5 0.0001) 2500)");
    expect(sexp(exprOf('"a\\"b\\\\c"'))).toBe(JSON.stringify('a"b\\c'));
  });

  it("parses slices: start:stop, open ends, ':' alone, mixed with indices (§11)", () => {
    expect(sexp(exprOf("x[0, 0:14, :]"))).toBe("([] x 0 (: 0 14) (: _ _))");
    expect(sexp(exprOf("c1.W[:, :, 0, 0]"))).toBe("([] c1.W (: _ _) (: _ _) 0 0)");
    expect(sexp(exprOf("v[2:, :n + 1]"))).toBe("([] v (: 2 _) (: _ (+ n 1)))");
    expect(codes("y = x[0:2:3]")).toEqual(["NN1004"]);
  });

  it("makes a dotted name one NameRef", () => {
    const e = exprOf("sumsq(h.W) + h.b");
    expect(sexp(e)).toBe("(+ (sumsq h.W) h.b)");
    const right = e.kind === "binary" ? e.right : null;
    expect(right).toEqual({ kind: "name", name: "h.b", span: { start: 17, end: 20 } });
  });

  it("gives every node the exact span of its text", () => {
    const src = "loss cross_entropy(y, t) + lambda * 0.5 * (sumsq(h.W) + sumsq(y.W))";
    const stmt = ok(src).statements[0];
    if (stmt?.kind !== "loss") throw new Error("expected loss");
    expect(slice(src, stmt.span)).toBe(src);
    const e = stmt.value;
    expect(slice(src, e.span)).toBe("cross_entropy(y, t) + lambda * 0.5 * (sumsq(h.W) + sumsq(y.W))");
    if (e.kind !== "binary") throw new Error("expected binary");
    expect(slice(src, e.opSpan)).toBe("+");
    expect(slice(src, e.left.span)).toBe("cross_entropy(y, t)");
    expect(slice(src, e.right.span)).toBe("lambda * 0.5 * (sumsq(h.W) + sumsq(y.W))");
    if (e.right.kind !== "binary" || e.left.kind !== "call") throw new Error("shape");
    expect(slice(src, e.right.right.span)).toBe("(sumsq(h.W) + sumsq(y.W))");
    expect(slice(src, e.left.callee.span)).toBe("cross_entropy");
    expect(e.left.args.map((a) => slice(src, a.span))).toEqual(["y", "t"]);

    const src2 = "layer h = dense(x, 4, tanh, init = xavier)\nparam W[4, 2] ~ normal(0, 0.1)\ny = -o[0]^2";
    const [layer, param, eq] = ok(src2).statements;
    expect([layer, param, eq].map((s) => slice(src2, s!.span))).toEqual([
      "layer h = dense(x, 4, tanh, init = xavier)",
      "param W[4, 2] ~ normal(0, 0.1)",
      "y = -o[0]^2",
    ]);
    if (layer?.kind !== "layer" || layer.value.kind !== "call") throw new Error("shape");
    expect(slice(src2, layer.name.span)).toBe("h");
    expect(layer.value.args.map((a) => slice(src2, a.span))).toEqual(["x", "4", "tanh", "init = xavier"]);
    if (eq?.kind !== "equation" || eq.value.kind !== "unary" || eq.value.operand.kind !== "binary") throw new Error("shape");
    expect(slice(src2, eq.value.operand.span)).toBe("o[0]^2");
    expect(slice(src2, eq.value.operand.left.span)).toBe("o[0]");
  });
});

describe("parser: train block", () => {
  it("parses a one-line block", () => {
    const src = "train { optimizer sgd(lr = 0.5); epochs 2000; batch 4 }";
    const t = train(ok(src));
    expect(slice(src, t.span)).toBe(src);
    expect(t.settings.map((s) => [s.key.name, s.value && sexp(s.value), s.args])).toEqual([
      ["optimizer", "(sgd lr=0.5)", null],
      ["epochs", "2000", null],
      ["batch", "4", null],
    ]);
    expect(t.settings.map((s) => slice(src, s.span))).toEqual(["optimizer sgd(lr = 0.5)", "epochs 2000", "batch 4"]);
  });

  it("parses a multi-line block with every kind of setting", () => {
    const src = `input x
train {
  data       "data/digits-train.csv"  # relative to the .nn file
  validation "data/digits-test.csv"
  optimizer adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)
  schedule  cosine
  schedule  step(every = 30, factor = 0.1)

  batch     32; epochs 20
  early_stopping(patience = 5)
  split 0.2
  shuffle
}
loss x`;
    const program = ok(src);
    expect(program.statements.map((s) => s.kind)).toEqual(["input", "train", "loss"]);
    const t = train(program);
    expect(t.settings.map((s) => s.key.name)).toEqual([
      "data", "validation", "optimizer", "schedule", "schedule", "batch", "epochs", "early_stopping", "split", "shuffle",
    ]);
    const [data, , opt, cosine, step, batch, , early, split, shuffle] = t.settings;
    expect(data?.value).toMatchObject({ kind: "string", value: "data/digits-train.csv" });
    expect(opt?.value?.kind).toBe("call");
    expect(opt?.value && sexp(opt.value)).toBe("(adam lr=0.001 beta1=0.9 beta2=0.999 eps=1e-8)");
    expect(cosine?.value).toMatchObject({ kind: "name", name: "cosine" });
    expect(step?.value && sexp(step.value)).toBe("(step every=30 factor=0.1)");
    expect(batch?.value).toMatchObject({ kind: "number", value: 32 });
    expect(early?.value).toBeNull();
    expect(early?.args?.map((a) => [a.name?.name, sexp(a.value)])).toEqual([["patience", "5"]]);
    expect(split?.value).toMatchObject({ kind: "number", value: 0.2 });
    expect(shuffle).toMatchObject({ args: null, value: null });
    expect(slice(src, t.span).startsWith("train {")).toBe(true);
    expect(slice(src, t.span).endsWith("}")).toBe(true);
  });

  it("accepts the brace on the next line", () => {
    const t = train(ok("train\n{\n  epochs 3\n}"));
    expect(t.settings.map((s) => s.key.name)).toEqual(["epochs"]);
  });

  it("reports a missing '}' and parses the statements after it", () => {
    const src = "train {\n  epochs 3\nloss x\n";
    const { program, diags } = parseWith(src);
    expect(renderDiagnostics("t.nn", src, diags.sorted())).toMatch(/^t\.nn:1:7: error NN1008: unterminated 'train' block/);
    expect(diags.list.length).toBe(1);
    expect(program.statements.map((s) => s.kind)).toEqual(["train", "loss"]);
    expect(train(program).settings.map((s) => s.key.name)).toEqual(["epochs"]);
    expect(codes("train { epochs 3")).toEqual(["NN1008"]);
  });

  it("recovers inside the block, one error per setting", () => {
    const src = "train {\n  optimizer sgd(lr = )\n  epochs 3 4\n  7\n  batch 2\n}\nloss x";
    const { program, diags } = parseWith(src);
    expect(diags.sorted().map((d) => d.code)).toEqual(["NN1005", "NN1007", "NN1004"]);
    expect(program.statements.map((s) => s.kind)).toEqual(["train", "loss"]);
    expect(train(program).settings.map((s) => s.key.name)).toEqual(["optimizer", "epochs", "batch"]);
  });
});

describe("parser: errors and recovery", () => {
  it("reports every broken line once and keeps parsing", () => {
    const src = [
      "input x[2]", //            1
      "z = W1 @ * x", //          2: missing operand
      "foo bar", //               3: unknown statement
      "param W1[4, 2] ~ xavier", // 4
      "y = tanh(z))", //          5: trailing junk
      "loss sumsq(y)", //         6
    ].join("\n");
    const { program, diags } = parseWith(src);
    const rendered = renderDiagnostics("m.nn", src, diags.sorted());
    const heads = rendered.split("\n").filter((l) => l.startsWith("m.nn:"));
    expect(heads).toEqual([
      "m.nn:2:10: error NN1005: expected an expression, found '*'",
      "m.nn:3:1: error NN1006: unknown statement 'foo': expected a declaration, an equation 'name = expression', 'output', 'loss' or 'train'",
      "m.nn:5:12: error NN1007: expected the end of the statement, found ')'",
    ]);
    expect(rendered).toContain("  2 | z = W1 @ * x\n    |          ^\n");
    expect(program.statements.map((s) => s.kind)).toEqual(["input", "equation", "param", "equation", "loss"]);
    const z = program.statements[1];
    expect(z?.kind === "equation" ? sexp(z.value) : null).toBe("(* (@ W1 <error>) x)");
  });

  it("reports lexical errors without echoing them as syntax errors", () => {
    const src = "z = 3 $ 4\nw = 1.2.3 * x\ns = \"abc\nloss z";
    const { program, diags } = parseWith(src);
    expect(diags.sorted().map((d) => d.code)).toEqual(["NN1001", "NN1003", "NN1002"]);
    expect(program.statements.map((s) => s.kind)).toEqual(["equation", "equation", "equation", "loss"]);
  });

  it("uses readable token descriptions", () => {
    const msgs = (src: string) => parseWith(src).diags.sorted().map((d) => d.message);
    expect(msgs("y = f(a b)")).toEqual(["expected ',' or ')', found 'b'"]);
    expect(msgs("y = (a + b")).toEqual(["expected ')', found end of file"]);
    expect(msgs("y = (a + b\nloss y")).toEqual(["expected ')', found end of line"]);
    expect(msgs("input 3")).toEqual(["expected a name, found '3'"]);
    expect(msgs("const k 3")).toEqual(["expected '=', found '3'"]);
    expect(msgs('loss "x" +')).toEqual(["expected an expression, found end of file"]);
    expect(msgs("y = a b")).toEqual(["expected the end of the statement, found 'b'"]);
    expect(msgs("train epochs 3")).toEqual(["expected '{', found 'epochs'"]);
  });

  it("inserts ErrorExpr where an expression is missing", () => {
    const { program, diags } = parseWith("y = \nloss y");
    expect(diags.list.map((d) => d.code)).toEqual(["NN1005"]);
    const y = program.statements[0];
    expect(y?.kind === "equation" ? y.value.kind : null).toBe("error");
  });

  it("reports a reserved word used as a name and treats it as a name", () => {
    const { program, diags } = parseWith("y = loss + 1\nloss y");
    expect(diags.list.map((d) => [d.code, d.message])).toEqual([["NN2019", "'loss' is a reserved word"]]);
    const y = program.statements[0];
    expect(y?.kind === "equation" ? sexp(y.value) : null).toBe("(+ loss 1)");
    expect(codes("input = 3")).toEqual(["NN2019"]);
  });

  it("rejects a dotted parameter name", () => {
    const { program, diags } = parseWith("param h.W[2] ~ xavier");
    expect(diags.list.map((d) => [d.code, d.message])).toEqual([
      ["NN1009", "a parameter name with '.' is only created by 'layer'; write 'hW' without the dot, or declare a layer"],
    ]);
    expect(program.statements[0]).toMatchObject({ kind: "param", name: { name: "h.W" } });
  });

  it("does not cascade from a misspelled block keyword", () => {
    expect(codes("trian {\n  epochs 3\n  batch 4\n}\nloss x")).toEqual(["NN1006"]);
    expect(codes("trian { epochs 3; batch 4 }\nloss x")).toEqual(["NN1006"]);
  });
});

describe("parser: limits", () => {
  it("reports 3000 nested parentheses without overflowing the stack", () => {
    const src = `y = ${"(".repeat(3000)}x${")".repeat(3000)}\nloss y`;
    const { program, diags } = parseWith(src);
    expect(diags.list.map((d) => [d.code, d.message])).toEqual([
      ["NN5001", `expression nested too deeply (more than ${MAX_NESTING} levels)`],
    ]);
    expect(MAX_NESTING).toBe(256);
    expect(program.statements.map((s) => s.kind)).toEqual(["equation", "loss"]);
  });

  it("reports other deep nestings too", () => {
    expect(codes(`y = ${"-".repeat(3000)}x`)).toEqual(["NN5001"]);
    expect(codes(`y = ${"f(".repeat(3000)}x${")".repeat(3000)}`)).toEqual(["NN5001"]);
    expect(codes(`y = ${Array(3000).fill("a").join("^")}`)).toEqual(["NN5001"]);
    expect(codes(`y = ${"(".repeat(200)}x${")".repeat(200)}`)).toEqual([]);
  });

  it("parses a line with 5000 '+' terms", () => {
    const src = `y = ${Array.from({ length: 5001 }, (_, i) => `a${i}`).join(" + ")}`;
    const stmt = ok(src).statements[0];
    if (stmt?.kind !== "equation") throw new Error("expected equation");
    let e = stmt.value;
    let count = 0;
    while (e.kind === "binary") {
      expect(e.op).toBe("+");
      expect(e.right).toMatchObject({ kind: "name", name: `a${5000 - count}` });
      count++;
      e = e.left;
    }
    expect(count).toBe(5000);
    expect(e).toMatchObject({ kind: "name", name: "a0" });
    expect(slice(src, stmt.value.span)).toBe(src.slice(4));
  });
});
