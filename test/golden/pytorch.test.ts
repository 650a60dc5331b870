/**
 * Golden PyTorch exports: model.py of every golden model and train.py of the digits example,
 * byte for byte against test/baselines/pytorch (`npm run test:accept` rewrites them; review the
 * diff). What they compute is test/export's.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportPyTorch } from "../../compiler/export/index.js";
import { check } from "../../compiler/pipeline.js";
import { baselineFiles, compareBaseline, PYTORCH } from "../helpers/baselines.js";
import { ROOT, setOf, validModels } from "../helpers/corpus.js";

const models = validModels();
/** the models whose train.py is a golden file too */
const TRAIN_GOLDEN = new Set(["examples/digits"]);

describe("golden PyTorch exports", () => {
  for (const e of models)
    it(e.path, () => {
      const { model } = check(e.source, { file: e.path, set: setOf(e.source) });
      // as if exported next to the model: `nnc export model.nn --format pytorch -o torch`
      const files = exportPyTorch(join(ROOT, e.path), model!, join(ROOT, e.path, "..", "torch"), "0.1.0");
      compareBaseline(`${PYTORCH}/${e.key}.model.py`, files.find((f) => f.path.endsWith("model.py"))!.text);
      if (TRAIN_GOLDEN.has(e.key)) compareBaseline(`${PYTORCH}/${e.key}.train.py`, files.find((f) => f.path.endsWith("train.py"))!.text);
    });

  it("every baseline has a case", () => {
    const expected = new Set([...models.map((e) => `${PYTORCH}/${e.key}.model.py`), ...[...TRAIN_GOLDEN].map((k) => `${PYTORCH}/${k}.train.py`)]);
    const orphans = baselineFiles().filter((f) => f.startsWith(`${PYTORCH}/`) && !expected.has(f));
    expect(orphans, "baselines without a case: delete them or restore the case").toEqual([]);
  });
});
