/**
 * The strict type check of emitted code, with ts-morph (a devDependency: the compiler emits its
 * JavaScript and declarations itself, codegen/lang.ts and codegen/declarations.ts).
 */
import { Project, ts } from "ts-morph";

export interface TypeCheckResult {
  readonly errors: readonly string[];
}

function project(): Project {
  return new Project({
    useInMemoryFileSystem: true,
    compilerOptions: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      declaration: true,
      noUncheckedIndexedAccess: false,
      lib: ["lib.es2022.d.ts"],
    },
  });
}

/** Type-checks a module under `strict`; returns the messages (empty when it is well typed).
 * `others` are more files of the same project (a module's .d.ts beside a consumer of it). */
export function typeCheck(code: string, fileName = "model.ts", others: Record<string, string> = {}): TypeCheckResult {
  const p = project();
  for (const [name, text] of Object.entries(others)) p.createSourceFile(name, text);
  const sf = p.createSourceFile(fileName, code);
  const diags = p.getPreEmitDiagnostics().filter((d) => d.getSourceFile()?.getFilePath() === sf.getFilePath());
  return { errors: diags.map((d) => `${d.getLineNumber() ?? 0}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as never, "\n")}`) };
}

/** TypeScript → JavaScript, for a test that loads a `.ts` module `nnc compile` wrote (the
 * compiler's own JavaScript is `compile(…).js`). */
export function transpile(code: string): string {
  return ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
}
