"""dopt -m 0 on frozen TensorFlow graphs (.pb in, .pb out), proven in TensorFlow itself:

* the quantized .pb imports with tf.compat.v1.import_graph_def and runs in TF 2.x;
* it is the original graph plus quantisation: every node keeps its name (only constants the
  quantisation replaced disappear), inputs and outputs are the same, and there is one
  FakeQuantWithMinMaxVars per quantized activation tensor of the plan;
* TF running q.pb matches dopt's own int8 simulation (`dopt run --compress_conf` on the float
  .pb) within one activation quantisation step;
* FakeQuantWithMinMaxVars with the exported min/max reproduces dopt's activation grid (TF's
  nudged scale and zero point are dopt's), measured on random data;
* the KWS DS-CNN, cut at `Mfcc` and calibrated on its own audio front end's output, keeps its
  softmax (cosine >= 0.99 to float).
Skipped without TensorFlow. dopt runs as a subprocess only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import describe, read_bin610 as read_bin, run_dopt

tf = pytest.importorskip("tensorflow")
import tf_models as tfm  # noqa: E402
from tf_models import frozen_cache_dir  # noqa: E402,F401  (fixture)

SHARED = tfm.SHARED
FAKE_QUANT = "FakeQuantWithMinMaxVars"


# ---------------------------------------------------------------- helpers

def make_bin(dopt, tmp: Path, arr: np.ndarray, name="calib") -> Path:
    np.save(tmp / f"{name}.npy", arr.astype(np.float32))
    out = tmp / f"{name}.bin"
    proc = run_dopt(dopt, "make-bin", "--npy", tmp / f"{name}.npy", "-o", out)
    assert proc.returncode == 0, describe(proc)
    return out


def write_conf(tmp: Path, bin_path: Path, extra: str = "", strategy="Quant_INT8-8") -> Path:
    conf = tmp / "c.prototxt"
    conf.write_text(f'strategy: "{strategy}"\npreprocess_parameter {{\n  input_type: BINARY\n'
                    f'  input_file_path: "{bin_path}"\n}}\n{extra}')
    return conf


def quantize(dopt, tmp: Path, pb: Path, conf: Path, input_shape: str, out_nodes: str, check=True):
    q, param = tmp / "q.pb", tmp / "param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "3", "--model", pb, "--cal_conf", conf, "--output", q,
                    "--input_format", "NHWC", "--input_shape", input_shape, "--out_nodes", out_nodes,
                    "--compress_conf", param)
    if check:
        assert proc.returncode == 0, describe(proc)
    return proc, q, param


def plan_of(dopt, param: Path) -> dict:
    proc = run_dopt(dopt, "inspect", param, "--json")
    assert proc.returncode == 0, describe(proc)
    return json.loads(proc.stdout)


def graph_def(path: Path):
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(Path(path).read_bytes())
    return gd


def import_ok(path: Path):
    """tf.compat.v1.import_graph_def accepts the file (TF's own graph checks)."""
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(graph_def(path), name="")
    return g


def strip_nchw(name: str) -> str:
    return name[: -len("/dopt_nchw")] if name.endswith("/dopt_nchw") else name


def placeholders_of(gd):
    return {n.name for n in gd.node if n.op == "Placeholder"}


def check_structure(float_pb: Path, q_pb: Path, plan: dict, inputs, outputs):
    """Same nodes (names, and ops except the folded chains), same inputs/outputs, one
    FakeQuantWithMinMaxVars per distinct quantized activation tensor."""
    import_ok(q_pb)
    f, q = graph_def(float_pb), graph_def(q_pb)
    fn = {n.name: n for n in f.node}
    qn = {n.name: n for n in q.node}
    gone = [n for n in fn if n not in qn]
    # Only constants (with their Identity reads and the constant arithmetic of decomposed
    # BatchNorms) that quantisation replaced may disappear; nothing that reads an activation.
    pure = ("Const", "Identity", "Mul", "Add", "AddV2", "Sub", "RealDiv", "Rsqrt", "Sqrt", "Reciprocal", "Square",
            "Neg", "Reshape", "Cast")
    assert all(fn[n].op in pure for n in gone), [(n, fn[n].op) for n in gone if fn[n].op not in pure]
    dead_inputs = [i for n in gone for i in fn[n].input if i.split(":")[0].lstrip("^") in placeholders_of(f)]
    assert not dead_inputs, dead_inputs
    folded_ops = {"BiasAdd", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Add", "AddV2", "Mul", "Sub",
                  "Identity"}
    for name, node in fn.items():
        if name not in qn:
            continue
        if qn[name].op != node.op:  # a folded BatchNorm / bias / scale becomes BiasAdd or Identity
            assert node.op in folded_ops and qn[name].op in ("BiasAdd", "Identity"), (name, node.op, qn[name].op)
        assert qn[name].device == node.device
    for t in list(inputs) + list(outputs):
        assert t.split(":")[0] in qn, t
    assert q.versions == f.versions and q.library == f.library
    placeholders = lambda g: sorted(n.name for n in g.node if n.op == "Placeholder")  # noqa: E731
    assert placeholders(q) == placeholders(f)
    acts = {strip_nchw(op["activation"]["tensor"]) for op in plan["ops"]}
    n_fq = sum(n.op == FAKE_QUANT for n in q.node)
    assert n_fq == len(acts), (n_fq, sorted(acts))
    # Every quantized TF node reads a FakeQuant and an int8 weight (Const int8 -> Cast -> Mul).
    for op in plan["ops"]:
        node = qn[op["name"]]
        srcs = [qn[i.split(":")[0].lstrip("^")] for i in node.input]
        assert any(s.op == FAKE_QUANT for s in srcs), op["name"]
        muls = [s for s in srcs if s.op == "Mul" and s.name.endswith("/dopt_weight")]
        assert len(muls) == 1, op["name"]
        cast = qn[muls[0].input[0]]
        assert cast.op == "Cast" and qn[cast.input[0]].attr["dtype"].type == tf.int8.as_datatype_enum
    return q


def dopt_run(dopt, tmp: Path, model: Path, feeds: dict, param: Path | None, tag: str, extra=()):
    out_dir = tmp / f"run_{tag}"
    args = ["run", "--model", model, "--output_dir", out_dir, *extra]
    for k, v in feeds.items():
        np.save(tmp / f"{tag}_{k.replace('/', '_')}.npy", v)
        args += ["--input", f"{k}={tmp / (tag + '_' + k.replace('/', '_') + '.npy')}"]
    if param is not None:
        args += ["--compress_conf", param]
    proc = run_dopt(dopt, *args)
    assert proc.returncode == 0, describe(proc)
    return out_dir


def compare_with_simulation(dopt, tmp, float_pb, q_pb, param, plan, feeds: dict, outputs):
    """TF on q.pb vs dopt's int8 simulation of float.pb. Both compute the same int8 model; they
    differ by float rounding order and, rarely, an activation that lands within an ulp of a
    rounding boundary and takes the neighbouring step (TF rounds ties up, dopt to even). The
    bound: one step of the largest activation scale in the plan times 2, relative to the output
    range, plus 1e-4 of the output range."""
    tf_out = tfm.run_tf_pb(q_pb, feeds, outputs)
    run_dir = dopt_run(dopt, tmp, float_pb, feeds, param, "int8")
    smax = max(op["activation"]["scales"][0] for op in plan["ops"])
    diffs = []
    for name, got in zip(outputs, tf_out):
        sim = np.load(run_dir / f"{name.replace('/', '_').replace(':', '_')}.npy")
        got = np.asarray(got, np.float32).reshape(sim.shape)
        rng = float(np.abs(sim).max()) + 1e-6
        d = float(np.abs(got - sim).max())
        diffs.append(d)
        assert d <= 1e-4 * rng + 2 * smax, (name, d, rng, smax)
    return diffs, tf_out


# ---------------------------------------------------------------- models

def small_net_fn(seed=0):
    """Conv2D+BiasAdd+FusedBatchNorm+Relu6, depthwise (multiplier 2)+BiasAdd+Relu, Conv2D
    without bias + FusedBatchNorm (BN becomes a BiasAdd), mean, MatMul(transpose_b)+BiasAdd."""
    rng = np.random.default_rng(seed)
    c = lambda a: tf.constant(np.asarray(a, np.float32))  # noqa: E731
    w1, b1 = c(rng.normal(0, 0.3, (3, 3, 3, 8))), c(rng.normal(0, 0.1, 8))
    bn1 = [c(rng.uniform(0.5, 1.5, 8)), c(rng.normal(0, 0.1, 8)), c(rng.normal(0, 0.2, 8)), c(rng.uniform(0.5, 2, 8))]
    wd, bd = c(rng.normal(0, 0.3, (3, 3, 8, 2))), c(rng.normal(0, 0.1, 16))
    w3 = c(rng.normal(0, 0.2, (1, 1, 16, 12)))
    bn3 = [c(rng.uniform(0.5, 1.5, 12)), c(rng.normal(0, 0.1, 12)), c(rng.normal(0, 0.2, 12)), c(rng.uniform(0.5, 2, 12))]
    wm, bm = c(rng.normal(0, 0.3, (5, 12))), c(rng.normal(0, 0.1, 5))

    def f(x):
        y = tf.nn.bias_add(tf.nn.conv2d(x, w1, 1, "SAME"), b1)
        y = tf.raw_ops.FusedBatchNormV3(x=y, scale=bn1[0], offset=bn1[1], mean=bn1[2], variance=bn1[3],
                                        epsilon=1e-3, is_training=False)[0]
        y = tf.nn.relu6(y)
        y = tf.nn.relu(tf.nn.bias_add(tf.nn.depthwise_conv2d(y, wd, [1, 1, 1, 1], "SAME"), bd))
        y = tf.nn.conv2d(y, w3, 2, "VALID")
        y = tf.raw_ops.FusedBatchNormV3(x=y, scale=bn3[0], offset=bn3[1], mean=bn3[2], variance=bn3[3],
                                        epsilon=1e-3, is_training=False)[0]
        y = tf.nn.relu(y)
        y = tf.reduce_mean(y, [1, 2])
        return tf.nn.bias_add(tf.matmul(y, wm, transpose_b=True), bm)
    return f


def frozen_small_net(cache):
    return tfm.cached(cache, "small_net", lambda p: tfm.freeze_function(
        small_net_fn(), [tf.TensorSpec([1, 16, 16, 3], tf.float32, name="x")], p))


def frozen_resnet8(cache):
    h5 = SHARED / "models" / "keras" / "resnet8_cifar10.h5"
    if not h5.is_file():
        pytest.skip(f"{h5} is missing")
    return tfm.cached(cache, "resnet8", lambda p: tfm.freeze_h5(h5, p))


def frozen_application(cache, name):
    """A keras.applications architecture (weights=None) at 96x96, frozen in the test."""
    key = {"MobileNetV2": "mobilenetv2_96"}.get(name, name.lower() + "_96")
    return tfm.cached(cache, key, lambda p: tfm.freeze_keras(tfm.keras_application(name, 96), p))


def image_array(dopt, tmp: Path, folder: Path, n: int, hw: int, extra=(), name="imgs", skip=0) -> np.ndarray:
    """n images of `folder` (sorted, after `skip`), RGB NHWC float32 through dopt make-bin (the same
    preprocessing as IMAGE calibration)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[skip:skip + n]
    d = tmp / f"{name}_dir"
    d.mkdir()
    for i, p in enumerate(files):
        (d / f"{i:05d}{p.suffix.lower()}").symlink_to(p)
    out = tmp / f"{name}.bin"
    proc = run_dopt(dopt, "make-bin", "--images", d, "--image_shape", f"3,{hw},{hw}", "--image_format", "RGB",
                    "--input_format", "NHWC", "-o", out, *extra)
    assert proc.returncode == 0, describe(proc)
    return read_bin(out)


# ---------------------------------------------------------------- tests

def test_small_net_quantized_pb_runs_in_tf_and_matches_dopt(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    rng = np.random.default_rng(1)
    calib = rng.uniform(0, 1, (16, 16, 16, 3)).astype(np.float32)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, calib))
    _, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,16,16,3", outs[0])
    plan = plan_of(dopt, param)
    types = sorted(op["type"] for op in plan["ops"])
    assert len(plan["ops"]) == 4, types  # conv, depthwise, conv, matmul
    check_structure(pb, q, plan, ins, outs)
    # The folded BatchNorms are gone from the graph's arithmetic: no FusedBatchNorm node is left.
    assert not [n.name for n in graph_def(q).node if n.op.startswith("FusedBatchNorm")]
    x = rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    diffs, (got,) = compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)
    (ref,) = tfm.run_tf_pb(pb, {ins[0]: x}, outs)
    # Quantisation changed something, but not much.
    assert np.abs(got - ref).max() > 0
    assert np.abs(got - ref).max() < 0.1 * np.abs(ref).max() + 1e-3


def test_conv2d_transpose_and_plain_matmul(dopt, tmp_path):
    """Conv2DBackpropInput (filter HWOI, per-channel scales on dim 2) + BiasAdd + FusedBatchNorm,
    and a MatMul without transpose_b ([K, N] weights)."""
    rng = np.random.default_rng(4)
    c = lambda a: tf.constant(np.asarray(a, np.float32))  # noqa: E731
    wt, bt = c(rng.normal(0, 0.3, (3, 3, 6, 4))), c(rng.normal(0, 0.1, 6))
    bn = _bn_consts(rng, 6)
    w2 = c(rng.normal(0, 0.3, (3, 3, 6, 5)))
    wm = c(rng.normal(0, 0.3, (5, 3)))

    def f(x):
        y = tf.nn.conv2d_transpose(x, wt, [1, 16, 16, 6], 2, "SAME")
        y = tf.raw_ops.FusedBatchNormV3(x=tf.nn.bias_add(y, bt), scale=bn[0], offset=bn[1], mean=bn[2], variance=bn[3],
                                        epsilon=1e-3, is_training=False)[0]
        y = tf.nn.relu(tf.nn.conv2d(tf.nn.relu(y), w2, 1, "SAME"))
        return tf.matmul(tf.reduce_mean(y, [1, 2]), wm)
    pb = tmp_path / "convt.pb"
    ins, outs = tfm.freeze_function(f, [tf.TensorSpec([1, 8, 8, 4], tf.float32, name="x")], pb)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (8, 8, 8, 4))))
    _, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,8,8,4", outs[0])
    plan = plan_of(dopt, param)
    assert sorted(op["type"] for op in plan["ops"]) == ["Conv", "ConvTranspose", "MatMul"]
    check_structure(pb, q, plan, ins, outs)
    x = rng.uniform(0, 1, (1, 8, 8, 4)).astype(np.float32)
    compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)


@pytest.mark.parametrize("strategy,extra", [("Quant_INT16-8", ""),
                                            ("Quant_INT8-8", "per_channel: false\nsymmetric_activations: true\n")],
                         ids=["int16", "per-tensor-symmetric"])
def test_other_quantization_options(dopt, tmp_path, frozen_cache_dir, strategy, extra):  # noqa: F811
    """Quant_INT16-8 (16-bit FakeQuantWithMinMaxVars), and per-tensor weights (scalar scale)
    with symmetric activations: TF still matches dopt's simulation."""
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    rng = np.random.default_rng(2)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (16, 16, 16, 3))), extra, strategy=strategy)
    _, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,16,16,3", outs[0])
    plan = plan_of(dopt, param)
    nodes = {n.name: n for n in graph_def(q).node}
    fq = [n for n in nodes.values() if n.op == FAKE_QUANT]
    assert fq and all(n.attr["num_bits"].i == (16 if strategy == "Quant_INT16-8" else 8) for n in fq)
    if extra:
        scales = [n for name, n in nodes.items() if name.endswith("/dopt_weight_scale")]
        assert scales and all(not n.attr["value"].tensor.tensor_shape.dim for n in scales)  # scalars
        assert all(op["activation"]["offsets"] == [0] for op in plan["ops"])
    x = rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)


def test_fake_quant_reproduces_dopt_grid(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    """For every FakeQuant dopt wrote: TF's nudged scale/zero point (recomputed as TF does) are
    the plan's, and on random data TF's fake quantisation equals dopt's
    scale * (clamp(round_half_even(x / scale) + zp) - zp) except at exact ties."""
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    rng = np.random.default_rng(3)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (16, 16, 16, 3))))
    _, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,16,16,3", outs[0])
    plan = plan_of(dopt, param)
    by_tensor = {strip_nchw(op["activation"]["tensor"]): op["activation"] for op in plan["ops"]}
    nodes = {n.name: n for n in graph_def(q).node}
    checked = mismatched = exact_scale = 0
    for n in nodes.values():
        if n.op != FAKE_QUANT:
            continue
        act = by_tensor[n.input[0]]
        s, zp = np.float32(act["scales"][0]), int(act["offsets"][0])
        mn = np.float32(tf.make_ndarray(nodes[n.input[1]].attr["value"].tensor))
        mx = np.float32(tf.make_ndarray(nodes[n.input[2]].attr["value"].tensor))
        tf_scale = np.float32((mx - mn) / np.float32(255))
        assert int(np.round(np.float32(0) - mn / tf_scale)) == zp + 128
        assert abs(tf_scale - s) <= np.spacing(s)
        exact_scale += int(tf_scale == s)
        x = rng.uniform(float(mn) * 1.2 - s, float(mx) * 1.2 + s, 100000).astype(np.float32)
        r = (x / s).astype(np.float32)
        ref = ((np.clip(np.rint(r) + zp, -128, 127) - zp).astype(np.float32) * s).astype(np.float32)
        got = tf.quantization.fake_quant_with_min_max_vars(x, mn, mx, num_bits=8, narrow_range=False).numpy()
        off = np.abs(got - ref) > 0.5 * s
        frac = np.abs(r - np.floor(r) - 0.5)
        assert (frac[off] < 1e-3).all()  # only (near-)ties round differently
        assert (np.abs(got - ref)[~off] <= 4 * np.spacing(np.abs(ref[~off]) + s)).all()  # same step, float rounding
        checked += x.size
        mismatched += int(off.sum())
    assert checked > 0
    assert mismatched <= checked * 1e-4, (mismatched, checked)
    assert exact_scale >= 1


@pytest.mark.parametrize("which", ["resnet8", "MobileNetV2", "ResNet50V2", "EfficientNetB0"])
def test_keras_models(dopt, tmp_path, frozen_cache_dir, which):  # noqa: F811
    if which == "resnet8":
        pb, ins, outs = frozen_resnet8(frozen_cache_dir)
        folder, hw, extra = SHARED / "images" / "cifar10-test", 32, ()
    else:
        pb, ins, outs = frozen_application(frozen_cache_dir, which)
        folder, hw, extra = SHARED / "images" / "imagenet-sample", 96, ("--mean_value", "127.5,127.5,127.5",
                                                                         "--standard_deviation", "127.5")
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    calib = image_array(dopt, tmp_path, folder, 16, hw, extra, "calib")
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, calib))
    _, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,{hw},{hw},3", outs[0])
    plan = plan_of(dopt, param)
    assert len(plan["ops"]) >= (9 if which == "resnet8" else 50)
    check_structure(pb, q, plan, ins, outs)
    test = image_array(dopt, tmp_path, folder, 2, hw, extra, "test", skip=500)
    for i in range(len(test)):
        x = test[i:i + 1]
        compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)
        (ref,), (got,) = tfm.run_tf_pb(pb, {ins[0]: x}, outs), tfm.run_tf_pb(q, {ins[0]: x}, outs)
        if which == "resnet8":  # trained: the int8 model keeps the float model's answer
            assert np.argmax(got) == np.argmax(ref)
            cos = float(np.dot(got.ravel(), ref.ravel()) / (np.linalg.norm(got) * np.linalg.norm(ref)))
            assert cos > 0.99, cos


def kws_front_end_inputs(pb: Path, n: int, seed: int):
    """Mfcc outputs of the KWS graph's own front end for silence.wav plus noise- and tone-added
    variants (amplitudes and frequencies vary with i)."""
    wav = tfm.SILENCE_WAV.read_bytes()
    audio = tf.audio.decode_wav(wav)
    samples, rate = audio.audio.numpy(), int(audio.sample_rate.numpy())
    rng = np.random.default_rng(seed)
    t = np.arange(samples.shape[0], dtype=np.float32)[:, None] / rate
    out = []
    for i in range(n):
        w = samples.copy()
        if i % 3 != 0:
            w = w + rng.uniform(-1, 1, w.shape).astype(np.float32) * rng.uniform(0.005, 0.2)
        if i % 3 != 1:
            w = w + np.float32(rng.uniform(0.05, 0.5)) * np.sin(2 * np.pi * rng.uniform(100, 4000) * t).astype(np.float32)
        w = np.clip(w, -1, 1).astype(np.float32)
        (m,) = tfm.run_tf_pb(pb, {"wav_data": tf.audio.encode_wav(w, rate).numpy()}, ["Mfcc"])
        out.append(np.asarray(m, np.float32).reshape(1, 49, 10))
    return np.concatenate(out)


def test_kws_ds_cnn_cut_at_mfcc(dopt, tmp_path):
    pb = SHARED / "models" / "tf" / "kws_ds_cnn_s.pb"
    if not pb.is_file():
        pytest.skip(f"{pb} is missing")
    calib = kws_front_end_inputs(pb, 48, seed=0)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, calib))
    proc, q, param = quantize(dopt, tmp_path, pb, conf, "Mfcc: 1,49,10", "labels_softmax")
    plan = plan_of(dopt, param)
    assert len(plan["ops"]) >= 5
    check_structure(pb, q, plan, ["wav_data"], ["labels_softmax"])
    # The audio front end is still there, untouched: the quantized .pb runs from the wav too.
    qn = {n.name: n for n in graph_def(q).node}
    fn = {n.name: n for n in graph_def(pb).node}
    for name in ("wav_data", "Mfcc"):
        assert qn[name] == fn[name]
    wav = {"wav_data": tfm.SILENCE_WAV.read_bytes()}
    (ref,), (got,) = tfm.run_tf_pb(pb, wav, ["labels_softmax"]), tfm.run_tf_pb(q, wav, ["labels_softmax"])
    assert np.argmax(got) == np.argmax(ref) and np.abs(got - ref).max() < 0.05
    # The cut graph's int8 simulation in dopt (`dopt run` fed at Mfcc) is what TF computes.
    test = kws_front_end_inputs(pb, 8, seed=1)
    refs, gots = [], []
    for i in range(len(test)):
        x = test[i:i + 1]
        (ref,), (got,) = tfm.run_tf_pb(pb, {"Mfcc": x}, ["labels_softmax"]), tfm.run_tf_pb(q, {"Mfcc": x}, ["labels_softmax"])
        run_dir = dopt_run(dopt, tmp_path, pb, {"Mfcc": x}, param, f"kws{i}", ["--out_nodes", "labels_softmax"])
        sim = np.load(run_dir / "labels_softmax.npy")
        assert np.abs(sim.reshape(got.shape) - got).max() < 1e-4
        refs.append(ref.ravel())
        gots.append(got.ravel())
    # Softmax of all held-out inputs together: cosine >= 0.99 to float; each input >= 0.97
    # (these noise/tone inputs leave the net unsure, measured per input 0.984..1.000).
    cos = lambda a, b: float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))  # noqa: E731
    assert cos(np.concatenate(gots), np.concatenate(refs)) >= 0.99
    assert min(cos(g, r) for g, r in zip(gots, refs)) >= 0.97


# ---------------------------------------------------------------- errors

def _bn_consts(rng, c):
    k = lambda a: tf.constant(np.asarray(a, np.float32))  # noqa: E731
    return [k(rng.uniform(0.5, 1.5, c)), k(rng.normal(0, 0.1, c)), k(rng.normal(0, 0.1, c)), k(rng.uniform(0.5, 2, c))]


def test_error_folded_batchnorm_other_output_read(dopt, tmp_path):
    """FusedBatchNorm folded into the Conv2D, but its output 1 feeds a node outside --out_nodes."""
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32))
    bn = _bn_consts(rng, 4)

    def f(x):
        r = tf.raw_ops.FusedBatchNormV3(x=tf.nn.conv2d(x, w, 1, "SAME"), scale=bn[0], offset=bn[1], mean=bn[2],
                                        variance=bn[3], epsilon=1e-3, is_training=False)
        return tf.identity(tf.nn.relu(r[0]), name="y"), tf.identity(r[1] * 2.0, name="stats")
    pb = tmp_path / "bn.pb"
    tfm.freeze_function(f, [tf.TensorSpec([1, 8, 8, 3], tf.float32, name="x")], pb)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (4, 8, 8, 3))))
    proc, q, _ = quantize(dopt, tmp_path, pb, conf, "x: 1,8,8,3", "y", check=False)
    assert proc.returncode == 2, describe(proc)
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith("dopt: error:") and "FusedBatchNormV3" in err and "other outputs are read by" in err, err
    assert not q.exists()


def test_error_folded_conv_output_read_twice(dopt, tmp_path):
    """Conv2D -> BiasAdd folded, but the raw Conv2D output also feeds a node outside --out_nodes."""
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32))
    b = tf.constant(rng.normal(0, 0.1, 4).astype(np.float32))

    def f(x):
        c = tf.nn.conv2d(x, w, 1, "SAME")
        return tf.identity(tf.nn.relu(tf.nn.bias_add(c, b)), name="y"), tf.identity(c * 2.0, name="raw")
    pb = tmp_path / "two.pb"
    tfm.freeze_function(f, [tf.TensorSpec([1, 8, 8, 3], tf.float32, name="x")], pb)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (4, 8, 8, 3))))
    proc, q, _ = quantize(dopt, tmp_path, pb, conf, "x: 1,8,8,3", "y", check=False)
    assert proc.returncode == 2, describe(proc)
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith("dopt: error:") and "readers in the GraphDef" in err, err
    assert not q.exists()


def test_equalization(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    """equalization: true on the small net: the depthwise -> Relu -> 1x1 Conv chain is rescaled
    (conv1 -> Relu6 is not: ReLU6 is not positively homogeneous); the writer takes the quantized
    ops' equalized weights and biases from the IR, so TF on q.pb matches dopt's simulation, which
    repeats the equalization."""
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    rng = np.random.default_rng(3)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (16, 16, 16, 3))), "equalization: true\n")
    proc, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,16,16,3", outs[0])
    assert "across 1 Conv chain" in proc.stdout, describe(proc)
    plan = plan_of(dopt, param)
    assert plan["equalization"] is True
    check_structure(pb, q, plan, ins, outs)
    x = rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    _, (got,) = compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)
    (ref,) = tfm.run_tf_pb(pb, {ins[0]: x}, outs)
    assert np.abs(got - ref).max() < 0.1 * np.abs(ref).max() + 1e-3

    # An equalized Conv left in float would keep its old GraphDef weights: a clear error instead.
    names = [op["name"] for op in plan["ops"]]
    assert names == ["Conv2D", "depthwise", "Conv2D_1", "MatMul"], names
    sub = tmp_path / "excluded"
    sub.mkdir()
    last = "Conv2D_1"  # the 1x1 Conv after depthwise -> Relu
    conf2 = write_conf(sub, make_bin(dopt, sub, rng.uniform(0, 1, (4, 16, 16, 3))),
                       f'equalization: true\nexclude_op: "{last}"\n')
    proc, q2, _ = quantize(dopt, sub, pb, conf2, f"{ins[0]}: 1,16,16,3", outs[0], check=False)
    err = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 2, describe(proc)
    assert err == (f"dopt: error: {pb}: node 'Conv2D_1' (Conv) stays float, but dopt rewrote its weights "
                   "(equalization: true); the TensorFlow writer keeps float ops as the GraphDef has them, so the model "
                   "would not match; quantize it too (no exclude_op) or turn equalization off"), err
    assert not q2.exists()


def test_smooth_quant_alpha_is_refused_for_tensorflow(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    """The TensorFlow writer cannot store smoothed activations (docs/errors.md): one error
    naming the config, exit 2, nothing written."""
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    calib = np.random.default_rng(1).uniform(0, 1, (4, 16, 16, 3)).astype(np.float32)
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, calib), extra="smooth_quant_alpha: 0.5\n")
    proc, q, param = quantize(dopt, tmp_path, pb, conf, f"{ins[0]}: 1,16,16,3", outs[0], check=False)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.strip().splitlines()[-1] == (
        f"dopt: error: {conf}: smooth_quant_alpha: the TensorFlow writer cannot store smoothed activations yet "
        "(ONNX models only); remove it from the config"), proc.stderr
    assert not q.exists() and not param.exists()
