"""
The model mnist800shift of mnist-800-shift.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 4 parameters (636010 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 10]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "mnist800shift"
INPUTS = {
    "x": (784,),
}
TARGETS = {
    "t": (10,),
}
OUTPUTS = {
    "y": (10,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "h.W": (800, 784),
    "h.b": (800,),
    "y.W": (10, 800),
    "y.b": (10,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 9: layer h = dense(x, 800, relu)
        self.h = torch.nn.Module()
        self.h.W = torch.nn.Parameter(torch.empty((800, 784), dtype=dtype))
        self.h.b = torch.nn.Parameter(torch.empty((800,), dtype=dtype))
        # line 10: layer y = dense(h, 10, softmax)
        self.y = torch.nn.Module()
        self.y.W = torch.nn.Parameter(torch.empty((10, 800), dtype=dtype))
        self.y.b = torch.nn.Parameter(torch.empty((10,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # h.W ~ he: √(2/fan_in), fan_in = 784
        torch.nn.init.normal_(self.h.W, 0.0, 0.050507627227610534)
        self.h.b.zero_()
        # y.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 800, fan_out = 10
        torch.nn.init.normal_(self.y.W, 0.0, 0.049690399499995326)
        self.y.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 784]
        # line 9: layer h = dense(x, 800, relu)
        h_z = x @ self.h.W.T + self.h.b
        h = torch.relu(h_z)

        # line 10: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b
        y = torch.exp(y_z - torch.logsumexp(y_z, 1)[:, None])
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 784]
        t = targets["t"]  # [B, 10]
        # line 9: layer h = dense(x, 800, relu)
        h_z = x @ self.h.W.T + self.h.b
        h = torch.relu(h_z)

        # line 10: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b

        # line 11: loss cross_entropy(y, t)
        L = t.sum(1) * torch.logsumexp(y_z, 1) - (t * y_z).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
