"""dopt -m 0 end to end on a small model, then the int8 simulation: q.onnx passes the full
checker, runs in ORT, and `dopt run --compress_conf` matches ORT on q.onnx within one step."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from conftest import describe, run_dopt
from test_qdq_export import check_vs_ort, small_model


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["fp32", "fp16"])
def test_quantize_then_simulate(dopt, tmp_path, dtype):
    model = tmp_path / "m.onnx"
    onnx.save(small_model(dtype), str(model))
    calib = np.random.default_rng(5).standard_normal((8, 1, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib.reshape(8, 3, 8, 8))
    proc = run_dopt(dopt, "make-bin", "--npy", tmp_path / "calib.npy", "-o", tmp_path / "calib.bin")
    assert proc.returncode == 0, describe(proc)
    (tmp_path / "c.prototxt").write_text(
        'strategy: "Quant_INT8-8"\npreprocess_parameter {\n  input_type: BINARY\n'
        f'  input_file_path: "{tmp_path / "calib.bin"}"\n}}\n')
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", tmp_path / "c.prototxt",
                    "--output", tmp_path / "q.onnx", "--input_shape", "x: 1,3,8,8", "--compress_conf", tmp_path / "param")
    if proc.returncode != 0 and "not implemented yet" in proc.stderr:
        pytest.skip("dopt -m 0 is not implemented in this build")
    assert proc.returncode == 0, describe(proc)
    qm = onnx.load(str(tmp_path / "q.onnx"))
    onnx.checker.check_model(qm, full_check=True)
    assert sum(n.op_type == "QuantizeLinear" for n in qm.graph.node) == 4
    proc = run_dopt(dopt, "inspect", tmp_path / "param")
    assert proc.returncode == 0 and "quantized ops: 5" in proc.stdout, describe(proc)
    check_vs_ort(dopt, model, tmp_path / "q.onnx", tmp_path / "param", tmp_path, n=2)
