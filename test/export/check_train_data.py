"""
Reads data files with exported train.py files' readers (test/export/train-data.test.ts compares
the result with nnc's). argv[1]: a JSON list of {"dir": the export directory, "files": [{"file",
"split", "seed"}]}. Prints per directory and file: the sample count, a checksum of each array, and
for a split the checksums of the training and validation parts and the training part's
normalization; then for each of the directory's "bad" files the message of its DataError.
"""
import importlib.util
import json
import sys

import torch


def load_train(directory, tag):
    # each train.py imports its own model.py as "model"
    sys.modules.pop("model", None)
    spec = importlib.util.spec_from_file_location(f"train_{tag}", f"{directory}/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def checksums(arrays):
    """sum of v * ((i mod 1009) + 1) over each array's flat row-major elements"""
    out = {}
    for name, v in arrays.items():
        flat = v.reshape(-1).double()
        weights = (torch.arange(flat.numel(), dtype=torch.float64) % 1009) + 1
        out[name] = (flat * weights).sum().item()
    return out


def read(train, case):
    count, data = train.load(case["file"])
    result = {"count": count, "all": checksums(data)}
    if case.get("split") is not None:
        rows, valid = train.split(count, case["split"], case["seed"])
        part = train.subset(data, rows)
        result["train"] = checksums(part)
        result["validation"] = checksums(train.subset(data, valid))
        result["normalization"] = train.normalization_of({k: part[k] for k in train.INPUTS})
    return result


with open(sys.argv[1]) as f:
    exports = json.load(f)
results = []
for k, export in enumerate(exports):
    train = load_train(export["dir"], k)
    results.append([read(train, case) for case in export["files"]])
    # files that must be refused: the message of each DataError
    for path in export.get("bad", []):
        try:
            train.load(path)
            results[-1].append({"error": None})
        except train.DataError as e:
            results[-1].append({"error": str(e)})
print(json.dumps(results))
