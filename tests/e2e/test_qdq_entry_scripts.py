"""The entry scripts at the original tool's paths forward every flag to dopt."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT, EXAMPLES, dopt_bin

SCRIPTS = REPO_ROOT / "tools_dopt"


def run_script(flavour: str, *args, cwd=None):
    env = dict(os.environ, DOPT_BIN=str(dopt_bin()))
    return subprocess.run([sys.executable, str(SCRIPTS / f"dopt_{flavour}_py3" / "dopt_so.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


@pytest.mark.parametrize("flavour", ["onnx", "tf", "pytorch"])
def test_forwards_flags_and_exit_code(dopt, flavour):
    p = run_script(flavour, "--version")
    assert p.returncode == 0 and p.stdout.startswith("dopt "), p
    p = run_script(flavour, "--no-such-flag")
    assert p.returncode == 2 and "dopt: error:" in p.stderr


def test_onnx_script_runs_a_model(dopt, tmp_path):
    import onnx
    import models
    m = tmp_path / "m.onnx"
    onnx.save(models.add_relu(), str(m))
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(models.X_SHAPE)
    np.save(tmp_path / "x.npy", x)
    p = run_script("onnx", "run", "--model", m, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o")
    assert p.returncode == 0, p.stderr
    np.testing.assert_allclose(np.load(tmp_path / "o" / "output.npy"), models.add_relu_reference(x), rtol=1e-6)


@pytest.mark.parametrize("flavour,model,framework,what", [
    ("tf", "frozen.pb", "3", "not a TensorFlow GraphDef (protobuf parse failed)"),
    ("pytorch", "net.py", "5", "a PyTorch model needs its weights: give the .pth file with --weight"),
])
def test_tf_and_pytorch_fail_clearly(dopt, tmp_path, flavour, model, framework, what):
    (tmp_path / model).write_text("not a model")
    np.save(tmp_path / "x.npy", np.zeros((1, 3), np.float32))
    p = run_script(flavour, "run", "--framework", framework, "--model", tmp_path / model,
                   "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o")
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [f"dopt: error: {tmp_path / model}: {what}"]


def test_missing_binary_is_reported(tmp_path):
    env = dict(os.environ, DOPT_BIN=str(tmp_path / "nope"))
    p = subprocess.run([sys.executable, str(SCRIPTS / "dopt_onnx_py3" / "dopt_so.py"), "--version"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 2 and "cannot run" in p.stderr
