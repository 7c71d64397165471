"""ONNX control flow (If, Loop, Scan) end to end: models whose sub-graphs read outer-scope
values (and hold their own Conv with constant weights) run in `dopt run` as in ONNX Runtime,
and `dopt -m 0` quantizes the top-level Convs, keeps the sub-graphs (float) and writes a model
ONNX Runtime runs. One model comes from torch.onnx.export of a torch.jit.script-ed module with
a data-dependent `if` and `for` (If and Loop). Models are built here."""
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
RTOL = 1e-4  # max abs error relative to the reference's range


def rand(rng, shape, s=0.3):
    return (rng.standard_normal(shape) * s).astype(np.float32)


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def conv(name, x, w, out, pad=1, k=3):
    return helper.make_node("Conv", [x, w], [out], name=name, kernel_shape=[k, k], pads=[pad] * 4)


def finish(nodes, inits, out_shape, name, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    return m


def if_model(opset=13, constant_cond=False) -> onnx.ModelProto:
    """conv1 -> relu -> r1; cond = mean(input) > 0; then: its own Conv (constant weight) of r1 plus
    the outer bias; else: r1 * the outer scale; -> conv2 -> logits. At opset 11 the then branch
    also holds Unsqueeze/Squeeze with `axes` attributes, which the QDQ export's upgrade to opset
    13 rewrites inside the branch. With `constant_cond` the cond is `2 > 1` (shape-like
    constants): `-m 0` inlines the then branch and quantizes its Conv too."""
    rng = np.random.default_rng(21)
    t_nodes = [conv("then_conv", "r1", "then.w", "t1")]
    if opset < 13:
        t_nodes += [helper.make_node("Unsqueeze", ["t1"], ["t1u"], name="then_unsq", axes=[0]),
                    helper.make_node("Squeeze", ["t1u"], ["t1s"], name="then_sq", axes=[0])]
        last = "t1s"
    else:
        last = "t1"
    t_nodes.append(helper.make_node("Add", [last, "outer.bias"], ["then_out"], name="then_add"))
    then_g = helper.make_graph(t_nodes, "then", [], [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, None)],
                               [init("then.w", rand(rng, (8, 8, 3, 3), 0.2))])
    else_g = helper.make_graph([helper.make_node("Mul", ["r1", "outer.scale"], ["else_out"], name="else_mul")], "else", [],
                               [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, None)])
    reduce_attrs = {"keepdims": 0}
    nodes = [
        conv("conv1", "input", "conv1.w", "c1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("ReduceMean", ["input"], ["mean"], name="mean", **reduce_attrs),
        helper.make_node("Greater", ["two", "one"] if constant_cond else ["mean", "zero"], ["cond"], name="gt"),
        helper.make_node("If", ["cond"], ["branch"], name="the_if", then_branch=then_g, else_branch=else_g),
        conv("conv2", "branch", "conv2.w", "logits"),
    ]
    inits = [init("conv1.w", rand(rng, (8, 3, 3, 3))), init("conv2.w", rand(rng, (4, 8, 3, 3), 0.2)),
             init("zero", np.float32(0)), init("outer.bias", rand(rng, (1, 8, 1, 1), 0.5)),
             init("two", np.int64(2)), init("one", np.int64(1)),
             init("outer.scale", rand(rng, (1, 8, 1, 1), 1.0))]
    return finish(nodes, inits, [1, 4, 8, 8], f"if{opset}", opset)


def loop_model(nested=False) -> onnx.ModelProto:
    """conv1 -> r1; Loop (M = 1 + (sum(input > 0) mod 3), cond true): acc = acc * alpha + r1 (both
    outer), scan output: sum(acc); its final acc -> conv2 -> logits. `nested`: the scaling is an
    If inside the body (iteration 0 keeps acc, later ones scale it by the top-level alpha), so
    the If's branches read a body input and a top-level value through two levels."""
    rng = np.random.default_rng(22)
    if nested:
        then_g = helper.make_graph([helper.make_node("Mul", ["acc", "alpha"], ["t_out"], name="t_mul")], "then", [],
                                   [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, None)])
        else_g = helper.make_graph([helper.make_node("Identity", ["acc"], ["e_out"], name="e_id")], "else", [],
                                   [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, None)])
        scale = [helper.make_node("Greater", ["i", "zero_i"], ["later"], name="b_later"),
                 helper.make_node("If", ["later"], ["scaled"], name="b_if", then_branch=then_g, else_branch=else_g)]
    else:
        scale = [helper.make_node("Mul", ["acc", "alpha"], ["scaled"], name="b_mul")]
    body = helper.make_graph(
        scale +
        [helper.make_node("Add", ["scaled", "r1"], ["acc_new"], name="b_add"),
         helper.make_node("ReduceSum", ["acc_new"], ["total"], name="b_sum", keepdims=0),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="b_cond")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_new", TensorProto.FLOAT, [1, 8, 8, 8]),
         helper.make_tensor_value_info("total", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(np.int64(0), "zero_i")] if nested else [])
    nodes = [
        conv("conv1", "input", "conv1.w", "c1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Greater", ["input", "zero"], ["pos"], name="pos"),
        helper.make_node("Cast", ["pos"], ["pos_f"], name="pos_f", to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["pos_f"], ["npos_f"], name="npos_f", keepdims=0),
        helper.make_node("Cast", ["npos_f"], ["npos"], name="npos", to=TensorProto.INT64),
        helper.make_node("Mod", ["npos", "three"], ["rem"], name="rem"),
        helper.make_node("Add", ["rem", "one"], ["trips"], name="trips"),
        helper.make_node("Loop", ["trips", "true", "r1"], ["acc_final", "totals"], name="the_loop", body=body),
        conv("conv2", "acc_final", "conv2.w", "logits"),
    ]
    inits = [init("conv1.w", rand(rng, (8, 3, 3, 3))), init("conv2.w", rand(rng, (4, 8, 3, 3), 0.2)),
             init("zero", np.float32(0)), init("three", np.int64(3)), init("one", np.int64(1)),
             init("true", np.array(True)), init("alpha", np.float32(0.5))]
    return finish(nodes, inits, [1, 4, 8, 8], "loop_nested_if" if nested else "loop")


def scan_model() -> onnx.ModelProto:
    """conv1 -> r1 [1,8,8,8] -> [8, 64]; Scan over the 8 channel rows, backwards: state = state *
    decay + row * w (w outer); the final state -> [1,1,8,8] -> conv2 -> logits."""
    rng = np.random.default_rng(23)
    body = helper.make_graph(
        [helper.make_node("Mul", ["state", "decay"], ["kept"], name="s_mul"),
         helper.make_node("Mul", ["row", "w_outer"], ["weighted"], name="s_w"),
         helper.make_node("Add", ["kept", "weighted"], ["state_new"], name="s_add"),
         helper.make_node("Identity", ["state_new"], ["y"], name="s_y")],
        "body",
        [helper.make_tensor_value_info("state", TensorProto.FLOAT, [64]), helper.make_tensor_value_info("row", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("state_new", TensorProto.FLOAT, [64]), helper.make_tensor_value_info("y", TensorProto.FLOAT, [64])],
        [init("decay", np.float32(0.7))])
    nodes = [
        conv("conv1", "input", "conv1.w", "c1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Reshape", ["r1", "rows_shape"], ["rows"], name="rows"),
        helper.make_node("Scan", ["state0", "rows"], ["state_final", "ys"], name="the_scan", body=body,
                         num_scan_inputs=1, scan_input_directions=[1]),
        helper.make_node("Reshape", ["state_final", "img_shape"], ["img"], name="img"),
        conv("conv2", "img", "conv2.w", "logits"),
    ]
    inits = [init("conv1.w", rand(rng, (8, 3, 3, 3))), init("conv2.w", rand(rng, (4, 1, 3, 3))),
             init("rows_shape", np.array([8, 64], np.int64)), init("img_shape", np.array([1, 1, 8, 8], np.int64)),
             init("state0", np.zeros(64, np.float32)), init("w_outer", rand(rng, 64, 1.0))]
    return finish(nodes, inits, [1, 4, 8, 8], "scan")


def torch_model(path: Path) -> onnx.ModelProto:
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.conv2 = torch.nn.Conv2d(8, 4, 3, padding=1)

        def forward(self, x):
            y = torch.relu(self.conv1(x))
            if y.mean() > 0.3:
                y = y * 2.0
            else:
                y = y - 1.0
            for _ in range(x.size(2) // 4):
                y = y + x.mean()
            return self.conv2(y)

    torch.manual_seed(0)
    torch.onnx.export(torch.jit.script(Net().eval()), (torch.zeros(*X_SHAPE),), str(path), input_names=["input"],
                      output_names=["logits"], opset_version=13, dynamo=False)
    m = onnx.load(str(path))
    ops = {n.op_type for n in m.graph.node}
    assert {"If", "Loop"} <= ops, ops
    return m


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"input": x[i:i + 1]})[0] for i in range(x.shape[0])])


def samples(n=8):
    x = np.random.default_rng(5).standard_normal((n, *X_SHAPE[1:])).astype(np.float32)
    x[::2] += 0.4  # both If branches, and several trip counts
    return x


MODELS = {"if": if_model, "if-opset11": lambda: if_model(11), "if-constant-cond": lambda: if_model(constant_cond=True),
          "loop": loop_model, "loop-nested-if": lambda: loop_model(nested=True), "scan": scan_model}


@pytest.mark.parametrize("name", list(MODELS) + ["torch-script"])
def test_control_flow_run_and_quantize(dopt, tmp_path, name):
    model = tmp_path / "model.onnx"
    m = torch_model(model) if name == "torch-script" else MODELS[name]()
    onnx.save(m, str(model))
    x = samples()
    want = ort_run(model, x)
    # dopt run: each sample as ORT computes it.
    for i in (0, 1):
        np.save(tmp_path / "x.npy", x[i:i + 1])
        out_dir = tmp_path / f"out{i}"
        proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={tmp_path / 'x.npy'}", "--output_dir", out_dir)
        assert proc.returncode == 0, describe(proc)
        got = np.load(out_dir / "logits.npy")
        ref = want[i:i + 1]
        assert got.shape == ref.shape
        err = np.abs(got - ref).max() / max(float(ref.max() - ref.min()), 1e-12)
        assert err <= RTOL, f"{name} sample {i}: error {err:.3g} relative to the range"
    # dopt -m 0: the top-level Convs are quantized, the sub-graphs stay, ORT runs the result.
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    conf = tmp_path / "config.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\ncalibration_method: "minmax"\npreprocess_parameter {\n'
                    '  input_type: BINARY\n  input_file_path: "cal.bin"\n}\n')
    out = tmp_path / "q.onnx"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf, "--output", out,
                    "--input_format", "NCHW", "--input_shape", "input: 1,3,8,8", "--out_nodes", "logits",
                    "--compress_conf", tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    convs = 3 if name == "if-constant-cond" else 2  # the inlined branch's Conv too
    assert re.search(rf"quantized:\s+{convs} ops \(Conv {convs}\)", proc.stdout), describe(proc)
    q = onnx.load(str(out))
    onnx.checker.check_model(q, full_check=True)
    top = {n.name: n for n in q.graph.node}
    producer = {o: n for n in q.graph.node for o in n.output}
    for c in ("conv1", "conv2") if name != "torch-script" else [n.name for n in m.graph.node if n.op_type == "Conv"]:
        dq = producer.get(top[c].input[1])
        assert dq is not None and dq.op_type == "DequantizeLinear", f"{c}: weight not behind a DequantizeLinear"
    flow = [n for n in q.graph.node if n.op_type in ("If", "Loop", "Scan")]  # top-level ones
    assert len(flow) == sum(n.op_type in ("If", "Loop", "Scan") for n in m.graph.node) - (name == "if-constant-cond")
    for n in flow:  # the sub-graphs stay float
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                assert not any(s.op_type in ("QuantizeLinear", "DequantizeLinear") for s in a.g.node)
    got = ort_run(out, x)
    err = np.abs(got - want).max() / max(float(want.max() - want.min()), 1e-12)
    assert err < 0.1, f"{name}: quantized model differs from float by {err:.3g} of the range"
    check_simulation_matches_qdq(dopt, tmp_path, model, tmp_path / "param", out, x)
