/**
 * `--emit js`: the formatted TypeScript module compiled to an ES module plus its declarations,
 * with ts-morph (which also proves that the emitted module type-checks under `strict`).
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

/** Type-checks a module under `strict`; returns the messages (empty when it is well typed). */
export function typeCheck(code: string, fileName = "model.ts"): TypeCheckResult {
  const p = project();
  const sf = p.createSourceFile(fileName, code);
  const diags = p.getPreEmitDiagnostics().filter((d) => d.getSourceFile()?.getFilePath() === sf.getFilePath());
  return { errors: diags.map((d) => `${d.getLineNumber() ?? 0}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as never, "\n")}`) };
}

/** The module as JavaScript and declarations. */
export function emitJs(code: string, baseName: string): { js: string; dts: string } {
  const p = project();
  p.createSourceFile(`${baseName}.ts`, code);
  const out = p.emitToMemory();
  let js = "";
  let dts = "";
  for (const f of out.getFiles()) {
    if (f.filePath.endsWith(".d.ts")) dts = f.text;
    else if (f.filePath.endsWith(".js")) js = f.text;
  }
  return { js, dts };
}
