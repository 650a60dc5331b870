/** The messages between the page and its two workers (compiler-worker.ts, train-worker.ts). */
import type { NormalizeMethod, OptimizerConfig, ScheduleConfig, TargetDomain } from "../../compiler/semantics/model.js";
import type { Evaluation } from "../../runtime/metrics.js";
import type { Normalization } from "../../runtime/types.js";

/** A diagnostic as the editor shows it: UTF-16 offsets into the source (CodeMirror positions). */
export interface PageDiagnostic {
  readonly severity: "error" | "warning";
  readonly code: string;
  readonly message: string;
  readonly from: number;
  readonly to: number;
  /** 1-based, as `nnc` prints it */
  readonly line: number;
  readonly col: number;
  /** false for a diagnostic about no particular place (shown at the start) */
  readonly placed: boolean;
}

export type CompileRequest = { readonly id: number; readonly kind: "check" | "compile"; readonly source: string; readonly file: string };

/** The train block as `nnc train` resolves it without flags (runtime/cli-train.ts, resolveConfig). */
export interface RunConfig {
  readonly data: string;
  readonly validation: string | null;
  readonly split: number | null;
  readonly optimizer: OptimizerConfig;
  readonly schedule: ScheduleConfig;
  readonly batch: number;
  readonly epochs: number;
  readonly seed: number;
  readonly earlyStopping: { readonly patience: number; readonly minDelta: number } | null;
  readonly normalize: NormalizeMethod;
}

export interface Compiled {
  /** the module, formatted: what `nnc compile` writes */
  readonly ts: string;
  /** the same module as JavaScript, printed by the compiler: what the training worker imports */
  readonly js: string;
  /** `nnc explain` */
  readonly explain: string;
  readonly name: string;
  /** the graph identity a weights file records (runtime/identity.ts) */
  readonly graph: string;
  readonly targetDomains: Readonly<Record<string, readonly TargetDomain[]>>;
  /** null when the model has no train block data */
  readonly config: RunConfig | null;
}

export type CompileResponse =
  | { readonly id: number; readonly kind: "check"; readonly diagnostics: PageDiagnostic[]; readonly failure?: string }
  | { readonly id: number; readonly kind: "compile"; readonly diagnostics: PageDiagnostic[]; readonly compiled: Compiled | null; readonly failure?: string };

export interface TrainRequest {
  readonly js: string;
  readonly config: RunConfig;
  readonly targetDomains: Readonly<Record<string, readonly TargetDomain[]>>;
  /** the embedded data files by the name the train block gives ("data/xor.csv") */
  readonly files: Readonly<Record<string, string>>;
}

export type TrainMessage =
  | { readonly kind: "start"; readonly initial: Evaluation; readonly trainCount: number; readonly validationCount: number; readonly stepsPerEpoch: number }
  /** per-step losses since the last message (posted in bunches: one message per step would flood the page) */
  | { readonly kind: "steps"; readonly losses: number[] }
  | { readonly kind: "epoch"; readonly epoch: number; readonly epochs: number; readonly train: Evaluation; readonly validation: Evaluation | null }
  | {
      readonly kind: "done";
      readonly params: Record<string, number[]>;
      readonly normalization: Normalization | null;
      readonly stopped: string;
      readonly message: string | null;
      readonly metrics: Record<string, unknown>;
    }
  | { readonly kind: "error"; readonly message: string };
