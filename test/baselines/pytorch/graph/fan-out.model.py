"""
The model fan-out of fan-out.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 2 parameters (12 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "fan-out"
INPUTS = {
    "x": (3,),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "y": (),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "W": (3, 3),
    "c": (3,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param W[3, 3] ~ normal(0, 0.5)
        self.W = torch.nn.Parameter(torch.empty((3, 3), dtype=dtype))
        # line 5: param c[3]
        self.c = torch.nn.Parameter(torch.empty((3,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.W, 0, 0.5)
        self.c.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 3]
        # line 6: h = tanh(W @ x + c)
        h = torch.tanh(x @ self.W.T + self.c)

        # line 7: g = h * h + 2 * h
        g = h * h + 2 * h

        # line 8: y = dot(g, h) + sum(h)
        y = (g * h).sum(1) + h.sum(1)
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 3]
        t = targets["t"]  # [B]
        # line 6: h = tanh(W @ x + c)
        h = torch.tanh(x @ self.W.T + self.c)

        # line 7: g = h * h + 2 * h
        g = h * h + 2 * h

        # line 8: y = dot(g, h) + sum(h)
        y = (g * h).sum(1) + h.sum(1)

        # line 9: loss (y - t)^2
        L = (y - t) ** 2
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
