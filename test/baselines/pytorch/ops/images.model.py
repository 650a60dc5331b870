"""
The model images of images.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 7 parameters (178 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"y": [B, 3]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "images"
INPUTS = {
    "x": (2, 4, 4),
}
TARGETS = {
    "t": (3,),
}
OUTPUTS = {
    "y": (3,),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "K": (2, 2, 2, 2),
    "c.W": (3, 2, 3, 3),
    "c.b": (3,),
    "e.W": (2, 2, 2, 2),
    "e.b": (2,),
    "y.W": (3, 28),
    "y.b": (3,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 5: param K[2, 2, 2, 2] ~ normal(0, 0.5)
        self.K = torch.nn.Parameter(torch.empty((2, 2, 2, 2), dtype=dtype))
        # line 6: layer c = conv2d(x, 3, 3, tanh, padding = "same")
        self.c = torch.nn.Module()
        self.c.W = torch.nn.Parameter(torch.empty((3, 2, 3, 3), dtype=dtype))
        self.c.b = torch.nn.Parameter(torch.empty((3,), dtype=dtype))
        # line 7: layer e = conv2d(x, 2, 2, sigmoid, padding = "same")
        self.e = torch.nn.Module()
        self.e.W = torch.nn.Parameter(torch.empty((2, 2, 2, 2), dtype=dtype))
        self.e.b = torch.nn.Parameter(torch.empty((2,), dtype=dtype))
        # line 13: layer y = dense(v, 3, softmax)
        self.y = torch.nn.Module()
        self.y.W = torch.nn.Parameter(torch.empty((3, 28), dtype=dtype))
        self.y.b = torch.nn.Parameter(torch.empty((3,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.K, 0, 0.5)
        # c.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 18, fan_out = 27
        torch.nn.init.normal_(self.c.W, 0.0, 0.21081851067789195)
        self.c.b.zero_()
        # e.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 8, fan_out = 8
        torch.nn.init.normal_(self.e.W, 0.0, 0.3535533905932738)
        self.e.b.zero_()
        # y.W ~ xavier: √(2/(fan_in + fan_out)), fan_in = 28, fan_out = 3
        torch.nn.init.normal_(self.y.W, 0.0, 0.254000254000381)
        self.y.b.zero_()

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        batch = len(inputs["x"])
        x = inputs["x"]  # [B, 2, 4, 4]
        # line 6: layer c = conv2d(x, 3, 3, tanh, padding = "same")
        c_z = F.conv2d(x, self.c.W, padding=(1, 1)) + self.c.b[:, None, None].expand(3, 4, 4)
        c = torch.tanh(c_z)

        # line 7: layer e = conv2d(x, 2, 2, sigmoid, padding = "same")
        e_z = F.conv2d(F.pad(x, (0, 1, 0, 1)), self.e.W) + self.e.b[:, None, None].expand(2, 4, 4)
        e = torch.sigmoid(e_z)

        # line 8: s = conv2d(x, K, stride = 2, padding = 1)
        s = F.conv2d(x, self.K, stride=2, padding=(1, 1))

        # line 9: m = maxpool(c, 2)
        m = F.max_pool2d(c, 2)

        # line 10: a = avgpool(e, 2)
        a = F.avg_pool2d(e, 2)

        # line 11: u = concat(m, a, axis = 0)
        u = torch.cat((m, a), dim=1)

        # line 12: v = concat(flatten(u), flatten(s[:, 1:3, 0]), flatten(K[:, :, 0, 1]))
        v = torch.cat([
            u.flatten(1),
            s[:, :, 1:3, 0].flatten(1),
            self.K[:, :, 0, 1].reshape(4).expand(batch, -1),
        ], dim=1)

        # line 13: layer y = dense(v, 3, softmax)
        y_z = v @ self.y.W.T + self.y.b
        y = torch.exp(y_z - torch.logsumexp(y_z, 1)[:, None])
        return {"y": y}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        batch = len(inputs["x"])
        x = inputs["x"]  # [B, 2, 4, 4]
        t = targets["t"]  # [B, 3]
        # line 6: layer c = conv2d(x, 3, 3, tanh, padding = "same")
        c_z = F.conv2d(x, self.c.W, padding=(1, 1)) + self.c.b[:, None, None].expand(3, 4, 4)
        c = torch.tanh(c_z)

        # line 7: layer e = conv2d(x, 2, 2, sigmoid, padding = "same")
        e_z = F.conv2d(F.pad(x, (0, 1, 0, 1)), self.e.W) + self.e.b[:, None, None].expand(2, 4, 4)
        e = torch.sigmoid(e_z)

        # line 8: s = conv2d(x, K, stride = 2, padding = 1)
        s = F.conv2d(x, self.K, stride=2, padding=(1, 1))

        # line 9: m = maxpool(c, 2)
        m = F.max_pool2d(c, 2)

        # line 10: a = avgpool(e, 2)
        a = F.avg_pool2d(e, 2)

        # line 11: u = concat(m, a, axis = 0)
        u = torch.cat((m, a), dim=1)

        # line 12: v = concat(flatten(u), flatten(s[:, 1:3, 0]), flatten(K[:, :, 0, 1]))
        v = torch.cat([
            u.flatten(1),
            s[:, :, 1:3, 0].flatten(1),
            self.K[:, :, 0, 1].reshape(4).expand(batch, -1),
        ], dim=1)

        # line 13: layer y = dense(v, 3, softmax)
        y_z = v @ self.y.W.T + self.y.b

        # line 14: loss cross_entropy(y, t)
        L = t.sum(1) * torch.logsumexp(y_z, 1) - (t * y_z).sum(1)
        return L

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        return torch.zeros((), dtype=self.dtype)

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
