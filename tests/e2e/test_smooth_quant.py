"""smooth_quant_alpha (SmoothQuant): activation outliers moved into the weights.

A pre-LayerNorm transformer block exported by torch.onnx whose LayerNorm outputs carry a few
outlier channels (Scale x 30 on 3 of 64 channels, the following Linear rows divided by 30: the
float function is an ordinary block, its activations are not — the pattern trained transformers
show). Per-tensor int8 activations lose the other 61 channels to the outliers' step size;
smoothing divides those channels before the MatMuls and moves the factors into the weights.

Checked in ONNX Runtime: the smoothed int8 model is closer to float than the plain one, the
LayerNorm took the division (no extra Mul), `dopt run --compress_conf` on the float model (the
plan's recorded factors replayed) matches ORT on the quantized model, and `dopt inspect` lists
the factors. Also the errors: alpha out of [0, 1], and a writer that cannot store it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

torch = pytest.importorskip("torch")

from conftest import describe, run_dopt  # noqa: E402

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import dopt as dopt_api  # noqa: E402

D, T, OUTLIER = 64, 16, 30.0


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(D)
        self.qkv = torch.nn.Linear(D, 3 * D)
        self.proj = torch.nn.Linear(D, D)
        self.ln2 = torch.nn.LayerNorm(D)
        self.fc1 = torch.nn.Linear(D, 2 * D)
        self.fc2 = torch.nn.Linear(2 * D, D)

    def forward(self, x):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        a = torch.softmax(q @ k.transpose(-1, -2) / D ** 0.5, dim=-1) @ v
        x = x + self.proj(a)
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))


def outlier_block() -> torch.nn.Module:
    torch.manual_seed(0)
    m = Block().eval()
    with torch.no_grad():
        for ln, lin in ((m.ln1, m.qkv), (m.ln2, m.fc1)):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.2, 0.2)
            for c in (5, 17, 40):  # outlier channels: the LayerNorm scales up, the Linear down
                ln.weight[c] *= OUTLIER
                ln.bias[c] *= OUTLIER
                lin.weight[:, c] /= OUTLIER
    return m


@pytest.fixture(scope="module")
def block(tmp_path_factory):
    d = tmp_path_factory.mktemp("smooth")
    model = d / "block.onnx"
    torch.onnx.export(outlier_block(), torch.zeros(1, T, D), str(model), input_names=["x"], output_names=["y"],
                      opset_version=17, dynamo=False)
    rng = np.random.default_rng(1)
    calib = [{"x": rng.standard_normal((1, T, D)).astype(np.float32)} for _ in range(24)]
    test = rng.standard_normal((8, T, D)).astype(np.float32)
    return d, model, calib, test


def run_ort(model: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # Q/DQ as written
    s = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])


def rel_err(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(a - ref) / np.linalg.norm(ref))


def quantize(dopt, block, name: str, **config):
    d, model, calib, _ = block
    out = d / f"{name}.onnx"
    return dopt_api.quantize(model, calib, out, d / f"{name}.compress_conf", input_shape={"x": [1, T, D]},
                             method="minmax", per_channel=True, **config)


def test_smoothing_brings_outlier_activations_back(dopt, block, monkeypatch):
    monkeypatch.setenv("DOPT_BIN", str(dopt))
    d, model, _, test = block
    ref = run_ort(model, test)
    plain = quantize(dopt, block, "plain")
    smooth = quantize(dopt, block, "smooth", smooth_quant_alpha=0.5)
    e_plain = rel_err(run_ort(plain.output, test), ref)
    e_smooth = rel_err(run_ort(smooth.output, test), ref)
    print(f"relative error int8 vs float: plain {e_plain:.4f}  smooth_quant_alpha 0.5 {e_smooth:.4f}")
    assert e_smooth < 0.5 * e_plain, (e_plain, e_smooth)

    # Both LayerNorms took the division (no Mul was needed); q/k/v and fc1 weights are smoothed.
    conf = json.loads(run_dopt(dopt, "inspect", "--json", str(smooth.compress_conf)).stdout)
    assert conf["smooth_quant_alpha"] == pytest.approx(0.5)
    smoothed = {s["tensor"]: s for s in conf["smoothing"]}
    assert len(smoothed) >= 2, smoothed.keys()
    assert conf["format_version"] == 2  # a version-1 reader would misread the smoothed plan
    m = onnx.load(str(smooth.output))
    muls = {n.input[0] for n in m.graph.node if n.op_type == "Mul" and n.name.endswith("/smooth")}
    producer = {o: n for n in m.graph.node for o in n.output}
    ln_fed = [t for t in smoothed if producer[t].op_type == "LayerNormalization"]
    assert len(ln_fed) == 2 and not muls & set(ln_fed), (ln_fed, muls)
    # The outlier channels got the largest factors.
    ln1_out = next(s for s in smoothed.values() if len(s["scale"]) == D and any("qkv" in o or "MatMul" in o for o in s["ops"]))
    order = np.argsort(ln1_out["scale"])[::-1][:3]
    assert set(order.tolist()) == {5, 17, 40}, order

    # dopt's int8 simulation of the float model with the plan (factors replayed) = ORT on the
    # quantized model.
    np.save(d / "x0.npy", test[:1])
    sim = d / "sim"
    r = run_dopt(dopt, "run", "--model", str(model), "--compress_conf", str(smooth.compress_conf),
                 "--input", f"x={d / 'x0.npy'}", "--output_dir", str(sim))
    assert r.returncode == 0, describe(r)
    got = np.load(next(sim.glob("*.npy")))
    want = run_ort(smooth.output, test[:1])
    step = np.abs(want).max() / 127
    assert np.abs(got - want).max() < 0.05 * step + 1e-4, np.abs(got - want).max()


def test_alpha_out_of_range_is_refused(dopt, block, monkeypatch):
    monkeypatch.setenv("DOPT_BIN", str(dopt))
    d, model, _, _ = block
    with pytest.raises(dopt_api.DoptError, match=r"smooth_quant_alpha 1\.5 is not in \[0, 1\]"):
        quantize(dopt, block, "bad", smooth_quant_alpha=1.5)
    assert not (d / "bad.onnx").exists()


def test_plan_for_another_model_is_one_error(dopt, block, monkeypatch, tmp_path):
    """A plan's smoothing entries name tensors of the model it was made for: replayed on
    another model, `dopt run --compress_conf` stops with one error naming the compress_conf."""
    monkeypatch.setenv("DOPT_BIN", str(dopt))
    smooth = quantize(dopt, block, "smooth_other", smooth_quant_alpha=0.5)
    other = tmp_path / "other.onnx"
    torch.manual_seed(1)
    torch.onnx.export(torch.nn.Sequential(torch.nn.Linear(D, D), torch.nn.ReLU()).eval(), torch.zeros(1, T, D),
                      str(other), input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    np.save(tmp_path / "x.npy", np.zeros((1, T, D), np.float32))
    r = run_dopt(dopt, "run", "--model", str(other), "--compress_conf", str(smooth.compress_conf),
                 "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", str(tmp_path / "out"))
    assert r.returncode == 2, describe(r)
    assert r.stderr.strip().startswith(f"dopt: error: {smooth.compress_conf}: pass smooth_activations: smoothing: no tensor '"), r.stderr
    assert not (tmp_path / "out").exists()
