"""`dopt upgrade-opset` (hidden): an old model upgraded to opset 13 (and 17, 18, 21) must pass
onnx.checker.check_model(full_check=True) and give the same results in ONNX Runtime as before.

Three sets: the shared real models with opset < 13 (ORT on the original vs ORT on the
upgraded model, random inputs), every libonnx node test with opset < 13 whose ops are all in
src/ops/ops.inc (ORT on the upgraded model vs the test's expected outputs), and small models
built here at old opsets, one per rewrite (ORT original vs upgraded)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO_ROOT, describe, make_inputs, ort_session, run_dopt, shared_models

TARGET = 13
NODE_TESTS = Path("/usr/share/libonnx-testdata/data/node")
MIN_READ_OPSET = 7  # dopt's ONNX loader reads opset 7 and newer


def default_opset(m: onnx.ModelProto) -> int:
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 1


def our_ops() -> set[str]:
    return set(re.findall(r"DOPT_OP\((\w+)\)", (REPO_ROOT / "src" / "ops" / "ops.inc").read_text()))


def plain_session(model: Path):
    """ORT without graph optimisations: its fusions and layout changes differ between opsets
    (e.g. Clip-11 is fused into NCHWc convolutions, Clip-6 is not) and move the last bits;
    unoptimised, a faithful upgrade gives the same numbers."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])


IR_FOR_OPSET = {13: 7, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}  # the IR version each opset was released with


def upgrade(dopt: Path, model: Path, out: Path, target: int = TARGET) -> onnx.ModelProto:
    proc = run_dopt(dopt, "upgrade-opset", "--model", model, "--output", out, "--opset", target)
    assert proc.returncode == 0, f"dopt upgrade-opset failed on {model}:\n{describe(proc)}"
    new = onnx.load(str(out))
    assert default_opset(new) == target
    assert new.ir_version >= IR_FOR_OPSET[target]
    onnx.checker.check_model(new, full_check=True)
    return new


def assert_close(name: str, got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if not np.issubdtype(want.dtype, np.floating):
        np.testing.assert_array_equal(got, want, err_msg=name)
        return
    g, w = got.astype(np.float64), want.astype(np.float64)
    # Relative to each element; elements near zero (cancellation) get an absolute floor of
    # rtol times a tenth of the output's largest magnitude.
    floor = rtol * 0.1 * float(np.abs(w).max(initial=0))
    np.testing.assert_allclose(g, w, rtol=rtol, atol=floor, err_msg=name)


# ---- shared models ----

def old_shared_models() -> list:
    params = []
    for m in shared_models():
        if default_opset(onnx.load(str(m), load_external_data=False)) < TARGET:
            params.append(pytest.param(m, id=m.stem))
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no shared models with opset < 13"))]


@pytest.mark.parametrize("target", [TARGET, 17, 18, 21])
@pytest.mark.parametrize("model", old_shared_models())
def test_shared_model(dopt, model: Path, target: int, tmp_path: Path) -> None:
    out = tmp_path / f"{model.stem}.op{target}.onnx"
    upgrade(dopt, model, out, target)
    s0, s1 = plain_session(model), plain_session(out)
    feeds = make_inputs(s0, model.stem)
    r0 = s0.run(None, feeds)
    r1 = s1.run(None, feeds)
    rtol = 1e-2 if "fp16" in model.stem else 1e-5
    for o, a, b in zip(s0.get_outputs(), r1, r0):
        assert_close(o.name, a, b, rtol)


# ---- libonnx node tests ----

# Element types dopt's tensors do not have (docs/onnx_node_tests.md): such models do not load.
UNSUPPORTED_TYPES = {"DOUBLE", "UINT16", "UINT32", "UINT64", "STRING", "COMPLEX64", "COMPLEX128"}


# Node tests whose expected outputs ONNX Runtime itself does not reproduce, on the original
# model too (this file checks the upgraded model in ORT; dopt's kernels pass them in
# tests/ops/onnx_node_tests.cc).
ORT_DISAGREES = {
    "test_maxunpool_export_with_output_shape":
        "ONNX Runtime's MaxUnpool with output_shape differs from the test's expected output by 8.0 on the "
        "original model as well",
}


# Node tests of ops dopt has but not at the test's opset.
DOPT_DOES_NOT_RUN = {
    "test_scan_sum": "Scan-8 (batch axis, sequence_lens): dopt runs and upgrades Scan-9 and newer",
}


def elem_types(m: onnx.ModelProto) -> set:
    g = m.graph
    types = {v.type.tensor_type.elem_type for v in list(g.input) + list(g.output) + list(g.value_info)}
    return types | {t.data_type for t in g.initializer}


def node_test_params() -> list:
    if not NODE_TESTS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{NODE_TESTS} is absent"))]
    ops = our_ops()
    params = []
    for d in sorted(NODE_TESTS.glob("test_*")):
        f = d / "model.onnx"
        if not f.is_file():
            continue
        m = onnx.load(str(f))
        v = default_opset(m)
        if v >= TARGET or not all(n.op_type in ops and n.domain in ("", "ai.onnx") for n in m.graph.node):
            continue
        marks = []
        if v < MIN_READ_OPSET:
            marks.append(pytest.mark.skip(reason=f"opset {v}: dopt reads opset {MIN_READ_OPSET} and newer"))
        if d.name in ORT_DISAGREES:
            marks.append(pytest.mark.skip(reason=ORT_DISAGREES[d.name]))
        if d.name in DOPT_DOES_NOT_RUN:
            marks.append(pytest.mark.skip(reason=DOPT_DOES_NOT_RUN[d.name]))
        bad = sorted({TensorProto.DataType.Name(t) for t in elem_types(m)} & UNSUPPORTED_TYPES)
        if bad:
            marks.append(pytest.mark.skip(reason=f"element type {', '.join(bad)}: dopt has no such tensors"))
        params.append(pytest.param(d, id=d.name, marks=marks))
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no node tests with opset < 13"))]


def read_pb(path: Path) -> np.ndarray:
    t = onnx.TensorProto()
    t.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(t)


@pytest.mark.parametrize("test_dir", node_test_params())
def test_node_test(dopt, test_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.onnx"
    new = upgrade(dopt, test_dir / "model.onnx", out)
    sess = ort_session(out)
    inputs = [i.name for i in new.graph.input]
    for ds in sorted(test_dir.glob("test_data_set_*")):
        feeds = {}
        for k in range(len(list(ds.glob("input_*.pb")))):
            feeds[inputs[k]] = read_pb(ds / f"input_{k}.pb")
        got = sess.run(None, feeds)
        for k, o in enumerate(new.graph.output):
            assert_close(f"{ds.name}/{o.name}", got[k], read_pb(ds / f"output_{k}.pb"), 1e-5)


# ---- one small model per rewrite ----

def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def model_of(opset, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=4)
    # Outputs declared without a shape get ONNX's inferred one, so the original model itself
    # passes the full checker (dopt's writer keeps the source's output declarations as they are).
    return onnx.shape_inference.infer_shapes(m)


def f32(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


CASES = {
    "softmax11_axis1_rank3": lambda: model_of(
        11, [helper.make_node("Softmax", ["x"], ["y"], axis=1)], [vi("x", [2, 3, 4])], [vi("y", None)]),
    "softmax9_default_axis_rank4": lambda: model_of(
        9, [helper.make_node("Softmax", ["x"], ["y"])], [vi("x", [2, 3, 2, 2])], [vi("y", None)]),
    "softmax11_last_axis": lambda: model_of(
        11, [helper.make_node("Softmax", ["x"], ["y"], axis=2)], [vi("x", [2, 3, 4])], [vi("y", None)]),
    "clip6_min_max": lambda: model_of(
        7, [helper.make_node("Clip", ["x"], ["y"], min=-0.3, max=0.4)], [vi("x", [2, 3])], [vi("y", None)]),
    "clip6_max_only": lambda: model_of(
        9, [helper.make_node("Clip", ["x"], ["y"], max=0.2)], [vi("x", [2, 3])], [vi("y", None)]),
    "pad2_constant_value": lambda: model_of(
        7, [helper.make_node("Pad", ["x"], ["y"], pads=[0, 1, 2, 0, 2, 1], value=0.75)], [vi("x", [1, 3, 4])],
        [vi("y", None)]),
    "pad2_edge": lambda: model_of(
        10, [helper.make_node("Pad", ["x"], ["y"], mode="edge", pads=[0, 0, 1, 2, 0, 0, 2, 1])],
        [vi("x", [1, 2, 3, 3])], [vi("y", None)]),
    "slice1_axes": lambda: model_of(
        9, [helper.make_node("Slice", ["x"], ["y"], starts=[1, -4], ends=[1000, -1], axes=[0, 2])],
        [vi("x", [3, 2, 6])], [vi("y", None)]),
    "slice1_no_axes": lambda: model_of(
        7, [helper.make_node("Slice", ["x"], ["y"], starts=[0, 1], ends=[2, 3])], [vi("x", [3, 4])], [vi("y", None)]),
    "squeeze_unsqueeze11": lambda: model_of(
        11, [helper.make_node("Squeeze", ["x"], ["s"], axes=[1]),
             helper.make_node("Unsqueeze", ["s"], ["y"], axes=[0, -1])], [vi("x", [2, 1, 3])], [vi("y", None)]),
    "squeeze11_no_axes": lambda: model_of(
        11, [helper.make_node("Squeeze", ["x"], ["y"])], [vi("x", [1, 3, 1])], [vi("y", None)]),
    "split11_attr": lambda: model_of(
        11, [helper.make_node("Split", ["x"], ["a", "b", "c"], axis=-1, split=[1, 2, 3])], [vi("x", [2, 6])],
        [vi("a", None), vi("b", None), vi("c", None)]),
    "split2_equal": lambda: model_of(
        8, [helper.make_node("Split", ["x"], ["a", "b"], axis=0)], [vi("x", [4, 3])], [vi("a", None), vi("b", None)]),
    "dropout7_mask_unused": lambda: model_of(
        7, [helper.make_node("Dropout", ["x"], ["d", "mask"], ratio=0.3), helper.make_node("Relu", ["d"], ["y"])],
        [vi("x", [2, 5])], [vi("y", None)]),
    "dropout10_ratio": lambda: model_of(
        10, [helper.make_node("Dropout", ["x"], ["y"], ratio=0.1)], [vi("x", [2, 5])], [vi("y", None)]),
    "upsample7_nearest": lambda: model_of(
        7, [helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 3.0])], [vi("x", [1, 2, 3, 2])],
        [vi("y", None)]),
    "upsample7_linear": lambda: model_of(
        8, [helper.make_node("Upsample", ["x"], ["y"], mode="linear", scales=[1.0, 1.0, 2.0, 2.5])],
        [vi("x", [1, 2, 3, 4])], [vi("y", None)]),
    "upsample9_nearest_input_scales": lambda: model_of(
        9, [helper.make_node("Upsample", ["x", "sc"], ["y"], mode="nearest")], [vi("x", [1, 1, 3, 3])],
        [vi("y", None)], [f32("sc", [1, 1, 1.5, 2.5])]),
    "upsample9_linear": lambda: model_of(
        9, [helper.make_node("Upsample", ["x", "sc"], ["y"], mode="linear")], [vi("x", [1, 2, 3, 3])],
        [vi("y", None)], [f32("sc", [1, 1, 2, 2])]),
    "resize10_nearest_down": lambda: model_of(
        10, [helper.make_node("Resize", ["x", "sc"], ["y"], mode="nearest")], [vi("x", [1, 1, 5, 7])],
        [vi("y", None)], [f32("sc", [1, 1, 0.6, 0.45])]),
    "resize10_linear": lambda: model_of(
        10, [helper.make_node("Resize", ["x", "sc"], ["y"], mode="linear")], [vi("x", [1, 2, 4, 3])],
        [vi("y", None)], [f32("sc", [1, 1, 1.75, 2.5])]),
    "batchnorm7_spatial": lambda: model_of(
        7, [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], spatial=1, epsilon=1e-3)],
        [vi("x", [2, 3, 2, 2])], [vi("y", None)],
        [f32("s", [1.5, 0.5, 2]), f32("b", [0.1, -0.2, 0]), f32("m", [0.3, 0.4, -1]), f32("v", [2, 0.5, 1])]),
    "reducemean11_axes": lambda: model_of(
        11, [helper.make_node("ReduceMean", ["x"], ["a"], axes=[-1, 1], keepdims=0),
             helper.make_node("ReduceMean", ["x"], ["b"])], [vi("x", [2, 3, 4])], [vi("a", None), vi("b", None)]),
    # ReduceSum moved axes to an input at 13, ReduceMax (like ReduceMean) at 18.
    "reducesum11_axes": lambda: model_of(
        11, [helper.make_node("ReduceSum", ["x"], ["a"], axes=[-1, 1], keepdims=0),
             helper.make_node("ReduceSum", ["x"], ["b"]),
             helper.make_node("ReduceSum", ["x"], ["c"], axes=[0])], [vi("x", [2, 3, 4])],
        [vi("a", None), vi("b", None), vi("c", None)]),
    "reducemax11_axes": lambda: model_of(
        11, [helper.make_node("ReduceMax", ["x"], ["a"], axes=[0, 2]),
             helper.make_node("ReduceMax", ["x"], ["b"], keepdims=0)], [vi("x", [2, 3, 4])],
        [vi("a", None), vi("b", None)]),
    "reduce7_sum_max_mean": lambda: model_of(
        7, [helper.make_node("ReduceSum", ["x"], ["s"], axes=[1]),
            helper.make_node("ReduceMax", ["s"], ["m"], axes=[-1], keepdims=0),
            helper.make_node("ReduceMean", ["m"], ["y"], axes=[0])], [vi("x", [2, 3, 4])], [vi("y", None)]),
    "split11_equal_and_sizes": lambda: model_of(
        11, [helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1),
             helper.make_node("Split", ["x"], ["d", "e"], axis=1, split=[2, 4])],
        [vi("x", [2, 6])], [vi("a", None), vi("b", None), vi("c", None), vi("d", None), vi("e", None)]),
    # Scatter (9-10) became ScatterElements at 11.
    "scatter9_axis": lambda: model_of(
        9, [helper.make_node("Scatter", ["x", "idx", "u"], ["y"], axis=1)], [vi("x", [3, 4])], [vi("y", None)],
        [numpy_helper.from_array(np.array([[3, 0], [-1, 1]], dtype=np.int64), "idx"), f32("u", [[10, 20], [30, 40]])]),
    "mixed_unchanged_ops9": lambda: model_of(
        9, [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["f"], axis=1),
            helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], transB=1),
            helper.make_node("Softmax", ["g"], ["y"])],
        [vi("x", [1, 2, 4, 4])], [vi("y", None)],
        [f32("w", np.linspace(-1, 1, 3 * 2 * 9).reshape(3, 2, 3, 3)),
         f32("gw", np.linspace(-1, 1, 5 * 12).reshape(5, 12)), f32("gb", np.arange(5) * 0.1)]),
}


@pytest.mark.parametrize("target", [TARGET, 21])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rewrite(dopt, case: str, target: int, tmp_path: Path) -> None:
    m = CASES[case]()
    src = tmp_path / f"{case}.onnx"
    onnx.save(m, str(src))
    out = tmp_path / f"{case}.op{target}.onnx"
    new = upgrade(dopt, src, out, target)
    if target >= 18:
        for n in new.graph.node:
            attrs = {a.name for a in n.attribute}
            if n.op_type in ("ReduceMean", "ReduceMax"):
                assert "axes" not in attrs
            if n.op_type == "Split" and len(n.input) < 2:
                assert "num_outputs" in attrs
    if target >= 13:
        assert all("axes" not in {a.name for a in n.attribute} for n in new.graph.node if n.op_type == "ReduceSum")
    old_ops = {n.op_type for n in m.graph.node}
    if "Upsample" in old_ops:
        assert "Upsample" not in {n.op_type for n in new.graph.node}
    if "Scatter" in old_ops:
        assert "Scatter" not in {n.op_type for n in new.graph.node}
    s0, s1 = plain_session(src), plain_session(out)
    rng = np.random.default_rng(7)
    feeds = {i.name: (rng.random([d.dim_value for d in i.type.tensor_type.shape.dim], dtype=np.float32) * 4 - 2)
             for i in m.graph.input}
    r0 = s0.run(None, feeds)
    r1 = s1.run(None, feeds)
    for o, a, b in zip(s0.get_outputs(), r1, r0):
        assert_close(o.name, a, b, 1e-5)


# ---- an old model with Reduce ops through dopt run and dopt -m 0 ----

def reduce_model(opset: int = 11) -> onnx.ModelProto:
    """Conv -> ReduceSum(H, W) -> ReduceMax(C): the -m 0 export upgrades it to opset 13."""
    rng = np.random.default_rng(3)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("ReduceSum", ["c"], ["s"], name="sum", axes=[2, 3], keepdims=1),
             helper.make_node("ReduceMax", ["s"], ["y"], name="max", axes=[1], keepdims=0)]
    return model_of(opset, nodes, [vi("x", [1, 3, 6, 6])], [vi("y", None)],
                    [f32("w", rng.standard_normal((4, 3, 3, 3)) * 0.3), f32("b", rng.standard_normal(4) * 0.1)])


def test_reduce11_model_runs_and_quantizes(dopt, tmp_path: Path) -> None:
    from models import bin_bytes

    src = tmp_path / "reduce11.onnx"
    onnx.save(reduce_model(), str(src))
    x = np.random.default_rng(1).standard_normal((6, 3, 6, 6)).astype(np.float32)
    want = np.concatenate([plain_session(src).run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])

    # dopt run on the opset-11 model and on its upgrade match ORT.
    up = tmp_path / "reduce13.onnx"
    upgrade(dopt, src, up, 13)
    np.save(tmp_path / "x.npy", x[:1])
    for model in (src, up):
        out = tmp_path / ("out_" + model.stem)
        proc = run_dopt(dopt, "run", "--model", model, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", out)
        assert proc.returncode == 0, describe(proc)
        assert_close(model.name, np.load(out / "y.npy"), want[:1], 1e-5)

    # -m 0: the QDQ export upgrades the model to opset 13 (ReduceSum's axes become an input).
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    conf = tmp_path / "c.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\npreprocess_parameter {\n  input_type: BINARY\n'
                    '  input_file_path: "cal.bin"\n}\n')
    q = tmp_path / "q.onnx"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", src, "--cal_conf", conf, "--output", q,
                    "--input_shape", "x: 1,3,6,6", "--compress_conf", tmp_path / "param", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    qm = onnx.load(str(q))
    onnx.checker.check_model(qm, full_check=True)
    assert default_opset(qm) == 13
    assert sum(n.op_type == "QuantizeLinear" for n in qm.graph.node) == 1
    reduce_sum = [n for n in qm.graph.node if n.op_type == "ReduceSum"]
    assert len(reduce_sum) == 1 and len(reduce_sum[0].input) == 2
    got = np.concatenate([plain_session(q).run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
    np.testing.assert_allclose(got, want, rtol=0, atol=0.05 * float(np.abs(want).max()))
