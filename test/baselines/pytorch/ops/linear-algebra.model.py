"""
The model linear-algebra of linear-algebra.nn, exported by nnc 0.1.0 (nnc export --format pytorch).

The computation of nnc's generated module in PyTorch: the same 3 parameters (14 values) under
the same names (the state_dict keys), shaped as in the .nn file (W[out, in], so a dense layer is
x @ W.T + b for a batch), the same loss with its stable fused forms, in float64 by default.
Tensors are batch-first: an input x[64] is a [B, 64] tensor; a scalar target is [B].

    model = Model()
    outputs = model(inputs)              # {"r": [B]}
    loss = model.loss(inputs, targets)   # the batch objective of nnc's gradientBatch
"""
import torch
import torch.nn.functional as F

MODEL_NAME = "linear-algebra"
INPUTS = {
    "x": (3,),
}
TARGETS = {
    "t": (),
}
OUTPUTS = {
    "r": (),
}
# in the .nn file's order, which is the order of the tensors in a weights file
PARAMETERS = {
    "A": (2, 3),
    "B": (3, 2),
    "v": (2,),
}


class Model(torch.nn.Module):
    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.dtype = dtype
        # line 4: param A[2, 3] ~ normal(0, 0.5)
        self.A = torch.nn.Parameter(torch.empty((2, 3), dtype=dtype))
        # line 5: param B[3, 2] ~ normal(0, 0.5)
        self.B = torch.nn.Parameter(torch.empty((3, 2), dtype=dtype))
        # line 6: param v[2] ~ normal(0, 0.5)
        self.v = torch.nn.Parameter(torch.empty((2,), dtype=dtype))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """The .nn file's initializers: the same distributions (not nnc's random numbers)."""
        torch.nn.init.normal_(self.A, 0, 0.5)
        torch.nn.init.normal_(self.B, 0, 0.5)
        torch.nn.init.normal_(self.v, 0, 0.5)

    def forward(self, inputs: dict) -> dict:
        """The outputs for a batch of inputs (dropout is active only in train() mode)."""
        x = inputs["x"]  # [B, 3]
        # line 7: C = A @ B
        C = self.A @ self.B

        # line 8: u = transpose(C) @ v + transpose(B) @ x
        u = C.T @ self.v + x @ self.B

        # line 9: q = outer(u, x)
        q = u.unsqueeze(-1) * x.unsqueeze(-2)

        # line 10: r = dot(A @ x, v) + q[1, 2] + C[0, 1]
        r = (x @ self.A.T * self.v).sum(1) + q[:, 1, 2] + C[0, 1]
        return {"r": r}

    def sample_losses(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The loss of each sample without the parameter-only terms: a [B] tensor."""
        x = inputs["x"]  # [B, 3]
        t = targets["t"]  # [B]
        # line 7: C = A @ B
        C = self.A @ self.B

        # line 8: u = transpose(C) @ v + transpose(B) @ x
        u = C.T @ self.v + x @ self.B

        # line 9: q = outer(u, x)
        q = u.unsqueeze(-1) * x.unsqueeze(-2)

        # line 10: r = dot(A @ x, v) + q[1, 2] + C[0, 1]
        r = (x @ self.A.T * self.v).sum(1) + q[:, 1, 2] + C[0, 1]

        # line 11: loss (r - t)^2 + 0.01 * sumsq(B)
        losses = (r - t) ** 2
        return losses

    def regularizer(self) -> torch.Tensor:
        """The parameter-only terms of the loss (weight decay): counted once per batch."""
        # line 11: loss (r - t)^2 + 0.01 * sumsq(B)
        penalty = 0.01 * (self.B ** 2).sum()
        return penalty

    def loss(self, inputs: dict, targets: dict) -> torch.Tensor:
        """The batch objective: the mean of the samples' losses plus the parameter-only terms once."""
        return self.sample_losses(inputs, targets).mean() + self.regularizer()
