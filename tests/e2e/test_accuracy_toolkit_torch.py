"""The accuracy options on the PyTorch path (.py + .pth in, TorchScript .pt out):
layer_precision (an op at int16, another left float), bias_correction, accuracy_target. The .pt
loads with torch.jit.load and matches dopt's own int8 simulation (`dopt run --compress_conf`)
of the same plan (to float rounding: 1 % of an activation step)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import describe, run_dopt
from torch_cases import TORCH_MODELS, binary_config, conf_ops, make_bin, needs_torch, quantize, run_pt

pytestmark = needs_torch


@pytest.mark.parametrize("extra", [
    'layer_precision { op: "conv" precision: INT16 }\nlayer_precision { op: "side" precision: FLOAT }\n',
    "bias_correction: true\nper_channel: false\n",
    "accuracy_target: 0.9999999\n",
], ids=["layer_precision", "bias_correction", "accuracy_target"])
def test_accuracy_options_in_torchscript(dopt, tmp_path, extra):
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("multi_io_acc", TORCH_MODELS / "multi_io.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(1)
    model = mod.DictNet().eval()
    torch.save(model.state_dict(), tmp_path / "w.pth")
    rng = np.random.default_rng(0)
    bins = [make_bin(dopt, rng.random((24, 3, 8, 8), dtype=np.float32), tmp_path / "ci.bin"),
            make_bin(dopt, rng.standard_normal((24, 10)).astype(np.float32), tmp_path / "ce.bin")]
    conf = binary_config(tmp_path / "c.prototxt", bins, extra)
    proc = quantize(dopt, TORCH_MODELS / "multi_io.py", tmp_path / "w.pth", conf, tmp_path / "q.pt",
                    "image: 1,3,8,8; extra: 1,10", "--model_class", "DictNet", compress_conf=tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    ops = {op["name"]: op for op in conf_ops(tmp_path / "param")}
    if "layer_precision" in extra:
        assert "side" not in ops and set(ops) == {"conv", "proj"}
        assert "raised:        conv (Conv) to int16" in proc.stdout and "raised:        side (Gemm) to float" in proc.stdout
    elif "bias_correction" in extra:
        assert "bias:          corrected" in proc.stdout
    else:
        assert "raised:" in proc.stdout, proc.stdout

    image = rng.random((1, 3, 8, 8), dtype=np.float32)
    side = rng.standard_normal((1, 10)).astype(np.float32)
    np.save(tmp_path / "image.npy", image)
    np.save(tmp_path / "extra.npy", side)
    proc = run_dopt(dopt, "run", "--model", TORCH_MODELS / "multi_io.py", "--weight", tmp_path / "w.pth",
                    "--model_class", "DictNet", "--input", f"image={tmp_path / 'image.npy'}",
                    "--input", f"extra={tmp_path / 'extra.npy'}", "--output_dir", tmp_path / "sim",
                    "--compress_conf", tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    info = run_pt(tmp_path / "q.pt", [tmp_path / "image.npy", tmp_path / "extra.npy"], tmp_path / "pt")
    step = max(op["act_scale"] for op in ops.values()) if ops else 0.0
    for name in info["outputs"]:
        got = np.load(tmp_path / "pt" / f"{name}.npy")
        sim = np.load(tmp_path / "sim" / f"{name}.npy")
        assert got.shape == sim.shape
        # The same arithmetic: float rounding apart (1e-7 measured), far below one step (a bias
        # correction the .pt missed moved `tokens` by 2.8e-3 of a 2e-2 step).
        assert np.abs(got - sim).max() <= 0.01 * step + 1e-6, (name, np.abs(got - sim).max(), step)


EQ_NET = """
import torch
import torch.nn as nn

class EqNet(nn.Module):
    def __init__(self, shift=False):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)  # depthwise consumer
        self.c3 = nn.Conv2d(8, 16, 1)
        self.pool = nn.MaxPool2d(2)
        self.c4 = nn.Conv2d(16, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)
        self.shift = shift

    def forward(self, x):
        y = self.bn1(self.c1(x))
        if self.shift:  # code between the layers: dopt folds the Add into c1, the module does not hold it
            y = y + torch.arange(8, dtype=y.dtype).reshape(1, 8, 1, 1)
        x = torch.relu(y)
        x = torch.relu(self.c2(x))
        x = self.pool(torch.relu(self.c3(x)))
        return self.fc(self.c4(x).mean((2, 3)))


class ShiftNet(EqNet):
    def __init__(self):
        super().__init__(shift=True)
"""


def eq_net(tmp_path, cls):
    """EqNet with channel ranges spread over 100x (what equalization is for) and BatchNorm
    statistics from data; saves net.py and its weights."""
    import torch

    from torch_cases import calibrate_batchnorm

    py = tmp_path / "eqnet.py"
    py.write_text(EQ_NET)
    ns = {}
    exec(EQ_NET, ns)
    torch.manual_seed(3)
    model = ns[cls]()
    with torch.no_grad():
        spread = 10.0 ** torch.linspace(-1, 1, 8)
        model.c1.weight.mul_(spread.reshape(8, 1, 1, 1))
        model.c3.weight.mul_(10.0 ** torch.linspace(-1, 1, 16).reshape(16, 1, 1, 1))
    rng = np.random.default_rng(5)
    calibrate_batchnorm(model, [rng.random((8, 3, 8, 8), dtype=np.float32) for _ in range(4)])
    torch.save(model.state_dict(), tmp_path / "eqnet.pth")
    return py, tmp_path / "eqnet.pth"


@pytest.mark.parametrize("extra", ["", 'exclude_op: "c3"\n', "per_channel: false\n"],
                         ids=["all_int8", "equalized_conv_float", "per_tensor"])
def test_equalization_in_torchscript(dopt, tmp_path, extra):
    """equalization: true on the PyTorch path: the helper rescales the modules as dopt rescaled
    the Convs (BatchNorm folded first; a depthwise consumer; an equalized Conv left float), checks
    the float outputs did not move, and the .pt matches dopt's simulation of the same plan."""
    py, pth = eq_net(tmp_path, "EqNet")
    rng = np.random.default_rng(0)
    b = make_bin(dopt, rng.random((16, 3, 8, 8), dtype=np.float32), tmp_path / "c.bin")
    conf = binary_config(tmp_path / "c.prototxt", [b], "equalization: true\n" + extra)
    proc = quantize(dopt, py, pth, conf, tmp_path / "q.pt", "x: 1,3,8,8", "--model_class", "EqNet",
                    compress_conf=tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    assert "equalized:" in proc.stdout and "3 Conv chain" in proc.stdout, proc.stdout
    ops = {op["name"]: op for op in conf_ops(tmp_path / "param")}
    assert ("c3" not in ops) == ("c3" in extra), sorted(ops)

    x = rng.random((1, 3, 8, 8), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", py, "--weight", pth, "--model_class", "EqNet",
                    "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "sim",
                    "--compress_conf", tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    info = run_pt(tmp_path / "q.pt", [tmp_path / "x.npy"], tmp_path / "pt")
    step = max(op["act_scale"] for op in ops.values())
    for name in info["outputs"]:
        got, sim = np.load(tmp_path / "pt" / f"{name}.npy"), np.load(tmp_path / "sim" / f"{name}.npy")
        assert got.shape == sim.shape
        # Without the rescaled modules the .pt would run the original weights on dopt's
        # equalized scales: far more than 1 % of a step apart.
        assert np.abs(got - sim).max() <= 0.01 * step + 1e-6, (name, np.abs(got - sim).max(), step)


def test_equalization_refused_when_forward_code_breaks_it(dopt, tmp_path):
    """forward() adds a per-channel constant between c1 and its ReLU: dopt folds it into c1's
    bias and equalizes, but the rebuilt module cannot hold the rescaled constant. The helper's
    float check catches it: one clear error, nothing written."""
    py, pth = eq_net(tmp_path, "ShiftNet")
    b = make_bin(dopt, np.random.default_rng(0).random((8, 3, 8, 8), dtype=np.float32), tmp_path / "c.bin")
    conf = binary_config(tmp_path / "c.prototxt", [b], "equalization: true\n")
    proc = quantize(dopt, py, pth, conf, tmp_path / "q.pt", "x: 1,3,8,8", "--model_class", "ShiftNet",
                    compress_conf=tmp_path / "param")
    assert proc.returncode == 2, describe(proc)
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"dopt: error: {py} (weights {pth}): writing the TorchScript model: "), describe(proc)
    assert "equalization changed the float model's output" in lines[-1] and "turn equalization off" in lines[-1]
    assert not (tmp_path / "q.pt").exists() and not (tmp_path / "param").exists()
