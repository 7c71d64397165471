"""Detector heads and audio front ends: small models built with onnx.helper that use
NonMaxSuppression, RoiAlign, STFT, HannWindow, MelWeightMatrix and DFT, run by `dopt run`
against ONNX Runtime (float outputs within 1e-4 of the reference's range, NMS indices equal),
and `dopt -m 0` on the detector: its Convs are quantized and ONNX Runtime runs the result."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, ort_session, run_dopt, safe_file_name, write_inputs
from models import bin_bytes

TOL = 1e-4
H = W = 16


def detector_model() -> onnx.ModelProto:
    """Conv backbone -> box head (a box per cell, center format) and score head (3 classes per
    cell) -> NonMaxSuppression; RoiAlign (avg and max) on the feature map with fixed rois."""
    rng = np.random.default_rng(11)
    arrays = {
        "conv1.w": (rng.standard_normal((8, 3, 3, 3)) * 0.4).astype(np.float32),
        "conv1.b": (rng.standard_normal(8) * 0.1).astype(np.float32),
        "box.w": (rng.standard_normal((4, 8, 1, 1)) * 0.5).astype(np.float32),
        "box.b": np.zeros(4, np.float32),
        "score.w": (rng.standard_normal((3, 8, 1, 1)) * 0.8).astype(np.float32),
        "score.b": np.zeros(3, np.float32),
        # Boxes as (x_center, y_center, width, height): the cell plus an offset, up to 8 x 8.
        "box_scale": np.array([2, 2, 8, 8], np.float32).reshape(1, 4, 1, 1),
        "grid": np.stack([np.tile(np.arange(W, dtype=np.float32), (H, 1)), np.tile(np.arange(H, dtype=np.float32)[:, None], (1, W)),
                          np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)])[None],
        "box_shape": np.array([1, 4, H * W], np.int64),
        "score_shape": np.array([1, 3, H * W], np.int64),
        "max_out": np.array([100], np.int64),
        "iou": np.array([0.25], np.float32),
        "score_thr": np.array([0.3], np.float32),
        "rois": np.array([[0, 0, 8, 8], [2.5, 3, 14, 9.5], [4, 4, 5, 6], [-2, 10, 6, 17]], np.float32),
        "roi_batch": np.zeros(4, np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["feat"], name="relu1"),
        helper.make_node("Conv", ["feat", "box.w", "box.b"], ["box_raw"], name="box_conv", kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["box_raw"], ["box_sig"], name="box_sig"),
        helper.make_node("Mul", ["box_sig", "box_scale"], ["box_off"], name="box_off"),
        helper.make_node("Add", ["box_off", "grid"], ["box_px"], name="box_px"),
        helper.make_node("Reshape", ["box_px", "box_shape"], ["box_flat"], name="box_flat"),
        helper.make_node("Transpose", ["box_flat"], ["boxes"], name="boxes", perm=[0, 2, 1]),
        helper.make_node("Conv", ["feat", "score.w", "score.b"], ["score_raw"], name="score_conv", kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["score_raw"], ["score_sig"], name="score_sig"),
        helper.make_node("Reshape", ["score_sig", "score_shape"], ["scores"], name="scores"),
        helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou", "score_thr"], ["selected"], name="nms",
                         center_point_box=1),
        helper.make_node("RoiAlign", ["feat", "rois", "roi_batch"], ["roi_avg"], name="roi_avg", output_height=3,
                         output_width=3, sampling_ratio=0, spatial_scale=1.0),
        helper.make_node("RoiAlign", ["feat", "rois", "roi_batch"], ["roi_max"], name="roi_max", mode="max",
                         output_height=2, output_width=4, sampling_ratio=2, spatial_scale=0.5,
                         coordinate_transformation_mode="output_half_pixel"),
    ]
    g = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3]),
         helper.make_tensor_value_info("roi_avg", TensorProto.FLOAT, [4, 8, 3, 3]),
         helper.make_tensor_value_info("roi_max", TensorProto.FLOAT, [4, 8, 2, 4]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3, H * W])],
        [numpy_helper.from_array(a, n) for n, a in arrays.items()])
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", 16)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def audio_model() -> onnx.ModelProto:
    """signal -> STFT (Hann window, 256 / 128; onesided=1 written out, since ONNX's shape inference
    takes 0 as its default while the spec, its reference and ONNX Runtime take 1) -> |.| -> MatMul MelWeightMatrix -> Log; plus an
    RFFT (DFT onesided) of the whole signal and the window itself."""
    c = {
        "frame_step": np.array(128, np.int64),
        "win_len": np.array(256, np.int64),
        "num_mel": np.array(16, np.int64),
        "dft_len": np.array(256, np.int64),
        "rate": np.array(16000, np.int64),
        "lo_hz": np.array(20.0, np.float32),
        "hi_hz": np.array(8000.0, np.float32),
        "two": np.array(2.0, np.float32),
        "last": np.array([-1], np.int64),
        "eps": np.array(1e-6, np.float32),
    }
    nodes = [
        helper.make_node("HannWindow", ["win_len"], ["window"], name="hann"),
        helper.make_node("STFT", ["signal", "frame_step", "window"], ["spec"], name="stft", onesided=1),
        helper.make_node("Pow", ["spec", "two"], ["spec_sq"], name="sq"),
        helper.make_node("ReduceSum", ["spec_sq", "last"], ["power"], name="power", keepdims=0),
        helper.make_node("Sqrt", ["power"], ["mag"], name="mag"),
        helper.make_node("MelWeightMatrix", ["num_mel", "dft_len", "rate", "lo_hz", "hi_hz"], ["mel_w"], name="mel"),
        helper.make_node("MatMul", ["mag", "mel_w"], ["mel_spec"], name="mel_mm"),
        helper.make_node("Add", ["mel_spec", "eps"], ["mel_eps"], name="mel_eps"),
        helper.make_node("Log", ["mel_eps"], ["log_mel"], name="log_mel"),
        helper.make_node("DFT", ["signal"], ["rfft"], name="rfft", axis=1, onesided=1),
    ]
    g = helper.make_graph(
        nodes, "audio",
        [helper.make_tensor_value_info("signal", TensorProto.FLOAT, [1, 1024, 1])],
        [helper.make_tensor_value_info("log_mel", TensorProto.FLOAT, [1, 7, 16]),
         helper.make_tensor_value_info("rfft", TensorProto.FLOAT, [1, 513, 2]),
         helper.make_tensor_value_info("window", TensorProto.FLOAT, [256])],
        [numpy_helper.from_array(a, n) for n, a in c.items()])
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def compare_with_ort(dopt, model_path: Path, feeds: dict, tmp_path: Path) -> dict:
    sess = ort_session(model_path)
    names = [o.name for o in sess.get_outputs()]
    want = dict(zip(names, sess.run(None, feeds)))
    out_dir = tmp_path / "out"
    proc = run_dopt(dopt, "run", "--model", model_path, *write_inputs(feeds, tmp_path / "in"), "--output_dir", out_dir)
    assert proc.returncode == 0, describe(proc)
    failures = []
    for name in names:
        got = np.load(out_dir / (safe_file_name(name) + ".npy"))
        ref = want[name]
        if got.shape != ref.shape or got.dtype != ref.dtype:
            failures.append(f"{name}: dopt {got.dtype}{list(got.shape)}, ORT {ref.dtype}{list(ref.shape)}")
        elif np.issubdtype(ref.dtype, np.floating):
            err = float(np.max(np.abs(got.astype(np.float64) - ref))) / max(float(np.max(np.abs(ref))), 1e-12) if ref.size else 0.0
            if err > TOL:
                failures.append(f"{name}: max error {err:.3g} of the range > {TOL:g}")
        elif not np.array_equal(got, ref):
            failures.append(f"{name}: dopt {got.tolist()}, ORT {ref.tolist()}")
    assert not failures, "\n".join(failures)
    return want


def test_detector_matches_onnxruntime(dopt, tmp_path):
    model = tmp_path / "detector.onnx"
    onnx.save(detector_model(), str(model))
    for seed in (1, 2, 3):
        x = np.random.default_rng(seed).random((1, 3, H, W), dtype=np.float32)
        want = compare_with_ort(dopt, model, {"input": x}, tmp_path / f"s{seed}")
        assert 0 < want["selected"].shape[0] < 3 * 100  # selects, and suppresses before the limit


def test_audio_front_end_matches_onnxruntime(dopt, tmp_path):
    model = tmp_path / "audio.onnx"
    onnx.save(audio_model(), str(model))
    t = np.arange(1024, dtype=np.float32) / 16000
    rng = np.random.default_rng(5)
    sig = (np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 3000 * t) + 0.1 * rng.standard_normal(1024)).astype(np.float32)
    compare_with_ort(dopt, model, {"signal": sig.reshape(1, 1024, 1)}, tmp_path)


def test_detector_quantizes_and_runs_in_onnxruntime(dopt, tmp_path):
    model = tmp_path / "detector.onnx"
    onnx.save(detector_model(), str(model))
    x = np.random.default_rng(3).random((16, 3, H, W), dtype=np.float32)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    conf = tmp_path / "config.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\npreprocess_parameter {\n  input_type: BINARY\n  input_file_path: "cal.bin"\n}\n')
    out = tmp_path / "q.onnx"
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf, "--output", out,
                    "--input_format", "NCHW", "--input_shape", f"input: 1,3,{H},{W}", "--compress_conf", tmp_path / "param")
    assert proc.returncode == 0, describe(proc)
    assert "Conv 3" in proc.stdout, proc.stdout
    q = onnx.load(str(out))
    producer = {o: n for n in q.graph.node for o in n.output}
    for n in q.graph.node:
        if n.op_type == "Conv":
            assert n.input[1] in producer and producer[n.input[1]].op_type == "DequantizeLinear", n.name
    assert sum(n.op_type == "NonMaxSuppression" for n in q.graph.node) == 1
    sample = x[:1]
    ref = ort_session(model).run(None, {"input": sample})
    got = ort_session(out).run(None, {"input": sample})
    names = [o.name for o in ort_session(model).get_outputs()]
    r, g = dict(zip(names, ref)), dict(zip(names, got))
    assert g["selected"].ndim == 2 and g["selected"].shape[1] == 3
    for name in ("roi_avg", "roi_max", "scores"):
        err = np.abs(g[name] - r[name]).max() / np.abs(r[name]).max()
        assert err < 0.1, f"{name}: quantized output off by {err:.3g} of the range"


def plain_session(model: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])


def roialign10_model() -> onnx.ModelProto:
    rois = np.array([[0, 0, 5, 5], [1.5, 2, 7, 4.5], [3, 3, 3.2, 3.4]], np.float32)
    nodes = [helper.make_node("RoiAlign", ["x", "rois", "bi"], ["y"], output_height=2, output_width=3, sampling_ratio=2)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2, 2, 3])],
                          [numpy_helper.from_array(rois, "rois"), numpy_helper.from_array(np.zeros(3, np.int64), "bi")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)], ir_version=5)


def dft17_model() -> onnx.ModelProto:
    nodes = [helper.make_node("DFT", ["x"], ["y"], onesided=1),  # the default axis 1
             helper.make_node("DFT", ["x", "n"], ["z"], axis=2)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 5, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 5, 2]),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 6, 8, 2])],
                          [numpy_helper.from_array(np.array(8, np.int64), "n")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("case,target", [("roialign10", 16), ("roialign10", 21), ("dft17", 20), ("dft17", 21)])
def test_upgrade_keeps_meaning_in_onnxruntime(dopt, tmp_path, case, target):
    """RoiAlign-10 -> 16 (output_half_pixel written out) and DFT-17 -> 20 (axis attribute ->
    input): ORT gives the same outputs on the upgraded model as on the original."""
    m = roialign10_model() if case == "roialign10" else dft17_model()
    onnx.checker.check_model(m, full_check=True)
    src, out = tmp_path / f"{case}.onnx", tmp_path / f"{case}.op{target}.onnx"
    onnx.save(m, str(src))
    proc = run_dopt(dopt, "upgrade-opset", "--model", src, "--output", out, "--opset", target)
    assert proc.returncode == 0, describe(proc)
    new = onnx.load(str(out))
    onnx.checker.check_model(new, full_check=True)
    for n in new.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "RoiAlign":
            assert attrs["coordinate_transformation_mode"] == b"output_half_pixel"
        if n.op_type == "DFT":
            assert "axis" not in attrs and len(n.input) == 3
    x = np.random.default_rng(2).standard_normal([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]).astype(np.float32)
    r0 = plain_session(src).run(None, {"x": x})
    r1 = plain_session(out).run(None, {"x": x})
    for a, b in zip(r1, r0):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.abs(b).max()))
