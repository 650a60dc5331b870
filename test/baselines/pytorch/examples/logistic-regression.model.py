"""
The model logistic-regression of logistic-regression.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 2 parameters (31 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "logistic-regression"
INPUTS = {
    "x": (30,),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "y": (),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "o.W": (1, 30),
    "o.b": (1,),
}


def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 5: layer o = dense(x, 1, sigmoid)
        self.o = torch.nn.Module()
        self.o.W = torch.nn.Parameter(torch.empty((1, 30), dtype=dtype))
        self.o.b = torch.nn.Parameter(torch.empty((1,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # o.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 30, fan_out = 1
        torch.nn.init.normal_(self.o.W, 0.0, 0.254000254000381)
        self.o.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 30]
        # line 6: y = o[0]
        o_b_0 = self.o.b[0]
        o_z_0 = (x @ self.o.W.T)[:, 0] + o_b_0
        y = torch.sigmoid(o_z_0)
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 30]
        t = targets["t"]  # [B]
        # line 6: y = o[0]
        o_b_0 = self.o.b[0]
        o_z_0 = (x @ self.o.W.T)[:, 0] + o_b_0

        # line 9: loss binary_cross_entropy(y, t) + lambda * 0.5 * sumsq(o.W)
        losses = softplus(o_z_0) - t * o_z_0
        return losses

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        # line 9: loss binary_cross_entropy(y, t) + lambda * 0.5 * sumsq(o.W)
        penalty = 0.0005 * (self.o.W ** 2).sum()
        return penalty

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
