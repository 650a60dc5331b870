/**
 * nnc's training runtime as a library on Node ("nnc"): train a generated module on your data from
 * TypeScript or JavaScript, without the CLI. See docs/training.md for an example. The core
 * (core.ts, "nnc/core") imports nothing from Node; this entry adds files and threads. Nothing here
 * imports the compiler's toolchain (typescript, prettier, wabt): test/runtime/core-graph.test.ts.
 */
export * from "./core.js";
export { defaultThreads, type ThreadsChoice } from "./threads/pool.js";
export { loadDataset, idxImageGeometry } from "./data/index.js";
export { loadWeights, saveWeights, readWeights } from "./node/weights-files.js";
