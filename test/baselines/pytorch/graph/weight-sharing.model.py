"""
The model weight-sharing of weight-sharing.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 2 parameters (10 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"h2": [B, 3]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "weight-sharing"
INPUTS = {
    "x": (3,),
}
TARGETS = {
    "t": (3,),
}
OUTPUTS = {
    "h2": (3,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "W": (3, 3),
    "p": (),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param W[3, 3] ~ normal(0, 0.5)
        self.W = torch.nn.Parameter(torch.empty((3, 3), dtype=dtype))
        # line 5: param p ~ constant(0.25)
        self.p = torch.nn.Parameter(torch.empty((), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.W, 0, 0.5)
        self.p.fill_(0.25)

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 3]
        # line 6: h1 = prelu(W @ x, p)
        tmp = x @ self.W.T
        h1 = torch.where(self.p * tmp >= tmp, self.p * tmp, tmp)

        # line 7: h2 = prelu(W @ h1, p)
        tmp_1 = h1 @ self.W.T
        h2 = torch.where(self.p * tmp_1 >= tmp_1, self.p * tmp_1, tmp_1)
        return {"h2": h2}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 3]
        t = targets["t"]  # [B, 3]
        # line 6: h1 = prelu(W @ x, p)
        tmp = x @ self.W.T
        h1 = torch.where(self.p * tmp >= tmp, self.p * tmp, tmp)

        # line 7: h2 = prelu(W @ h1, p)
        tmp_1 = h1 @ self.W.T
        h2 = torch.where(self.p * tmp_1 >= tmp_1, self.p * tmp_1, tmp_1)

        # line 8: loss 0.5 * sumsq(h2 - t) + 0.001 * sumsq(W)
        losses = 0.5 * ((h2 - t) ** 2).sum(1)
        return losses

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        # line 8: loss 0.5 * sumsq(h2 - t) + 0.001 * sumsq(W)
        penalty = 0.001 * (self.W ** 2).sum()
        return penalty

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
