"""Two-input models for dopt's tests: TupleNet returns a tuple, DictNet a dict (pick one with
--model_class). They also cover a Linear on a 3-D tensor (exported as MatMul with a folded,
transposed weight) and a per-channel constant multiply after a Conv+BatchNorm (which dopt folds
into the Conv)."""
import torch
import torch.nn as nn


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.register_buffer("gain", torch.linspace(0.5, 1.5, 16).reshape(1, 16, 1, 1))
        self.proj = nn.Linear(16, 8)
        self.side = nn.Linear(10, 8)

    def features(self, image, extra):
        x = self.bn(self.conv(image)) * self.gain          # [N,16,H,W]
        x = torch.relu(x)
        tokens = x.flatten(2).transpose(1, 2)              # [N,HW,16]
        t = self.proj(tokens)                              # [N,HW,8]
        s = self.side(extra)                               # [N,8]
        return t, s


class TupleNet(Trunk):
    def forward(self, image, extra):
        t, s = self.features(image, extra)
        return t.mean(1) + s, t


class DictNet(Trunk):
    def forward(self, image, extra):
        t, s = self.features(image, extra)
        return {"score": (t.mean(1) * s).mean(1), "tokens": t}
