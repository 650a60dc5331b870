"""
Checks exported model.py files against nnc's numbers (test/export/pytorch.test.ts writes them).

Reads a JSON list of cases from the file named by argv[1]; each names a directory holding
model.py, and gives nnc's parameters, a batch, and what nnc's module computed from them:
gradientBatch's loss and gradient, and predictBatch's outputs. Prints one JSON object per case:
the state_dict keys, the loss, the largest relative differences, and whether train.py compiles.
"""
import importlib.util
import json
import sys

import torch


def load(directory, tag):
    spec = importlib.util.spec_from_file_location(f"exported_{tag}", f"{directory}/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tensors(values, shapes):
    return {k: torch.tensor(values[k], dtype=torch.float64).reshape((-1,) + tuple(shapes[k])) for k in shapes}


def worst(a, b):
    """max |a − b| / max(1, |b|), elementwise."""
    a = a.detach().reshape(-1)
    b = torch.tensor(b, dtype=torch.float64).reshape(-1)
    if a.numel() != b.numel():
        return float("inf")
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs() / b.abs().clamp(min=1)).max().item()


def check(case, tag):
    m = load(case["dir"], tag)
    model = m.Model()
    state = {k: torch.tensor(v, dtype=torch.float64).reshape(m.PARAMETERS[k]) for k, v in case["params"].items()}
    model.load_state_dict(state)
    model.eval()
    inputs = tensors(case["inputs"], m.INPUTS)
    targets = tensors(case["targets"], m.TARGETS)
    loss = model.loss(inputs, targets)
    model.zero_grad()
    loss.backward()
    grads = {k: worst(p.grad if p.grad is not None else torch.zeros_like(p), case["grads"][k]) for k, p in model.named_parameters()}
    with torch.no_grad():
        outputs = model(inputs)
    with open(f"{case['dir']}/train.py") as f:
        compile(f.read(), "train.py", "exec")
    return {
        "trainCompiles": True,
        "keys": list(model.state_dict().keys()),
        "parameters": list(m.PARAMETERS.keys()),
        "dtype": str(loss.dtype),
        "loss": loss.item(),
        "lossError": abs(loss.item() - case["loss"]) / max(1.0, abs(case["loss"])),
        "grads": grads,
        "outputs": {k: worst(v, case["outputs"][k]) for k, v in outputs.items()},
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([check(case, i) for i, case in enumerate(cases)]))
