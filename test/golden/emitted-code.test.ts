/**
 * Static checks of every emitted module, in f64 and in f32 (--precision f32), on its JavaScript
 * parsed with acorn:
 *  - the hot functions (per-sample cores and the public entry points) allocate nothing: no `new`,
 *    no array or object literals, no closures, no template strings, no spread;
 *  - the only calls they make are to Math, to the module's own functions and to `fill`.
 */
import * as acorn from "acorn";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { validModels } from "../helpers/corpus.js";
import { walk, type AnyNode } from "../helpers/acorn.js";

const HOT =
  /^(sample(Predict|Loss|Gradient|Evaluate|SgdStep|HessianVector)(Train)?|regularizer(Loss|Gradient|HessianVector)|predict|predictBatch|evaluateBatch|loss|gradient|lossBatch|gradientBatch|hessianVectorProduct(Batch)?|sgdStep|sgdApply|optimizerStep|optimizerUpdate|[a-z]+Apply|inMemory|leaveMemory)(Train)?$/;
const ALLOCATING = new Set(["NewExpression", "ArrayExpression", "ObjectExpression", "ArrowFunctionExpression", "FunctionExpression", "TemplateLiteral", "SpreadElement"]);



function calleeName(call: AnyNode): string {
  const c = call.callee as AnyNode;
  if (c.type === "Identifier") return c.name as string;
  if (c.type === "MemberExpression") {
    const obj = c.object as AnyNode;
    const prop = c.property as AnyNode;
    return `${obj.type === "Identifier" ? (obj.name as string) : "<expr>"}.${prop.name as string}`;
  }
  return "<computed>";
}

describe.each([
  ["ts", "f64"],
  ["ts", "f32"],
  ["wasm", "f64"],
  ["wasm", "f32"],
] as const)("emitted code, --target %s --precision %s: the hot functions do not allocate", (target, precision) => {
  for (const e of validModels())
    it(e.path, async () => {
      const r = await compile(e.source, { file: e.path, target, precision });
      const program = acorn.parse(r.js!, { ecmaVersion: "latest", sourceType: "module" });
      const fns = [...walk(program)].filter((n) => n.type === "FunctionDeclaration" && HOT.test(((n.id as AnyNode).name as string) ?? ""));
      const own = new Set([...walk(program)].filter((n) => n.type === "FunctionDeclaration").map((n) => (n.id as AnyNode).name as string));
      expect(fns.length).toBeGreaterThanOrEqual(14);
      for (const hot of ["sampleEvaluate", "sampleSgdStep", "evaluateBatch", "predictTrain", "predictBatchTrain", "sgdStep", "optimizerStep", "sampleHessianVector", "hessianVectorProduct", "hessianVectorProductBatch"]) expect(fns.map((f) => (f.id as AnyNode).name)).toContain(hot);
      const problems: string[] = [];
      for (const f of fns) {
        const name = (f.id as AnyNode).name as string;
        for (const n of walk(f.body)) {
          if (ALLOCATING.has(n.type)) problems.push(`${name}: ${n.type}`);
          if (n.type === "CallExpression") {
            const callee = calleeName(n);
            // the wasm target calls its kernels, and copies arrays into and out of their memory with set
            const ok = callee.startsWith("Math.") || own.has(callee) || callee.endsWith(".fill") || callee === "random" || (target === "wasm" && (callee.startsWith("kernels.") || /^(a|stage)\.set$/.test(callee)));
            if (!ok) problems.push(`${name}: calls ${callee}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
});
