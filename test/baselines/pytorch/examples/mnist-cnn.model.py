"""
The model mnist_cnn of mnist-cnn.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 8 parameters (52138 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 10]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "mnist_cnn"
INPUTS = {
    "x": (1, 28, 28),
}
TARGETS = {
    "t": (10,),
}
OUTPUTS = {
    "y": (10,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "c1.W": (8, 1, 3, 3),
    "c1.b": (8,),
    "c2.W": (16, 8, 3, 3),
    "c2.b": (16,),
    "h.W": (64, 784),
    "h.b": (64,),
    "y.W": (10, 64),
    "y.b": (10,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 8: layer c1 = conv2d(x, 8, 3, relu, padding = "same")
        self.c1 = torch.nn.Module()
        self.c1.W = torch.nn.Parameter(torch.empty((8, 1, 3, 3), dtype=dtype))
        self.c1.b = torch.nn.Parameter(torch.empty((8,), dtype=dtype))
        # line 10: layer c2 = conv2d(p1, 16, 3, relu, padding = "same")
        self.c2 = torch.nn.Module()
        self.c2.W = torch.nn.Parameter(torch.empty((16, 8, 3, 3), dtype=dtype))
        self.c2.b = torch.nn.Parameter(torch.empty((16,), dtype=dtype))
        # line 13: layer h = dense(f, 64, relu)
        self.h = torch.nn.Module()
        self.h.W = torch.nn.Parameter(torch.empty((64, 784), dtype=dtype))
        self.h.b = torch.nn.Parameter(torch.empty((64,), dtype=dtype))
        # line 14: layer y = dense(h, 10, softmax)
        self.y = torch.nn.Module()
        self.y.W = torch.nn.Parameter(torch.empty((10, 64), dtype=dtype))
        self.y.b = torch.nn.Parameter(torch.empty((10,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        # c1.W ~ he: √(2/fan_in), fan_in = 9
        torch.nn.init.normal_(self.c1.W, 0.0, 0.4714045207910317)
        self.c1.b.zero_()
        # c2.W ~ he: √(2/fan_in), fan_in = 72
        torch.nn.init.normal_(self.c2.W, 0.0, 0.16666666666666666)
        self.c2.b.zero_()
        # h.W ~ he: √(2/fan_in), fan_in = 784
        torch.nn.init.normal_(self.h.W, 0.0, 0.050507627227610534)
        self.h.b.zero_()
        # y.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 64, fan_out = 10
        torch.nn.init.normal_(self.y.W, 0.0, 0.1643989873053573)
        self.y.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 1, 28, 28]
        # line 8: layer c1 = conv2d(x, 8, 3, relu, padding = "same")
        c1_z = F.conv2d(x, self.c1.W, padding=(1, 1)) + self.c1.b[:, None, None].expand(8, 28, 28)
        c1 = torch.relu(c1_z)

        # line 9: layer p1 = maxpool(c1, 2)
        p1 = F.max_pool2d(c1, 2)

        # line 10: layer c2 = conv2d(p1, 16, 3, relu, padding = "same")
        c2_z = F.conv2d(p1, self.c2.W, padding=(1, 1)) + self.c2.b[:, None, None].expand(16, 14, 14)
        c2 = torch.relu(c2_z)

        # line 11: layer p2 = maxpool(c2, 2)
        p2 = F.max_pool2d(c2, 2)

        # line 12: f = flatten(p2)
        f = p2.flatten(1)

        # line 13: layer h = dense(f, 64, relu)
        h_z = f @ self.h.W.T + self.h.b
        h = torch.relu(h_z)

        # line 14: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b
        y = torch.exp(y_z - torch.logsumexp(y_z, 1)[:, None])
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 1, 28, 28]
        t = targets["t"]  # [B, 10]
        # line 8: layer c1 = conv2d(x, 8, 3, relu, padding = "same")
        c1_z = F.conv2d(x, self.c1.W, padding=(1, 1)) + self.c1.b[:, None, None].expand(8, 28, 28)
        c1 = torch.relu(c1_z)

        # line 9: layer p1 = maxpool(c1, 2)
        p1 = F.max_pool2d(c1, 2)

        # line 10: layer c2 = conv2d(p1, 16, 3, relu, padding = "same")
        c2_z = F.conv2d(p1, self.c2.W, padding=(1, 1)) + self.c2.b[:, None, None].expand(16, 14, 14)
        c2 = torch.relu(c2_z)

        # line 11: layer p2 = maxpool(c2, 2)
        p2 = F.max_pool2d(c2, 2)

        # line 12: f = flatten(p2)
        f = p2.flatten(1)

        # line 13: layer h = dense(f, 64, relu)
        h_z = f @ self.h.W.T + self.h.b
        h = torch.relu(h_z)

        # line 14: layer y = dense(h, 10, softmax)
        y_z = h @ self.y.W.T + self.y.b

        # line 15: loss cross_entropy(y, t)
        L = t.sum(1) * torch.logsumexp(y_z, 1) - (t * y_z).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
