/**
 * The training loop's side of the module's fused optimizer steps (language §10): the module's
 * OptimizerState made from a `train { }` optimizer, and converted to and from the checkpoint form
 * of the runtime's optimizers (OptimizerState in types.ts), so that a run resumes the same whether
 * its checkpoint was written by the fused step or by the runtime's optimizer.
 */
import type { OptimizerConfig } from "../compiler/semantics/model.js";
import type { CompiledModule, ModuleOptimizerState } from "./load-module.js";
import type { Optimizer, OptimizerState } from "./types.js";

/** The module's state for `config`; `validated` is the runtime's optimizer for the same config
 * (it has checked the hyperparameters, and checks a state to resume from). */
export function createFusedState(mod: CompiledModule, config: OptimizerConfig, validated: Optimizer, resume: OptimizerState | null): ModuleOptimizerState {
  const state = mod.createOptimizerState({ name: config.name, ...config.args });
  if (resume !== null) {
    validated.restore(resume);
    const saved = validated.state();
    state.t = saved.t;
    for (const [kind, byName] of Object.entries(saved.buffers))
      for (const [name, values] of Object.entries(byName)) state.buffers[kind as keyof ModuleOptimizerState["buffers"]]![name]!.set(values);
  }
  return state;
}

/** The checkpoint form of a module's optimizer state: what the runtime optimizer's state() gives. */
export function fusedStateJson(state: ModuleOptimizerState): OptimizerState {
  const buffers: Record<string, Record<string, number[]>> = {};
  for (const [kind, set] of Object.entries(state.buffers)) {
    if (set === undefined) continue;
    buffers[kind] = Object.fromEntries(Object.entries(set).map(([name, v]) => [name, Array.from(v)]));
  }
  return { name: state.name, t: state.t, buffers };
}
