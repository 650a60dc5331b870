"""
Reads data files with an exported train.py's readers (test/export/train-data.test.ts compares the
result with nnc's). argv: the export directory, then a JSON list of {"file", "split", "seed"}.
Prints per case: the sample count, a checksum of each array, and for a split the checksums of the
training and validation parts and the training part's normalization.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import train  # noqa: E402


def checksums(arrays):
    """sum of v * ((i mod 1009) + 1) over each array's flat row-major elements"""
    out = {}
    for name, v in arrays.items():
        flat = v.reshape(-1).double()
        weights = (train.torch.arange(flat.numel(), dtype=train.torch.float64) % 1009) + 1
        out[name] = (flat * weights).sum().item()
    return out


results = []
for case in json.loads(sys.argv[2]):
    count, data = train.load(case["file"])
    result = {"count": count, "all": checksums(data)}
    if case.get("split") is not None:
        rows, valid = train.split(count, case["split"], case["seed"])
        part = train.subset(data, rows)
        result["train"] = checksums(part)
        result["validation"] = checksums(train.subset(data, valid))
        result["normalization"] = train.normalization_of({k: part[k] for k in train.INPUTS})
    results.append(result)
print(json.dumps(results))
