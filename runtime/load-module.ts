/**
 * Loads a generated module from its JavaScript (what `compile` returns as `js`), in memory:
 * imported from a data: URL. `nnc train/predict/check` and the tests run emitted code this way.
 * No TypeScript at run time: the compiler prints the JavaScript module itself.
 */
import type { OptimizerConfig } from "../compiler/semantics/model.js";
import type { Precision } from "../compiler/target.js";
import type { FloatArray } from "./types.js";

/**
 * The public surface of every generated module (section 6 of the language). Its arrays are
 * Float64Arrays, or Float32Arrays when `meta.precision` is "f32": a caller passes arrays of that
 * type (`forModule` in data/index.ts converts a data set once).
 */
export interface CompiledModule {
  readonly meta: {
    name: string;
    inputs: Record<string, number[]>;
    targets: Record<string, number[]>;
    outputs: Record<string, number[]>;
    params: Record<string, number[]>;
    hasDropout: boolean;
    precision: Precision;
  };
  createParams(): Record<string, FloatArray>;
  initParams(params: Record<string, FloatArray>, seed: number): void;
  createRandom(seed: number): () => number;
  predict(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>): Record<string, FloatArray | number>;
  predictBatch(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, count: number, outputs: Record<string, FloatArray>): void;
  loss(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, targets: Record<string, FloatArray | number>): number;
  gradient(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, targets: Record<string, FloatArray | number>, grad: Record<string, FloatArray>): number;
  lossBatch(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number): number;
  gradientBatch(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, grad: Record<string, FloatArray>): number;
  lossTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, targets: Record<string, FloatArray | number>, random: () => number): number;
  gradientTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, targets: Record<string, FloatArray | number>, grad: Record<string, FloatArray>, random: () => number): number;
  lossBatchTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, random: () => number): number;
  gradientBatchTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, grad: Record<string, FloatArray>, random: () => number): number;
  /** predict in training mode: dropout active, masks drawn from `random` (MC dropout); predict's result without dropout */
  predictTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, random: () => number): Record<string, FloatArray | number>;
  /** predictBatch in training mode, sample after sample from `random`; predictBatch's result without dropout */
  predictBatchTrain(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, count: number, outputs: Record<string, FloatArray>, random: () => number): void;
  /** lossBatch and predictBatch in one forward pass */
  evaluateBatch(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, outputs: Record<string, FloatArray>): number;
  /** one step of plain SGD in training mode; grad is scratch; `random` only when meta.hasDropout */
  sgdStep(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, lr: number, grad: Record<string, FloatArray>, random?: () => number): number;
  /** H·v of one sample's loss (inference mode): overwrites out (Params-shaped, as v); returns the loss */
  hessianVectorProduct(params: Record<string, FloatArray>, inputs: Record<string, FloatArray | number>, targets: Record<string, FloatArray | number>, v: Record<string, FloatArray>, out: Record<string, FloatArray>): number;
  /** H·v of the mean loss over `count` samples, parameter-only terms once: overwrites out; returns that loss */
  hessianVectorProductBatch(params: Record<string, FloatArray>, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, v: Record<string, FloatArray>, out: Record<string, FloatArray>): number;
  /** the state of a fused optimizer step: `lr` may change between steps (a schedule sets it) */
  createOptimizerState(optimizer: { name: OptimizerConfig["name"] } & Record<string, number | string>): ModuleOptimizerState;
  /** one step of the state's optimizer on `count` samples, in training mode; grad holds the gradient afterwards */
  /** the loss's parameter-only terms (weight decay); absent from modules an earlier nnc emitted */
  regularizer?(params: Record<string, FloatArray>): number;
  /** a --target wasm module's: the bytes its copy in a thread of train({ threads }) needs for its scratch buffers (runtime/threads/) */
  readonly threadScratchBytes?: number;
  optimizerStep(params: Record<string, FloatArray>, state: ModuleOptimizerState, inputs: Record<string, FloatArray>, targets: Record<string, FloatArray>, count: number, grad: Record<string, FloatArray>, random?: () => number): number;
}

/** A generated module's OptimizerState. */
export interface ModuleOptimizerState {
  readonly name: string;
  t: number;
  lr: number;
  /** the state arrays by kind (m, v, r, g2, dx2), each Params-shaped */
  readonly buffers: Readonly<Partial<Record<"m" | "v" | "r" | "g2" | "dx2", Record<string, FloatArray>>>>;
}

/** Where each module loadModule made was imported from: the workers of `train({ threads })`
 * import it again from there (runtime/threads/pool.ts). */
const moduleUrls = new WeakMap<object, string>();

/** base64 of the UTF-8 bytes of `text`, without Node's Buffer (the module may run in a browser's worker) */
function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export async function loadModule(js: string): Promise<CompiledModule> {
  const url = `data:text/javascript;base64,${base64(js)}`;
  const mod = (await import(url)) as CompiledModule;
  moduleUrls.set(mod, url);
  return mod;
}

/** The URL loadModule imported `mod` from; undefined for a module it did not load. */
export function loadedFrom(mod: CompiledModule): string | undefined {
  return moduleUrls.get(mod);
}
