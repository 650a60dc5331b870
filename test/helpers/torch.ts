/** The Python interpreter with PyTorch for the export tests: Debian's python3-torch lives in the system interpreter. */
import { spawnSync } from "node:child_process";

export const TORCH_PYTHON = process.env.TORCH_PYTHON ?? "/usr/bin/python3";

/** null when torch and numpy import; otherwise what is wrong and how to fix it (the tests fail with it, loudly). */
export function torchProblem(): string | null {
  const r = spawnSync(TORCH_PYTHON, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
  if (r.status === 0) return null;
  return (
    `PyTorch is not available to ${TORCH_PYTHON} (${r.error?.message ?? r.stderr.trim().split("\n").pop()}): ` +
    "install Debian's package with `apt-get install -y python3-torch` (.ci/run does), or set TORCH_PYTHON to an interpreter that has torch and numpy"
  );
}
