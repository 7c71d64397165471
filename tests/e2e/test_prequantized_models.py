"""Models ONNX Runtime has already quantized, run by `dopt run` and compared with ONNX Runtime.

A small float CNN + MLP (onnx.helper: three Convs with groups, strides, dilations, pads; two
MatMuls) is quantized by onnxruntime.quantization itself:
- quantize_static, QOperator format (QuantizeLinear -> QLinearConv / QLinearMatMul ->
  DequantizeLinear), per tensor and per channel, uint8 and int8 activations;
- quantize_dynamic (DynamicQuantizeLinear -> ConvInteger / MatMulInteger -> Cast, Mul).
Every integer op's output is made a graph output, so each is compared: uint8/int8 outputs
within one quantization step (float rounding of a product can differ at a half) and int32
outputs exactly unless an upstream step differed; the float output within a few output steps.
`dopt -m 0` on such a model is refused with one error saying it is already quantized; on a
model ONNX Runtime quantized only partly, it quantizes the float ops and keeps the integer ones.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, run_dopt, safe_file_name, write_inputs
from models import bin_bytes

onnxruntime = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")

X_SHAPE = [2, 3, 16, 16]
INTEGER_OPS = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear",
               "QuantizeLinear"}


def float_model(path: Path) -> Path:
    """x [2,3,16,16] -> Conv/Relu -> Conv(group 2, stride 2)/Relu -> Conv(dilation 2) -> Flatten
    -> MatMul + Add -> Relu -> MatMul -> y [2,10]."""
    rng = np.random.default_rng(0)

    def init(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], group=2, name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], dilations=[2, 2], name="conv3"),
        helper.make_node("Flatten", ["c3"], ["f"], axis=1, name="flat"),
        helper.make_node("MatMul", ["f", "wm1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "bm1"], ["a1"], name="add1"),
        helper.make_node("Relu", ["a1"], ["r3"], name="relu3"),
        helper.make_node("MatMul", ["r3", "wm2"], ["y"], name="mm2"),
    ]
    inits = [init("w1", [8, 3, 3, 3], 0.3), init("b1", [8], 0.1), init("w2", [16, 4, 3, 3], 0.3),
             init("b2", [16], 0.1), init("w3", [8, 16, 3, 3], 0.1), init("b3", [8], 0.1),
             init("wm1", [8 * 4 * 4, 32], 0.1), init("bm1", [32], 0.1), init("wm2", [32, 10], 0.2)]
    graph = helper.make_graph(nodes, "cnn_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, X_SHAPE)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 10])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def calibration_samples(n=8, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.random(X_SHAPE, dtype=np.float32) for _ in range(n)]


class Reader(quantization.CalibrationDataReader):
    def __init__(self):
        self._it = iter([{"x": x} for x in calibration_samples()])

    def get_next(self):
        return next(self._it, None)


def expose_integer_outputs(path: Path) -> list[str]:
    """Makes the output of every integer op of the model a graph output (type from ONNX's shape
    inference); returns the graph's output names."""
    m = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(m)
    types = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        assert n.domain in ("", "ai.onnx"), f"ONNX Runtime emitted {n.domain}.{n.op_type}: not a standard op"
        if n.op_type in INTEGER_OPS:
            out = n.output[0]
            if out not in have and out in types:
                m.graph.output.append(types[out])
                have.add(out)
    onnx.save(m, str(path))
    return [o.name for o in m.graph.output]


def ort_outputs(path: Path, feeds: dict) -> dict:
    opts = onnxruntime.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    # ONNX Runtime's kernels node by node, without its graph fusions, as dopt runs the graph.
    opts.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = onnxruntime.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds)))


def dopt_outputs(dopt: Path, path: Path, feeds: dict, names: list[str], tmp: Path) -> dict:
    out_dir = tmp / "out"
    proc = run_dopt(dopt, "run", "--model", path, *write_inputs(feeds, tmp / "in"), "--output_dir", out_dir)
    assert proc.returncode == 0, f"dopt run failed on {path.name}:\n{describe(proc)}"
    return {n: np.load(out_dir / (safe_file_name(n) + ".npy")) for n in names}


def compare(got: dict, want: dict, final_scale: float) -> list[str]:
    """Integer outputs: within one step (and nearly all equal); floats within 3 steps of the
    final requantization (`final_scale`), which a one-step difference upstream can move."""
    failures = []
    for name, ref in want.items():
        g = got[name]
        if g.shape != ref.shape or g.dtype != ref.dtype:
            failures.append(f"{name}: dopt {g.dtype}{list(g.shape)}, ORT {ref.dtype}{list(ref.shape)}")
            continue
        if np.issubdtype(ref.dtype, np.integer):
            d = np.abs(g.astype(np.int64) - ref.astype(np.int64))
            off = np.count_nonzero(d)
            if ref.dtype == np.int32:
                # An int32 sum moves by a whole input step times a weight when an input differs.
                if off > 0.01 * ref.size:
                    failures.append(f"{name}: {off} of {ref.size} int32 values differ")
            elif d.max() > 1 or off > 0.01 * ref.size:
                failures.append(f"{name}: max difference {d.max()} steps, {off} of {ref.size} values differ")
        else:
            err = float(np.max(np.abs(g.astype(np.float64) - ref)))
            if err > 3 * final_scale + 1e-6:
                failures.append(f"{name}: max abs error {err:.3g} > 3 steps of {final_scale:.3g}")
    return failures


def last_scale(path: Path) -> float:
    """The scale of the model's last quantized value (the step of its float output)."""
    m = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    scale = 1.0
    for n in m.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[1] in inits:
            scale = float(np.max(inits[n.input[1]]))
    return scale


STATIC_CASES = {
    "u8s8-per-tensor": dict(activation_type="QUInt8", weight_type="QInt8", per_channel=False),
    "u8s8-per-channel": dict(activation_type="QUInt8", weight_type="QInt8", per_channel=True),
    "s8s8-per-channel": dict(activation_type="QInt8", weight_type="QInt8", per_channel=True),
    "u8u8-per-tensor": dict(activation_type="QUInt8", weight_type="QUInt8", per_channel=False),
}


def quantize_static(tmp: Path, case: str) -> Path:
    c = STATIC_CASES[case]
    out = tmp / f"static_{case}.onnx"
    quantization.quantize_static(
        str(float_model(tmp / "float.onnx")), str(out), Reader(), quant_format=quantization.QuantFormat.QOperator,
        op_types_to_quantize=["Conv", "MatMul"], per_channel=c["per_channel"],
        activation_type=getattr(quantization.QuantType, c["activation_type"]),
        weight_type=getattr(quantization.QuantType, c["weight_type"]))
    return out


def quantize_dynamic(tmp: Path, per_channel: bool) -> Path:
    out = tmp / f"dynamic_{int(per_channel)}.onnx"
    # ONNX Runtime's ConvInteger kernel takes uint8 weights.
    quantization.quantize_dynamic(str(float_model(tmp / "float.onnx")), str(out),
                                  op_types_to_quantize=["Conv", "MatMul"], per_channel=per_channel,
                                  weight_type=quantization.QuantType.QUInt8)
    return out


def op_types(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def reference_outputs(path: Path, feeds: dict) -> dict:
    """onnx.reference's outputs: the integer ops in exact integer arithmetic."""
    import onnx.version_converter
    from onnx.reference import ReferenceEvaluator

    m = onnx.load(str(path))
    names = [o.name for o in m.graph.output]
    # This onnx's evaluator has DequantizeLinear from opset 19 only; the ops here mean the same there.
    m = onnx.version_converter.convert_version(m, 21)
    return dict(zip(names, ReferenceEvaluator(m).run(None, feeds)))


def run_and_compare(dopt: Path, model: Path, tmp: Path, final_scale: float, exact_oracle: bool = False) -> None:
    """exact_oracle: compare with onnx.reference instead of ONNX Runtime (for u8 x s8 models:
    ORT's u8s8 kernels add pairs of products into 16 bits with saturation (vpmaddubsw) on CPUs
    without VNNI, so its results there depend on the CPU; ORT documents this)."""
    names = expose_integer_outputs(model)
    rng = np.random.default_rng(7)
    # In the calibration range and beyond it (saturation).
    for i, x in enumerate([rng.random(X_SHAPE, dtype=np.float32), 1.5 * rng.random(X_SHAPE, dtype=np.float32)]):
        feeds = {"x": x}
        want = reference_outputs(model, feeds) if exact_oracle else ort_outputs(model, feeds)
        got = dopt_outputs(dopt, model, feeds, names, tmp / f"run{i}")
        failures = compare(got, want, final_scale)
        assert not failures, f"{model.name}, input {i}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("case", list(STATIC_CASES))
def test_qoperator_model_matches_onnxruntime(dopt, tmp_path, case):
    """ONNX Runtime's own QOperator models; u8s8 ones against onnx.reference (run_and_compare)."""
    model = quantize_static(tmp_path, case)
    assert {"QLinearConv", "QLinearMatMul", "QuantizeLinear", "DequantizeLinear"} <= op_types(model)
    run_and_compare(dopt, model, tmp_path, last_scale(model), exact_oracle=case.startswith("u8s8"))


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
def test_dynamic_model_matches_onnxruntime(dopt, tmp_path, per_channel):
    model = quantize_dynamic(tmp_path, per_channel)
    assert {"DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"} <= op_types(model)
    # The float output: the last MatMulInteger's sum times its scales; small absolute budget.
    run_and_compare(dopt, model, tmp_path, 1e-4)


def write_calibration(tmp: Path) -> Path:
    (tmp / "cal.bin").write_bytes(bin_bytes(np.stack(calibration_samples(4)).reshape(-1, *X_SHAPE[1:])))
    conf = tmp / "config.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\ncalibration_method: "minmax"\npreprocess_parameter {\n'
                    '  input_type: BINARY\n  input_file_path: "cal.bin"\n}\n')
    return conf


def one_error_line(proc) -> str:
    assert proc.returncode == 2, describe(proc)
    lines = [l for l in proc.stderr.splitlines() if l.strip() and not l.startswith("dopt: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("dopt: error: "), describe(proc)
    for bad in ("Traceback", "terminate called", "Aborted", "what():"):
        assert bad not in proc.stderr, describe(proc)
    return lines[0]


@pytest.mark.parametrize("kind", ["qoperator", "dynamic"])
def test_quantizing_an_already_quantized_model_is_refused(dopt, tmp_path, kind):
    """`dopt -m 0` on a model whose weighted ops are all integer ops: one error, nothing written."""
    model = quantize_static(tmp_path, "u8s8-per-channel") if kind == "qoperator" else quantize_dynamic(tmp_path, False)
    conf = write_calibration(tmp_path)
    out, param = tmp_path / "q.onnx", tmp_path / "param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf, "--output", out,
                    "--input_shape", "x: 2,3,16,16", "--compress_conf", param)
    line = one_error_line(proc)
    ops = "QLinearConv 3, QLinearMatMul 2" if kind == "qoperator" else "ConvInteger 3, MatMulInteger 2"
    assert line == (f"dopt: error: {model}: the model is already quantized: it has 5 integer ops ({ops}) and no "
                    "float weighted op; quantize the float model instead (dopt run executes this one); nothing "
                    "written"), line
    assert not out.exists() and not param.exists()


def test_partly_quantized_model_quantizes_the_float_ops(dopt, tmp_path):
    """ONNX Runtime quantized only the Convs: `dopt -m 0` quantizes the float MatMuls, keeps the
    QLinearConvs as they are (and says so), and the result stays close to the input model."""
    model = tmp_path / "convs_only.onnx"
    quantization.quantize_static(str(float_model(tmp_path / "float.onnx")), str(model), Reader(),
                                 quant_format=quantization.QuantFormat.QOperator, op_types_to_quantize=["Conv"])
    out, param = tmp_path / "q.onnx", tmp_path / "param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", write_calibration(tmp_path),
                    "--output", out, "--input_shape", "x: 2,3,16,16", "--compress_conf", param)
    assert proc.returncode == 0, describe(proc)
    assert "quantized:     2 ops (MatMul 2)" in proc.stdout, proc.stdout
    assert "already int:   3 ops (QLinearConv 3), kept as they are" in proc.stdout, proc.stdout
    types = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert types.count("QLinearConv") == 3 and types.count("MatMul") == 2, types
    x = {"x": calibration_samples(1, seed=5)[0]}
    want = ort_outputs(model, x)["y"]
    got = ort_outputs(out, x)["y"]
    # int8 MatMuls on top: a few percent of the output range.
    assert np.max(np.abs(got - want)) <= 0.05 * np.max(np.abs(want)), (got, want)
