"""
The model conv-strided of conv-strided.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 4 parameters (280 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 10]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "conv-strided"
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
    "c.W": (6, 1, 2, 2),
    "c.b": (6,),
    "y.W": (10, 24),
    "y.b": (10,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 6: layer c = conv2d(x, 6, 2, tanh, stride = 2, padding = "valid")
        self.c = torch.nn.Module()
        self.c.W = torch.nn.Parameter(torch.empty((6, 1, 2, 2), dtype=dtype))
        self.c.b = torch.nn.Parameter(torch.empty((6,), dtype=dtype))
        # line 8: layer y = dense(flatten(a), 10, softmax)
        self.y = torch.nn.Module()
        self.y.W = torch.nn.Parameter(torch.empty((10, 24), dtype=dtype))
        self.y.b = torch.nn.Parameter(torch.empty((10,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # c.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 4, fan_out = 24
        torch.nn.init.normal_(self.c.W, 0.0, 0.2672612419124244)
        self.c.b.zero_()
        # y.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 24, fan_out = 10
        torch.nn.init.normal_(self.y.W, 0.0, 0.24253562503633297)
        self.y.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 1, 8, 8]
        # line 6: layer c = conv2d(x, 6, 2, tanh, stride = 2, padding = "valid")
        c_z = F.conv2d(x, self.c.W, stride=2) + self.c.b[:, None, None].expand(6, 4, 4)
        c = torch.tanh(c_z)

        # line 7: layer a = avgpool(c, 2)
        a = F.avg_pool2d(c, 2)

        # line 8: layer y = dense(flatten(a), 10, softmax)
        y_z = a.flatten(1) @ self.y.W.T + self.y.b
        y = torch.exp(y_z - torch.logsumexp(y_z, 1)[:, None])
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 1, 8, 8]
        t = targets["t"]  # [B, 10]
        # line 6: layer c = conv2d(x, 6, 2, tanh, stride = 2, padding = "valid")
        c_z = F.conv2d(x, self.c.W, stride=2) + self.c.b[:, None, None].expand(6, 4, 4)
        c = torch.tanh(c_z)

        # line 7: layer a = avgpool(c, 2)
        a = F.avg_pool2d(c, 2)

        # line 8: layer y = dense(flatten(a), 10, softmax)
        y_z = a.flatten(1) @ self.y.W.T + self.y.b

        # line 9: loss cross_entropy(y, t)
        L = t.sum(1) * torch.logsumexp(y_z, 1) - (t * y_z).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
