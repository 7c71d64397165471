"""The README's main job on the bundled example (scripts/example.sh): quantize the trained MNIST
CNN in examples/ with its calibration digits, run the float and the int8 model with `dopt run`
on the 800 held-out digits, and check that int8 keeps the float accuracy; and that the bundled
float model gives the same outputs in ONNX Runtime as in dopt. Files: examples/LICENSE-data.md.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES, describe, ort_session, read_bin610, run_dopt

MODEL = EXAMPLES / "mnist_cnn.onnx"
CONFIG = EXAMPLES / "mnist_config.prototxt"
HOLDOUT = EXAMPLES / "mnist_holdout.npz"
N_HOLDOUT = 800


def top1(logits: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float(np.mean(logits.argmax(axis=1) == labels))


@pytest.fixture(scope="module")
def example(dopt, tmp_path_factory):
    """Runs the example's commands; returns (held-out x, labels, float logits, int8 logits, int8 model)."""
    d = tmp_path_factory.mktemp("mnist_example")
    data = np.load(HOLDOUT)
    x = (data["x"].astype(np.float32) / 255)[:, None]
    y = data["y"].astype(np.int64)
    np.save(d / "holdout.npy", x)

    q = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", MODEL, "--cal_conf", CONFIG,
                 "--output", d / "mnist_cnn_int8.onnx", "--input_format", "NCHW",
                 "--input_shape", "input: 1,1,28,28", "--out_nodes", "logits",
                 "--compress_conf", d / "mnist_cnn_param")
    assert q.returncode == 0, describe(q)
    assert "quantized:     5 ops (Conv 4, Gemm 1)" in q.stdout, describe(q)
    assert "left in float: 0 ops" in q.stdout, describe(q)

    logits = {}
    for kind, model in (("float", MODEL), ("int8", d / "mnist_cnn_int8.onnx")):
        r = run_dopt(dopt, "run", "--model", model, "--input", f"input={d / 'holdout.npy'}",
                     "--output_dir", d / kind)
        assert r.returncode == 0, describe(r)
        logits[kind] = np.load(d / kind / "logits.npy")
        assert logits[kind].shape == (N_HOLDOUT, 10) and logits[kind].dtype == np.float32
    return x, y, logits["float"], logits["int8"], d / "mnist_cnn_int8.onnx"


def test_bundled_files_are_what_the_example_says():
    data = np.load(HOLDOUT)
    assert data["x"].shape == (N_HOLDOUT, 28, 28) and data["x"].dtype == np.uint8
    assert data["y"].shape == (N_HOLDOUT,) and np.array_equal(np.bincount(data["y"]), [80] * 10)
    calib = read_bin610(EXAMPLES / "mnist_calib.bin")
    assert calib.shape == (200, 1, 28, 28) and 0 <= calib.min() and calib.max() <= 1
    # Calibration and held-out digits are different digits.
    held = {row.tobytes() for row in data["x"]}
    assert not any((np.rint(c[0] * 255).astype(np.uint8)).tobytes() in held for c in calib)
    assert 'input_file_path: "mnist_calib.bin"' in CONFIG.read_text()


def test_int8_keeps_the_float_accuracy(example):
    _, y, f, q, _ = example
    acc_f, acc_q = top1(f, y), top1(q, y)
    agree = 100.0 * float(np.mean(f.argmax(1) == q.argmax(1)))
    print(f"held-out digits: {len(y)}  float top-1 {acc_f:.1f} %  int8 top-1 {acc_q:.1f} %  agreement {agree:.1f} %")
    assert acc_f >= 95.0, f"float top-1 {acc_f:.2f} % on the held-out digits"
    assert acc_q >= acc_f - 1.0, f"int8 top-1 {acc_q:.2f} % is more than 1 point below float {acc_f:.2f} %"
    assert agree >= 98.0, f"float and int8 agree on only {agree:.2f} % of the held-out digits"


def test_float_model_matches_onnxruntime(example):
    x, y, f, _, _ = example
    want = ort_session(MODEL).run(["logits"], {"input": x})[0]
    err = float(np.max(np.abs(f.astype(np.float64) - want)) / np.max(np.abs(want)))
    assert err <= 1e-4, f"dopt vs ONNX Runtime: relative max error {err:.3g} on the float model's logits"
    assert np.array_equal(f.argmax(1), want.argmax(1))


def test_int8_model_runs_in_onnxruntime_with_the_same_accuracy(example):
    x, y, f, q, int8_model = example
    want = ort_session(int8_model, int8_as_written=True).run(["logits"], {"input": x})[0]
    acc_ort, acc_q = top1(want, y), top1(q, y)
    agree = 100.0 * float(np.mean(want.argmax(1) == q.argmax(1)))
    assert abs(acc_ort - acc_q) <= 0.5, f"int8 top-1: ONNX Runtime {acc_ort:.2f} %, dopt {acc_q:.2f} %"
    assert agree >= 99.0, f"dopt and ONNX Runtime agree on only {agree:.2f} % of the int8 model's classes"
