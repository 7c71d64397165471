"""The Python API (python/dopt: dopt.quantize, dopt.run, dopt.analyze, dopt.DoptError).

The package runs the dopt executable (DOPT_BIN) in a subprocess; this test process imports
only numpy and onnx (to build small models), never anything native of dopt. Real data: the
shared MNIST CNN (ONNX) and MLP (TensorFlow .pb) with real MNIST digits.
"""
from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO_ROOT, SHARED_MODELS
import models

sys.path.insert(0, str(REPO_ROOT / "python"))
import dopt  # noqa: E402

SHARED = SHARED_MODELS.parent.parent
MNIST_ONNX = SHARED_MODELS / "mnist_cntk.onnx"  # Input3 [1,1,28,28] raw 0..255 -> Plus214_Output_0 [1,10]
MNIST_PB = SHARED / "models" / "tf" / "mnist_fc_layers.pb"  # X [-1,784] pixels/255 -> output [-1,10]
MNIST_CSV = SHARED / "data" / "mnist_5k.csv.gz"
IMAGES = SHARED / "images" / "cifar10-test" / "airplane"


@pytest.fixture(autouse=True)
def _dopt_bin(dopt, monkeypatch):
    monkeypatch.setenv("DOPT_BIN", str(dopt))


def need(*paths: Path):
    for p in paths:
        if not p.exists():
            pytest.skip(f"{p} is missing")


_DIGITS = None


def digits(n: int, start: int = 0):
    """(pixels [n,784] float32 0..255, labels [n]) from the shared MNIST test digits."""
    global _DIGITS
    need(MNIST_CSV)
    if _DIGITS is None:
        with gzip.open(MNIST_CSV, "rt") as f:
            rows = [next(f) for _ in range(400)]
        _DIGITS = np.array([[int(v) for v in r.split(",")] for r in rows], dtype=np.int64)
    d = _DIGITS[start:start + n]
    return d[:, 1:].astype(np.float32), d[:, 0]


def cosine(a, b) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def bin610(path: Path, x: np.ndarray) -> Path:
    x = np.asarray(x, np.float32)
    path.write_bytes(struct.pack(f"<{2 + x.ndim}i", 610, x.ndim, *x.shape) + x.tobytes())
    return path


def listing(d: Path) -> list:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


# ------------------------------------------------------------------ quantize from a generator

def test_quantize_from_a_generator_then_run_float_and_int8(tmp_path):
    need(MNIST_ONNX)
    pixels, _ = digits(48)
    work = tmp_path / "work"
    work.mkdir()
    seen = []

    def samples():
        for i in range(len(pixels)):
            if i > 0:
                # Streaming: sample i-1 is on disk before sample i is made, and never more than
                # what has been yielded (the whole set is never materialised first).
                (tmp,) = list(work.iterdir())
                (b,) = list(tmp.glob("*.bin"))
                assert b.stat().st_size == 8 + 4 * 5 + i * 784 * 4
            seen.append(i)
            yield {"Input3": pixels[i].reshape(1, 1, 28, 28)}

    gen = samples()
    r = dopt.quantize(MNIST_ONNX, gen, tmp_path / "q.onnx", workdir=work)
    assert seen == list(range(48))
    assert next(gen, None) is None  # consumed once, to the end
    assert listing(work) == []  # temp files removed
    assert isinstance(r, dopt.QuantizeResult)
    assert r.output == str(tmp_path / "q.onnx") and Path(r.output).is_file()
    assert r.compress_conf == str(tmp_path / "q.compress_conf") and Path(r.compress_conf).is_file()
    assert r.report is None
    assert len(r.quantized) >= 3 and all(isinstance(n, str) for n in r.quantized)  # 2 Conv + 1 MatMul/Gemm
    assert r.float_layers == {} and r.raised == {}
    assert "dopt: quantized" in r.summary and "48 samples" in r.summary and str(r) == r.summary
    assert r.plan["calibration_samples"] == 48 and r.plan["strategy"] == "Quant_INT8-8"

    test, _ = digits(20, start=100)
    f, q, sim = [], [], []
    for x in test:
        feed = {"Input3": x.reshape(1, 1, 28, 28)}
        out_f = dopt.run(MNIST_ONNX, feed)
        out_q = dopt.run(r.output, feed)
        out_s = dopt.run(MNIST_ONNX, feed, compress_conf=r.compress_conf)
        assert list(out_f) == ["Plus214_Output_0"] and out_f["Plus214_Output_0"].shape == (1, 10)
        f.append(out_f["Plus214_Output_0"])
        q.append(out_q["Plus214_Output_0"])
        sim.append(out_s["Plus214_Output_0"])
    f, q, sim = np.concatenate(f), np.concatenate(q), np.concatenate(sim)
    assert cosine(f, q) > 0.99
    assert (f.argmax(1) == q.argmax(1)).mean() >= 0.95
    assert np.abs(q - sim).max() <= 1e-3 * np.abs(f).max()  # the QDQ model is dopt's int8 simulation


def test_config_fields_exclude_method_and_report(tmp_path):
    need(MNIST_ONNX)
    pixels, _ = digits(16)
    first = dopt.quantize(MNIST_ONNX, ({"Input3": p.reshape(1, 1, 28, 28)} for p in pixels), tmp_path / "a.onnx")
    victim = first.quantized[0]
    r = dopt.quantize(MNIST_ONNX, ({"Input3": p.reshape(1, 1, 28, 28)} for p in pixels), tmp_path / "b.onnx",
                      tmp_path / "b_param", method="minmax", exclude=[victim], per_channel=False,
                      report=tmp_path / "b.html")
    assert r.compress_conf == str(tmp_path / "b_param")
    assert victim not in r.quantized and len(r.quantized) == len(first.quantized) - 1
    assert "exclude_op" in r.float_layers[victim]
    assert r.plan["calibration_method"] == "minmax" and r.plan["per_channel"] is False
    assert Path(r.report).is_file() and Path(r.report).read_text(errors="replace").lstrip().lower().startswith("<!doctype html")
    # layer_precision and accuracy_target land in `raised`.
    r2 = dopt.quantize(MNIST_ONNX, ({"Input3": p.reshape(1, 1, 28, 28)} for p in pixels), tmp_path / "c.onnx",
                       layer_precision={victim: "int16"})
    assert r2.raised[victim]["precision"] == "int16" and victim in r2.quantized


def test_unknown_config_field_is_refused_before_the_data_is_read(tmp_path):
    def never():
        raise AssertionError("the generator must not be started")
        yield  # makes this a generator

    with pytest.raises(TypeError, match="accuracy_targt"):
        dopt.quantize(MNIST_ONNX, never(), tmp_path / "q.onnx", accuracy_targt=0.99)
    with pytest.raises(ValueError, match="x86_saturation_safe"):
        dopt.quantize(MNIST_ONNX, never(), tmp_path / "q.onnx", x86_saturation_safe="SOME")


# ------------------------------------------------------------------ path forms

def test_calibration_paths_bin_file_bin_folder_config_and_image_folder(tmp_path):
    need(MNIST_ONNX, IMAGES)
    pixels, _ = digits(24)
    x = pixels.reshape(24, 1, 28, 28)
    data = tmp_path / "data"
    data.mkdir()
    bin610(data / "a.bin", x[:12])
    bin610(data / "b.bin", x[12:])
    conf = tmp_path / "conf" / "config.prototxt"
    conf.parent.mkdir()
    conf.write_text('strategy: "Quant_INT8-8"\n'
                    'preprocess_parameter { input_type: BINARY input_file_path: "../data" }\n'
                    'calibration_method: "minmax"\n')

    by_file = dopt.quantize(MNIST_ONNX, data / "a.bin", tmp_path / "f.onnx")
    by_folder = dopt.quantize(MNIST_ONNX, str(data), tmp_path / "d.onnx")
    by_conf = dopt.quantize(MNIST_ONNX, conf, tmp_path / "c.onnx")
    by_images = dopt.quantize(MNIST_ONNX, IMAGES, tmp_path / "i.onnx", max_calibration_samples=8,
                              mean_value=[0.0], image_format="RGB")
    assert by_file.plan["calibration_samples"] == 12
    assert by_folder.plan["calibration_samples"] == 24
    assert by_conf.plan["calibration_samples"] == 24 and by_conf.plan["calibration_method"] == "minmax"
    assert by_images.plan["calibration_samples"] == 8
    for r in (by_file, by_folder, by_conf, by_images):
        assert r.quantized == by_folder.quantized and Path(r.output).is_file()
    # The config is used as it is: this call's own config arguments would be ignored, so they are refused.
    with pytest.raises(TypeError, match="config.prototxt"):
        dopt.quantize(MNIST_ONNX, conf, tmp_path / "x.onnx", method="kl")
    # analyze takes the same forms.
    a = dopt.analyze(MNIST_ONNX, data)
    assert a["quantized_ops"] == len(by_folder.quantized) and a["output_cosine"] > 0.99
    assert {lay["name"] for lay in a["layers"]} == set(by_folder.quantized)


# ------------------------------------------------------------------ errors

def test_bad_model_raises_dopt_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken model.onnx"
    bad.write_bytes(b"this is not a model")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dopt.DoptError) as e:
        dopt.quantize(bad, ({"x": np.zeros((1, 4), np.float32)} for _ in range(2)), tmp_path / "q.onnx", workdir=work)
    assert "broken model.onnx" in e.value.message and "not an ONNX model" in e.value.message
    assert e.value.returncode == 2 and "dopt: error:" in e.value.stderr
    assert "broken model.onnx" in str(e.value)
    assert listing(work) == [] and not (tmp_path / "q.onnx").exists()
    with pytest.raises(dopt.DoptError, match="broken model.onnx") as e:
        dopt.run(bad, {"x": np.zeros((1, 4), np.float32)})
    assert e.value.returncode == 2
    with pytest.raises(dopt.DoptError, match="broken model.onnx"):
        dopt.analyze(bad, ({"x": np.zeros((1, 4), np.float32)} for _ in range(2)))


def test_no_samples_raises(tmp_path):
    need(MNIST_ONNX)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dopt.DoptError, match="no sample") as e:
        dopt.quantize(MNIST_ONNX, iter(()), tmp_path / "q.onnx", workdir=work)
    assert e.value.returncode is None
    assert listing(work) == [] and not (tmp_path / "q.onnx").exists()


def test_inconsistent_samples_raise_naming_the_input(tmp_path):
    need(MNIST_ONNX)
    x = np.zeros((1, 1, 28, 28), np.float32)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(dopt.DoptError, match="sample 2 has no input 'Input3'"):
        dopt.quantize(MNIST_ONNX, iter([{"Input3": x}, {"Input3": x}, {"input3": x}]), tmp_path / "q.onnx", workdir=work)
    with pytest.raises(dopt.DoptError, match="sample 1 has input 'extra'"):
        dopt.quantize(MNIST_ONNX, iter([{"Input3": x}, {"Input3": x, "extra": x}]), tmp_path / "q.onnx", workdir=work)
    with pytest.raises(dopt.DoptError, match=r"sample 1, input 'Input3': shape \[2, 1, 28, 28\]"):
        dopt.quantize(MNIST_ONNX, iter([{"Input3": x}, {"Input3": np.zeros((2, 1, 28, 28))}]), tmp_path / "q.onnx",
                      workdir=work)
    with pytest.raises(dopt.DoptError, match="object"):
        dopt.quantize(MNIST_ONNX, iter([{"Input3": np.array(["a"], dtype=object)}]), tmp_path / "q.onnx", workdir=work)
    # An array the model does not take: dopt's own message, naming the input.
    with pytest.raises(dopt.DoptError, match="Input3") as e:
        dopt.quantize(MNIST_ONNX, iter([{"Input3": np.zeros((1, 1, 14, 14), np.float32)}]), tmp_path / "q.onnx",
                      workdir=work)
    assert e.value.returncode == 2
    assert listing(work) == [] and not (tmp_path / "q.onnx").exists()


def test_run_errors_name_the_input(tmp_path):
    need(MNIST_ONNX)
    with pytest.raises(dopt.DoptError, match="'nope' is not an input of the model"):
        dopt.run(MNIST_ONNX, {"nope": np.zeros((1, 1, 28, 28), np.float32)})


# ------------------------------------------------------------------ other models

def _two_input_model(path: Path) -> Path:
    """a [N,8] @ Wa + b [N,6] @ Wb -> Relu -> y [N,4]; N dynamic."""
    rng = np.random.default_rng(1)
    wa = rng.normal(size=(8, 4)).astype(np.float32)
    wb = rng.normal(size=(6, 4)).astype(np.float32)
    m = models._model(
        [helper.make_node("MatMul", ["a", "Wa"], ["ma"], name="mm_a"),
         helper.make_node("MatMul", ["b", "Wb"], ["mb"], name="mm_b"),
         helper.make_node("Add", ["ma", "mb"], ["s"], name="add"),
         helper.make_node("Relu", ["s"], ["y"], name="relu")],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 8]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        [numpy_helper.from_array(wa, "Wa"), numpy_helper.from_array(wb, "Wb")])
    models.save(m, path)
    return path


def test_two_inputs_batches_and_dict_order(tmp_path):
    model = _two_input_model(tmp_path / "two.onnx")
    rng = np.random.default_rng(2)
    # Batches of 4, the dict's key order is not the model's input order.
    samples = ({"b": rng.normal(size=(4, 6)).astype(np.float32), "a": rng.normal(size=(4, 8))} for _ in range(20))
    r = dopt.quantize(model, samples, tmp_path / "q.onnx")
    assert sorted(r.quantized) == ["mm_a", "mm_b"] and "20 samples" in r.summary
    feeds = {"a": rng.normal(size=(4, 8)).astype(np.float32), "b": rng.normal(size=(4, 6)).astype(np.float32)}
    f = dopt.run(model, feeds)["y"]
    q = dopt.run(r.output, feeds)["y"]
    wa, wb = (numpy_helper.to_array(t) for t in __import__("onnx").load(str(model)).graph.initializer)
    np.testing.assert_allclose(f, np.maximum(feeds["a"] @ wa + feeds["b"] @ wb, 0), rtol=1e-4, atol=1e-4)
    assert q.shape == (4, 4) and cosine(f, q) > 0.99
    # A given input_shape must match the arrays (each array is fed as it is).
    with pytest.raises(dopt.DoptError, match="input_shape gives 'a'"):
        dopt.quantize(model, iter([{"a": np.zeros((4, 8)), "b": np.zeros((4, 6))}]), tmp_path / "x.onnx",
                      input_shape="a: 2,8; b: 4,6")
    r2 = dopt.quantize(model, ({"a": rng.normal(size=(2, 8)), "b": rng.normal(size=(2, 6))} for _ in range(8)),
                       tmp_path / "q2.onnx", input_shape={"b": (2, 6), "a": (2, 8)})
    assert sorted(r2.quantized) == ["mm_a", "mm_b"]


def test_int64_token_ids(tmp_path):
    """ids int64 [N,5] -> Gather(table) -> MatMul W -> y [N,5,3]: integer calibration data."""
    rng = np.random.default_rng(3)
    table = rng.normal(size=(50, 8)).astype(np.float32)
    w = rng.normal(size=(8, 3)).astype(np.float32)
    m = models._model(
        [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
         helper.make_node("MatMul", ["e", "W"], ["y"], name="proj")],
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5, 3])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "W")])
    model = models.save(m, tmp_path / "ids.onnx")
    r = dopt.quantize(model, ({"ids": rng.integers(0, 50, size=(2, 5))} for _ in range(16)), tmp_path / "q.onnx")
    assert r.quantized == ["proj"]
    ids = rng.integers(0, 50, size=(2, 5))
    f = dopt.run(model, {"ids": ids})["y"]
    np.testing.assert_allclose(f, table[ids] @ w, rtol=1e-4, atol=1e-4)
    assert cosine(f, dopt.run(r.output, {"ids": ids})["y"]) > 0.99
    with pytest.raises(dopt.DoptError, match="2\\*\\*24"):
        dopt.quantize(model, iter([{"ids": np.full((2, 5), 2 ** 40, np.int64)}]), tmp_path / "x.onnx")


def test_tensorflow_pb(tmp_path):
    need(MNIST_PB)
    pixels, labels = digits(64)
    x = pixels / 255.0
    r = dopt.quantize(MNIST_PB, ({"X": x[i:i + 8]} for i in range(0, 32, 8)), tmp_path / "q.pb")
    assert r.output.endswith("q.pb") and r.plan["framework"] == 3 and len(r.quantized) >= 2
    test = x[32:64].astype(np.float32)
    (name,) = dopt.run(MNIST_PB, {"X": test})
    f = dopt.run(MNIST_PB, {"X": test})[name]
    s = dopt.run(MNIST_PB, {"X": test}, compress_conf=r.compress_conf, out_nodes=[name])[name]
    assert f.shape == (32, 10) and cosine(f, s) > 0.99
    assert (f.argmax(1) == s.argmax(1)).mean() >= 0.9 and (f.argmax(1) == labels[32:64]).mean() >= 0.8


# ------------------------------------------------------------------ the package

def test_legacy_list_form_and_run_cli(tmp_path):
    p = dopt.run(["--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("dopt ")
    p = dopt.run_cli(["--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("dopt ")
    with pytest.raises(TypeError):
        dopt.run(MNIST_ONNX)


def test_the_api_ships_in_the_wheel_package():
    """pyproject's wheel.packages is python/dopt: every module of the API must live there."""
    pkg = REPO_ROOT / "python" / "dopt"
    assert 'wheel.packages = ["python/dopt"]' in (REPO_ROOT / "pyproject.toml").read_text()
    for mod in ("dopt", "dopt._api", "dopt._calib", "dopt._cli"):
        assert Path(sys.modules[mod].__file__).resolve().parent == pkg.resolve(), mod
    for name in ("quantize", "run", "analyze", "run_cli", "DoptError", "DoptNotFoundError", "QuantizeResult"):
        assert name in dopt.__all__ and hasattr(dopt, name)


def test_a_failing_generator_leaves_no_temp_files(tmp_path):
    need(MNIST_ONNX)
    work = tmp_path / "work"
    work.mkdir()

    def samples():
        yield {"Input3": np.zeros((1, 1, 28, 28), np.float32)}
        raise RuntimeError("data loader broke")

    with pytest.raises(RuntimeError, match="data loader broke"):
        dopt.quantize(MNIST_ONNX, samples(), tmp_path / "q.onnx", workdir=work)
    assert listing(work) == [] and not (tmp_path / "q.onnx").exists()


def test_dopt_warnings_become_python_warnings(tmp_path):
    need(MNIST_ONNX, IMAGES)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for p in sorted(IMAGES.iterdir())[:4]:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "notes.txt").write_text("not an image")
    with pytest.warns(dopt.DoptWarning, match="notes.txt"):
        r = dopt.quantize(MNIST_ONNX, folder, tmp_path / "q.onnx")
    assert r.plan["calibration_samples"] == 4 and "notes.txt" in r.log


def test_rank0_input_without_a_batch_dim(tmp_path):
    """x [N,4] @ W * s, s a rank-0 input: its samples are numpy scalars (fed whole)."""
    rng = np.random.default_rng(4)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    m = models._model(
        [helper.make_node("MatMul", ["x", "W"], ["m"], name="mm"), helper.make_node("Mul", ["m", "s"], ["y"], name="mul")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(w, "W")])
    model = models.save(m, tmp_path / "r0.onnx")
    r = dopt.quantize(model, ({"x": rng.normal(size=(2, 4)), "s": np.float32(i + 1)} for i in range(6)), tmp_path / "q.onnx")
    assert r.quantized == ["mm"] and "6 samples" in r.summary
    x = rng.normal(size=(2, 4)).astype(np.float32)
    f = dopt.run(model, {"x": x, "s": np.float32(2)})["y"]
    np.testing.assert_allclose(f, x @ w * 2, rtol=1e-4, atol=1e-4)
    # Big-endian and non-contiguous arrays are fine too.
    xt = np.asfortranarray(x).astype(">f4")
    assert cosine(f, dopt.run(r.output, {"x": xt, "s": np.array(2, ">f4")})["y"]) > 0.99


NET_PY = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 5)

    def forward(self, image):
        return self.fc(torch.relu(self.conv(image)).flatten(1))
'''


def test_pytorch_py_and_pth(tmp_path):
    torch = pytest.importorskip("torch")  # only to write the .pth; dopt runs its own helper process
    (tmp_path / "net.py").write_text(NET_PY)
    ns: dict = {}
    exec(compile(NET_PY, "net.py", "exec"), ns)
    torch.manual_seed(0)
    torch.save(ns["Net"]().state_dict(), tmp_path / "net.pth")
    rng = np.random.default_rng(5)
    r = dopt.quantize(tmp_path / "net.py", ({"image": rng.random((1, 1, 8, 8), dtype=np.float32)} for _ in range(16)),
                      tmp_path / "net_int8.pt", weight=tmp_path / "net.pth", model_class="Net")
    assert len(r.quantized) == 2 and Path(r.output).is_file() and r.output.endswith(".pt")
    x = {"image": rng.random((1, 1, 8, 8), dtype=np.float32)}
    (name, f), = dopt.run(tmp_path / "net.py", x, weight=tmp_path / "net.pth").items()
    s = dopt.run(tmp_path / "net.py", x, weight=tmp_path / "net.pth", compress_conf=r.compress_conf)[name]
    assert f.shape == (1, 5) and cosine(f, s) > 0.99


def test_checks_before_the_data_is_read(tmp_path, monkeypatch):
    def never():
        raise AssertionError("the generator must not be started")
        yield  # makes this a generator

    with pytest.raises(TypeError, match="mean_value applies to an image folder"):
        dopt.quantize(MNIST_ONNX, never(), tmp_path / "q.onnx", mean_value=[127.5])
    monkeypatch.setenv("DOPT_BIN", str(tmp_path / "no-such-dopt"))
    with pytest.raises(dopt.DoptNotFoundError):
        dopt.quantize(MNIST_ONNX, never(), tmp_path / "q.onnx")
    with pytest.raises(dopt.DoptNotFoundError):
        dopt.analyze(MNIST_ONNX, never())


def test_input_shape_naming_no_samples_input(tmp_path):
    model = _two_input_model(tmp_path / "two.onnx")
    with pytest.raises(dopt.DoptError, match="input_shape names 'c'"):
        dopt.quantize(model, iter([{"a": np.zeros((1, 8)), "b": np.zeros((1, 6))}]), tmp_path / "x.onnx",
                      input_shape="a: 1,8; b: 1,6; c: 1,2")


def test_config_fields_follow_the_proto():
    """The API's **config keys are dopt's own NotrainParameter fields (numbers >= 100) and the
    device/preprocessing fields: a field added to dopt_config.proto must be added here too."""
    import re

    from dopt import _calib

    proto = (Path(__file__).resolve().parents[2] / "src" / "data" / "proto" / "dopt_config.proto").read_text()
    body = proto[proto.index("message NotrainParameter"):]
    body = body[:body.index("\n}")]
    fields = {name for name, num in re.findall(r"^\s*(?:optional|repeated|required)\s+\S+\s+(\w+)\s*=\s*(\d+)",
                                                 body, re.M) if int(num) >= 100}
    assert fields and fields <= set(_calib.CONFIG_FIELDS), sorted(fields - set(_calib.CONFIG_FIELDS))
