"""
Runs the optimizer of exported train.py files for a few steps (test/export/optimizers.test.ts
compares with nnc's). argv[1]: a JSON list of {"dir", "params", "grads": [step][name], "lr"}.
Prints the parameters after the steps, per case.
"""
import importlib.util
import json
import sys

import torch

results = []
for k, case in enumerate(json.load(open(sys.argv[1]))):
    spec = importlib.util.spec_from_file_location(f"train_{k}", f"{case['dir']}/train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    params = {n: torch.nn.Parameter(torch.tensor(v, dtype=torch.float64)) for n, v in case["params"].items()}
    optimizer = train.make_optimizer(list(params.values()), case["lr"])
    for grads in case["grads"]:
        for n, p in params.items():
            p.grad = torch.tensor(grads[n], dtype=torch.float64)
        optimizer.step()
    results.append({n: p.detach().tolist() for n, p in params.items()})
print(json.dumps(results))
