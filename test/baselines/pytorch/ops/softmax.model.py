"""
The model softmax of softmax.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 4 parameters (43 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"p": [B, 3]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "softmax"
INPUTS = {
    "x": (4,),
}
TARGETS = {
    "t": (3,),
}
OUTPUTS = {
    "p": (3,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "h.W": (5, 4),
    "h.b": (5,),
    "z.W": (3, 5),
    "z.b": (3,),
}


def softplus(x):
    """log(1 + exp(x)) without overflow, as nnc computes it: max(x, 0) + log1p(exp(-|x|))."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: layer h = dense(x, 5, softplus)
        self.h = torch.nn.Module()
        self.h.W = torch.nn.Parameter(torch.empty((5, 4), dtype=dtype))
        self.h.b = torch.nn.Parameter(torch.empty((5,), dtype=dtype))
        # line 5: layer z = dense(h, 3, identity)
        self.z = torch.nn.Module()
        self.z.W = torch.nn.Parameter(torch.empty((3, 5), dtype=dtype))
        self.z.b = torch.nn.Parameter(torch.empty((3,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # h.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 4, fan_out = 5
        torch.nn.init.normal_(self.h.W, 0.0, 0.4714045207910317)
        self.h.b.zero_()
        # z.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 5, fan_out = 3
        torch.nn.init.normal_(self.z.W, 0.0, 0.5)
        self.z.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 4]
        # line 4: layer h = dense(x, 5, softplus)
        h_z = x @ self.h.W.T + self.h.b
        h = softplus(h_z)

        # line 5: layer z = dense(h, 3, identity)
        z_z = h @ self.z.W.T + self.z.b

        # line 6: p = softmax(z)
        p = torch.exp(z_z - torch.logsumexp(z_z, 1)[:, None])
        return {"p": p}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 4]
        t = targets["t"]  # [B, 3]
        # line 4: layer h = dense(x, 5, softplus)
        h_z = x @ self.h.W.T + self.h.b
        h = softplus(h_z)

        # line 5: layer z = dense(h, 3, identity)
        z_z = h @ self.z.W.T + self.z.b

        # line 6: p = softmax(z)
        tmp = torch.logsumexp(z_z, 1)

        # line 8: loss cross_entropy(p, t) + 0.1 * logsumexp(z) - 0.01 * sum(log_softmax(z))
        L = t.sum(1) * tmp - (t * z_z).sum(1) + 0.1 * tmp - 0.01 * (z_z - tmp[:, None]).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
