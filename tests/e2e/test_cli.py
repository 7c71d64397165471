"""`dopt run` behaviour on small models made with onnx.helper: input formats, output naming,
output folder handling, and never writing over its own inputs."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto

import models
from conftest import REPO_ROOT, describe, run_dopt, safe_file_name


@pytest.fixture
def x():
    return np.random.default_rng(11).standard_normal(models.X_SHAPE).astype(np.float32)


def test_run_npy(dopt, tmp_path, x):
    model = models.save(models.add_relu(), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    y = np.load(tmp_path / "out" / "output.npy")
    assert y.dtype == np.float32 and y.shape == tuple(models.X_SHAPE)
    np.testing.assert_allclose(y, models.add_relu_reference(x), rtol=0, atol=1e-6)
    assert "output" in proc.stdout and proc.stderr == ""


@pytest.mark.parametrize("magic", [610, 510])
def test_run_bin(dopt, tmp_path, x, magic):
    model = models.save(models.add_relu(), tmp_path / "m.onnx")
    (tmp_path / "x.bin").write_bytes(models.bin_bytes(x, magic))
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.bin'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output.npy"), models.add_relu_reference(x), rtol=0, atol=1e-6)


def test_single_input_without_name(dopt, tmp_path, x):
    model = models.save(models.add_relu(), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", model, "--input", tmp_path / "x.npy", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    assert (tmp_path / "out" / "output.npy").is_file()


@pytest.mark.parametrize("name", ["Identity:0", "a/b c", "scores.v2-final", "ü"])
def test_output_file_names(dopt, tmp_path, x, name):
    model = models.save(models.add_relu(out_name=name), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    expected = safe_file_name(name) + ".npy"
    assert sorted(os.listdir(tmp_path / "out")) == [expected]
    assert all(c.isalnum() or c in "._-" for c in expected)


def test_output_dir_created(dopt, tmp_path, x):
    model = models.save(models.add_relu(), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "a" / "b" / "c"
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", out)
    assert proc.returncode == 0, describe(proc)
    assert (out / "output.npy").is_file()


def test_float32_data_for_float16_model(dopt, tmp_path, x):
    model = models.save(models.add_relu(dtype=TensorProto.FLOAT16), tmp_path / "m16.onnx")
    np.save(tmp_path / "x.npy", x)  # float32 data, converted by dopt
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    y = np.load(tmp_path / "out" / "output.npy")
    assert y.dtype == np.float16
    want = (np.maximum(x.astype(np.float16).astype(np.float32), 0)
            + (np.arange(64, dtype=np.float32).reshape(models.X_SHAPE) / 64 - 0.5).astype(np.float16).astype(np.float32))
    np.testing.assert_allclose(y.astype(np.float32), want.astype(np.float16).astype(np.float32), rtol=0, atol=2e-3)


def test_never_writes_over_the_model(dopt, tmp_path, x):
    # The model file is named exactly like the output file dopt would write.
    model = models.save(models.add_relu(), tmp_path / "output.npy")
    before = model.read_bytes()
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.startswith("dopt: error: ") and "refusing to overwrite" in proc.stderr, describe(proc)
    assert model.read_bytes() == before


def test_never_writes_over_an_input(dopt, tmp_path, x):
    model = models.save(models.add_relu(), tmp_path / "m.onnx")
    np.save(tmp_path / "output.npy", x)
    before = (tmp_path / "output.npy").read_bytes()
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'output.npy'}", "--output_dir", tmp_path)
    assert proc.returncode == 2, describe(proc)
    assert "refusing to overwrite" in proc.stderr, describe(proc)
    assert (tmp_path / "output.npy").read_bytes() == before


def test_version(dopt):
    proc = run_dopt(dopt, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("dopt "), describe(proc)


def test_python_launcher_runs_the_binary(dopt, tmp_path):
    """python/dopt finds the executable through DOPT_BIN and runs it in a subprocess."""
    env = dict(os.environ, DOPT_BIN=str(dopt), PYTHONPATH=str(REPO_ROOT / "python"))
    proc = subprocess.run([sys.executable, "-m", "dopt", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("dopt "), describe(proc)
    env["DOPT_BIN"] = str(tmp_path / "nope")
    proc = subprocess.run([sys.executable, "-m", "dopt", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 127 and proc.stderr.startswith("dopt: error: "), describe(proc)


def _cast_model(dtype, tmp_path):
    """y = Cast<float>(x) for an input x of the given ONNX type."""
    import onnx
    from onnx import helper

    g = helper.make_graph([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], "cast",
                          [helper.make_tensor_value_info("x", dtype, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return models.save(m, tmp_path / "cast.onnx")


@pytest.mark.parametrize("npy_dtype", ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "bool"])
@pytest.mark.parametrize("model_dtype", [TensorProto.INT64, TensorProto.FLOAT])
def test_run_npy_of_every_integer_dtype(dopt, tmp_path, npy_dtype, model_dtype):
    """`.npy` of every numeric dtype feeds an int64 or float input when its values are exact there."""
    x = (np.arange(6).reshape(2, 3) % 2 if npy_dtype == "bool" else np.arange(6).reshape(2, 3) * 3).astype(npy_dtype)
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", _cast_model(model_dtype, tmp_path), "--input", f"x={tmp_path / 'x.npy'}",
                    "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), x.astype(np.float32))


def test_run_npy_value_out_of_range_is_one_error(dopt, tmp_path):
    np.save(tmp_path / "x.npy", np.full((2, 3), 2**63 + 5, np.uint64))
    proc = run_dopt(dopt, "run", "--model", _cast_model(TensorProto.INT64, tmp_path), "--input", f"x={tmp_path / 'x.npy'}",
                    "--output_dir", tmp_path / "out")
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "x.npy" in proc.stderr and "above int64's range" in proc.stderr, proc.stderr
    np.save(tmp_path / "big.npy", np.full((2, 3), 70000, np.int32))
    proc = run_dopt(dopt, "run", "--model", _cast_model(TensorProto.INT16, tmp_path), "--input", f"x={tmp_path / 'big.npy'}",
                    "--output_dir", tmp_path / "out2")
    assert proc.returncode != 0
    assert "big.npy" in proc.stderr and "cannot hold exactly" in proc.stderr, proc.stderr
    assert not (tmp_path / "out2").exists() or not os.listdir(tmp_path / "out2")
