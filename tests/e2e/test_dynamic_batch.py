"""A dynamic batch survives quantization: `--input_shape` fixes the batch for calibration, but the
QDQ model keeps the source's open dims when nothing in the graph baked the calibration batch in
(checked by re-inferring the graph with another batch); when something did (a Reshape to a
constant shape made for one batch), the input keeps the fixed batch, so the model never declares a batch
it cannot run. Either way ONNX Runtime runs what the model declares."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, ort_session, run_dopt


def model(path, baked, dynamic_reshape=False):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((4,)).astype(np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((256, 5)).astype(np.float32), "fw"),
             numpy_helper.from_array(rng.standard_normal((5,)).astype(np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"])]
    if baked:  # a Reshape to a constant shape made for batch 2 (an export traced at batch 2)
        inits.append(numpy_helper.from_array(np.array([2, 256], np.int64), "shape"))
        nodes.append(helper.make_node("Reshape", ["r", "shape"], ["f"]))
    elif dynamic_reshape:  # x.view(x.size(0), -1) as exporters write it: Shape -> Gather -> Concat -> Reshape
        inits.append(numpy_helper.from_array(np.array(0, np.int64), "zero"))
        inits.append(numpy_helper.from_array(np.array([256], np.int64), "rest"))
        nodes += [helper.make_node("Shape", ["x"], ["s"]),
                  helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
                  helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
                  helper.make_node("Concat", ["n1", "rest"], ["shape"], axis=0),
                  helper.make_node("Reshape", ["r", "shape"], ["f"])]
    else:
        nodes.append(helper.make_node("Flatten", ["r"], ["f"], axis=1))
    nodes.append(helper.make_node("Gemm", ["f", "fw", "fb"], ["y"]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def dims(vi):
    return [d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else None)
            for d in vi.type.tensor_type.shape.dim]


@pytest.mark.parametrize("baked,dynamic_reshape", [(False, False), (False, True), (True, False)],
                         ids=["flatten", "reshape_from_shape", "reshape_to_constant"])
def test_quantized_model_keeps_dynamic_batch(dopt, tmp_path, baked, dynamic_reshape):
    src = model(tmp_path / "m.onnx", baked, dynamic_reshape)
    calib = np.random.default_rng(1).random((8, 3, 8, 8), dtype=np.float32)
    np.save(tmp_path / "c.npy", calib)
    assert run_dopt(dopt, "make-bin", "--npy", tmp_path / "c.npy", "-o", tmp_path / "c.bin").returncode == 0
    (tmp_path / "c.prototxt").write_text(
        f'preprocess_parameter {{\n  input_type: BINARY\n  input_file_path: "{tmp_path / "c.bin"}"\n}}\n')
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", src, "--cal_conf", tmp_path / "c.prototxt",
                    "--output", tmp_path / "q.onnx", "--input_shape", "x: 2,3,8,8")
    assert proc.returncode == 0, describe(proc)
    q = onnx.load(str(tmp_path / "q.onnx"))
    assert any(n.op_type == "QuantizeLinear" for n in q.graph.node)
    x_dims, y_dims = dims(q.graph.input[0]), dims(q.graph.output[0])
    if not baked:
        assert x_dims == ["N", 3, 8, 8] and y_dims == ["N", 5], (x_dims, y_dims)
    else:
        assert x_dims == [2, 3, 8, 8], x_dims
    sess = ort_session(tmp_path / "q.onnx")
    x = np.random.default_rng(2).random((5, 3, 8, 8), dtype=np.float32)
    one = np.concatenate([sess.run(None, {"x": x[i:i + 2]})[0] for i in range(0, 4, 2)])  # the calibration batch
    if x_dims[0] == 2:
        assert baked  # only a graph that baked the batch keeps it fixed
        with pytest.raises(Exception):
            sess.run(None, {"x": x})
        return
    got = sess.run(None, {"x": x})[0]
    assert got.shape == (5, 5)
    np.testing.assert_allclose(got[:4], one, rtol=1e-5, atol=1e-5)
    for i in range(5):  # batch 1 too, sample by sample
        np.testing.assert_allclose(sess.run(None, {"x": x[i:i + 1]})[0][0], got[i], rtol=1e-5, atol=1e-5)
