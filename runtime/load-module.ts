/**
 * Loads a generated module from its TypeScript source, in memory: transpiled to JavaScript and
 * imported from a data: URL. `nnc check` and the tests run emitted code this way.
 */
import ts from "typescript";
import type { OptimizerConfig } from "../compiler/semantics/model.js";

/** The public surface of every generated module (section 6 of the language). */
export interface CompiledModule {
  readonly meta: {
    name: string;
    inputs: Record<string, number[]>;
    targets: Record<string, number[]>;
    outputs: Record<string, number[]>;
    params: Record<string, number[]>;
    hasDropout: boolean;
  };
  createParams(): Record<string, Float64Array>;
  initParams(params: Record<string, Float64Array>, seed: number): void;
  createRandom(seed: number): () => number;
  predict(params: Record<string, Float64Array>, inputs: Record<string, Float64Array | number>): Record<string, Float64Array | number>;
  predictBatch(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, count: number, outputs: Record<string, Float64Array>): void;
  loss(params: Record<string, Float64Array>, inputs: Record<string, Float64Array | number>, targets: Record<string, Float64Array | number>): number;
  gradient(params: Record<string, Float64Array>, inputs: Record<string, Float64Array | number>, targets: Record<string, Float64Array | number>, grad: Record<string, Float64Array>): number;
  lossBatch(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number): number;
  gradientBatch(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, grad: Record<string, Float64Array>): number;
  lossTrain(params: Record<string, Float64Array>, inputs: Record<string, Float64Array | number>, targets: Record<string, Float64Array | number>, random: () => number): number;
  gradientTrain(params: Record<string, Float64Array>, inputs: Record<string, Float64Array | number>, targets: Record<string, Float64Array | number>, grad: Record<string, Float64Array>, random: () => number): number;
  lossBatchTrain(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, random: () => number): number;
  gradientBatchTrain(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, grad: Record<string, Float64Array>, random: () => number): number;
  /** lossBatch and predictBatch in one forward pass */
  evaluateBatch(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, outputs: Record<string, Float64Array>): number;
  /** one step of plain SGD in training mode; grad is scratch; `random` only when meta.hasDropout */
  sgdStep(params: Record<string, Float64Array>, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, lr: number, grad: Record<string, Float64Array>, random?: () => number): number;
  /** the state of a fused optimizer step: `lr` may change between steps (a schedule sets it) */
  createOptimizerState(optimizer: { name: OptimizerConfig["name"] } & Record<string, number | string>): ModuleOptimizerState;
  /** one step of the state's optimizer on `count` samples, in training mode; grad holds the gradient afterwards */
  optimizerStep(params: Record<string, Float64Array>, state: ModuleOptimizerState, inputs: Record<string, Float64Array>, targets: Record<string, Float64Array>, count: number, grad: Record<string, Float64Array>, random?: () => number): number;
}

/** A generated module's OptimizerState. */
export interface ModuleOptimizerState {
  readonly name: string;
  t: number;
  lr: number;
  /** the state arrays by kind (m, v, r), each Params-shaped */
  readonly buffers: { readonly m?: Record<string, Float64Array>; readonly v?: Record<string, Float64Array>; readonly r?: Record<string, Float64Array> };
}

export function transpile(code: string): string {
  return ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
}

export async function loadModule(tsCode: string): Promise<CompiledModule> {
  const js = transpile(tsCode);
  const url = `data:text/javascript;base64,${Buffer.from(js).toString("base64")}`;
  return (await import(url)) as CompiledModule;
}
