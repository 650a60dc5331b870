"""
The model scratch-buffers of scratch-buffers.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 3 parameters (6481 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 80]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "scratch-buffers"
INPUTS = {
    "x": (80,),
}
TARGETS = {
    "t": (80,),
}
OUTPUTS = {
    "y": (80,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "W": (80, 80),
    "b": (80,),
    "sigma": (),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 5: param W[80, 80] ~ xavier
        self.W = torch.nn.Parameter(torch.empty((80, 80), dtype=dtype))
        # line 6: param b[80]
        self.b = torch.nn.Parameter(torch.empty((80,), dtype=dtype))
        # line 7: param sigma ~ constant(1)
        self.sigma = torch.nn.Parameter(torch.empty((), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 80, fan_out = 80
        torch.nn.init.normal_(self.W, 0.0, 0.11180339887498948)
        self.b.zero_()
        self.sigma.fill_(1)

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 80]
        # line 8: y = W @ x + b
        y = x @ self.W.T + self.b
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 80]
        t = targets["t"]  # [B, 80]
        # line 8: y = W @ x + b
        y = x @ self.W.T + self.b

        # line 9: loss mse(y, t) + 0.5 * hinge(y, t) + gaussian_nll(y, t, sigma)
        tmp = 0.0125 * ((y - t) ** 2).sum(1) + 0.5 * torch.where(0 >= 1 - t * y, 0, 1 - t * y).sum(1)
        tmp_1 = 0.9189385332046727 + torch.log(self.sigma) + (t - y) ** 2 / (2 * self.sigma ** 2)
        L = tmp + tmp_1.sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
