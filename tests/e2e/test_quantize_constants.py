"""dopt -m 0 on models whose weights are not plain initializers: Constant nodes (paddle2onnx),
Identity-shared initializers (torch.onnx.export's de-duplication), float16 weights behind Cast,
DequantizeLinear of an int8 initializer. Every weighted op is quantized, the result runs in
ONNX Runtime close to the float model, and each quantized weight is an int8 initializer behind a
DequantizeLinear. A model none of whose weighted ops can be quantized, and a calibration set with
no sample, fail with one `dopt: error:` line and write nothing. Models are built here."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import check_simulation_matches_qdq, describe, run_dopt
from models import bin_bytes

X_SHAPE = [1, 3, 8, 8]


def const_node(name: str, a: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], name=name + "_const", value=numpy_helper.from_array(a, name))


def finish(nodes, inits, out_shape, name="m", opset=13, inputs=None) -> onnx.ModelProto:
    g = helper.make_graph(
        nodes, name, inputs or [helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def rand(rng, shape, s=0.3):
    return (rng.standard_normal(shape) * s).astype(np.float32)


def constant_node_model() -> onnx.ModelProto:
    """paddle2onnx style: every weight, bias and BatchNormalization parameter in a Constant node;
    the Gemm weight reaches it through Reshape + Transpose of Constants."""
    rng = np.random.default_rng(11)
    nodes = [
        const_node("conv1.w", rand(rng, (8, 3, 3, 3))), const_node("conv1.b", rand(rng, 8, 0.1)),
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        const_node("bn.scale", (1 + rand(rng, 8, 0.1))), const_node("bn.bias", rand(rng, 8, 0.1)),
        const_node("bn.mean", rand(rng, 8, 0.1)), const_node("bn.var", (1 + np.abs(rand(rng, 8, 0.1)))),
        helper.make_node("BatchNormalization", ["c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n1"], name="bn"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        const_node("conv2.w", rand(rng, (4, 8, 1, 1))), const_node("conv2.b", rand(rng, 4, 0.1)),
        helper.make_node("Conv", ["r1", "conv2.w", "conv2.b"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Flatten", ["c2"], ["flat"], name="flatten", axis=1),
        const_node("fc.w_flat", rand(rng, 256 * 10, 0.1)),
        const_node("fc.w_shape", np.array([256, 10], np.int64)),
        helper.make_node("Reshape", ["fc.w_flat", "fc.w_shape"], ["fc.w_kn"], name="fc_w_reshape"),
        helper.make_node("Transpose", ["fc.w_kn"], ["fc.w"], name="fc_w_transpose", perm=[1, 0]),
        const_node("fc.b", rand(rng, 10, 0.1)),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    return finish(nodes, [], [1, 10], "constants")


def identity_shared_model() -> onnx.ModelProto:
    """torch.onnx.export's de-duplication: two Convs share one weight and equal biases through
    Identity nodes (the second bias an Identity of the first)."""
    rng = np.random.default_rng(12)
    w, b = rand(rng, (3, 3, 3, 3)), rand(rng, 3, 0.1)
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Identity", ["conv1.w"], ["conv2.w"], name="Identity_0"),
        helper.make_node("Identity", ["conv1.b"], ["conv2.b"], name="Identity_1"),
        helper.make_node("Conv", ["r1", "conv2.w", "conv2.b"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["c2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    inits = [numpy_helper.from_array(w, "conv1.w"), numpy_helper.from_array(b, "conv1.b"),
             numpy_helper.from_array(rand(rng, (10, 192), 0.1), "fc.w"), numpy_helper.from_array(rand(rng, 10, 0.1), "fc.b")]
    return finish(nodes, inits, [1, 10], "identity_shared")


def half_and_dq_model() -> onnx.ModelProto:
    """A Conv whose weight is float16 cast to float32, and a MatMul whose weight is a
    DequantizeLinear of an int8 initializer (an already-quantized weight)."""
    rng = np.random.default_rng(13)
    w16 = rand(rng, (4, 3, 3, 3)).astype(np.float16)
    wq = rng.integers(-100, 100, (256, 10)).astype(np.int8)
    nodes = [
        helper.make_node("Cast", ["conv.w16"], ["conv.w"], name="conv_w_cast", to=TensorProto.FLOAT),
        helper.make_node("Conv", ["input", "conv.w"], ["c1"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Flatten", ["r1"], ["flat"], name="flatten", axis=1),
        helper.make_node("DequantizeLinear", ["mm.wq", "mm.scale", "mm.zp"], ["mm.w"], name="mm_w_dq"),
        helper.make_node("MatMul", ["flat", "mm.w"], ["logits"], name="mm"),
    ]
    inits = [numpy_helper.from_array(w16, "conv.w16"), numpy_helper.from_array(wq, "mm.wq"),
             numpy_helper.from_array(np.array(0.002, np.float32), "mm.scale"),
             numpy_helper.from_array(np.array(0, np.int8), "mm.zp")]
    return finish(nodes, inits, [1, 10], "half_and_dq")


def weight_from_input_model() -> onnx.ModelProto:
    """The only Conv's weight is computed by a Mul from the graph input (a data-dependent gain)."""
    rng = np.random.default_rng(14)
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["gain"], name="gain", keepdims=0),
        helper.make_node("Mul", ["w0", "gain"], ["conv.w"], name="scale_w"),
        helper.make_node("Conv", ["input", "conv.w"], ["logits"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    return finish(nodes, [numpy_helper.from_array(rand(rng, (4, 3, 3, 3)), "w0")], [1, 4, 8, 8], "w_from_input")


def float64_position_model(double_input: bool = False) -> onnx.ModelProto:
    """D-FINE's style (a real detector's export): a position embedding computed in float64 from
    the input's width (Shape -> Cast to DOUBLE -> Range with DOUBLE Constants, start 0.1 (not a
    float32 value) -> Mul by a DOUBLE Div of two DOUBLE Constants (folded: a new initializer) ->
    Sin -> Cast to FLOAT) added to a Conv's output, and a gate computed in float64 from the Conv's
    output (ReduceMean -> Cast to DOUBLE -> MatMul by a DOUBLE initializer -> Mul by a DOUBLE
    constant -> Cast to FLOAT: a weighted op and an activation op in float64, which stay float),
    and a Pow of a float32 activation by a float64 exponent (float32 out: the Gemm after it is
    quantized). double_input: the graph input itself is float64."""
    rng = np.random.default_rng(16)
    f64 = TensorProto.DOUBLE
    nodes = ([helper.make_node("Cast", ["input64"], ["input"], name="in_cast", to=TensorProto.FLOAT)] if double_input else []) + [
        helper.make_node("Conv", ["input", "conv.w", "conv.b"], ["c1"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["input"], ["shape"], name="shape"),
        const_node("w_index", np.array(3, np.int64)),
        helper.make_node("Gather", ["shape", "w_index"], ["width"], name="width"),
        helper.make_node("Cast", ["width"], ["width64"], name="width_cast", to=f64),
        const_node("start64", np.array(0.1, np.float64)), const_node("step64", np.array(1.0, np.float64)),
        helper.make_node("Range", ["start64", "width64", "step64"], ["pos64"], name="range"),
        const_node("num64", np.linspace(0.2, 2.6, 8).astype(np.float64)), const_node("den64", np.array(2.0, np.float64)),
        helper.make_node("Div", ["num64", "den64"], ["omega64"], name="omega"),
        helper.make_node("Mul", ["pos64", "omega64"], ["angle64"], name="angle"),
        helper.make_node("Sin", ["angle64"], ["emb64"], name="sin"),
        helper.make_node("Cast", ["emb64"], ["emb"], name="emb_cast", to=TensorProto.FLOAT),
        helper.make_node("Add", ["c1", "emb"], ["p1"], name="add_pos"),
        helper.make_node("ReduceMean", ["c1"], ["pooled"], name="pool", axes=[2, 3], keepdims=0),
        helper.make_node("Cast", ["pooled"], ["pooled64"], name="pool_cast", to=f64),
        helper.make_node("MatMul", ["pooled64", "gate.w64"], ["gate64"], name="gate_mm"),
        const_node("half64", np.array(0.5, np.float64)),
        helper.make_node("Mul", ["gate64", "half64"], ["gate64s"], name="gate_scale"),
        helper.make_node("Cast", ["gate64s"], ["gate"], name="gate_cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["p1", "gate"], ["p2"], name="apply_gate"),
        helper.make_node("Relu", ["p2"], ["r0"], name="relu1"),
        const_node("one64", np.array(1.0, np.float64)),
        helper.make_node("Pow", ["r0", "one64"], ["r1"], name="pow_one"),
        helper.make_node("Flatten", ["r1"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    inits = [numpy_helper.from_array(rand(rng, (4, 3, 3, 3)), "conv.w"), numpy_helper.from_array(rand(rng, 4, 0.1), "conv.b"),
             numpy_helper.from_array((1 + rand(rng, (4, 8))).astype(np.float64), "gate.w64"),
             numpy_helper.from_array(rand(rng, (10, 256), 0.1), "fc.w"), numpy_helper.from_array(rand(rng, 10, 0.1), "fc.b")]
    inputs = [helper.make_tensor_value_info("input64", f64, X_SHAPE)] if double_input else None
    return finish(nodes, inits, [1, 10], "float64_position", opset=17, inputs=inputs)


def write_conf(d: Path, cal: str = "cal.bin", extra: str = "") -> Path:
    p = d / "config.prototxt"
    p.write_text('strategy: "Quant_INT8-8"\ncalibration_method: "minmax"\npreprocess_parameter {\n'
                 f'  input_type: BINARY\n  input_file_path: "{cal}"\n}}\n' + extra)
    return p


def quantize(dopt, d: Path, m: onnx.ModelProto, out_nodes="logits", samples=16, cal="cal.bin", extra=""):
    model = d / "model.onnx"
    onnx.save(m, str(model))
    x = np.random.default_rng(1).standard_normal((samples, 3, 8, 8)).astype(np.float32)
    (d / "cal.bin").write_bytes(bin_bytes(x))
    out, param = d / "q.onnx", d / "param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", write_conf(d, cal, extra), "--output", out,
                    "--input_format", "NCHW", "--input_shape", "input: 1,3,8,8", "--out_nodes", out_nodes,
                    "--compress_conf", param)
    return proc, model, out, param, x


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"input": x[i:i + 1]})[0] for i in range(x.shape[0])])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_all_weights_int8(q: onnx.ModelProto, ops: dict[str, str]) -> None:
    """Each named op reads its weight from a DequantizeLinear of an int8 initializer."""
    producer = {o: n for n in q.graph.node for o in n.output}
    inits = {t.name: t for t in q.graph.initializer}
    by_name = {n.name: n for n in q.graph.node}
    for name, op_type in ops.items():
        n = by_name[name]
        assert n.op_type == op_type
        dq = producer.get(n.input[1])
        assert dq is not None and dq.op_type == "DequantizeLinear", f"{name}: weight not behind a DequantizeLinear"
        assert dq.input[0] in inits and inits[dq.input[0]].data_type == TensorProto.INT8, f"{name}: weight not int8"


def quantized_line(proc) -> str:
    m = re.search(r"quantized:\s+(\d+) ops \(([^)]*)\)", proc.stdout)
    assert m, describe(proc)
    return m.group(0)


@pytest.mark.parametrize("build,expect,ops", [
    (constant_node_model, "quantized:     3 ops (Conv 2, Gemm 1)", {"conv1": "Conv", "conv2": "Conv", "fc": "Gemm"}),
    (identity_shared_model, "quantized:     3 ops (Conv 2, Gemm 1)", {"conv1": "Conv", "conv2": "Conv", "fc": "Gemm"}),
    (half_and_dq_model, "quantized:     2 ops (Conv 1, MatMul 1)", {"conv": "Conv", "mm": "MatMul"}),
], ids=["constant-nodes", "identity-shared", "fp16-cast-and-dq"])
def test_every_weighted_op_is_quantized(dopt, tmp_path, build, expect, ops):
    proc, model, out, param, x = quantize(dopt, tmp_path, build())
    assert proc.returncode == 0, describe(proc)
    assert expect in proc.stdout, describe(proc)
    assert "left in float: 0 ops" in proc.stdout, describe(proc)
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    assert [i.name for i in q.graph.input] == ["input"] and [o.name for o in q.graph.output] == ["logits"]
    check_all_weights_int8(q, ops)
    # No float copy of a weight, no Constant node and no folded sub-graph is left behind.
    assert not any(n.op_type in ("Constant", "Identity", "Cast", "Reshape", "Transpose", "BatchNormalization")
                   for n in q.graph.node), [n.op_type for n in q.graph.node]
    ref, got = run_ort(model, x), run_ort(out, x)
    c = cosine(ref, got)
    print(f"{build.__name__}: {quantized_line(proc)}, cosine to float {c:.5f}")
    assert c > 0.99, c
    check_simulation_matches_qdq(dopt, tmp_path, model, param, out, x)


def test_identity_dedup_from_torch_export(dopt, tmp_path):
    """A small ResNet in torch: eval-mode export fuses each BatchNorm into its Conv, and the fused
    biases, all equal (fresh BatchNorms), are de-duplicated through Identity nodes, as on
    ResNet-50 (before fold_constants: 2 of these 10 ops quantized, "bias is not a constant")."""
    torch = pytest.importorskip("torch")

    class Block(torch.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.a, self.ba = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)
            self.b, self.bb = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)

        def forward(self, x):
            return torch.relu(x + self.bb(self.b(torch.relu(self.ba(self.a(x))))))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem, self.bn = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8)
            self.blocks = torch.nn.Sequential(*[Block(8) for _ in range(4)])
            self.fc = torch.nn.Linear(8 * 64, 10)

        def forward(self, x):
            return self.fc(torch.flatten(self.blocks(torch.relu(self.bn(self.stem(x)))), 1))

    torch.manual_seed(0)
    path = tmp_path / "torch.onnx"
    torch.onnx.export(Net().eval(), torch.zeros(1, 3, 8, 8), str(path), input_names=["input"], output_names=["logits"],
                      opset_version=13, dynamo=False)
    m = onnx.load(str(path))
    identities = sum(n.op_type == "Identity" for n in m.graph.node)
    weighted = [n.name for n in m.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    assert identities >= 4 and len(weighted) == 10, (identities, weighted)  # the de-duplication happened
    proc, model, out, _, x = quantize(dopt, tmp_path, m)
    assert proc.returncode == 0, describe(proc)
    assert "quantized:     10 ops (Conv 9, Gemm 1)" in proc.stdout, describe(proc)
    assert "left in float: 0 ops" in proc.stdout, describe(proc)
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    check_all_weights_int8(q, {n.name: n.op_type for n in m.graph.node if n.name in weighted})
    c = cosine(run_ort(model, x), run_ort(out, x))
    print(f"torch mini-ResNet ({identities} Identity): {quantized_line(proc)}, cosine {c:.5f}")
    assert c > 0.99, c


def test_ops_left_float_say_why(dopt, tmp_path):
    """Some weighted ops quantizable, one not: exit 0, and the summary says what computes the
    weight it could not quantize and from which input (not just "weight is not a constant")."""
    rng = np.random.default_rng(15)
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("ReduceMean", ["c1"], ["gain"], name="gain", keepdims=0),
        helper.make_node("Mul", ["w0", "gain"], ["conv2.w"], name="scale_w"),
        helper.make_node("Conv", ["c1", "conv2.w"], ["logits"], name="conv2", kernel_shape=[1, 1]),
    ]
    inits = [numpy_helper.from_array(rand(rng, (4, 3, 3, 3)), "conv1.w"), numpy_helper.from_array(rand(rng, (2, 4, 1, 1)), "w0")]
    proc, model, out, _, x = quantize(dopt, tmp_path, finish(nodes, inits, [1, 2, 8, 8], "partial"))
    assert proc.returncode == 0, describe(proc)
    assert "quantized:     1 op (Conv 1)" in proc.stdout and "left in float: 1 op\n" in proc.stdout, describe(proc)
    assert ("conv2 (Conv): weight 'conv2.w' is computed by node 'scale_w' (Mul) from the graph input 'input'"
            in proc.stdout), describe(proc)
    assert out.exists()


def one_error_line(proc) -> str:
    assert proc.returncode == 2, describe(proc)
    lines = [l for l in proc.stderr.splitlines() if l.strip() and not l.startswith("dopt: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("dopt: error: "), describe(proc)
    for bad in ("Traceback", "terminate called", "Aborted", "what():"):
        assert bad not in proc.stderr, describe(proc)
    return lines[0]


def test_error_no_weighted_op_quantizable(dopt, tmp_path):
    """Before: exit 0, "quantized: 0 ops", the float model written as if it were int8."""
    proc, model, out, param, _ = quantize(dopt, tmp_path, weight_from_input_model())
    line = one_error_line(proc)
    assert line == (f"dopt: error: {model}: none of the 1 weighted op (Conv 1) can be quantized, the model would stay "
                    "float: node 'conv' (Conv): weight 'conv.w' is computed by node 'scale_w' (Mul) from the graph input "
                    "'input'; nothing written"), line
    assert not out.exists() and not param.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.bin", "config.prototxt", "model.onnx"]


def test_error_every_weighted_op_excluded(dopt, tmp_path):
    """exclude_op naming every weighted op leaves nothing to quantize: an error too, with the reasons."""
    m = identity_shared_model()
    model = tmp_path / "model.onnx"
    onnx.save(m, str(model))
    (tmp_path / "cal.bin").write_bytes(bin_bytes(np.zeros((2, 3, 8, 8), np.float32)))
    conf = write_conf(tmp_path)
    conf.write_text(conf.read_text() + 'exclude_op: "conv1; conv2; fc"\n')
    out = tmp_path / "q.onnx"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf, "--output", out,
                    "--input_shape", "input: 1,3,8,8", "--out_nodes", "logits")
    line = one_error_line(proc)
    assert line.startswith(f"dopt: error: {model}: none of the 3 weighted ops (Conv 2, Gemm 1) can be quantized"), line
    assert "node 'conv1' (Conv): exclude_op in the config (node name)" in line and line.endswith("; nothing written"), line
    assert not out.exists()


@pytest.mark.parametrize("how", ["empty-bin", "folder-without-bins"])
def test_error_zero_calibration_samples(dopt, tmp_path, how):
    """A calibration set with no sample: one clear error naming the data, nothing written."""
    if how == "empty-bin":
        (tmp_path / "empty.bin").write_bytes(bin_bytes(np.zeros((0, 3, 8, 8), np.float32)))
        cal, cause = "empty.bin", r"empty\.bin: dim 0 of the header is 0, dims must be positive"
    else:
        (tmp_path / "bins").mkdir()
        (tmp_path / "bins" / "readme.txt").write_text("no samples here")
        cal, cause = "bins", r"no \.bin files in folder .*/bins$"
    proc, model, out, param, _ = quantize(dopt, tmp_path, identity_shared_model(), cal=cal)
    line = one_error_line(proc)
    assert re.search(cause, line), line
    assert not out.exists() and not param.exists()


def test_float64_inside_the_model(dopt, tmp_path):
    """float64 inside a model runs as float32 (docs/onnx_support.md): the model quantizes, the
    written model keeps its float64 nodes and tensors (the DOUBLE Constants, now initializers, are
    written as DOUBLE again), type-checks, and runs in ONNX Runtime as dopt simulates it."""
    m = float64_position_model()
    proc, model, out, param, x = quantize(dopt, tmp_path, m, extra='quantize_op_type: "Mul"\n')
    assert proc.returncode == 0, describe(proc)
    assert "quantized:     3 ops (Conv 1, Gemm 1, Mul 1)" in proc.stdout, describe(proc)  # the float32 Mul
    assert "gate_mm (MatMul): computes in float64 in the source model" in proc.stdout, describe(proc)
    assert "gate_scale (Mul): quantize_op_type: its input 0 is float64 in the source model" in proc.stdout, describe(proc)
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)  # with type inference: every float64 value still one
    doubles = {t.name: t for t in q.graph.initializer if t.data_type == TensorProto.DOUBLE}
    assert {"start64", "step64", "gate.w64"} <= set(doubles), sorted(doubles)
    assert float(numpy_helper.to_array(doubles["start64"])) == 0.1  # the source's float64, not its float32 rounding
    assert "omega64" in doubles or any(n.name == "omega" for n in q.graph.node), sorted(doubles)  # folded or kept
    casts = {n.name: helper.get_attribute_value(n.attribute[0]) for n in q.graph.node if n.op_type == "Cast"}
    assert casts.get("width_cast") == TensorProto.DOUBLE and casts.get("pool_cast") == TensorProto.DOUBLE, casts
    producer = {o: n for n in q.graph.node for o in n.output}
    assert all(producer[i].op_type != "DequantizeLinear" for i in producer["gate64"].input if i in producer)
    check_all_weights_int8(q, {"conv": "Conv", "fc": "Gemm"})
    ref, got = run_ort(model, x), run_ort(out, x)
    c = cosine(ref, got)
    print(f"float64 position embedding: {quantized_line(proc)}, cosine to float {c:.5f}")
    assert c > 0.99, c
    # The float forward: dopt's float32 arithmetic of the float64 chain matches ORT's float64.
    np.save(tmp_path / "x.npy", x[:1])
    fl = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "fl")
    assert fl.returncode == 0, describe(fl)
    np.testing.assert_allclose(np.load(tmp_path / "fl" / "logits.npy"), ref[:1], rtol=1e-4, atol=1e-5)
    check_simulation_matches_qdq(dopt, tmp_path, model, param, out, x)


def test_float64_graph_input_is_refused(dopt, tmp_path):
    """A float64 graph input: one clear error naming it, nothing written (dopt does not change a
    model's interface)."""
    model = tmp_path / "model.onnx"
    onnx.save(float64_position_model(double_input=True), str(model))
    np.save(tmp_path / "x.npy", np.zeros(X_SHAPE))
    (tmp_path / "cal.bin").write_bytes(bin_bytes(np.zeros([4] + X_SHAPE[1:], np.float32)))
    out = tmp_path / "q.onnx"
    for args in (["run", "--model", model, "--input", f"input64={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"],
                 ["-m", "0", "--framework", "5", "--model", model, "--cal_conf", write_conf(tmp_path), "--output", out,
                  "--input_format", "NCHW", "--input_shape", "input64: 1,3,8,8", "--compress_conf", tmp_path / "param"]):
        proc = run_dopt(dopt, *args)
        assert proc.returncode != 0, describe(proc)
        lines = [l for l in proc.stderr.splitlines() if l.startswith("dopt: error:")]
        assert len(lines) == 1 and "graph input 'input64' is float64 (DOUBLE)" in lines[0] and str(model) in lines[0], \
            describe(proc)
    assert not out.exists() and not (tmp_path / "param").exists() and not (tmp_path / "o").exists()
