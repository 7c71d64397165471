"""The accuracy toolkit (issue: layer-wise analysis, accuracy_target, mixed precision by hand,
bias_correction, --report) on a model with an outlier channel, made here: conv1's output
channel 2 is scaled x100 and the matching input channel of both its consumers x1/100, so the
float model is unchanged but the consumers' activation range is 100x wider than most of its
values need. dopt analyze must rank one of those consumers worst; accuracy_target must recover
the output while raising few ops; every written model runs in ONNX Runtime and matches dopt's
own int8 simulation (`dopt run --compress_conf`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import describe, run_dopt
from models import bin_bytes
from test_qdq_export import check_vs_ort
from test_quantize_cli import write_conf

SHAPE = [1, 3, 16, 16]
OUTLIER_CONSUMERS = {"conv_a", "conv_b"}


def outlier_model(scale: float = 100.0) -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1 + 0.2).astype(np.float32)
    wa = (rng.standard_normal((8, 8, 1, 1)) * 0.4).astype(np.float32)
    wb = (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)
    ba = (rng.standard_normal(8) * 0.1).astype(np.float32)
    bb = (rng.standard_normal(8) * 0.1).astype(np.float32)
    wc = (rng.standard_normal((6, 16, 1, 1)) * 0.3).astype(np.float32)
    bc = (rng.standard_normal(6) * 0.1).astype(np.float32)
    w1[2] *= scale
    b1[2] *= scale
    wa[:, 2] /= scale
    wb[:, 2] /= scale
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "wa", "ba"], ["ca"], name="conv_a", kernel_shape=[1, 1]),
        helper.make_node("Conv", ["r1", "wb", "bb"], ["cb"], name="conv_b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["ca", "cb"], ["cat"], name="concat", axis=1),
        helper.make_node("Relu", ["cat"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "wc", "bc"], ["cc"], name="conv_c", kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["cc"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["output"], name="flatten", axis=1),
    ]
    g = helper.make_graph(
        nodes, "outlier", [helper.make_tensor_value_info("input", TensorProto.FLOAT, SHAPE)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 6])],
        [numpy_helper.from_array(a, n) for a, n in
         ((w1, "w1"), (b1, "b1"), (wa, "wa"), (ba, "ba"), (wb, "wb"), (bb, "bb"), (wc, "wc"), (bc, "bc"))])
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


@pytest.fixture()
def work(tmp_path: Path):
    model = tmp_path / "outlier.onnx"
    onnx.save(outlier_model(), str(model))
    x = np.random.default_rng(5).standard_normal((48, 3, 16, 16)).astype(np.float32)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    return tmp_path, model, x


conf = write_conf  # the BINARY config of cal.bin plus extra lines


def quantize(dopt, d: Path, model: Path, c: Path, *extra, out: str = "q.onnx"):
    proc = run_dopt(dopt, "-m", "0", "--model", model, "--cal_conf", c, "--output", d / out,
                    "--input_shape", "input: 1,3,16,16", "--compress_conf", d / (out + ".param"), *extra)
    return proc, d / out, d / (out + ".param")


def plan_json(dopt, param: Path) -> dict:
    proc = run_dopt(dopt, "inspect", param, "--json")
    assert proc.returncode == 0, describe(proc)
    return json.loads(proc.stdout)


def analyze(dopt, d: Path, model: Path, c: Path, *extra) -> dict:
    proc = run_dopt(dopt, "analyze", "--model", model, "--cal_conf", c, "--input_shape", "input: 1,3,16,16", "--json", *extra)
    assert proc.returncode == 0, describe(proc)
    return json.loads(proc.stdout)


def cosine(model: Path, q: Path, x: np.ndarray) -> float:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    f = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    s = ort.InferenceSession(str(q), so, providers=["CPUExecutionProvider"])
    a = np.concatenate([f.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))]).ravel().astype(np.float64)
    b = np.concatenate([s.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))]).ravel().astype(np.float64)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def test_float_model_is_unchanged_by_the_outlier():
    x = np.random.default_rng(0).standard_normal((4, 3, 16, 16)).astype(np.float32)
    outs = []
    for s in (1.0, 100.0):
        sess = ort.InferenceSession(outlier_model(s).SerializeToString(), providers=["CPUExecutionProvider"])
        outs.append(np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(4)]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-4)


def test_analyze_ranks_a_consumer_of_the_outlier_worst(dopt, work):
    d, model, _ = work
    a = analyze(dopt, d, model, conf(d))
    layers = a["layers"]
    assert {l["name"] for l in layers} == {"conv1", "conv_a", "conv_b", "conv_c"}
    for l in layers:
        for k in ("name", "op_type", "input_tensor", "sqnr_db", "sqnr_db_accumulated", "cosine"):
            assert k in l
    assert [l["sqnr_db"] for l in layers] == sorted(l["sqnr_db"] for l in layers), "worst (lowest isolated SQNR) first"
    assert layers[0]["name"] in OUTLIER_CONSUMERS, layers
    assert layers[0]["input_tensor"] == "r1"
    # Without the outlier the same layers are much better.
    plain = d / "plain.onnx"
    onnx.save(outlier_model(1.0), str(plain))
    b = {l["name"]: l["sqnr_db"] for l in analyze(dopt, d, plain, conf(d))["layers"]}
    assert b[layers[0]["name"]] > layers[0]["sqnr_db"] + 10
    # The text form lists the same worst layer first.
    proc = run_dopt(dopt, "analyze", "--model", model, "--cal_conf", conf(d), "--input_shape", "input: 1,3,16,16", "--top", "2")
    assert proc.returncode == 0, describe(proc)
    rows = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("1 ")]
    assert rows and layers[0]["name"] in rows[0], proc.stdout


def test_analyze_an_existing_plan(dopt, work):
    d, model, _ = work
    proc, q, param = quantize(dopt, d, model, conf(d))
    assert proc.returncode == 0, describe(proc)
    a = analyze(dopt, d, model, conf(d), "--compress_conf", param)
    assert {l["name"] for l in a["layers"]} == {op["name"] for op in plan_json(dopt, param)["ops"]}
    assert 0 < a["output_cosine"] <= 1
    assert param.stat().st_size > 0  # read, not rewritten
    proc = run_dopt(dopt, "analyze", "--model", model, "--cal_conf", conf(d), "--input_shape", "input: 1,3,16,16",
                    "--compress_conf", d / "missing.param")
    assert proc.returncode == 2 and "missing.param" in proc.stderr, describe(proc)


def test_accuracy_target_recovers_the_output_raising_few_ops(dopt, work):
    d, model, x = work
    proc, q0, _ = quantize(dopt, d, model, conf(d), out="plain_int8.onnx")
    assert proc.returncode == 0, describe(proc)
    before = cosine(model, q0, x[:16])
    proc, q, param = quantize(dopt, d, model, conf(d, "accuracy_target: 0.999\n", "acc.prototxt"))
    assert proc.returncode == 0, describe(proc)
    assert "target 0.99900, met" in proc.stdout, proc.stdout
    p = plan_json(dopt, param)
    raised = p["raised"]
    assert 1 <= len(raised) <= 3, raised
    assert raised[0]["name"] in OUTLIER_CONSUMERS, raised
    assert all("accuracy_target" in r["reason"] for r in raised)
    assert p["accuracy_target"] == pytest.approx(0.999) and p["accuracy_achieved"] >= 0.999
    after = cosine(model, q, x[:16])
    assert after > before and after >= 0.995, (before, after)
    check_vs_ort(dopt, model, q, param, d)
    # Deterministic: the same plan twice.
    proc2, _, param2 = quantize(dopt, d, model, conf(d, "accuracy_target: 0.999\n", "acc.prototxt"), out="q2.onnx")
    assert proc2.returncode == 0 and param2.read_bytes() == param.read_bytes()


def weight_outlier_model() -> onnx.ModelProto:
    """conv1 -> Relu -> conv_w -> Relu -> conv_out, where every output channel of conv_w has one
    weight 60x its others (on input channel 0, whose values conv1 makes 60x smaller: the float
    model is ordinary): int8 per-channel weights keep only that weight, an error that int16
    activations do not touch."""
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1 + 0.2).astype(np.float32)
    ww = (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)
    bw = (rng.standard_normal(8) * 0.1).astype(np.float32)
    wo = (rng.standard_normal((6, 8, 1, 1)) * 0.3).astype(np.float32)
    bo = (rng.standard_normal(6) * 0.1).astype(np.float32)
    w1[0] /= 60
    b1[0] /= 60
    ww[:, 0] *= 60
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "ww", "bw"], ["cw"], name="conv_w", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["cw"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "wo", "bo"], ["output"], name="conv_out", kernel_shape=[1, 1]),
    ]
    g = helper.make_graph(
        nodes, "weight_outlier", [helper.make_tensor_value_info("input", TensorProto.FLOAT, SHAPE)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 6, 16, 16])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (ww, "ww"), (bw, "bw"), (wo, "wo"), (bo, "bo"))])
    m = helper.make_model(g, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def test_accuracy_target_floats_the_op_whose_weights_cost_most(dopt, tmp_path):
    """When every op at int16 misses the target (the error is in conv_w's int8 weights), the
    fewest ops go float, with the others at int16: conv_w alone. (Both float rankings, the int8
    one and the one on the all-int16 plan, need 1 op here, so the first is kept.)"""
    model = tmp_path / "wo.onnx"
    onnx.save(weight_outlier_model(), str(model))
    x = np.random.default_rng(5).standard_normal((32, 3, 16, 16)).astype(np.float32)
    (tmp_path / "cal.bin").write_bytes(bin_bytes(x))
    proc, q, param = quantize(dopt, tmp_path, model, conf(tmp_path, "accuracy_target: 0.9999\n", "acc.prototxt"))
    assert proc.returncode == 0, describe(proc)
    assert "target 0.99990, met" in proc.stdout, proc.stdout
    p = plan_json(dopt, param)
    floats = [r for r in p["raised"] if r["precision"] == "float"]
    assert [r["name"] for r in floats] == ["conv_w"], p["raised"]
    assert "sensitivity rank 1 of 3" in floats[0]["reason"], floats[0]
    assert cosine(model, q, x[:16]) >= 0.9995
    check_vs_ort(dopt, model, q, param, tmp_path)


def test_layer_precision_by_hand(dopt, work):
    d, model, x = work
    extra = ('layer_precision { op: "conv_a" precision: INT16 }\n'
             'layer_precision { tensor: "r2" precision: FLOAT }\n')
    proc, q, param = quantize(dopt, d, model, conf(d, extra, "lp.prototxt"))
    assert proc.returncode == 0, describe(proc)
    p = plan_json(dopt, param)
    ops = {op["name"]: op for op in p["ops"]}
    assert ops["conv_a"]["activation"]["bits"] == 16 and ops["conv_b"]["activation"]["bits"] == 8
    assert "conv_c" not in ops
    assert any(e["name"] == "conv_c" and "layer_precision" in e["reason"] for e in p["excluded"])
    assert {(r["name"], r["precision"]) for r in p["raised"]} == {("conv_a", "int16"), ("conv_c", "float")}
    m = onnx.load(str(q))
    assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 21  # int16 Q/DQ
    check_vs_ort(dopt, model, q, param, d)


@pytest.mark.parametrize("extra, message", [
    ('layer_precision { op: "nope" precision: INT16 }\n', "layer_precision #1 (op 'nope'): no quantizable op"),
    ('layer_precision { tensor: "input" op: "conv1" }\n', "must name exactly one of op or tensor"),
    ("accuracy_target: 1.5\n", "accuracy_target 1.5 must be an output cosine between 0 and 1"),
    ("analysis_samples: 0\n", "analysis_samples must be >= 1"),
])
def test_accuracy_option_errors(dopt, work, extra, message):
    d, model, _ = work
    c = conf(d, extra, "bad.prototxt")
    proc, q, param = quantize(dopt, d, model, c)
    assert proc.returncode == 2, describe(proc)
    assert message in proc.stderr and "bad.prototxt" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not q.exists() and not param.exists()


def test_bias_correction_is_recorded_and_written(dopt, work):
    d, model, x = work
    proc, q, param = quantize(dopt, d, model, conf(d, "per_channel: false\nbias_correction: true\n", "bc.prototxt"))
    assert proc.returncode == 0, describe(proc)
    p = plan_json(dopt, param)
    assert p["bias_correction"] is True
    corrected = [op for op in p["ops"] if op.get("bias_correction")]
    assert len(corrected) == len(p["ops"])
    assert any(abs(v) > 0 for op in corrected for v in op["bias_correction"])
    # The written model holds the corrected biases: ORT on it matches dopt's simulation.
    check_vs_ort(dopt, model, q, param, d)


def test_report_on_quantize(dopt, work):
    d, model, _ = work
    proc, q, param = quantize(dopt, d, model, conf(d), "--report", d / "r.html")
    assert proc.returncode == 0, describe(proc)
    html = (d / "r.html").read_text()
    assert html.count('class="layer"') == 4 and "sqnr-chart" in html
    proc, _, _ = quantize(dopt, d, model, conf(d), "--report", model, out="other.onnx")
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr, describe(proc)


# ---------------------------------------------------------------- the outlier SqueezeNet

def outlier_squeezenet(tmp: Path):
    """bench/make_outlier_squeezenet.py's model (the shared SqueezeNet with fire3/squeeze1x1's
    channel 0 x100 and its consumers' input channel x1/100), 24 ImageNet photos as a .bin
    (16 calibrate, 8 evaluate), and the preprocessing of bench_quant.py."""
    import subprocess
    import sys

    from conftest import REPO_ROOT, SHARED_MODELS

    src = SHARED_MODELS / "squeezenet1.0_fp16.onnx"
    images = SHARED_MODELS.parents[1] / "images" / "imagenet-sample"
    if not src.is_file() or not images.is_dir():
        pytest.skip(f"shared test data missing: {src}, {images}")
    model = tmp / "sq_outlier.onnx"
    subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "make_outlier_squeezenet.py"), str(model)], check=True,
                   capture_output=True, timeout=300)
    folder = tmp / "imgs"
    folder.mkdir()
    import shutil
    for p in sorted(images.glob("*.JPEG"))[::40][:24]:
        shutil.copy(p, folder / p.name)
    return model, folder


def test_outlier_squeezenet(dopt, tmp_path):
    model, folder = outlier_squeezenet(tmp_path)
    names = sorted(folder.iterdir())
    cal, ev = tmp_path / "cal", tmp_path / "ev"
    cal.mkdir()
    ev.mkdir()
    for i, p in enumerate(names):
        (ev if i % 3 == 2 else cal).joinpath(p.name).write_bytes(p.read_bytes())
    pre = ("preprocess_parameter { input_type: IMAGE image_format: BGR mean_value: 104 mean_value: 117 mean_value: 123 "
           'input_file_path: "%s" }\n')
    base = 'strategy: "Quant_INT8-8"\n' + pre % cal

    def write(extra, name):
        p = tmp_path / name
        p.write_text(base + extra)
        return p
    # The evaluation images as a .bin, preprocessed as calibration preprocesses them.
    ev_bin = tmp_path / "ev.bin"
    proc = run_dopt(dopt, "make-bin", "--images", ev, "--image_shape", "3,224,224", "--mean_value", "104,117,123",
                    "--output", ev_bin)
    if proc.returncode != 0:  # flags of make-bin: see docs/calibration_inputs.md
        pytest.fail(describe(proc))
    from conftest import read_bin610
    x = read_bin610(ev_bin)

    shape = "data_0: 1,3,224,224"
    proc = run_dopt(dopt, "analyze", "--model", model, "--cal_conf", write("", "a.prototxt"), "--input_shape", shape,
                    "--json")
    assert proc.returncode == 0, describe(proc)
    layers = json.loads(proc.stdout)["layers"]
    assert layers[0]["input_tensor"] == "fire3/squeeze1x1_2", layers[:3]  # a consumer of the outlier tensor
    assert layers[1]["input_tensor"] == "fire3/squeeze1x1_2", layers[:3]

    def run(extra, tag):
        q, param = tmp_path / f"{tag}.onnx", tmp_path / f"{tag}.param"
        proc = run_dopt(dopt, "-m", "0", "--model", model, "--cal_conf", write(extra, f"{tag}.prototxt"),
                        "--input_shape", shape, "--output", q, "--compress_conf", param)
        assert proc.returncode == 0, describe(proc)
        return q, plan_json(dopt, param)

    def cos(q):
        so = ort.SessionOptions()
        so.log_severity_level = 3
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        f = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
        s = ort.InferenceSession(str(q), so, providers=["CPUExecutionProvider"])
        name = f.get_inputs()[0].name
        a = np.concatenate([f.run(None, {name: x[i:i + 1].astype(np.float16)})[0].ravel() for i in range(len(x))])
        b = np.concatenate([s.run(None, {s.get_inputs()[0].name: x[i:i + 1].astype(np.float16)})[0].ravel()
                            for i in range(len(x))])
        a, b = a.astype(np.float64), b.astype(np.float64)
        return float(a @ b / np.sqrt((a @ a) * (b @ b)))

    q0, _ = run("", "int8")
    q1, p1 = run("accuracy_target: 0.99\n", "acc")
    q2, p2 = run("equalization: true\n", "eq")
    c0, c1, c2 = cos(q0), cos(q1), cos(q2)
    assert c0 < 0.9, c0  # the outlier costs plain int8 dearly
    assert 1 <= len(p1["raised"]) <= 3 and c1 >= 0.98, (p1["raised"], c1)
    assert not p2["excluded"] and len(p2["ops"]) == 26 and c2 >= 0.98, (p2["excluded"], c2)
