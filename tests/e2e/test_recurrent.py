"""LSTM, GRU and RNN end to end: torch.nn.LSTM (2 layers, bidirectional, batch_first),
torch.nn.GRU and torch.nn.RNN followed by an nn.Linear, exported with torch.onnx.export; `dopt run`
matches ONNX Runtime, and `dopt -m 0` quantizes the Linear (int8 weight behind a
DequantizeLinear) while the recurrent node stays float, and ONNX Runtime runs the result."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, ort_session, run_dopt
from models import bin_bytes

torch = pytest.importorskip("torch")

SEQ, FEAT = 6, 8


class LstmNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(FEAT, 16, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = torch.nn.Linear(32, 5)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


class GruNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(FEAT, 12, batch_first=True)
        self.fc = torch.nn.Linear(12, 4)

    def forward(self, x):
        y, h = self.rnn(x)
        return self.fc(y[:, -1])


class RnnNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(FEAT, 10, num_layers=2, nonlinearity="relu", bidirectional=True, batch_first=True)
        self.fc = torch.nn.Linear(20, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


NETS = {"lstm": (LstmNet, "LSTM"), "gru": (GruNet, "GRU"), "rnn": (RnnNet, "RNN")}


def export(name: str, d: Path) -> Path:
    cls, _ = NETS[name]
    torch.manual_seed(3)
    net = cls().eval()
    path = d / f"{name}.onnx"
    with warnings.catch_warnings():  # the tracer's notes on batch sizes and Python booleans
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, SEQ, FEAT), str(path), input_names=["input"], output_names=["out"],
                          opset_version=14, dynamo=False)
    return path


def inputs(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, SEQ, FEAT)).astype(np.float32)


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    s = ort_session(path)
    return np.concatenate([s.run(None, {"input": x[i:i + 1]})[0] for i in range(x.shape[0])])


@pytest.mark.parametrize("name", sorted(NETS))
def test_run_matches_onnxruntime(dopt, tmp_path, name):
    model = export(name, tmp_path)
    op = NETS[name][1]
    assert any(n.op_type == op for n in onnx.load(str(model)).graph.node), f"the export has no {op} node"
    x = inputs(1)
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    got = np.load(tmp_path / "out" / "out.npy")
    want = ort_run(model, x)
    assert got.shape == want.shape
    span = float(want.max() - want.min())
    diff = float(np.abs(got - want).max())
    print(f"{name}: max |dopt - ORT| = {diff:.3g}, output range {span:.3g}")
    assert diff <= 1e-4 * span, (diff, span)


def write_conf(d: Path) -> Path:
    p = d / "config.prototxt"
    p.write_text('strategy: "Quant_INT8-8"\ncalibration_method: "minmax"\npreprocess_parameter {\n'
                 '  input_type: BINARY\n  input_file_path: "cal.bin"\n}\n')
    return p


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_quantize_keeps_recurrence_float(dopt, tmp_path, name):
    """W and R of every recurrent node become int8 per gate row (axis 1) behind DequantizeLinear,
    X is quantized as an activation, B and the recurrence stay float; the Linear is int8 too."""
    model = export(name, tmp_path)
    op = NETS[name][1]
    x = inputs(8, seed=2)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    out = tmp_path / "q.onnx"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", write_conf(tmp_path),
                    "--output", out, "--input_shape", f"input: 1,{SEQ},{FEAT}", "--out_nodes", "out",
                    "--compress_conf", tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    inits = {t.name: t for t in q.graph.initializer}
    producer = {o: n for n in q.graph.node for o in n.output}

    def int8_behind_dq(tensor, axis=None):
        dq = producer.get(tensor)
        if dq is None or dq.op_type != "DequantizeLinear" or inits[dq.input[0]].data_type != TensorProto.INT8:
            return False
        got_axis = next((a.i for a in dq.attribute if a.name == "axis"), None)
        return axis is None or got_axis == axis

    rec = [n for n in q.graph.node if n.op_type == op]
    assert rec, [n.op_type for n in q.graph.node]
    for n in rec:
        assert int8_behind_dq(n.input[1], axis=1), f"{n.name}: W is not int8 per gate row"
        assert int8_behind_dq(n.input[2], axis=1), f"{n.name}: R is not int8 per gate row"
        assert producer[n.input[0]].op_type == "DequantizeLinear", f"{n.name}: X is not quantized"
        if len(n.input) > 3 and n.input[3]:
            assert n.input[3] in inits and inits[n.input[3]].data_type == TensorProto.FLOAT, "B should stay float"
    assert f"quantized:     {len(rec) + 1} ops" in proc.stdout, describe(proc)
    weighted = [n for n in q.graph.node if n.op_type in ("Gemm", "MatMul")]
    assert len(weighted) == 1, [n.op_type for n in q.graph.node]
    assert int8_behind_dq(weighted[0].input[1]), "the Linear's weight is not int8 behind a DequantizeLinear"
    ref, got = ort_run(model, x), ort_run(out, x)
    a, b = ref.ravel().astype(np.float64), got.ravel().astype(np.float64)
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    print(f"{name}: quantized model vs float in ORT: cosine {cosine:.5f}")
    assert cosine > 0.99, cosine
    # dopt's own int8 simulation (the float model with the compress_conf) runs too and computes
    # what the QDQ model computes in ORT.
    np.save(tmp_path / "x.npy", x[:1])
    sim = run_dopt(dopt, "run", "--model", model, "--compress_conf", tmp_path / "param", "--input",
                   f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "sim")
    assert sim.returncode == 0, describe(sim)
    qdq = ort_run(out, x[:1])
    np.testing.assert_allclose(np.load(tmp_path / "sim" / "out.npy"), qdq, atol=1e-4 * np.abs(qdq).max())


def node_model(op: str, attrs: dict, seq_lens, with_states: bool, seed: int) -> onnx.ModelProto:
    """One recurrent node on X [seq 5, batch 3, 4] (layout 0) or [3, 5, 4] (layout 1), its weights,
    biases, sequence_lens, initial states and peepholes as initializers, all outputs."""
    rng = np.random.default_rng(seed)
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    layout = attrs.get("layout", 0)
    hidden, batch, seq, feat = 6, 3, 5, 4
    x_shape = [batch, seq, feat] if layout else [seq, batch, feat]
    state = [batch, dirs, hidden] if layout else [dirs, batch, hidden]
    r = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)  # noqa: E731
    inits = {"W": r(dirs, gates * hidden, feat), "R": r(dirs, gates * hidden, hidden), "B": r(dirs, 2 * gates * hidden)}
    names = ["X", "W", "R", "B", "", "", ""]
    if seq_lens is not None:
        inits["lens"] = np.array(seq_lens, np.int32)
        names[4] = "lens"
    if with_states:
        inits["h0"] = r(*state)
        names[5] = "h0"
        if op == "LSTM":
            inits["c0"] = r(*state)
            inits["P"] = r(dirs, 3 * hidden)
            names[6:] = ["c0", "P"]
    while names[-1] == "":
        names.pop()
    outs = ["Y", "Y_h", "Y_c"] if op == "LSTM" else ["Y", "Y_h"]
    y_shape = [batch, seq, dirs, hidden] if layout else [seq, dirs, batch, hidden]
    g = helper.make_graph(
        [helper.make_node(op, names, outs, name="rec", hidden_size=hidden, **attrs)], "rec",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, y_shape)] +
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, state) for o in outs[1:]],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


NODE_CASES = {
    "lstm-bidir-lens-states": ("LSTM", {"direction": "bidirectional"}, [5, 2, 0], True),
    "lstm-reverse-clip": ("LSTM", {"direction": "reverse", "clip": 0.7}, [3, 5, 1], True),
    "lstm-input-forget-acts": ("LSTM", {"input_forget": 1, "activations": ["HardSigmoid", "LeakyRelu", "Tanh"],
                                        "activation_alpha": [0.3, 0.2], "activation_beta": [0.4]}, None, True),
    "gru-bidir-lbr-lens": ("GRU", {"direction": "bidirectional", "linear_before_reset": 1}, [4, 5, 2], True),
    "gru-reverse-clip": ("GRU", {"direction": "reverse", "clip": 0.8}, [1, 5, 3], True),
    "rnn-bidir-relu-lens": ("RNN", {"direction": "bidirectional", "activations": ["Relu", "Tanh"]}, [2, 5, 0], True),
    "rnn-defaults": ("RNN", {}, None, False),
}


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_node_options_match_onnxruntime(dopt, tmp_path, case):
    """sequence_lens (with a 0), reverse and bidirectional, initial states, peepholes, clip,
    input_forget and activations with alpha/beta: the same conventions as ONNX Runtime. (Its CPU
    kernels reject layout 1; the ONNX node tests test_*_batchwise cover that.)"""
    op, attrs, lens, states = NODE_CASES[case]
    m = node_model(op, attrs, lens, states, seed=len(case))
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    x_shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(5).standard_normal(x_shape).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", path, "--input", f"X={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    want = ort_session(path).run(None, {"X": x})
    for name, w in zip([o.name for o in m.graph.output], want):
        got = np.load(tmp_path / "out" / f"{name}.npy")
        np.testing.assert_allclose(got, w, atol=1e-5, rtol=1e-4, err_msg=f"{case}: output {name}")
