/** Running the built `nnc` command line (dist/compiler/cli.js) in a scratch directory. */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./corpus.js";

export const CLI = join(ROOT, "dist", "compiler", "cli.js");

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Throws a clear message when the CLI has not been built (npm test builds it before vitest). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI))
    throw new Error(`${CLI} does not exist: build the CLI first with \`npx tsc -p tsconfig.build.json\` (npm test does this before vitest)`);
}

/** Runs `node dist/compiler/cli.js ...args` in `cwd`; never throws on a non-zero exit. */
export function runCli(args: readonly string[], cwd: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NNC_DEBUG: "", NO_COLOR: "1" },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory holding copies of examples/*.nn. */
export function scratchWithExamples(prefix = "nnc-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of readdirSync(join(ROOT, "examples"))) if (f.endsWith(".nn")) copyFileSync(join(ROOT, "examples", f), join(dir, f));
  return dir;
}

/** True when the text contains a JavaScript stack frame ("    at f (file:1:2)"). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at \S.*(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m.test(text) || /\b(TypeError|ReferenceError|RangeError|SyntaxError):/.test(text);
}
