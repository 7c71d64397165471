"""TF frozen-graph frontend: dopt's float executor reproduces TensorFlow on real frozen graphs
(the shared KWS / MNIST / autoencoder graphs, the Keras .h5 models frozen, keras.applications
models frozen) and on small graphs for each layout-sensitive op family. TensorFlow runs the
same .pb in this process as the reference; dopt runs as a subprocess. Skipped without TF."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import tf_models as M  # noqa: E402
from conftest import describe, run_dopt, safe_file_name  # noqa: E402
from tf_models import frozen_cache_dir  # noqa: E402,F401  (fixture)


def close(got: np.ndarray, ref: np.ndarray, what: str):
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} vs TF {ref.shape}"
    tol = 1e-4 * float(np.abs(ref).max()) + 1e-5
    diff = float(np.abs(got.astype(np.float64) - ref.astype(np.float64)).max()) if ref.size else 0.0
    assert diff <= tol, f"{what}: max|dopt - TF| = {diff:.3g} > {tol:.3g}"


def dopt_run(dopt, pb, feeds: dict, tmp_path: Path, out_nodes=None) -> dict:
    """Runs `dopt run` with .npy feeds; returns {output name: array}."""
    args = ["run", "--model", pb, "--output_dir", tmp_path / "out"]
    for i, (name, arr) in enumerate(feeds.items()):
        f = tmp_path / f"in{i}.npy"
        np.save(f, arr)
        args += ["--input", f"{name}={f}"]
    if out_nodes:
        args += ["--out_nodes", "; ".join(out_nodes)]
    proc = run_dopt(dopt, *args)
    assert proc.returncode == 0, describe(proc)
    outs = {}
    for line in proc.stdout.splitlines():
        name = line.split(" ")[0]
        outs[name] = np.load(tmp_path / "out" / (safe_file_name(name) + ".npy"))
    return outs


def check_against_tf(dopt, pb, feeds, outputs, tmp_path, out_nodes=None):
    ref = M.run_tf_pb(pb, feeds, outputs)
    got = dopt_run(dopt, pb, feeds, tmp_path, out_nodes=out_nodes)
    for name, r in zip(outputs, ref):
        key = name[:-2] if name.endswith(":0") else name
        assert key in got, f"dopt wrote {sorted(got)}, not {key}"
        close(got[key], r, f"{Path(pb).name}:{key}")


def softmax_input(pb) -> str:
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(Path(pb).read_bytes())
    for n in gd.node:
        if n.op == "Softmax":
            return n.input[0]
    raise AssertionError("no Softmax")


# ---- the shared frozen graphs ---------------------------------------------------------------

KWS = ["kws_ds_cnn_s", "kws_ds_cnn_m", "kws_cnn_s", "kws_dnn_s"]


@pytest.mark.parametrize("name", KWS)
def test_kws_from_mfcc(dopt, tmp_path, name):
    pb = M.TF_MODELS / f"{name}.pb"
    if not pb.is_file():
        pytest.skip(f"{pb} missing")
    mfccs = M.kws_mfcc_inputs(pb, n_noisy=2)
    # [1,49,10] for the CNNs, [1,25,10] for kws_dnn_s (its front end uses a longer stride).
    assert mfccs[0].shape in ((1, 49, 10), (1, 25, 10))
    outs = []
    for i, m in enumerate(mfccs):
        d = tmp_path / str(i)
        d.mkdir()
        (ref,) = M.run_tf_pb(pb, {"Mfcc": m}, ["labels_softmax"])
        got = dopt_run(dopt, pb, {"Mfcc": m}, d)["labels_softmax"]
        close(got, ref, f"{name} input {i}")
        outs.append(ref)
    assert np.abs(outs[0] - outs[1]).max() > 1e-3, "silence and noise gave the same output: a weak test input"


@pytest.mark.parametrize("name,feed,out", [("mnist_fc_layers", "X", "output"), ("autoencoder_ae0", "X", "output")])
def test_shared_mlps(dopt, tmp_path, name, feed, out):
    pb = M.TF_MODELS / f"{name}.pb"
    if not pb.is_file():
        pytest.skip(f"{pb} missing")
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    check_against_tf(dopt, pb, {feed: x}, [out], tmp_path)


# ---- Keras models frozen ---------------------------------------------------------------------

@pytest.mark.parametrize("h5", ["resnet8_cifar10", "vww_96_mobilenetv1_025"])
def test_keras_h5_frozen(dopt, tmp_path, frozen_cache_dir, h5):  # noqa: F811
    path = M.KERAS_MODELS / f"{h5}.h5"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    pb, ins, outs = M.cached(frozen_cache_dir, h5, lambda p: M.freeze_h5(path, p))
    shape = (1, 32, 32, 3) if "resnet8" in h5 else (1, 96, 96, 3)
    x = (np.random.default_rng(1).random(shape, dtype=np.float32) * (255 if "resnet8" in h5 else 1)).astype(np.float32)
    logits = softmax_input(pb)
    check_against_tf(dopt, pb, {ins[0]: x}, [outs[0], logits], tmp_path, out_nodes=[outs[0], logits])


@pytest.mark.parametrize("app", ["MobileNetV2", "ResNet50V2", "EfficientNetB0"])
def test_keras_applications_frozen(dopt, tmp_path, frozen_cache_dir, app):  # noqa: F811
    pb, ins, outs = M.cached(frozen_cache_dir, app, lambda p: M.freeze_keras(M.keras_application(app, 96), p))
    x = np.random.default_rng(2).uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)
    logits = softmax_input(pb)
    check_against_tf(dopt, pb, {ins[0]: x}, [outs[0], logits], tmp_path, out_nodes=[outs[0], logits])


# ---- small graphs, one per layout-sensitive op family -------------------------------------

def rnd(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


W33 = rnd(3, 3, 3, 5, seed=1)
DW = rnd(3, 3, 3, 2, seed=2)
WT = rnd(3, 3, 4, 3, seed=3)  # conv2d_transpose filter [h, w, out, in]


def g_conv(x):
    a = tf.nn.conv2d(x, W33, strides=[1, 2, 2, 1], padding="SAME")
    b = tf.nn.conv2d(x, W33, strides=[1, 3, 2, 1], padding="VALID", dilations=None)
    c = tf.nn.conv2d(x, W33, strides=1, padding=[[0, 0], [1, 2], [2, 0], [0, 0]])
    d = tf.nn.conv2d(x, W33, strides=1, padding="SAME", dilations=[1, 2, 2, 1])
    return tf.nn.relu(a), b, tf.nn.relu6(c), tf.nn.bias_add(d, np.arange(5, dtype=np.float32))


def g_depthwise(x):
    a = tf.nn.depthwise_conv2d(x, DW, strides=[1, 2, 2, 1], padding="SAME")
    b = tf.nn.depthwise_conv2d(x, DW, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.elu(a), tf.nn.leaky_relu(b, 0.3)


def g_transpose_conv(x):
    a = tf.nn.conv2d_transpose(x[..., :3], WT, output_shape=[1, 14, 15, 4], strides=2, padding="SAME")
    b = tf.nn.conv2d_transpose(x[..., :3], WT, output_shape=[1, 16, 17, 4], strides=2, padding="VALID")
    return a, b


def g_pool(x):
    return (tf.nn.max_pool2d(x, 3, 2, "SAME"), tf.nn.avg_pool2d(x, 3, 2, "SAME"), tf.nn.avg_pool2d(x, [2, 3], [1, 2], "VALID"),
            tf.reduce_mean(x, axis=[1, 2], keepdims=True), tf.reduce_mean(x, axis=[1, 2]), tf.reduce_mean(x, axis=3),
            tf.reduce_sum(tf.nn.relu(x), axis=[1, 2], keepdims=True), tf.reduce_max(tf.nn.relu(x), axis=1),
            tf.reduce_max(tf.nn.conv2d(x, W33, 1, "SAME"), axis=-1), tf.reduce_sum(tf.nn.conv2d(x, W33, 1, "SAME"), axis=[1]))


def g_batchnorm(x):
    c = x.shape[-1]
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, rnd(c, seed=4) + 2, rnd(c, seed=5), mean=rnd(c, seed=6),
                                               variance=np.abs(rnd(c, seed=7)) + 0.5, epsilon=1e-3, is_training=False)
    z = tf.nn.conv2d(y, W33, 1, "SAME")
    return tf.sigmoid(z) * z + tf.tanh(y)[..., :1], tf.math.rsqrt(tf.abs(z) + 1), tf.square(z) - tf.sqrt(tf.abs(y))[..., 1:2]


def g_strided_slice(x):
    return (x[..., 1:5:2, tf.newaxis, 2], x[:, ::-1, 1:, :], x[0, -1], x[:, 2:-1, ::-2, tf.newaxis],
            x[0, :, 3, 1:2], x[:, -3:, :, -1])


def g_resize(x):
    v1 = tf.compat.v1.image
    return (v1.resize_bilinear(x, [11, 7]), v1.resize_bilinear(x, [11, 7], align_corners=True),
            v1.resize_bilinear(x, [11, 7], half_pixel_centers=True), v1.resize_nearest_neighbor(x, [13, 5]),
            v1.resize_nearest_neighbor(x, [13, 5], align_corners=True),
            v1.resize_nearest_neighbor(x, [13, 5], half_pixel_centers=True), v1.resize_bilinear(x, [3, 4]))


def g_pad(x):
    y = tf.nn.conv2d(x, W33, 1, "SAME")  # an NCHW-computed input: the pads follow the layout
    return (tf.pad(x, [[0, 0], [1, 2], [0, 3], [0, 0]], mode="REFLECT"), tf.pad(x, [[0, 0], [2, 1], [1, 0], [0, 1]]),
            tf.pad(x, [[0, 0], [2, 1], [0, 3], [1, 0]], mode="SYMMETRIC"),
            tf.nn.relu(tf.pad(y, [[0, 0], [1, 0], [2, 2], [0, 1]], mode="SYMMETRIC")),
            tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=1.5),
            tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [2, 2], [0, 0]]), W33, 1, "VALID"))


def g_shapes(x):
    y = tf.nn.conv2d(x, W33, 1, "SAME")
    flat = tf.reshape(y, [tf.shape(y)[0], -1])
    parts = tf.split(y, [2, -1, 1], axis=3)
    a, b = tf.unstack(y[:, :2], axis=1)
    st = tf.stack([a, b, a], axis=-1)
    f = tf.fill(tf.shape(y)[1:3], 2.0)
    cat = tf.concat([y, x], axis=3)
    cat2 = tf.concat([y, y], axis=-1) + 1.0
    mx = tf.maximum(y, 0.1) - tf.minimum(y, -0.2) / 2.0
    e = tf.expand_dims(tf.transpose(y, [0, 3, 1, 2]), -1)
    m = tf.matmul(flat, rnd(150, 4, seed=8)) + tf.transpose(tf.matmul(rnd(4, 150, seed=9), flat, transpose_b=True))
    bm = tf.linalg.matmul(y[0], y[0], adjoint_b=True)
    return (flat, parts[0], parts[1], parts[2], st, f * 3.0, cat, cat2, mx, e, tf.nn.softmax(m), bm,
            tf.split(y, 5, axis=3)[4], tf.cast(tf.cast(y * 3, tf.int32), tf.float32))


def g_nchw(x):
    xc = tf.transpose(x, [0, 3, 1, 2])
    a = tf.nn.conv2d(xc, W33, strides=[1, 1, 2, 2], padding="SAME", data_format="NCHW")
    a = tf.nn.bias_add(a, np.arange(5, dtype=np.float32), data_format="NCHW")
    p = tf.nn.max_pool2d(a, 2, 2, "VALID", data_format="NCHW")
    return a, p


GRAPHS = {
    "conv": (g_conv, (1, 9, 10, 3)),
    "depthwise": (g_depthwise, (1, 9, 8, 3)),
    "conv_transpose": (g_transpose_conv, (1, 7, 8, 3)),
    "pool": (g_pool, (1, 9, 11, 3)),
    "batchnorm": (g_batchnorm, (1, 6, 7, 3)),
    "strided_slice": (g_strided_slice, (2, 6, 7, 3)),
    "resize": (g_resize, (1, 5, 6, 3)),
    "pad": (g_pad, (1, 5, 6, 3)),
    "shapes": (g_shapes, (2, 5, 6, 3)),
    "nchw": (g_nchw, (1, 9, 10, 3)),
}


@pytest.mark.parametrize("key", list(GRAPHS))
def test_op_family(dopt, tmp_path, key):
    fn, shape = GRAPHS[key]
    pb = tmp_path / f"{key}.pb"
    spec = tf.TensorSpec([None, *shape[1:]] if key == "shapes" else shape, tf.float32, name="x")
    ins, outs = M.freeze_function(fn, [spec], pb)
    x = rnd(*shape, seed=11)
    try:
        ref = M.run_tf_pb(pb, {ins[0]: x}, outs)
    except Exception as e:  # noqa: BLE001 - TF CPU kernels lack some NCHW ops
        if key == "nchw":
            pytest.skip(f"TF CPU cannot run this NCHW graph: {type(e).__name__}")
        raise
    got = dopt_run(dopt, pb, {ins[0]: x}, tmp_path)
    for name, r in zip(outs, ref):
        assert name in got, f"dopt wrote {sorted(got)}, not {name}"
        close(got[name], r, f"{key}:{name}")


def test_resave_writes_the_same_graphdef(dopt, tmp_path):
    src = M.TF_MODELS / "kws_ds_cnn_s.pb"
    proc = run_dopt(dopt, "resave", "--model", src, "--output", tmp_path / "out.pb")
    assert proc.returncode == 0, describe(proc)
    a, b = tf.compat.v1.GraphDef(), tf.compat.v1.GraphDef()
    a.ParseFromString(src.read_bytes())
    b.ParseFromString((tmp_path / "out.pb").read_bytes())
    assert a == b
    assert len(a.node) > 50


# ---- errors (docs/errors.md, "TensorFlow graphs") -----------------------------------------

def one_error_line(proc) -> str:
    assert proc.returncode == 2, describe(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dopt: error: "), describe(proc)
    return lines[0]


def graphdef_file(tmp_path, name, build) -> Path:
    gd = tf.compat.v1.GraphDef()
    build(gd)
    p = tmp_path / name
    p.write_bytes(gd.SerializeToString())
    return p


def placeholder(gd, name, shape):
    n = gd.node.add(name=name, op="Placeholder")
    n.attr["dtype"].type = tf.float32.as_datatype_enum
    n.attr["shape"].shape.CopyFrom(tf.TensorShape(shape).as_proto())


def test_error_unsupported_op_on_the_path(dopt, tmp_path):
    pb = tmp_path / "cumsum.pb"
    ins, _ = M.freeze_function(lambda x: tf.nn.relu(tf.math.cumsum(x, axis=1)), [tf.TensorSpec([1, 4], tf.float32, name="x")], pb)
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert f"{pb}: unsupported TensorFlow op in node '" in line and "(Cumsum)" in line, line
    assert not (tmp_path / "o").exists()


def test_error_kws_front_end_without_cut(dopt, tmp_path):
    pb = M.TF_MODELS / "kws_cnn_s.pb"
    np.save(tmp_path / "x.npy", np.zeros((1, 16000), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"{tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert "unsupported TensorFlow ops in node" in line and "(DecodeWav)" in line and "(Mfcc)" in line, line


def test_error_unknown_mirror_pad_mode(dopt, tmp_path):
    pb = tmp_path / "pad.pb"
    M.freeze_function(lambda x: tf.pad(x, [[0, 0], [1, 1]], mode="SYMMETRIC"), [tf.TensorSpec([1, 4], tf.float32, name="x")], pb)
    g = tf.compat.v1.GraphDef()
    g.ParseFromString(pb.read_bytes())
    for node in g.node:  # TF itself refuses other modes when building; a hand-edited file may hold one
        if node.op == "MirrorPad":
            node.attr["mode"].s = b"WRAP"
    pb.write_bytes(g.SerializeToString())
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert "(MirrorPad): MirrorPad mode WRAP is not REFLECT or SYMMETRIC" in line, line
    assert not (tmp_path / "o").exists()


def test_error_truncated_graphdef(dopt, tmp_path):
    data = (M.TF_MODELS / "kws_cnn_s.pb").read_bytes()
    pb = tmp_path / "trunc.pb"
    pb.write_bytes(data[: len(data) // 2 + 3])
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert f"{pb}: not a TensorFlow GraphDef" in line, line


def test_error_cycle(dopt, tmp_path):
    def build(gd):
        placeholder(gd, "x", [2])
        gd.node.add(name="a", op="AddV2", input=["x", "b"])
        gd.node.add(name="b", op="Relu", input=["a"])
        gd.node.add(name="out", op="Relu", input=["b"])
    pb = graphdef_file(tmp_path, "cycle.pb", build)
    np.save(tmp_path / "x.npy", np.zeros((2,), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert "the graph has a cycle through it" in line, line


def test_error_tensor_content_size(dopt, tmp_path):
    def build(gd):
        placeholder(gd, "x", [2, 3])
        c = gd.node.add(name="c", op="Const")
        c.attr["dtype"].type = tf.float32.as_datatype_enum
        t = c.attr["value"].tensor
        t.dtype = tf.float32.as_datatype_enum
        t.tensor_shape.CopyFrom(tf.TensorShape([2, 3]).as_proto())
        t.tensor_content = np.zeros(5, np.float32).tobytes()
        gd.node.add(name="out", op="AddV2", input=["x", "c"])
    pb = graphdef_file(tmp_path, "content.pb", build)
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert "node 'c' (Const): tensor_content holds 20 bytes, shape [2,3] of float32 needs 24" in line, line


def test_error_input_shape_conflicts_with_placeholder(dopt, tmp_path):
    pb = M.TF_MODELS / "mnist_fc_layers.pb"
    np.save(tmp_path / "x.npy", np.zeros((1, 785), np.float32))
    line = one_error_line(run_dopt(dopt, "run", "--model", pb, "--input", f"X={tmp_path / 'x.npy'}", "--output_dir", tmp_path / "o"))
    assert "input 'X' is given the shape [1,785], the model's is [?,784]" in line, line
