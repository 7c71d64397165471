"""dopt -m 0 end to end on a small generated model (Conv+Relu, Conv, Gemm; opset 13) with a .bin
calibration set: the QDQ model passes onnx.checker (full), runs in ONNX Runtime close to the
float model, the compress_conf reads back, exclusions are honoured, and bad requests fail with
one `dopt: error:` line and leave no file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, run_dopt
from models import bin_bytes

X_SHAPE = [1, 3, 8, 8]


def small_model(opset: int = 13) -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    w1[5] = 0  # an all-zero output channel: its scale must stay valid
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((4, 8, 1, 1)) * 0.3).astype(np.float32)
    b2 = (rng.standard_normal(4) * 0.1).astype(np.float32)
    fw = (rng.standard_normal((10, 256)) * 0.1).astype(np.float32)
    fb = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2.w", "conv2.b"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Flatten", ["c2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    g = helper.make_graph(
        nodes, "small",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(a, n) for a, n in
         ((w1, "conv1.w"), (b1, "conv1.b"), (w2, "conv2.w"), (b2, "conv2.b"), (fw, "fc.w"), (fb, "fc.b"))])
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


@pytest.fixture()
def setup(tmp_path: Path):
    model = tmp_path / "small.onnx"
    onnx.save(small_model(), str(model))
    x = np.random.default_rng(1).standard_normal((24, 3, 8, 8)).astype(np.float32)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    return tmp_path, model, x


def write_conf(d: Path, extra: str = "", name: str = "config.prototxt") -> Path:
    p = d / name
    p.write_text('strategy: "Quant_INT8-8"\npreprocess_parameter {\n  input_type: BINARY\n  input_file_path: "cal.bin"\n}\n'
                 + extra)
    return p


def quantize(dopt, d: Path, model: Path, conf: Path, *extra):
    out, param = d / "q.onnx", d / "param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf, "--output", out,
                    "--input_format", "NCHW", "--input_shape", "input: 1,3,8,8", "--out_nodes", "logits",
                    "--compress_conf", param, *extra)
    return proc, out, param


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"input": x[i:i + 1]})[0] for i in range(x.shape[0])])


def dq_weight_producers(m: onnx.ModelProto) -> dict:
    """node name -> op type of the producer of its input 1 (weight), or 'initializer'."""
    producer = {o: n for n in m.graph.node for o in n.output}
    out = {}
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm"):
            p = producer.get(n.input[1])
            out[n.name] = p.op_type if p is not None else "initializer"
    return out


@pytest.mark.parametrize("method", ["default", "minmax", "kl", "percentile", "mse"])
def test_quantize_small_model(dopt, setup, method):
    d, model, x = setup
    conf = write_conf(d, "" if method == "default" else f'calibration_method: "{method}"\n')
    proc, out, param = quantize(dopt, d, model, conf)
    assert proc.returncode == 0, describe(proc)
    assert "quantized:     3 ops (Conv 2, Gemm 1)" in proc.stdout, proc.stdout
    assert "calibration:" in proc.stdout and "24 samples" in proc.stdout
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    assert [i.name for i in q.graph.input] == ["input"] and [o.name for o in q.graph.output] == ["logits"]
    assert set(dq_weight_producers(q).values()) == {"DequantizeLinear"}
    inits = {t.name: t for t in q.graph.initializer}
    assert any(t.data_type == TensorProto.INT8 for t in inits.values())
    assert any(t.data_type == TensorProto.INT32 for t in inits.values())
    ref, got = run_ort(model, x), run_ort(out, x)
    # Clipping methods (kl, percentile, mse) trade the rare largest values for resolution, so
    # the bound is on the mean error; minmax also bounds the largest one.
    err = np.abs(ref - got).mean() / ref.std()
    print(f"{method}: mean |error| / std = {err:.4f}, max |error| / max = {np.abs(ref - got).max() / np.abs(ref).max():.4f}")
    # kl clips hardest on this small random set (ReLU output clipped at a third of its max).
    assert err < (0.25 if method == "kl" else 0.05), f"{method}: mean error {err:.4f} of the output std"
    if method == "minmax":
        assert np.abs(ref - got).max() / np.abs(ref).max() < 0.08
    assert (ref.argmax(1) == got.argmax(1)).mean() >= (0.6 if method == "kl" else 0.8)
    # The compress_conf reads back and describes the same ops.
    info = run_dopt(dopt, "inspect", param, "--json")
    assert info.returncode == 0, describe(info)
    j = json.loads(info.stdout)
    text = json.dumps(j)
    for name in ("conv1", "conv2", "fc", "conv1.w", "fc.b"):
        assert f'"{name}"' in text


def test_all_zero_channel_gets_a_valid_scale(dopt, setup):
    d, model, x = setup
    proc, out, _ = quantize(dopt, d, model, write_conf(d))
    assert proc.returncode == 0, describe(proc)
    q = onnx.load(str(out))
    producer = {o: n for n in q.graph.node for o in n.output}
    inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    conv1 = next(n for n in q.graph.node if n.name == "conv1")
    dq = producer[conv1.input[1]]
    scales = inits[dq.input[1]]
    assert scales.shape == (8,) and np.all(np.isfinite(scales)) and np.all(scales > 0)
    assert scales[5] == 1.0
    assert np.all(inits[dq.input[0]][5] == 0)


def test_exclusions_keep_float_weights(dopt, setup):
    d, model, x = setup
    conf = write_conf(d, 'exclude_op: "conv2; fc.w"\n')
    proc, out, param = quantize(dopt, d, model, conf)
    assert proc.returncode == 0, describe(proc)
    assert "left in float: 2 ops" in proc.stdout, proc.stdout
    assert "conv2 (Conv): exclude_op" in proc.stdout and "fc (Gemm): exclude_op" in proc.stdout
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    prod = dq_weight_producers(q)
    assert prod == {"conv1": "DequantizeLinear", "conv2": "initializer", "fc": "initializer"}
    inits = {t.name: t for t in q.graph.initializer}
    assert inits["conv2.w"].data_type == TensorProto.FLOAT and inits["fc.w"].data_type == TensorProto.FLOAT
    ref, got = run_ort(model, x), run_ort(out, x)
    assert np.abs(ref - got).max() / np.abs(ref).max() < 0.08
    j = json.loads(run_dopt(dopt, "inspect", param, "--json").stdout)
    assert "conv2" in json.dumps(j.get("excluded", j))


def test_per_tensor_and_symmetric_options(dopt, setup):
    d, model, x = setup
    conf = write_conf(d, "per_channel: false\nsymmetric_activations: true\n")
    proc, out, _ = quantize(dopt, d, model, conf)
    assert proc.returncode == 0, describe(proc)
    assert "symmetric per tensor, weights int8 symmetric per tensor" in proc.stdout, proc.stdout
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    for n in q.graph.node:
        if n.op_type == "QuantizeLinear":
            assert inits[n.input[2]].item() == 0  # symmetric: zero point 0
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            assert inits[n.input[1]].size == 1  # per tensor
    ref, got = run_ort(model, x), run_ort(out, x)
    assert np.abs(ref - got).max() / np.abs(ref).max() < 0.1


def test_opset_11_model_is_upgraded(dopt, tmp_path):
    model = tmp_path / "small11.onnx"
    onnx.save(small_model(opset=11), str(model))
    x = np.random.default_rng(2).standard_normal((8, 3, 8, 8)).astype(np.float32)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    proc, out, _ = quantize(dopt, tmp_path, model, write_conf(tmp_path))
    assert proc.returncode == 0, describe(proc)
    q = onnx.load(str(out))
    assert q.opset_import[0].version == 13
    onnx.checker.check_model(q, full_check=True)
    ref, got = run_ort(model, x), run_ort(out, x)
    assert np.abs(ref - got).max() / np.abs(ref).max() < 0.08


def one_error_line(proc) -> str:
    assert proc.returncode == 2, describe(proc)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("dopt: error: "), describe(proc)
    return lines[0]


def test_error_missing_cal_conf(dopt, setup):
    d, model, _ = setup
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--output", d / "q.onnx",
                    "--compress_conf", d / "param")
    assert "--cal_conf" in one_error_line(proc)
    assert not (d / "q.onnx").exists() and not (d / "param").exists()


def test_error_output_is_the_model(dopt, setup):
    d, model, _ = setup
    before = model.read_bytes()
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", write_conf(d),
                    "--output", model, "--compress_conf", d / "param")
    assert "refusing to overwrite" in one_error_line(proc)
    assert model.read_bytes() == before and not (d / "param").exists()


def test_error_unknown_exclude_name(dopt, setup):
    d, model, _ = setup
    proc, out, param = quantize(dopt, d, model, write_conf(d, 'exclude_op: "conv3"\n'))
    line = one_error_line(proc)
    assert "'conv3'" in line and "conv1" in line  # the closest real names are listed
    assert not out.exists() and not param.exists()


def test_error_unknown_method(dopt, setup):
    d, model, _ = setup
    proc, out, param = quantize(dopt, d, model, write_conf(d, 'calibration_method: "median"\n'))
    assert "calibration_method" in one_error_line(proc)
    assert not out.exists() and not param.exists()
