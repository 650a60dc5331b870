#!/usr/bin/env node
/**
 * `npm run playground:build`: the playground as a static site in dist/playground/ (docs/playground.md).
 *
 *   index.html, style.css   copied from playground/
 *   main.js                 the page: CodeMirror, the loss chart, the digit pad
 *   compiler.js             a Web Worker: the compiler (compiler/pipeline.ts), prettier standalone
 *   worker.js               a Web Worker: training (runtime/train.ts and what it imports)
 *   examples.json           examples/*.nn and the data files they train on, embedded at build time
 *
 * Bundled by esbuild. The compiler and the runtime are imported from their sources unchanged; what
 * the compiler imports that a browser has not (node:path, node:fs, wabt; prettier's Node build) is
 * replaced by the plugin below, each replacement with the reason it is safe.
 */
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const defaultOut = join(root, "dist", "playground");

/** A module whose every named export throws when called: code that the page never runs may import it. */
const unavailable = (module, names) =>
  names
    .map((n) => `export function ${n}() { throw new Error("the playground runs in a browser: ${module}'s ${n} is not available there"); }`)
    .join("\n");

/**
 * What the compiler imports that a browser has not or the page does not ship. The runtime's core
 * imports nothing from `node:` (the page imports runtime/data/csv.ts, normalize.ts and subsets.ts,
 * not data/index.ts, whose file loaders read from disk). Every entry says which code imports it
 * and why that code never runs in the page; a function of a stub throws if it is ever called.
 */
const STUBS = {
  // compiler/pipeline.ts: baseName(file) → basename. The page's files are bare names ("xor.nn"),
  // so POSIX basename is exact.
  "node:path": `
    export function basename(p) { const s = p.replace(/\\/+$/, ""); return s.slice(s.lastIndexOf("/") + 1); }
    ${unavailable("node:path", ["dirname", "join", "resolve", "relative", "isAbsolute"])}`,
  // compiler/codegen/wasm/prebuilt.ts reads --target wasm's prebuilt kernels from disk, and
  // wasm/assemble.ts assembles them with wabt: the playground compiles --target ts only.
  "node:fs": unavailable("node:fs", ["readFileSync"]),
  wabt: `export default function wabtInit() { throw new Error("the playground compiles --target ts only: wabt is not bundled"); }`,
};

/**
 * compiler/codegen/format.ts imports "prettier" (on first use) and calls prettier.format(code,
 * options). In the page "prettier" is playground/src/prettier.ts: the
 * standalone build with its TypeScript and estree plugins, the same version (package.json pins it),
 * called with format.ts's own options — so the page formats byte for byte as `nnc compile` does.
 */
const browserModules = {
  name: "browser-modules",
  setup(b) {
    const names = Object.keys(STUBS).map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
    b.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => ({ path: args.path, namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({ contents: STUBS[args.path], loader: "js" }));
    b.onResolve({ filter: /^prettier$/ }, () => ({ path: join(root, "playground", "src", "prettier.ts") }));
  },
};

/** examples/*.nn and the data files their train blocks name (CSV, embedded as text). */
function examples() {
  const dir = join(root, "examples");
  const models = readdirSync(dir)
    .filter((f) => f.endsWith(".nn"))
    .sort()
    .map((file) => ({ file, source: readFileSync(join(dir, file), "utf8") }));
  // the data the playground can train on: the small CSV files (MNIST's 11 MB are not shipped to a page)
  const data = {};
  for (const name of ["xor.csv", "iris.csv", "iris-petals.csv", "digits-train.csv", "digits-test.csv", "breast_cancer.csv"]) data[`data/${name}`] = readFileSync(join(dir, "data", name), "utf8");
  return { models, data };
}

/** Builds the site into `out` (default dist/playground/, emptied first). */
export async function buildPlayground({ quiet = false, out = defaultOut } = {}) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    plugins: [browserModules],
    // the compiler's and the runtime's sources import "./x.js" for "./x.ts"
    resolveExtensions: [".ts", ".js", ".mjs"],
    legalComments: "none",
    logLevel: quiet ? "error" : "warning",
    metafile: true,
  };
  const results = await Promise.all([
    build({ ...common, entryPoints: [join(root, "playground", "src", "main.ts")], outfile: join(out, "main.js") }),
    build({ ...common, entryPoints: [join(root, "playground", "src", "compiler-worker.ts")], outfile: join(out, "compiler.js") }),
    build({ ...common, entryPoints: [join(root, "playground", "src", "train-worker.ts")], outfile: join(out, "worker.js") }),
  ]);
  for (const f of ["index.html", "style.css"]) copyFileSync(join(root, "playground", f), join(out, f));
  writeFileSync(join(out, "examples.json"), JSON.stringify(examples()));
  const sizes = Object.fromEntries(readdirSync(out).map((f) => [f, statSync(join(out, f)).size]));
  if (!quiet) for (const [f, n] of Object.entries(sizes)) console.log(`${f.padEnd(14)} ${(n / 1024).toFixed(1).padStart(8)} KiB`);
  return { dir: out, sizes, metafiles: results.map((r) => r.metafile) };
}

// the build is also imported by the tests and the screenshot script
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { dir } = await buildPlayground();
  console.log(`playground → ${dir}`);
}
