"""
The model regression of regression.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 5 parameters (50 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"mu": [B, 1]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "regression"
INPUTS = {
    "x": (1,),
}
TARGETS = {
    "t": (1,),
}
OUTPUTS = {
    "mu": (1,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "sigma": (),
    "h.W": (16, 1),
    "h.b": (16,),
    "mu.W": (1, 16),
    "mu.b": (1,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param sigma ~ constant(1)
        self.sigma = torch.nn.Parameter(torch.empty((), dtype=dtype))
        # line 5: layer h = dense(x, 16, elu)
        self.h = torch.nn.Module()
        self.h.W = torch.nn.Parameter(torch.empty((16, 1), dtype=dtype))
        self.h.b = torch.nn.Parameter(torch.empty((16,), dtype=dtype))
        # line 6: layer mu = dense(h, 1, identity)
        self.mu = torch.nn.Module()
        self.mu.W = torch.nn.Parameter(torch.empty((1, 16), dtype=dtype))
        self.mu.b = torch.nn.Parameter(torch.empty((1,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        self.sigma.fill_(1)
        # h.W ~ he: √(2/fan_in), fan_in = 1
        torch.nn.init.normal_(self.h.W, 0.0, 1.4142135623730951)
        self.h.b.zero_()
        # mu.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 16, fan_out = 1
        torch.nn.init.normal_(self.mu.W, 0.0, 0.3429971702850177)
        self.mu.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 1]
        # line 5: layer h = dense(x, 16, elu)
        h_z = x @ self.h.W.T + self.h.b
        h = F.elu(h_z, 1)

        # line 6: layer mu = dense(h, 1, identity)
        mu_z = h @ self.mu.W.T + self.mu.b
        return {"mu": mu_z}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 1]
        t = targets["t"]  # [B, 1]
        # line 5: layer h = dense(x, 16, elu)
        h_z = x @ self.h.W.T + self.h.b
        h = F.elu(h_z, 1)

        # line 6: layer mu = dense(h, 1, identity)
        mu_z = h @ self.mu.W.T + self.mu.b

        # line 7: loss gaussian_nll(mu, t, sigma)
        tmp = 0.9189385332046727 + torch.log(self.sigma) + (t - mu_z) ** 2 / (2 * self.sigma ** 2)
        L = tmp.sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
