/**
 * The compiler as the CLI's commands use it, imported on first use (cli.ts): `nnc --version` and
 * `--help` load none of its modules.
 */
export { baseName, check, compile, plan, stem } from "./pipeline.js";
export { scheduleModule } from "./codegen/emit-module.js";
export { explain, explainHessian, explainHessianIr, explainIr } from "./explain.js";
export { printSchedule } from "./schedule/print.js";
export { kernelLibrary } from "./codegen/wasm/library.js";
