"""dopt reads ONNX IR versions 3-10 and default-domain opsets 7-21, float16 models and
external data files; every case is checked against ONNX Runtime."""
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOPT = os.environ.get("DOPT_BIN", os.path.join(ROOT, "build", "dopt"))


def run_dopt(model_path, feeds, tmp_path):
    args = [DOPT, "run", "--model", str(model_path), "--output_dir", str(tmp_path / "out")]
    for name, arr in feeds.items():
        p = tmp_path / f"in_{name}.npy"
        np.save(p, arr)
        args += ["--input", f"{name}={p}"]
    os.makedirs(tmp_path / "out", exist_ok=True)
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def run_ort(model_path, feeds):
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def small_model(ir_version, opset, elem=TensorProto.FLOAT, initializer_as_input=False):
    np_t = np.float16 if elem == TensorProto.FLOAT16 else np.float32
    w = numpy_helper.from_array(np.linspace(-1, 1, 12).astype(np_t).reshape(3, 4), "w")
    nodes = [
        helper.make_node("Add", ["x", "w"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu"),
    ]
    inputs = [helper.make_tensor_value_info("x", elem, [3, 4])]
    if initializer_as_input:  # IR 3 style: initializers are listed among the inputs too
        inputs.append(helper.make_tensor_value_info("w", elem, [3, 4]))
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", elem, [3, 4])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    return model


# (IR version, opset) pairs as exporters of each era wrote them.
CASES = [(3, 7), (3, 8), (4, 9), (5, 10), (6, 11), (7, 12), (7, 13), (8, 14), (8, 15), (8, 16),
         (8, 17), (9, 18), (9, 19), (10, 20), (10, 21)]


@pytest.mark.parametrize("ir,opset", CASES)
def test_ir_and_opset_versions(ir, opset, tmp_path):
    model = small_model(ir, opset, initializer_as_input=ir < 4)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(ir * 100 + opset).standard_normal((3, 4)).astype(np.float32)
    run_dopt(path, {"x": x}, tmp_path)
    got = np.load(tmp_path / "out" / "y.npy")
    want = run_ort(path, {"x": x})["y"]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_float16_model_keeps_float16_outputs(tmp_path):
    model = small_model(8, 13, elem=TensorProto.FLOAT16)
    path = tmp_path / "m16.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float16)
    run_dopt(path, {"x": x}, tmp_path)
    got = np.load(tmp_path / "out" / "y.npy")
    assert got.dtype == np.float16
    want = run_ort(path, {"x": x})["y"]
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=1e-3, atol=1e-3)


def test_external_data(tmp_path):
    model = small_model(8, 13)
    # Make the weight large enough that onnx writes it externally.
    w = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(w, "w"))
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.data", size_threshold=0)
    assert (tmp_path / "ext.data").exists()
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    run_dopt(path, {"x": x}, tmp_path)
    got = np.load(tmp_path / "out" / "y.npy")
    np.testing.assert_allclose(got, run_ort(path, {"x": x})["y"], rtol=1e-6, atol=1e-6)


def test_missing_external_data_is_one_clear_error(tmp_path):
    model = small_model(8, 13)
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.data", size_threshold=0)
    os.remove(tmp_path / "ext.data")
    np.save(tmp_path / "x.npy", np.zeros((3, 4), np.float32))
    r = subprocess.run([DOPT, "run", "--model", str(path), "--input", f"x={tmp_path / 'x.npy'}",
                        "--output_dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dopt: error:"), r.stderr
    assert "ext.onnx" in lines[0] and "ext.data" in lines[0]


def test_dynamic_dims(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    b = numpy_helper.from_array(np.arange(4, dtype=np.float32) - 2, "b")
    g = helper.make_graph([helper.make_node("Add", ["x", "b"], ["s"]), helper.make_node("Relu", ["s"], ["y"])],
                          "dyn", [x], [y], [b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    path = tmp_path / "dyn.onnx"
    onnx.save(m, str(path))
    for batch in (1, 5):
        xv = np.random.default_rng(batch).standard_normal((batch, 4)).astype(np.float32)
        run_dopt(path, {"x": xv}, tmp_path)
        got = np.load(tmp_path / "out" / "y.npy")
        np.testing.assert_allclose(got, run_ort(path, {"x": xv})["y"], rtol=1e-6)
