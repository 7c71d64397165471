"""The PyTorch path on recurrent and attention models, loaded from the checkpoints training
scripts write (issue #14, part 4).

A user's speaker encoder (3-layer nn.LSTM + Linear) in its own .py with the checkpoint its
training wrote, `{"step", "model_state", "optimizer_state"}`, whose state dict has two extra
training-only keys: dopt finds the state dict under `model_state`, warns about the extra keys,
quantizes the Linear (the LSTM runs in float) and writes a .pt that torch.jit.load runs. Also:
nested checkpoints and DataParallel prefixes, a missing key (one error line, nothing written), a
bidirectional GRU, a Transformer encoder layer (nn.MultiheadAttention's packed input projection
and out_proj quantized too) and cross-attention with F.scaled_dot_product_attention. Every .pt
is run in a fresh interpreter that cannot import the model's code and compared with dopt's own
int8 simulation (`dopt run --compress_conf`) and with the float model."""
from __future__ import annotations

import inspect
import re
import shutil
import sys

import numpy as np
import pytest

from conftest import describe, run_dopt
from torch_cases import TORCH_MODELS, binary_config, conf_ops, cosine, make_bin, needs_torch, quantize, run_pt_fresh

pytestmark = needs_torch


def nets():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sequence_nets", TORCH_MODELS / "sequence_nets.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sequence_nets"] = mod  # inspect.getsource finds the file through it
    spec.loader.exec_module(mod)
    return mod


def write_model_file(path, *classes):
    """The classes' source alone in a .py, as a user's model file would be."""
    head = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    path.write_text(head + "\n\n".join(inspect.getsource(c) for c in classes))
    return path


def net_in_own_file(tmp_path, file_name, seed, *classes):
    """The classes' source alone in tmp_path/src/<file_name> (the last class is the model), and
    that model made with torch.manual_seed(seed), in eval mode. Returns (src folder, .py, model)."""
    import torch

    src = tmp_path / "src"
    src.mkdir()
    py = write_model_file(src / file_name, *classes)
    torch.manual_seed(seed)
    return src, py, classes[-1]().eval()


def train_briefly(model, inputs, steps=3, seed=0):
    """A few Adam steps, so the checkpoint carries a real optimizer state."""
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        out = model(*[torch.from_numpy(x) for x in inputs])
        out.pow(2).mean().backward()
        opt.step()
    model.eval()
    return opt


def check_quantized(dopt, tmp_path, py, weights, model, shapes, calib, test, expect, min_cos=0.99,
                    extra=(), tol_steps=1.0, pairs=0):
    """Quantizes py + weights, runs the .pt (fresh interpreter, model code deleted) and dopt's
    int8 simulation on `test`; returns (proc, ops). Checks: .pt == simulation to within
    tol_steps x the largest activation step, cosine to float >= min_cos, and the .pt is not the
    float model. Every recurrent op has its R (weight2) quantized; `pairs` ops are products of
    two activations (weight_is_activation). expect None: any op names."""
    import torch

    bins = [make_bin(dopt, c, tmp_path / f"calib{i}.bin") for i, c in enumerate(calib)]
    conf = binary_config(tmp_path / "c.prototxt", bins)
    shape_arg = "; ".join(f"{n}: {','.join(map(str, s))}" for n, s in shapes)
    proc = quantize(dopt, py, weights, conf, tmp_path / "q.pt", shape_arg, *extra, compress_conf=tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    assert "TorchScript" in proc.stdout
    ops = {op["name"]: op for op in conf_ops(tmp_path / "param")}
    assert sum(op.get("weight_is_activation") == "true" for op in ops.values()) == pairs, ops
    if expect is None:
        expect = {}
    else:
        assert set(ops) == set(expect), sorted(ops)
    for name, typ in expect.items():
        assert ops[name]["type"] == typ, (name, ops[name]["type"])
        if typ in ("LSTM", "GRU", "RNN"):
            assert ops[name].get("scales2") and ops[name]["scales"], ops[name]
    assert "cannot quantize" not in proc.stdout, proc.stdout

    args, files = [], []
    for (name, _), x in zip(shapes, test):
        f = tmp_path / f"{name}.npy"
        np.save(f, x)
        args += ["--input", f"{name}={f}"]
        files.append(f)
    sim = run_dopt(dopt, "run", "--model", py, "--weight", weights, *extra, *args, "--output_dir", tmp_path / "sim",
                   "--compress_conf", tmp_path / "param")
    assert sim.returncode == 0, describe(sim)
    with torch.no_grad():
        ref = model(*[torch.from_numpy(x) for x in test]).numpy()
    src = py.parent
    shutil.rmtree(src)  # the .pt needs no model code
    info = run_pt_fresh(tmp_path / "q.pt", files, tmp_path / "pt")
    assert info["outputs"] == ["output"]
    got = np.load(tmp_path / "pt" / "output.npy")
    simulated = np.load(tmp_path / "sim" / "output.npy")
    assert got.shape == simulated.shape == ref.shape
    step = max(op["act_scale"] for op in ops.values())
    assert np.abs(got - simulated).max() <= tol_steps * step, (np.abs(got - simulated).max(), step)
    assert cosine(got, simulated) >= 0.999, cosine(got, simulated)
    c = cosine(got, ref)
    assert c >= min_cos, c
    assert np.abs(got - ref).max() > 0  # quantized, not the float model
    print(f"{py.name}: {len(ops)} ops quantized, cosine to float {c:.5f}, "
          f"max |pt - sim| {np.abs(got - simulated).max():.3g} ({np.abs(got - simulated).max() / step:.2g} step), "
          f"max |pt - float| {np.abs(got - ref).max():.3g}")
    return proc, ops


def test_speaker_encoder_training_checkpoint(dopt, tmp_path):
    """Issue #14's case exactly: the model's own .py, the checkpoint its training wrote."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "speaker_encoder.py", 0, mod.SpeakerEncoder)
    rng = np.random.default_rng(0)
    mels = lambda n: rng.standard_normal((n, 30, 40)).astype(np.float32)  # noqa: E731
    opt = train_briefly(model, [mels(4)])
    sd = model.state_dict()
    sd["similarity_weight"] = torch.tensor([10.0])  # the GE2E loss's parameters, trained with the model
    sd["similarity_bias"] = torch.tensor([-5.0])
    torch.save({"step": 100, "model_state": sd, "optimizer_state": opt.state_dict()}, src / "encoder.pt")
    proc, ops = check_quantized(dopt, tmp_path, py, src / "encoder.pt", model, [("mels", [1, 30, 40])],
                                [mels(8)], [mels(2)], {"lstm": "LSTM", "lstm#2": "LSTM", "lstm#3": "LSTM",
                                                       "linear": "Gemm"}, tol_steps=0.01)
    assert "dopt: encoder.pt: the model's weights are the state dict at checkpoint['model_state']" in proc.stdout
    warnings = [l for l in proc.stderr.splitlines() if l.startswith("dopt: warning:")]
    assert warnings == ["dopt: warning: encoder.pt: the checkpoint's state dict has 2 key(s) the model does not "
                        "use, ignored: similarity_weight, similarity_bias"], proc.stderr


def test_gru_nested_checkpoint(dopt, tmp_path):
    """A bidirectional 2-layer time-major nn.GRU; the state dict two levels down,
    `{"ckpt": {"net": sd}}`, beside an optimizer state."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "tagger.py", 1, mod.GruTagger)
    rng = np.random.default_rng(1)
    feats = lambda n: rng.standard_normal((12, n, 24)).astype(np.float32)  # noqa: E731  [T, N, F]
    opt = train_briefly(model, [feats(4)])
    torch.save({"epoch": 3, "ckpt": {"net": model.state_dict(), "optim": opt.state_dict()}}, src / "w.pth")
    # A calibration .bin one rank above the input holds whole samples: [8, 12, 1, 24].
    proc, _ = check_quantized(dopt, tmp_path, py, src / "w.pth", model, [("feats", [12, 1, 24])],
                              [np.stack([feats(1) for _ in range(8)])], [feats(1)],
                              {"proj": "MatMul", "gru": "GRU", "gru#2": "GRU", "out": "MatMul"}, tol_steps=0.01)
    assert "the model's weights are the state dict at checkpoint['ckpt']['net']" in proc.stdout
    assert "warning" not in proc.stderr


def test_recurrent_stack(dopt, tmp_path):
    """A 2-layer bidirectional LSTM (two ONNX LSTMs, two directions each) and an RNN from a
    learned initial state: each layer's X int8 per tensor, W and R per gate row (PyTorch's gate
    order mapped from ONNX's), the .pt == dopt's simulation to 1 % of a step."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "stack.py", 6, mod.RecurrentStack)
    torch.save(model.state_dict(), src / "w.pth")
    rng = np.random.default_rng(6)
    x = lambda n: rng.standard_normal((n, 9, 20)).astype(np.float32)  # noqa: E731
    check_quantized(dopt, tmp_path, py, src / "w.pth", model, [("x", [1, 9, 20])], [x(8)], [x(2)],
                    {"lstm": "LSTM", "lstm#2": "LSTM", "rnn": "RNN", "head": "MatMul"}, tol_steps=0.01)


@pytest.mark.parametrize("layout", ["data_parallel", "compiled_in_list"])
def test_checkpoint_layouts(dopt, tmp_path, layout):
    """`module.` (DataParallel) and `_orig_mod.` (torch.compile) prefixes, the state dict in a
    list beside a decoy with the same names and other shapes: `dopt run` finds the right one."""
    import torch

    mod = nets()
    py = write_model_file(tmp_path / "tagger.py", mod.GruTagger)
    torch.manual_seed(4)
    model = mod.GruTagger().eval()
    sd = model.state_dict()
    if layout == "data_parallel":
        ckpt, where = {"step": 9, "model": {"module." + k: v for k, v in sd.items()}}, "['model']"
    else:
        decoy = {k: torch.zeros(3) for k in list(sd)[:3]}
        ckpt, where = {"models": [decoy, {"_orig_mod." + k: v for k, v in sd.items()}]}, "['models'][1]"
    torch.save(ckpt, tmp_path / "w.pth")
    x = np.random.default_rng(4).standard_normal((12, 2, 24)).astype(np.float32)
    np.save(tmp_path / "feats.npy", x)
    proc = run_dopt(dopt, "run", "--model", py, "--weight", tmp_path / "w.pth", "--input",
                    f"feats={tmp_path / 'feats.npy'}", "--output_dir", tmp_path / "out")
    assert proc.returncode == 0, describe(proc)
    assert f"the model's weights are the state dict at checkpoint{where}" in proc.stdout
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output.npy"), ref, atol=1e-4)


def test_missing_key_is_one_error(dopt, tmp_path):
    import torch

    mod = nets()
    py = write_model_file(tmp_path / "speaker_encoder.py", mod.SpeakerEncoder)
    sd = mod.SpeakerEncoder().state_dict()
    del sd["lstm.weight_hh_l2"]
    torch.save({"step": 1, "model_state": sd}, tmp_path / "encoder.pt")
    calib = make_bin(dopt, np.zeros((2, 30, 40), np.float32), tmp_path / "calib.bin")
    conf = binary_config(tmp_path / "c.prototxt", [calib])
    proc = quantize(dopt, py, tmp_path / "encoder.pt", conf, tmp_path / "q.pt", "mels: 1,30,40")
    assert proc.returncode == 2, describe(proc)
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"dopt: error: {py} (weights {tmp_path / 'encoder.pt'}): the weights do not match the model "
                     "(missing keys: lstm.weight_hh_l2)"], describe(proc)
    assert not (tmp_path / "q.pt").exists()


def test_attention_net(dopt, tmp_path):
    """nn.TransformerEncoderLayer (batch_first), cross nn.MultiheadAttention (key is value) and
    F.scaled_dot_product_attention (exported at opset 14, its first): every Linear, the
    attentions' input projections (packed q/k/v; q and packed k/v), out_proj and the activation x
    activation MatMuls (q x k^T and softmax x v of each of the three attentions, named after
    their ONNX nodes) are quantized; the .pt == dopt's simulation to 1 % of a step."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "attention.py", 2, mod.AttentionNet)
    torch.save({"state_dict": model.state_dict()}, src / "w.pth")
    rng = np.random.default_rng(2)
    x = lambda n, t: rng.standard_normal((n, t, 16)).astype(np.float32)  # noqa: E731
    check_quantized(dopt, tmp_path, py, src / "w.pth", model, [("x", [1, 10, 16]), ("memory", [1, 7, 16])],
                    [x(16, 10), x(16, 7)], [x(2, 10), x(2, 7)],
                    {"embed": "MatMul", "encoder.self_attn": "MatMul", "encoder.self_attn.out_proj": "Gemm",
                     "encoder.linear1": "MatMul", "encoder.linear2": "MatMul", "m_in": "MatMul", "cross": "MatMul",
                     "cross#2": "MatMul", "cross.out_proj": "Gemm", "qkv": "MatMul", "proj": "MatMul",
                     "head": "MatMul", "/encoder/self_attn/MatMul_1": "MatMul",
                     "/encoder/self_attn/MatMul_2": "MatMul", "/cross/MatMul_2": "MatMul", "/cross/MatMul_3": "MatMul",
                     "/MatMul": "MatMul", "/MatMul_1": "MatMul"}, tol_steps=0.01, pairs=6)


def test_causal_attention_pairs(dopt, tmp_path):
    """nn.MultiheadAttention with need_weights (F.multi_head_attention_forward's bmm path: q
    scaled by sqrt(1/d) x k^T, a causal float mask) and F.scaled_dot_product_attention with
    is_causal (the ONNX export's Trilu mask), and attention written out with `@` and
    torch.matmul: both products of each quantized, the .pt == dopt's simulation to 1 % of a step."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "causal.py", 7, mod.CausalAttentionNet)
    torch.save(model.state_dict(), src / "w.pth")
    rng = np.random.default_rng(7)
    x = lambda n: rng.standard_normal((10, n, 32)).astype(np.float32)  # noqa: E731
    _, ops = check_quantized(dopt, tmp_path, py, src / "w.pth", model, [("x", [10, 1, 32])],
                             [np.stack([x(1) for _ in range(12)])], [x(1)], None, tol_steps=0.01, pairs=6)
    assert {n for n, op in ops.items() if op.get("weight_is_activation") != "true"} == {
        "attn", "attn.out_proj", "qkv", "out"}, sorted(ops)


def test_attention_bias_kv_refused(dopt, tmp_path):
    """nn.MultiheadAttention's bias_k/bias_v (concatenated to the keys/values) is not reproduced
    by the .pt's attention: dopt says so and points at exclude_op; nothing is written."""
    import torch

    py = tmp_path / "net.py"
    py.write_text("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                  "        super().__init__()\n        self.attn = nn.MultiheadAttention(16, 2, add_bias_kv=True, "
                  "batch_first=True)\n\n    def forward(self, x):\n        return self.attn(x, x, x)[0]\n")
    ns = {}
    exec(py.read_text(), ns)
    torch.manual_seed(5)
    torch.save(ns["Net"]().state_dict(), tmp_path / "w.pth")
    calib = make_bin(dopt, np.random.default_rng(5).standard_normal((4, 5, 16)), tmp_path / "calib.bin")
    conf = binary_config(tmp_path / "c.prototxt", [calib])
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "q.pt", "x: 1,5,16")
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.strip().splitlines()[-1] == (
        f"dopt: error: {py} (weights {tmp_path / 'w.pth'}): writing the TorchScript model: nn.MultiheadAttention "
        "'attn' uses bias_k/bias_v or add_zero_attn, which the quantized TorchScript model does not reproduce; "
        "leave its ops in float with exclude_op"), describe(proc)
    assert not (tmp_path / "q.pt").exists()


def test_attention_called_twice(dopt, tmp_path):
    """An nn.MultiheadAttention and an attention module written with @, each called twice: the
    products of each call are quantized with their own params (scopes `attn`, `attn_1`, `mix`,
    `mix_1` as the export names them); the .pt == dopt's simulation to 1 % of a step."""
    import torch

    mod = nets()
    src, py, model = net_in_own_file(tmp_path, "shared.py", 9, mod.DotAttention, mod.SharedAttentionNet)
    torch.save(model.state_dict(), src / "w.pth")
    rng = np.random.default_rng(9)
    x = lambda n: rng.standard_normal((n, 8, 32)).astype(np.float32)  # noqa: E731
    _, ops = check_quantized(dopt, tmp_path, py, src / "w.pth", model, [("x", [1, 8, 32])], [x(12)], [x(2)], None,
                             tol_steps=0.01, pairs=8)
    scopes = sorted({n.rsplit("/", 1)[0] for n, op in ops.items() if op.get("weight_is_activation") == "true"})
    assert scopes == ["/attn", "/attn_1", "/mix", "/mix_1"], scopes


def test_unmatched_activation_product_refused(dopt, tmp_path):
    """A product of two activations the helper does not see (torch.baddbmm) cannot carry dopt's
    quantization into the .pt: dopt says where and points at exclude_op /
    quantize_activation_matmul; nothing is written. With quantize_activation_matmul: false the
    same model quantizes (the products stay float)."""
    import torch

    py = tmp_path / "net.py"
    py.write_text("import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                  "        super().__init__()\n        self.q = nn.Linear(8, 8)\n        self.k = nn.Linear(8, 8)\n\n"
                  "    def forward(self, x):\n        s = torch.baddbmm(torch.zeros(1, 6, 6), self.q(x), self.k(x).transpose(1, 2))\n"
                  "        return torch.softmax(s, -1)\n")
    ns = {}
    exec(py.read_text(), ns)
    torch.manual_seed(8)
    torch.save(ns["Net"]().state_dict(), tmp_path / "w.pth")
    calib = make_bin(dopt, np.random.default_rng(8).standard_normal((4, 1, 6, 8)), tmp_path / "calib.bin")
    conf = binary_config(tmp_path / "c.prototxt", [calib])
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "q.pt", "x: 1,6,8")
    assert proc.returncode == 2, describe(proc)
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"dopt: error: {py} (weights {tmp_path / 'w.pth'}): writing the TorchScript model: the "
                           "model's own forward() computes 1 product(s) of two activations in the exported graph, "
                           "0 in the code the helper follows (nn.MultiheadAttention, "
                           "F.scaled_dot_product_attention, torch.matmul, torch.bmm, @), so dopt's quantized ones "
                           "(/MatMul) cannot be placed"), last
    assert "exclude_op" in last and "quantize_activation_matmul: false" in last, last
    assert not (tmp_path / "q.pt").exists()
    conf = binary_config(tmp_path / "c2.prototxt", [calib], "quantize_activation_matmul: false\n")
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "q.pt", "x: 1,6,8")
    assert proc.returncode == 0, describe(proc)
    assert (tmp_path / "q.pt").exists()


def test_recurrent_layer_float_in_one_call_only_refused(dopt, tmp_path):
    """A 2-layer LSTM called twice with its first layer's first call excluded: the .pt would
    need that layer float in one call and int8 in the other (two sets of weights), which the
    TorchScript writer does not build: one error naming the module and what to do, nothing
    written. Excluding that layer in both calls quantizes."""
    import torch

    py = tmp_path / "net.py"
    py.write_text("import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                  "        super().__init__()\n        self.lstm = nn.LSTM(8, 8, num_layers=2, batch_first=True)\n\n"
                  "    def forward(self, x):\n        return self.lstm(self.lstm(x)[0])[0]\n")
    ns = {}
    exec(py.read_text(), ns)
    torch.manual_seed(10)
    torch.save(ns["Net"]().state_dict(), tmp_path / "w.pth")
    calib = make_bin(dopt, np.random.default_rng(10).standard_normal((4, 1, 5, 8)), tmp_path / "calib.bin")
    conf = binary_config(tmp_path / "c.prototxt", [calib])
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "all.pt", "x: 1,5,8",
                    compress_conf=tmp_path / "all.cc")
    assert proc.returncode == 0, describe(proc)
    names = sorted(op["name"] for op in conf_ops(tmp_path / "all.cc"))
    assert names == ["lstm", "lstm#2", "lstm#3", "lstm#4"], names  # 2 calls x 2 layers
    conf = binary_config(tmp_path / "c1.prototxt", [calib], 'exclude_op: "lstm"\n')
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "q.pt", "x: 1,5,8")
    assert proc.returncode == 2, describe(proc)
    last = proc.stderr.strip().splitlines()[-1]
    assert "module 'lstm' runs 2 times and dopt's plan quantizes its layer 0 in some calls only" in last, last
    assert not (tmp_path / "q.pt").exists()
    conf = binary_config(tmp_path / "c2.prototxt", [calib], 'exclude_op: "lstm; lstm#3"\n')  # layer 0, both calls
    proc = quantize(dopt, py, tmp_path / "w.pth", conf, tmp_path / "q.pt", "x: 1,5,8")
    assert proc.returncode == 0, describe(proc)
    assert (tmp_path / "q.pt").exists()
