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
 * they import that a browser has not (Node's modules, the Node builds of prettier and TypeScript,
 * wabt, ts-morph) is replaced by the plugin below, each replacement with the reason it is safe.
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
 * What the compiler and the runtime import that does not exist in a browser. Until the runtime's
 * core imports nothing from `node:` (issue #15, part 2, branch `lean`), these stand in; every entry
 * says which code imports it and why that code never runs in the page.
 */
const STUBS = {
  // compiler/pipeline.ts: baseName(file) → basename. The page's files are bare names ("xor.nn"),
  // so POSIX basename is exact. runtime/data/index.ts's dirname/join name files on disk: not called.
  "node:path": `
    export function basename(p) { const s = p.replace(/\\/+$/, ""); return s.slice(s.lastIndexOf("/") + 1); }
    ${unavailable("node:path", ["dirname", "join", "resolve", "relative", "isAbsolute"])}`,
  // runtime/data/files.ts, data/index.ts, weights.ts, threads/pool.ts: reading files from disk;
  // compiler/io.ts (imported by weights.ts for saveWeights): writing them. The page parses embedded
  // CSV text with parseCsv and makes the weights file with toWeightsFile and JSON.stringify.
  "node:fs": `export const constants = {};\n${unavailable("node:fs", [
    "accessSync", "closeSync", "existsSync", "fstatSync", "fsyncSync", "openSync", "readdirSync", "readFileSync", "readSync", "renameSync", "statSync", "unlinkSync", "writeSync",
  ])}`,
  // runtime/data/files.ts: gzip for .csv.gz and IDX files; the embedded data is plain CSV.
  // (files.ts reads zlib.crc32 at call time, inside a function the page never calls.)
  "node:zlib": `export const constants = {};\n${unavailable("node:zlib", ["gunzipSync", "crc32"])}`,
  // runtime/data/csv.ts: StringDecoder decodes CSV bytes streamed from a file (csvBytesParser);
  // the page uses parseCsv on text.
  "node:string_decoder": `export class StringDecoder { constructor() { throw new Error("the playground runs in a browser: node:string_decoder is not available there"); } }`,
  // runtime/train.ts: pathToFileURL for options.moduleUrl with threads > 1; the worker trains on one
  // thread. runtime/threads/pool.ts: fileURLToPath, for the same threads.
  "node:url": unavailable("node:url", ["pathToFileURL", "fileURLToPath"]),
  // runtime/threads/pool.ts: node:worker_threads for train({ threads > 1 }); never constructed here.
  "node:worker_threads": `export const isMainThread = true; export const workerData = null;\nexport class Worker { constructor() { throw new Error("the playground runs in a browser: node:worker_threads is not available there"); } }`,
  // runtime/identity.ts: modelIdentity hashes with node:crypto; the page hashes the same
  // canonicalGraph text with crypto.subtle (playground/src/identity.ts).
  "node:crypto": unavailable("node:crypto", ["createHash", "randomBytes"]),
  // runtime/load-module.ts: TypeScript's transpileModule for loadModule / transpile, which the page
  // does not call (it strips the module's types itself: playground/src/strip-types.ts).
  typescript: `export default { ScriptTarget: {}, ModuleKind: {}, transpileModule() { throw new Error("the playground runs in a browser: TypeScript is not bundled"); } };`,
  // compiler/codegen/wasm/assemble.ts: wabt assembles --target wasm's kernels; the playground
  // compiles to --target ts only.
  wabt: `export default function wabtInit() { throw new Error("the playground compiles --target ts only: wabt is not bundled"); }`,
  // compiler/codegen/emit-js.ts (imported by pipeline.ts only for emit: "js"): ts-morph brings a
  // second TypeScript; the page never asks for emit: "js".
  "ts-morph": `export const ts = {}; export class Project { constructor() { throw new Error("the playground does not bundle ts-morph"); } }`,
};

/**
 * compiler/codegen/format.ts does `import * as prettier from "prettier"` and calls
 * prettier.format(code, options). In the page "prettier" is playground/src/prettier.ts: the
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
