"""Every way loading a PyTorch model (.py + .pth) can fail ends in one line
`dopt: error: <the .py> (weights <the .pth>): <cause>`, exit 2, no traceback and no output file.
One case = one row of docs/errors.md ("PyTorch models"). Also: the unpickling fallback warns and
goes on; exclude_op takes module and parameter names."""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pytest

from conftest import describe, run_dopt
from torch_cases import TORCH_MODELS, binary_config, conf_ops, make_bin, needs_torch, quantize

pytestmark = needs_torch

NET = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))
"""


@dataclass
class Case:
    source: str                 # the model file
    cause: str                  # regex the message must match after "F (weights W): "
    flags: list = field(default_factory=list)
    weights: str = "good"       # good | missing_key | shape_mismatch | no_state_dict | none (no --weight)
    env: dict = field(default_factory=dict)
    prefix: str = "model"       # "model": the message starts with the .py (and weights)


CASES = {
    "no-model": Case("import torch\nX = 3\ndef helper():\n    return 1\n",
                     r"no model found: the file defines no nn\.Module subclass, no module-level nn\.Module "
                     r"instance and no factory function \(get_model, build_model, create_model\)"),
    "ambiguous": Case(NET + "\nclass Other(nn.Module):\n    def forward(self, x):\n        return x\n",
                      r"several candidate models \(Net, Other\); pick one with --model_class"),
    "constructor-args": Case(NET.replace("def __init__(self):", "def __init__(self, width, depth=2):"),
                             r"the candidate model classes need constructor arguments: Net\(width\); add a "
                             r"get_model\(\) factory to the file or pick a class or function with --model_class"),
    "model-class-unknown": Case(NET, r"--model_class Missing: no such class or function in the file",
                                flags=["--model_class", "Missing"]),
    "missing-keys": Case(NET, r"the weights do not match the model \(missing keys: fc\.bias\)", weights="missing_key"),
    "shape-mismatch": Case(NET, r"the weights do not match the model \(shape mismatch: fc\.weight is \[3, 4\] in the "
                                r"checkpoint, \[2, 4\] in the model\)", weights="shape_mismatch"),
    "no-state-dict": Case(NET, r"the checkpoint holds no state dict whose keys match the model's parameters \(keys: "
                               r"epoch, optimizer; the model expects conv\.weight, conv\.bias, fc\.weight, fc\.bias\)",
                          weights="no_state_dict"),
    "input-shape-name": Case(NET, r"--input_shape names 'image', which is not a parameter of Net\.forward\(\) "
                                  r"\(parameters: x\)", flags=["--input_shape", "image: 1,3,8,8"]),
    "input-shape-missing": Case(NET, r"--input_shape is required for PyTorch models \(forward\(\) takes x\)",
                                flags=["--input_shape", ""]),
    "forward-fails": Case(NET, r"forward\(\) failed on inputs of the --input_shape shapes: RuntimeError: .*channels",
                          flags=["--input_shape", "x: 1,5,8,8"]),
    "import-fails": Case("import torch\nraise ValueError('broken model file')\n",
                         r"importing the model file failed: ValueError: broken model file"),
    "weight-flag-missing": Case(NET, r"a PyTorch model needs its weights: give the \.pth file with --weight",
                                weights="none", prefix="py"),
    "torch-missing": Case(NET, r"PyTorch cannot be imported by .*python.* \(ModuleNotFoundError: No module named "
                               r"'torch'.*\); install it with 'pip install torch==2\.13\.0",
                          env={"PYTHONPATH": "@shim"}),
    "python-missing": Case(NET, r"cannot run the Python interpreter '/nonexistent/python3' \(No such file or "
                                r"directory\); the PyTorch path needs Python with torch==2\.13\.0 \(set DOPT_PYTHON\)",
                           env={"DOPT_PYTHON": "/nonexistent/python3"}),
}


def save_weights(tmp_path, kind):
    import torch

    ns = {}
    exec(NET, ns)
    torch.manual_seed(0)
    sd = ns["Net"]().state_dict()
    if kind == "missing_key":
        del sd["fc.bias"]
    elif kind == "shape_mismatch":
        sd["fc.weight"] = torch.zeros(3, 4)
    elif kind == "no_state_dict":  # a training checkpoint that lost its model entry
        sd = {"epoch": 3, "optimizer": {"state": {0: {"exp_avg": torch.zeros(4)}}, "param_groups": [{"lr": 0.1}]}}
    torch.save(sd, tmp_path / "net.pth")
    return tmp_path / "net.pth"


@pytest.fixture
def calib(dopt, tmp_path):
    b = make_bin(dopt, np.random.default_rng(0).random((4, 3, 8, 8), dtype=np.float32), tmp_path / "calib.bin")
    return binary_config(tmp_path / "c.prototxt", [b])


@pytest.mark.parametrize("name", sorted(CASES))
def test_error(dopt, tmp_path, calib, monkeypatch, name):
    case = CASES[name]
    py = tmp_path / "net.py"
    py.write_text(case.source)
    weights = save_weights(tmp_path, "good" if case.weights == "none" else case.weights)
    for k, v in case.env.items():
        if v == "@shim":  # a torch package that fails to import, first on the helper's path
            (tmp_path / "shim" / "torch").mkdir(parents=True)
            (tmp_path / "shim" / "torch" / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\")\n")
            v = str(tmp_path / "shim")
        monkeypatch.setenv(k, v)
    args = ["-m", "0", "--framework", "5", "--model", py, "--cal_conf", calib, "--output", tmp_path / "q.pt"]
    if case.weights != "none":
        args += ["--weight", weights]
    if "--input_shape" not in case.flags:
        args += ["--input_shape", "x: 1,3,8,8"]
    proc = run_dopt(dopt, *args, *case.flags)
    assert proc.returncode == 2, describe(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, describe(proc)
    head = f"dopt: error: {py} (weights {weights}): " if case.prefix == "model" else f"dopt: error: {py}: "
    assert lines[0].startswith(head), describe(proc)
    assert re.fullmatch(case.cause + ".*", lines[0][len(head):]), describe(proc)
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "q.pt").exists()


def test_full_unpickling_warns_and_loads_whole_module(dopt, tmp_path, calib):
    """A .pth holding the whole pickled module is refused by torch.load(weights_only=True): dopt
    warns, unpickles it fully and uses its state dict."""
    import sys

    import torch

    py = tmp_path / "net.py"
    py.write_text(NET)
    sys.path.insert(0, str(tmp_path))
    try:
        import net  # the class must be importable as net.Net for pickling

        torch.manual_seed(0)
        torch.save(net.Net(), tmp_path / "whole.pth")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("net", None)
    proc = quantize(dopt, py, tmp_path / "whole.pth", calib, tmp_path / "q.pt", "x: 1,3,8,8")
    assert proc.returncode == 0, describe(proc)
    warnings = [l for l in proc.stderr.splitlines() if l.startswith("dopt: warning:")]
    assert len(warnings) == 1, proc.stderr
    assert re.search(r"whole\.pth: torch\.load\(weights_only=True\) failed .*; loading it with full unpickling, "
                     r"which runs code stored in the file: use it only with files you trust", warnings[0])
    assert (tmp_path / "q.pt").stat().st_size > 0


def test_exclude_op_by_module_and_parameter_name(dopt, tmp_path):
    """exclude_op takes PyTorch module names (`conv`) and parameter names (`fc.weight`)."""
    import torch

    py = tmp_path / "net.py"
    py.write_text(NET)
    save_weights(tmp_path, "good")
    b = make_bin(dopt, np.random.default_rng(0).random((4, 3, 8, 8), dtype=np.float32), tmp_path / "calib.bin")
    for excl, left in [("conv", {"fc"}), ("fc.weight", {"conv"})]:
        conf = binary_config(tmp_path / "c.prototxt", [b], f'exclude_op: "{excl}"\n')
        proc = quantize(dopt, py, tmp_path / "net.pth", conf, tmp_path / "q.pt", "x: 1,3,8,8",
                        compress_conf=tmp_path / "param")
        assert proc.returncode == 0, describe(proc)
        assert {op["name"] for op in conf_ops(tmp_path / "param")} == left
        wrapped = [n for n, _ in torch.jit.load(str(tmp_path / "q.pt")).named_modules() if n.endswith(".inner")]
        assert wrapped == [f"{next(iter(left))}.inner"]


def test_quantized_op_without_module(dopt, tmp_path, calib):
    """A convolution written with torch.nn.functional on a bare parameter has no module to wrap:
    the TorchScript exporter says so and points at exclude_op."""
    py = tmp_path / "net.py"
    py.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.kernel = nn.Parameter(torch.randn(4, 3, 3, 3))

            def forward(self, x):
                return torch.nn.functional.conv2d(x, self.kernel)
        """))
    import torch

    ns = {}
    exec(py.read_text(), ns)
    torch.save(ns["Net"]().state_dict(), tmp_path / "net.pth")
    proc = quantize(dopt, py, tmp_path / "net.pth", calib, tmp_path / "q.pt", "x: 1,3,8,8")
    assert proc.returncode == 2, describe(proc)
    assert re.fullmatch(rf"dopt: error: {re.escape(str(py))}: quantized op '.*Conv' \(Conv\) runs no Conv/Linear "
                        r"module's weight, so the TorchScript model cannot quantize it; leave it in float with "
                        r"exclude_op in the config", proc.stderr.strip().splitlines()[-1]), describe(proc)
    assert not (tmp_path / "q.pt").exists()


def test_equalized_conv_without_module(dopt, tmp_path):
    """equalization: true rescales a convolution written with torch.nn.functional on a bare
    parameter (left float with exclude_op): the rebuilt model has no module to rescale, so one
    clear error, nothing written."""
    py = tmp_path / "net.py"
    py.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3, padding=1)
                self.kernel = nn.Parameter(torch.randn(5, 4, 3, 3))

            def forward(self, x):
                return torch.nn.functional.conv2d(torch.relu(self.conv(x)), self.kernel)
        """))
    import torch

    ns = {}
    exec(py.read_text(), ns)
    torch.manual_seed(0)
    torch.save(ns["Net"]().state_dict(), tmp_path / "net.pth")
    b = make_bin(dopt, np.random.default_rng(0).random((4, 3, 8, 8), dtype=np.float32), tmp_path / "calib.bin")
    conf = binary_config(tmp_path / "c.prototxt", [b], 'equalization: true\nexclude_op: "kernel"\n')
    proc = quantize(dopt, py, tmp_path / "net.pth", conf, tmp_path / "q.pt", "x: 1,3,8,8")
    assert proc.returncode == 2, describe(proc)
    assert re.fullmatch(rf"dopt: error: {re.escape(str(py))}: equalization rescaled Conv '.*Conv.*', which runs no "
                        r"Conv module's weight, so the TorchScript model cannot hold it; turn equalization off for "
                        r"this model", proc.stderr.strip().splitlines()[-1]), describe(proc)
    assert not (tmp_path / "q.pt").exists()
