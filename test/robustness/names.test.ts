/**
 * Names cannot inject code (section 8 of the language). Source identifiers that collide with
 * JavaScript/TypeScript reserved words, Object.prototype members, globals or the module's own
 * names, in every role (input, target, param, const, equation, layer, output, model), compile to
 * modules that load, type-check and have a correct gradient — or are rejected with a diagnostic.
 * Hostile file names become the default model name exactly, as a string and never as code;
 * line terminators and comment closers in the source stay inside comments.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as acorn from "acorn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transpile, typeCheck } from "../helpers/type-check.js";
import { renderDiagnostics } from "../../compiler/diagnostics/render.js";
import { compile } from "../../compiler/pipeline.js";
import { gradCheck } from "../../runtime/gradcheck.js";
import { loadModule, type CompiledModule } from "../../runtime/load-module.js";
import { hasStackTrace, requireBuiltCli, runCli } from "../helpers/cli.js";
import { hvCheck } from "../helpers/hessian.js";
import { walk, type AnyNode } from "../helpers/acorn.js";

/** From the issue, then globals and names the emitted module itself uses. (`loss` is a keyword.) */
const HOSTILE = [
  ...["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "function", "class", "return", "this", "new"],
  ...["delete", "eval", "arguments", "Math", "Float64Array", "params", "grad", "n", "random", "predict", "meta"],
  ...["undefined", "NaN", "Infinity", "Object", "prototype", "globalThis", "require", "await", "yield", "let", "enum"],
  ...["import", "export", "super", "static", "interface", "type", "any", "createParams", "createRandom", "fillNormal"],
  ...["scaleAll", "predictions", "samplePredict", "sampleGradient", "count", "inputs", "targets", "outputs", "seed"],
  ...["i", "j", "acc", "tmp", "lse", "mask", "L", "R", "x_0", "w_buf", "Params", "Inputs", "ParamName"],
  ...["lr", "step", "d", "s", "lanes", "sgdStep", "sgdApply", "sampleSgdStep", "evaluateBatch", "lse_exp_0", "lse_sum"],
  ...["v", "out", "v_W", "Hv_W", "R_h", "hessianVectorProduct", "sampleHessianVector", "regularizerHessianVector"],
];
/** rejected by design: in an object literal `__proto__: v` would set the prototype */
const REJECTED = new Set(["__proto__"]);
const ACCEPTED = HOSTILE.filter((n) => !REJECTED.has(n));

type Role = "input" | "target" | "param" | "const" | "equation" | "layer" | "output" | "model";
const ROLES: readonly Role[] = ["input", "target", "param", "const", "equation", "layer", "output", "model"];

/** A model using each of `names` in `role` (the helper names x, t, w, h, o, y are not hostile). */
function model(role: Role, names: readonly string[]): string {
  const L: string[] = [];
  const sum = (terms: string[]) => terms.join(" + ");
  switch (role) {
    case "input":
      L.push(...names.map((N) => `input ${N}[2]`), "target t", "param w[2] ~ normal(0, 1)");
      L.push(`loss (${sum(names.map((N) => `dot(w, ${N})`))} - t)^2`);
      break;
    case "target":
      L.push("input x[2]", ...names.map((N) => `target ${N}`), "param w[2] ~ normal(0, 1)");
      L.push(`loss ${sum(names.map((N) => `(dot(w, x) - ${N})^2`))}`);
      break;
    case "param":
      L.push("input x[2]", "target t", ...names.map((N) => `param ${N}[2] ~ normal(0, 1)`));
      L.push(`loss (${sum(names.map((N) => `dot(${N}, x)`))} - t)^2`);
      break;
    case "const":
      L.push(...names.map((N, k) => `const ${N} = ${k + 2}`), `input x[${names[0]}]`, "target t", `param w[${names[0]}] ~ normal(0, 1)`);
      L.push(`loss (dot(w, x) - t)^2 * (${sum([...names])}) / 1000`);
      break;
    case "equation":
      L.push("input x[2]", "target t", "param w[2] ~ normal(0, 1)");
      names.forEach((N, k) => L.push(`${N} = ${k === 0 ? "dot(w, x)" : `tanh(${names[k - 1]}) + 0.5 * ${names[k - 1]}`}`));
      L.push(`y = ${names[names.length - 1]} * 2`, "output y", "loss (y - t)^2");
      break;
    case "layer":
      L.push("input x[2]", "target t");
      names.forEach((N, k) => L.push(`layer ${N} = dense(${k === 0 ? "x" : names[k - 1]}, 2, tanh)`));
      L.push(`layer o = dense(${names[names.length - 1]}, 1, sigmoid)`, "y = o[0]", "output y", "loss binary_cross_entropy(y, t)");
      break;
    case "output":
      L.push("input x[2]", "target t", "layer h = dense(x, 3, tanh)");
      names.forEach((N, k) => L.push(`${N} = sum(h) * ${k + 1}`));
      L.push(`output ${names.join(", ")}`, `loss (${sum([...names])} - t)^2`);
      break;
    case "model":
      L.push(`model ${names[0]}`, "input x[2]", "target t", "param w[2] ~ normal(0, 1)", "loss (dot(w, x) - t)^2");
      break;
  }
  return L.join("\n") + "\n";
}

/** What a module that used `name` in `role` must show of it. */
function checkSurface(mod: CompiledModule, role: Role, name: string): void {
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  switch (role) {
    case "input":
      expect(own(mod.meta.inputs, name)).toBe(true);
      break;
    case "target":
      expect(own(mod.meta.targets, name)).toBe(true);
      break;
    case "param":
      expect(own(mod.meta.params, name)).toBe(true);
      expect(own(mod.createParams(), name)).toBe(true);
      break;
    case "layer":
      expect(Object.keys(mod.createParams())).toEqual(expect.arrayContaining([`${name}.W`, `${name}.b`]));
      break;
    case "output": {
      expect(own(mod.meta.outputs, name)).toBe(true);
      const params = mod.createParams();
      mod.initParams(params, 1);
      const out = mod.predict(params, { x: Float64Array.of(0.3, -0.2) });
      expect(own(out, name)).toBe(true);
      expect(Number.isFinite(out[name] as number)).toBe(true);
      break;
    }
    case "model":
      expect(mod.meta.name).toBe(name);
      break;
    default:
      break;
  }
  // nothing leaked onto the prototypes
  expect(Object.keys(Object.prototype)).toEqual([]);
}

describe("hostile identifiers in every role", () => {
  for (const role of ROLES)
    it(`as ${role}: each name alone compiles, loads and has a correct gradient (or is rejected)`, async () => {
      const problems: string[] = [];
      for (const name of HOSTILE) {
        const source = model(role, [name]);
        const r = await compile(source, { file: "m.nn" });
        if (r.ts === null) {
          const text = renderDiagnostics("m.nn", source, r.diagnostics.sorted());
          if (!REJECTED.has(name) || !/^m\.nn:\d+:\d+: error NN2019: '__proto__' is a reserved word$/m.test(text)) problems.push(`${name}: rejected\n${text}`);
          continue;
        }
        if (REJECTED.has(name) && role !== "model") {
          problems.push(`${name}: accepted`);
          continue;
        }
        try {
          const mod = await loadModule(r.js!);
          checkSurface(mod, role, name);
          const g = gradCheck(mod);
          if (!(g.worst < 1e-6)) problems.push(`${name}: gradient check worst ${g.worst}`);
          const hv = hvCheck(mod);
          if (!(hv < 1e-6)) problems.push(`${name}: H·v check worst ${hv}`);
        } catch (e) {
          problems.push(`${name}: ${(e as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
    });

  for (const role of ROLES.filter((r) => r !== "model"))
    it(`as ${role}: all accepted names in one model type-check under strict`, async () => {
      const r = await compile(model(role, ACCEPTED), { file: "all.nn" });
      expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
      expect(typeCheck(r.ts!).errors).toEqual([]);
      const mod = await loadModule(r.js!);
      for (const name of ACCEPTED) checkSurface(mod, role, name);
      expect(gradCheck(mod).worst).toBeLessThan(1e-6);
      expect(hvCheck(mod)).toBeLessThan(1e-6);
    });
});

// ── hostile file names ────────────────────────────────────────────────



const PAYLOAD = "globalThis.nncPwned = 1";
const STEMS = [
  'a"b',
  "a'b",
  "a`b",
  "a${b}c",
  "${" + PAYLOAD + "}",
  "$",
  "a$b",
  "a*/b",
  "*/ " + PAYLOAD + " /*",
  "a\nb",
  "a\rb",
  "a\r\nb",
  "a\u2028b",
  "a\u2029b",
  "\u2028" + PAYLOAD,
  "</script>",
  "<script>" + PAYLOAD + "</script>",
  "a\\b",
  "\\",
  "\\u0022",
  "x\n}); " + PAYLOAD + "; ({",
  '"; ' + PAYLOAD + "; //",
  "`; " + PAYLOAD + "; `",
  "🙂 model",
  " ",
  "-",
];
const MODEL = "input x[2]\ntarget t\nlayer h = dense(x, 3, tanh)\ny = sum(h)\noutput y\nloss (y - t)^2\n";
// the parameter, input, target and output names, and meta.precision
const EXPECTED_STRINGS = ["h.W", "h.b", "x", "t", "y", "f64"];
/** the strings every module holds whatever its names: the optimizers' vocabulary and messages */
let vocabulary: ReadonlySet<string> = new Set();
beforeAll(async () => {
  const neutral = await compile(MODEL, { file: "neutral.nn" });
  const program = acorn.parse(neutral.js!, { ecmaVersion: "latest", sourceType: "module" });
  vocabulary = new Set([...walk(program)].filter((n) => n.type === "Literal" && typeof n.value === "string" && n.value !== "neutral").map((n) => n.value as string));
});
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Static checks of a module's JavaScript: its string literals, identifiers and comments. */
function staticProblems(js: string, name: string): string[] {
  const problems: string[] = [];
  const comments: acorn.Comment[] = [];
  const program = acorn.parse(js, { ecmaVersion: "latest", sourceType: "module", onComment: comments });
  const allowed = new Set([...EXPECTED_STRINGS, ...vocabulary, name]);
  for (const n of walk(program)) {
    if (n.type === "Literal" && typeof n.value === "string" && !allowed.has(n.value)) problems.push(`string literal ${JSON.stringify(n.value)}`);
    if (n.type === "TemplateElement") problems.push(`template literal ${JSON.stringify((n.value as { raw: string }).raw)}`);
    if (n.type === "Identifier" || n.type === "PrivateIdentifier") {
      const id = n.name as string;
      if (!IDENT.test(id)) problems.push(`identifier ${JSON.stringify(id)}`);
      if (id === name || id === "nncPwned") problems.push(`identifier equal to the hostile text ${JSON.stringify(id)}`);
    }
  }
  // the name reaches the module as exactly one string literal (meta.name)
  const nameLiterals = [...walk(program)].filter((n) => n.type === "Literal" && n.value === name).length;
  if (!EXPECTED_STRINGS.includes(name) && !vocabulary.has(name) && nameLiterals !== 1) problems.push(`${nameLiterals} literals of the name`);
  for (const c of comments) if (c.type === "Block" && c.value.includes("nncPwned")) problems.push(`block comment ${JSON.stringify(c.value)}`);
  return problems;
}

describe("hostile file names become the model name, as a string", () => {
  for (const stem of STEMS)
    it(`compile() with the stem ${JSON.stringify(stem)}`, async () => {
      // a name with '/' cannot be a file's: it is given as defaultName (what the stem becomes)
      const options = stem.includes("/") ? { file: "hostile.nn", defaultName: stem } : { file: `models/${stem}.nn` };
      const r = await compile(MODEL, options);
      expect(r.ts).not.toBeNull();
      const mod = await loadModule(r.js!);
      expect(mod.meta.name).toBe(stem);
      expect((globalThis as Record<string, unknown>).nncPwned).toBeUndefined();
      expect(staticProblems(r.js!, stem)).toEqual([]);
      expect(typeCheck(r.ts!).errors).toEqual([]);
      expect(gradCheck(mod).worst).toBeLessThan(1e-6);
    });
});

describe("hostile file names through the built CLI", () => {
  let dir = "";
  beforeAll(() => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), "nnc-names-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** --emit js (the compiler's JavaScript and .d.ts, formatted): a few stems take that path too */
  const EMIT_JS = new Set(['a"b', "a${b}c", "a\nb", "a\u2028b", "a\\b", "x\n}); " + PAYLOAD + "; ({"]);

  // every stem a Linux file name can hold (not '/'; a newline is allowed)
  for (const stem of STEMS.filter((s) => !s.includes("/")))
    it(`a file named ${JSON.stringify(stem + ".nn")}${EMIT_JS.has(stem) ? ", also with --emit js" : ""}`, async () => {
      const file = `${stem}.nn`;
      writeFileSync(join(dir, file), MODEL);
      // './' keeps a name that starts with '-' from reading as an option
      const r = runCli(["compile", `./${file}`], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(hasStackTrace(r.stderr)).toBe(false);
      const out = join(dir, `${stem}.ts`);
      expect(existsSync(out)).toBe(true);
      const ts = readFileSync(out, "utf8");
      const mod = await loadModule(transpile(ts));
      expect(mod.meta.name).toBe(stem);
      expect(staticProblems(transpile(ts), stem)).toEqual([]);
      rmSync(out);
      if (!EMIT_JS.has(stem)) return rmSync(join(dir, file));

      const j = runCli(["compile", `./${file}`, "--emit", "js"], dir);
      expect(j.status, j.stderr).toBe(0);
      const js = readFileSync(join(dir, `${stem}.js`), "utf8");
      expect(existsSync(join(dir, `${stem}.d.ts`))).toBe(true);
      const jsMod = (await import(`data:text/javascript;base64,${Buffer.from(js).toString("base64")}`)) as CompiledModule;
      expect(jsMod.meta.name).toBe(stem);
      expect(staticProblems(js, stem)).toEqual([]);
      expect((globalThis as Record<string, unknown>).nncPwned).toBeUndefined();
      for (const f of [file, `${stem}.js`, `${stem}.d.ts`]) rmSync(join(dir, f));
    });
});

// ── source text copied into comments ─────────────────────────────────

describe("source text in comments cannot break out", () => {
  const SOURCES: Record<string, string> = {
    "U+2028, U+2029, */ and CR in # comments": [
      "input x[2]  # \u2028" + PAYLOAD + " */ " + PAYLOAD + " /*",
      "target t    # \u2029" + PAYLOAD,
      "layer h = dense(x, 3, tanh)  # \r" + PAYLOAD + "\r",
      "y = sum(h)  # */\u2028*/\r\n",
      "output y",
      "loss (y - t)^2  # \u2028}); " + PAYLOAD + "; ({",
    ].join("\n"),
    "lone CR inside statements": ["input x[2]", "target t", "layer h = dense(x,\r 3,\rtanh)", "y = sum(h)\r*\r1", "output y", "loss (y -\r t)^2\r"].join("\n"),
    "CRLF line ends": MODEL.replace(/\n/g, "\r\n"),
    "U+2028 and */ in train strings": [MODEL.trimEnd(), "train {", `  data "a\u2028b */ ${PAYLOAD.replace(/"/g, "")}.csv"`, "  batch 4", "}"].join("\n"),
  };
  for (const [what, source] of Object.entries(SOURCES))
    it(what, async () => {
      const r = await compile(source, { file: "c.nn" });
      expect(r.diagnostics.list.filter((d) => d.severity === "error")).toEqual([]);
      const ts = r.ts!;
      for (const line of ts.split("\n")) if (line.trimStart().startsWith("//")) expect(line).not.toMatch(/[\r\u2028\u2029]/);
      expect(staticProblems(transpile(ts), "c")).toEqual([]);
      expect(typeCheck(ts).errors).toEqual([]);
      const mod = await loadModule(transpile(ts));
      expect((globalThis as Record<string, unknown>).nncPwned).toBeUndefined();
      expect(Object.keys(mod).sort()).toEqual(
        [
          "createParams", "createRandom", "evaluateBatch", "gradient", "gradientBatch", "gradientBatchTrain", "gradientTrain", "initParams",
          "loss", "lossBatch", "lossBatchTrain", "lossTrain", "meta", "predict", "predictBatch", "predictBatchTrain", "predictTrain", "sgdStep",
          "createOptimizerState", "optimizerStep", "hessianVectorProduct", "hessianVectorProductBatch", "regularizer",
        ].sort(),
      );
      expect(gradCheck(mod).worst).toBeLessThan(1e-6);
    });
});
