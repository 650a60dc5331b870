"""
The model slice-concat of slice-concat.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 6 parameters (1202 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 10]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "slice-concat"
INPUTS = {
    "x": (1, 8, 8),
}
TARGETS = {
    "t": (10,),
}
OUTPUTS = {
    "y": (10,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "a.W": (12, 32),
    "a.b": (12,),
    "b.W": (12, 32),
    "b.b": (12,),
    "y.W": (10, 40),
    "y.b": (10,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 9: layer a = dense(top, 12, relu)
        self.a = torch.nn.Module()
        self.a.W = torch.nn.Parameter(torch.empty((12, 32), dtype=dtype))
        self.a.b = torch.nn.Parameter(torch.empty((12,), dtype=dtype))
        # line 10: layer b = dense(bottom, 12, relu)
        self.b = torch.nn.Module()
        self.b.W = torch.nn.Parameter(torch.empty((12, 32), dtype=dtype))
        self.b.b = torch.nn.Parameter(torch.empty((12,), dtype=dtype))
        # line 12: layer y = dense(h, 10, softmax)
        self.y = torch.nn.Module()
        self.y.W = torch.nn.Parameter(torch.empty((10, 40), dtype=dtype))
        self.y.b = torch.nn.Parameter(torch.empty((10,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # a.W ~ he: √(2/fan_in), fan_in = 32
        torch.nn.init.normal_(self.a.W, 0.0, 0.25)
        self.a.b.zero_()
        # b.W ~ he: √(2/fan_in), fan_in = 32
        torch.nn.init.normal_(self.b.W, 0.0, 0.25)
        self.b.b.zero_()
        # y.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 40, fan_out = 10
        torch.nn.init.normal_(self.y.W, 0.0, 0.2)
        self.y.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 1, 8, 8]
        # line 6: top = flatten(x[0, 0:4, :])
        top = x[:, 0, 0:4, :].flatten(1)

        # line 7: bottom = flatten(x[0, 4:8, :])
        bottom = x[:, 0, 4:8, :].flatten(1)

        # line 8: centre = flatten(x[:, :, 3:5])
        centre = x[:, :, :, 3:5].flatten(1)

        # line 9: layer a = dense(top, 12, relu)
        a_z = top @ self.a.W.T + self.a.b
        a = torch.relu(a_z)

        # line 10: layer b = dense(bottom, 12, relu)
        b_z = bottom @ self.b.W.T + self.b.b
        b = torch.relu(b_z)

        # line 11: h = concat(a, b, centre)
        h = torch.cat((a, b, centre), dim=1)

        # line 12: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b
        y = torch.exp(y_z - torch.logsumexp(y_z, 1)[:, None])
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 1, 8, 8]
        t = targets["t"]  # [B, 10]
        # line 6: top = flatten(x[0, 0:4, :])
        top = x[:, 0, 0:4, :].flatten(1)

        # line 7: bottom = flatten(x[0, 4:8, :])
        bottom = x[:, 0, 4:8, :].flatten(1)

        # line 8: centre = flatten(x[:, :, 3:5])
        centre = x[:, :, :, 3:5].flatten(1)

        # line 9: layer a = dense(top, 12, relu)
        a_z = top @ self.a.W.T + self.a.b
        a = torch.relu(a_z)

        # line 10: layer b = dense(bottom, 12, relu)
        b_z = bottom @ self.b.W.T + self.b.b
        b = torch.relu(b_z)

        # line 11: h = concat(a, b, centre)
        h = torch.cat((a, b, centre), dim=1)

        # line 12: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b

        # line 13: loss cross_entropy(y, t)
        L = t.sum(1) * torch.logsumexp(y_z, 1) - (t * y_z).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
