"""
The model elementwise of elementwise.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 2 parameters (4 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"w": [B, 3]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "elementwise"
INPUTS = {
    "x": (3,),
}
TARGETS = {
    "t": (3,),
}
OUTPUTS = {
    "w": (3,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "a": (3,),
    "s": (),
}


def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param a[3] ~ uniform(0.5, 1.5)
        self.a = torch.nn.Parameter(torch.empty((3,), dtype=dtype))
        # line 5: param s ~ constant(0.5)
        self.s = torch.nn.Parameter(torch.empty((), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.uniform_(self.a, 0.5, 1.5)
        self.s.fill_(0.5)

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 3]
        # line 6: u = exp(0.3 * x) + sqrt(a) + log(a + 2) + abs(x - 0.1)
        tmp = torch.exp(0.3 * x) + torch.sqrt(self.a) + torch.log(self.a + 2)
        u = tmp + torch.abs(x - 0.1)

        # line 7: v = softplus(u * s) - leaky_relu(x, alpha = 0.2) + elu(x - a, alpha = 0.7)
        v = softplus(u * self.s) - F.leaky_relu(x, 0.2) + F.elu(x - self.a, 0.7)

        # line 8: w = tanh(v) * sigmoid(u) / (1 + a^2) + relu(x * a) + identity(x)
        tmp_1 = torch.tanh(v) * torch.sigmoid(u) / (1 + self.a ** 2) + torch.relu(x * self.a)
        w = tmp_1 + x
        return {"w": w}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 3]
        t = targets["t"]  # [B, 3]
        # line 6: u = exp(0.3 * x) + sqrt(a) + log(a + 2) + abs(x - 0.1)
        tmp = torch.exp(0.3 * x) + torch.sqrt(self.a) + torch.log(self.a + 2)
        u = tmp + torch.abs(x - 0.1)

        # line 7: v = softplus(u * s) - leaky_relu(x, alpha = 0.2) + elu(x - a, alpha = 0.7)
        v = softplus(u * self.s) - F.leaky_relu(x, 0.2) + F.elu(x - self.a, 0.7)

        # line 8: w = tanh(v) * sigmoid(u) / (1 + a^2) + relu(x * a) + identity(x)
        tmp_1 = torch.tanh(v) * torch.sigmoid(u) / (1 + self.a ** 2) + torch.relu(x * self.a)
        w = tmp_1 + x

        # line 9: m = max(w, t) + min(w, 0.5 * t) + (w - t)^3 / 10
        tmp_2 = torch.where(w >= t, w, t) + torch.where(w <= 0.5 * t, w, 0.5 * t)
        m = tmp_2 + 0.1 * (w - t) ** 3

        # line 10: loss sum(m^2) + sumabs(a)
        losses = (m ** 2).sum(1)
        return losses

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        # line 10: loss sum(m^2) + sumabs(a)
        penalty = torch.abs(self.a).sum()
        return penalty

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
