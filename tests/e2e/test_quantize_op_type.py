"""quantize_op_type: LayerNormalization, Softmax and GELU stay float unless asked.

On a pre-LN transformer block exported by torch.onnx (LayerNormalization, Softmax, GELU as
Erf): by default no DequantizeLinear feeds those ops; with `quantize_op_type` naming them, each
node's input 0 comes from a Q/DQ pair, the compress_conf lists them as activation-only ops, the
model stays close to float in ONNX Runtime, and `dopt run --compress_conf` (dopt's int8
simulation of the float model) matches ORT on the quantized one. Errors: a type the model lacks,
a weighted type."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

from conftest import describe, run_dopt  # noqa: E402
from test_smooth_quant import D, T, Block, run_ort  # noqa: E402

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import dopt as dopt_api  # noqa: E402

ASKED = ("LayerNormalization", "Softmax", "Erf")


@pytest.fixture(scope="module")
def block(tmp_path_factory):
    d = tmp_path_factory.mktemp("optype")
    model = d / "block.onnx"
    torch.manual_seed(0)
    torch.onnx.export(Block().eval(), torch.zeros(1, T, D), str(model), input_names=["x"], output_names=["y"],
                      opset_version=17, dynamo=False)
    rng = np.random.default_rng(2)
    calib = [{"x": rng.standard_normal((1, T, D)).astype(np.float32)} for _ in range(16)]
    return d, model, calib, rng.standard_normal((4, T, D)).astype(np.float32)


def quantize(block, name, **config):
    d, model, calib, _ = block
    return dopt_api.quantize(model, calib, d / f"{name}.onnx", d / f"{name}.compress_conf",
                             input_shape={"x": [1, T, D]}, **config)


def dq_fed(m: onnx.ModelProto) -> dict[str, bool]:
    """For each node of the asked types: whether its input 0 comes from a DequantizeLinear."""
    producer = {o: n for n in m.graph.node for o in n.output}
    return {n.name: producer.get(n.input[0]) is not None and producer[n.input[0]].op_type == "DequantizeLinear"
            for n in m.graph.node if n.op_type in ASKED}


def test_float_by_default_int8_when_asked(dopt, block, monkeypatch):
    monkeypatch.setenv("DOPT_BIN", str(dopt))
    d, model, _, test = block
    plain = quantize(block, "plain")
    fed = dq_fed(onnx.load(str(plain.output)))
    assert len(fed) == 4 and not any(fed.values()), fed  # 2 LayerNorms, 1 Softmax, 1 Erf

    asked = quantize(block, "asked", quantize_op_type="; ".join(ASKED))
    fed = dq_fed(onnx.load(str(asked.output)))
    assert len(fed) == 4 and all(fed.values()), fed
    conf = json.loads(run_dopt(dopt, "inspect", "--json", str(asked.compress_conf)).stdout)
    only = sorted(op["type"] for op in conf["ops"] if op.get("activation_only"))
    assert only == ["Erf", "LayerNormalization", "LayerNormalization", "Softmax"], only
    assert all("weight" not in op for op in conf["ops"] if op.get("activation_only"))

    ref, got = run_ort(model, test), run_ort(asked.output, test)
    cos = float((ref * got).sum() / np.linalg.norm(ref) / np.linalg.norm(got))
    print(f"cosine int8 vs float with {ASKED} quantized too: {cos:.6f}")
    assert 0.99 < cos < 1.0, cos  # quantized (not float), still close

    np.save(d / "x0.npy", test[:1])
    r = run_dopt(dopt, "run", "--model", str(model), "--compress_conf", str(asked.compress_conf),
                 "--input", f"x={d / 'x0.npy'}", "--output_dir", str(d / "sim"))
    assert r.returncode == 0, describe(r)
    sim = np.load(d / "sim" / "y.npy")
    want = run_ort(asked.output, test[:1])
    assert np.abs(sim - want).max() < 0.05 * np.abs(want).max() / 127, np.abs(sim - want).max()


@pytest.mark.parametrize("types, message", [
    ("Softmax; Gelu", "quantize_op_type 'Gelu': the model has no Gelu node"),
    ("MatMul", "quantize_op_type 'MatMul': MatMul ops have weights and are quantized anyway"),
])
def test_quantize_op_type_errors(dopt, block, monkeypatch, types, message):
    monkeypatch.setenv("DOPT_BIN", str(dopt))
    d = block[0]
    with pytest.raises(dopt_api.DoptError, match=message) as e:
        quantize(block, "bad", quantize_op_type=types)
    assert e.value.returncode == 2
    assert not (d / "bad.onnx").exists()
