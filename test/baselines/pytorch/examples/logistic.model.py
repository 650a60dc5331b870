"""
The model logistic of logistic.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 2 parameters (2 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"R": [B]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "logistic"
INPUTS = {
    "x": (),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "R": (),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "w": (),
    "b": (),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param w ~ normal(0, 0.1)
        self.w = torch.nn.Parameter(torch.empty((), dtype=dtype))
        # line 5: param b
        self.b = torch.nn.Parameter(torch.empty((), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.w, 0, 0.1)
        self.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        batch = len(inputs["x"])
        # line 10: R = 0.5 * w^2
        R = 0.5 * self.w ** 2
        return {"R": R.expand(batch)}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B]
        t = targets["t"]  # [B]
        # line 7: z = w * x + b
        z = self.w * x + self.b

        # line 8: y = sigmoid(z)
        y = torch.sigmoid(z)

        # line 9: L = 0.5 * (y - t)^2
        L = 0.5 * (y - t) ** 2
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        # line 11: loss L + lambda * R
        penalty = 0.005 * self.w ** 2
        return penalty

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
