"""
The model update-order of update-order.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 4 parameters (8 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 1]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "update-order"
INPUTS = {
    "x": (1,),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "y": (1,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "W1": (3, 1),
    "W2": (1, 3),
    "a": (),
    "b": (),
}


def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 8: param W1[3, 1] ~ normal(0, 0.5)
        self.W1 = torch.nn.Parameter(torch.empty((3, 1), dtype=dtype))
        # line 9: param W2[1, 3] ~ normal(0, 0.5)
        self.W2 = torch.nn.Parameter(torch.empty((1, 3), dtype=dtype))
        # line 10: param a ~ constant(0.5)
        self.a = torch.nn.Parameter(torch.empty((), dtype=dtype))
        # line 11: param b ~ constant(2)
        self.b = torch.nn.Parameter(torch.empty((), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.W1, 0, 0.5)
        torch.nn.init.normal_(self.W2, 0, 0.5)
        self.a.fill_(0.5)
        self.b.fill_(2)

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 1]
        # line 12: h = tanh(W1 @ x)
        h = torch.tanh(x @ self.W1.T)

        # line 13: y = sigmoid(a * b * (W2 @ h))
        y = torch.sigmoid(self.a * self.b * (h @ self.W2.T))
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 1]
        t = targets["t"]  # [B]
        # line 12: h = tanh(W1 @ x)
        h = torch.tanh(x @ self.W1.T)

        # line 14: loss binary_cross_entropy(y[0], t)
        tmp = self.a * self.b * (h @ self.W2.T)[:, 0]
        L = softplus(tmp) - t * tmp
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
