"""Resize-10 nearest: rounds down when upsampling and up when downsampling, like ONNX Runtime."""
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOPT = os.environ.get("DOPT_BIN", os.path.join(ROOT, "build", "dopt"))


@pytest.mark.parametrize("scale", [0.3, 0.5, 0.6, 0.75, 1.7, 2.0])
def test_resize10_nearest_matches_onnxruntime(scale, tmp_path):
    x = np.arange(35, dtype=np.float32).reshape(1, 1, 5, 7)
    s = numpy_helper.from_array(np.array([1, 1, scale, scale], np.float32), "s")
    g = helper.make_graph([helper.make_node("Resize", ["x", "s"], ["y"], mode="nearest")], "g",
                          [helper.make_tensor_value_info("x", 1, [1, 1, 5, 7])],
                          [helper.make_tensor_value_info("y", 1, None)], [s])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)], ir_version=5)
    path = tmp_path / "r.onnx"
    onnx.save(m, str(path))
    np.save(tmp_path / "x.npy", x)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    r = subprocess.run([DOPT, "run", "--model", str(path), "--input", f"x={tmp_path / 'x.npy'}",
                        "--output_dir", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "y.npy"), want)
