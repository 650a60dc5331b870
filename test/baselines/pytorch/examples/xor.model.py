"""
The model xor of xor.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 4 parameters (17 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "xor"
INPUTS = {
    "x": (2,),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "y": (),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "h.W": (4, 2),
    "h.b": (4,),
    "o.W": (1, 4),
    "o.b": (1,),
}


def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: layer h = dense(x, 4, tanh)
        self.h = torch.nn.Module()
        self.h.W = torch.nn.Parameter(torch.empty((4, 2), dtype=dtype))
        self.h.b = torch.nn.Parameter(torch.empty((4,), dtype=dtype))
        # line 5: layer o = dense(h, 1, sigmoid)
        self.o = torch.nn.Module()
        self.o.W = torch.nn.Parameter(torch.empty((1, 4), dtype=dtype))
        self.o.b = torch.nn.Parameter(torch.empty((1,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # h.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 2, fan_out = 4
        torch.nn.init.normal_(self.h.W, 0.0, 0.5773502691896257)
        self.h.b.zero_()
        # o.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 4, fan_out = 1
        torch.nn.init.normal_(self.o.W, 0.0, 0.6324555320336759)
        self.o.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 2]
        # line 4: layer h = dense(x, 4, tanh)
        h_z = x @ self.h.W.T + self.h.b
        h = torch.tanh(h_z)

        # line 6: y = o[0]
        o_b_0 = self.o.b[0]
        o_z_0 = (h @ self.o.W.T)[:, 0] + o_b_0
        y = torch.sigmoid(o_z_0)
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 2]
        t = targets["t"]  # [B]
        # line 4: layer h = dense(x, 4, tanh)
        h_z = x @ self.h.W.T + self.h.b
        h = torch.tanh(h_z)

        # line 6: y = o[0]
        o_b_0 = self.o.b[0]
        o_z_0 = (h @ self.o.W.T)[:, 0] + o_b_0

        # line 8: loss binary_cross_entropy(y, t)
        L = softplus(o_z_0) - t * o_z_0
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
