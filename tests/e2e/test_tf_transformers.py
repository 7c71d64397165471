"""TF2 frozen graphs with function calls and the ops of Keras LayerNorm / GELU / attention,
run and quantized by dopt, proven in TensorFlow itself:

* Keras ConvNeXtTiny (random weights, 64x64, logits), frozen with
  convert_variables_to_constants_v2: its grouped convolutions stay StatefulPartitionedCall
  nodes (Keras 3 compiles them with XLA), its LayerNorms are Mean / SquaredDifference / Rsqrt,
  its GELUs Erfc;
* a Keras transformer encoder block on [1, 16, 64]: MultiHeadAttention (BatchMatMulV2 with
  constant weights, Einsum "BTNH,BSNH->BNTS" / "BNTS,BSNH->BTNH", Softmax), LayerNormalization,
  a Dense GELU FFN;
* a graph whose function calls were never inlined (tf.function in tf.function, the concrete
  function's GraphDef: PartitionedCall nodes, nested, several outputs), holding a Conv2D inside
  a function with its BiasAdd outside, GELU in both forms (Pow / Tanh and Erf) and
  BatchMatMulV2 with adj_y on a constant weight;
* the same encoder block in Keras 2 (tf_keras): EinsumDense projections (Einsum with a constant
  kernel, quantized as MatMul where one label is contracted), LayerNormalization as
  FusedBatchNormV3 with is_training (batch statistics); skipped without tf_keras;
* a Keras Embedding (GatherV2 on int32 token ids) + LayerNormalization + Dense, run only.

For each: `dopt run` matches TF (max error <= 1e-4 x output range), `dopt -m 0` quantizes the
Conv2D / MatMul / BatchMatMulV2 ops with constant weights, TF loads and runs the written .pb
(function bodies now plain nodes), it matches dopt's int8 simulation, and its output keeps
cosine >= 0.99 to float on held-out inputs. Errors: a call to a function missing from the
library, a recursive function, an unsupported op inside a function.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import describe, run_dopt

tf = pytest.importorskip("tensorflow")
import tf_models as tfm  # noqa: E402
from tf_models import frozen_cache_dir  # noqa: E402,F401  (fixture)
from test_tf_quantize import (compare_with_simulation, import_ok, make_bin, plan_of,  # noqa: E402
                              quantize, write_conf)
from tensorflow.core.framework import attr_value_pb2, function_pb2, graph_pb2, types_pb2  # noqa: E402


# ---------------------------------------------------------------- models

def frozen_convnext(cache):
    def make(path):
        import keras  # noqa: PLC0415
        keras.utils.set_random_seed(0)
        m = keras.applications.ConvNeXtTiny(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
        return tfm.freeze_keras(m, path, [1, 64, 64, 3])
    return tfm.cached(cache, "convnext_tiny_64", make)


def frozen_encoder(cache):
    def make(path):
        import keras  # noqa: PLC0415
        keras.utils.set_random_seed(1)
        x = keras.Input((16, 64))
        a = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
        h = keras.layers.LayerNormalization()(x + a)
        f = keras.layers.Dense(128, activation="gelu")(h)
        f = keras.layers.Dense(64)(f)
        m = keras.Model(x, keras.layers.LayerNormalization()(h + f))
        return tfm.freeze_keras(m, path, [1, 16, 64])
    return tfm.cached(cache, "keras_encoder_block", make)


def frozen_tf_keras_encoder(cache):
    """The same block in Keras 2 (tf_keras): EinsumDense projections (Einsum with constant
    kernels), LayerNormalization as Reshape -> FusedBatchNormV3(is_training) -> Reshape."""
    tf_keras = pytest.importorskip("tf_keras")

    def make(path):
        tf_keras.utils.set_random_seed(1)
        x = tf_keras.Input((16, 64))
        a = tf_keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
        h = tf_keras.layers.LayerNormalization()(x + a)
        f = tf_keras.layers.Dense(128, activation="gelu")(h)
        f = tf_keras.layers.Dense(64)(f)
        m = tf_keras.Model(x, tf_keras.layers.LayerNormalization()(h + f))
        return tfm.freeze_keras(m, path, [1, 16, 64])
    return tfm.cached(cache, "tf_keras_encoder_block", make)


def frozen_tf_keras_matmul_attention(cache):
    """A tf_keras attention block written with tf.matmul: a packed q/k/v Dense, scores
    `matmul(q, k, transpose_b=True)` (BatchMatMulV2 with adj_y) and context `matmul(softmax, v)`
    (BatchMatMulV2): products of two activations, then an output Dense."""
    tf_keras = pytest.importorskip("tf_keras")

    def make(path):
        tf_keras.utils.set_random_seed(3)
        T, H, D = 16, 4, 16

        class Attention(tf_keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.qkv = tf_keras.layers.Dense(3 * H * D)
                self.out = tf_keras.layers.Dense(H * D)

            def call(self, x):
                qkv = tf.transpose(tf.reshape(self.qkv(x), [-1, T, 3, H, D]), [2, 0, 3, 1, 4])
                scores = tf.matmul(qkv[0], qkv[1], transpose_b=True) * (D ** -0.5)
                ctx = tf.matmul(tf.nn.softmax(scores), qkv[2])
                return self.out(tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [-1, T, H * D]))

        x = tf_keras.Input((T, 64))
        h = tf_keras.layers.LayerNormalization()(x + Attention()(x))
        m = tf_keras.Model(x, tf_keras.layers.Dense(32)(h))
        return tfm.freeze_keras(m, path, [1, T, 64])
    return tfm.cached(cache, "tf_keras_matmul_attention", make)


def graph_with_calls(path: Path):
    """tf.function calling tf.functions (nested, two outputs), weights as constants inside the
    bodies; the concrete function's GraphDef keeps the calls. Returns (ins, outs)."""
    rng = np.random.default_rng(0)

    def w(*s):
        return (rng.standard_normal(s) / np.sqrt(s[-2] if len(s) > 1 else 1)).astype(np.float32)
    conv_w, conv_b = w(3, 3, 8, 32), 0.1 * w(32)
    ln_g, ln_b = 1 + 0.1 * w(32), 0.1 * w(32)
    d1_w, d1_b, d2_w = w(32, 64), 0.1 * w(64), w(48, 64)

    @tf.function
    def conv(x):
        return tf.nn.conv2d(x, tf.constant(conv_w), 1, "SAME")

    @tf.function
    def layer_norm(x):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + 1e-5) * ln_g + ln_b, mean

    @tf.function
    def ffn(x):
        h = tf.nn.gelu(tf.matmul(x, tf.constant(d1_w)) + d1_b, approximate=True)
        return tf.linalg.matmul(h, tf.constant(d2_w), adjoint_b=True), h

    @tf.function
    def block(y):
        n, mean = layer_norm(y)
        f, _ = ffn(n)
        return f, mean

    def model(x):
        y = tf.reshape(tf.nn.relu(tf.nn.bias_add(conv(x), conv_b)), [1, 256, 32])
        f, mean = block(y)
        s = tf.nn.softmax(tf.einsum("bij,bkj->bik", f, f) / 8.0)
        return tf.nn.gelu(tf.einsum("bik,bkj->bij", s, f) + tf.reduce_mean(mean), approximate=False)  # Erf

    c = tf.function(model).get_concrete_function(tf.TensorSpec([1, 16, 16, 8], tf.float32, name="x"))
    path.write_bytes(c.graph.as_graph_def().SerializeToString())
    return ["x"], [o.name[:-2] for o in c.outputs]


# ---------------------------------------------------------------- helpers

def dopt_run_out(dopt, tmp: Path, pb: Path, x: np.ndarray, out: str) -> np.ndarray:
    np.save(tmp / "x.npy", x)
    proc = run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp / 'x.npy'}", "--output_dir", tmp / "run",
                    "--out_nodes", out)
    assert proc.returncode == 0, describe(proc)
    return np.load(tmp / "run" / f"{out.replace('/', '_').replace(':', '_')}.npy")


def run_tf_many(pb: Path, inp: str, xs, out: str):
    """TF on `pb` for each input in `xs`, importing the graph once (ConvNeXt's is 110 MB)."""
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(Path(pb).read_bytes())
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    with tf.compat.v1.Session(graph=g) as s:
        return [s.run(g.get_tensor_by_name(out + ":0"), {g.get_tensor_by_name(inp + ":0"): x}) for x in xs]


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_model(dopt, tmp: Path, pb: Path, ins, outs, shape, min_ops: dict, seed=0, max_steps=None):
    """dopt run vs TF, then dopt -m 0 and the quantized .pb in TF. Returns (plan, q).
    max_steps: also |TF - simulation| <= max_steps x the largest activation scale."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal([1, *shape]).astype(np.float32)
    held_out = [rng.standard_normal([1, *shape]).astype(np.float32) for _ in range(2)]
    ref, *floats = run_tf_many(pb, ins[0], [x, *held_out], outs[0])
    assert float(ref.std()) > 1e-2, "degenerate output"
    got = dopt_run_out(dopt, tmp, pb, x, outs[0]).reshape(ref.shape)
    rng_out = float(np.abs(ref).max())
    err = float(np.abs(got - ref).max())
    assert err <= 1e-4 * rng_out, (err, rng_out)

    calib = np.random.default_rng(seed + 100).standard_normal([8, *shape]).astype(np.float32)
    conf = write_conf(tmp, make_bin(dopt, tmp, calib))
    dims = ",".join(str(d) for d in [1, *shape])
    _, q, param = quantize(dopt, tmp, pb, conf, f"{ins[0]}: {dims}", outs[0])
    plan = plan_of(dopt, param)
    kinds = {}
    for op in plan["ops"]:
        kinds[op["type"]] = kinds.get(op["type"], 0) + 1
    for k, n in min_ops.items():
        assert kinds.get(k, 0) >= n, (kinds, min_ops)
    import_ok(q)
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(q.read_bytes())
    assert not any(n.op in ("PartitionedCall", "StatefulPartitionedCall") for n in gd.node)
    quant = run_tf_many(q, ins[0], held_out, outs[0])  # held-out inputs
    for f, g in zip(floats, quant):
        assert cosine(f, g) >= 0.99, cosine(f, g)
    diffs, _ = compare_with_simulation(dopt, tmp, pb, q, param, plan, {ins[0]: held_out[0]}, outs)
    print(f"{pb.name}: max |TF - dopt simulation| {max(diffs):.3g}, largest activation step "
          f"{max(op['activation']['scales'][0] for op in plan['ops']):.3g}")
    if max_steps is not None:
        assert max(diffs) <= max_steps * max(op["activation"]["scales"][0] for op in plan["ops"]), diffs
    return plan, gd


def calls_in(pb: Path) -> int:
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(pb.read_bytes())
    return sum(n.op in ("PartitionedCall", "StatefulPartitionedCall") for n in gd.node)


# ---------------------------------------------------------------- models, end to end

def test_convnext_tiny(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    pb, ins, outs = frozen_convnext(frozen_cache_dir)
    assert calls_in(pb) >= 18  # the grouped 7x7 convs, called as XLA functions
    plan, _ = check_model(dopt, tmp_path, pb, ins, outs, [64, 64, 3], {"Conv": 22, "MatMul": 37})
    inlined = [op["name"] for op in plan["ops"] if "StatefulPartitionedCall/" in op["name"]]
    assert len(inlined) >= 18, inlined


def test_keras_encoder_block(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    pb, ins, outs = frozen_encoder(frozen_cache_dir)
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(pb.read_bytes())
    ops = {n.op for n in gd.node}
    assert {"Einsum", "SquaredDifference", "BatchMatMulV2", "Erfc", "Softmax"} <= ops, ops
    plan, q = check_model(dopt, tmp_path, pb, ins, outs, [16, 64], {"MatMul": 6}, seed=1)
    quantized_tf_ops = {n.name: n.op for n in q.node}
    assert sum(quantized_tf_ops[op["name"]] == "BatchMatMulV2" for op in plan["ops"]) == 4  # Q, K, V, output


def test_tf_keras_encoder_block(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    pb, ins, outs = frozen_tf_keras_encoder(frozen_cache_dir)
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(pb.read_bytes())
    bn = [n for n in gd.node if n.op == "FusedBatchNormV3"]
    assert bn and all(n.attr["is_training"].b for n in bn)
    assert "Einsum" in {n.op for n in gd.node}
    plan, q = check_model(dopt, tmp_path, pb, ins, outs, [16, 64], {"MatMul": 5}, seed=1)
    # EinsumDense "abc,cde->abde" (query, key, value) quantized as MatMul; the output projection
    # "abcd,cde->abe" (two contracted labels) stays a float Einsum.
    ops = {n.name: n for n in q.node}
    einsums = [op["name"] for op in plan["ops"] if ops[op["name"]].op == "Einsum"]
    assert len(einsums) == 3, einsums
    assert all(ops[ops[e].input[1]].op == "Mul" for e in einsums)  # int8 kernel -> Cast -> Mul(scale)


def test_tf_keras_attention_pairs(dopt, tmp_path, frozen_cache_dir):  # noqa: F811
    """The TensorFlow writer stores attention's activation x activation MatMuls: the scores and
    context BatchMatMulV2 get a FakeQuantWithMinMaxVars on both inputs (the plan's two
    per-tensor ranges, weight_is_activation in the compress_conf), and TF on the .pb matches
    dopt's int8 simulation to a quarter of the largest activation step (measured: 0; the .pb
    without the two pairs' FakeQuants is 1.1 steps off)."""
    pb, ins, outs = frozen_tf_keras_matmul_attention(frozen_cache_dir)
    plan, q = check_model(dopt, tmp_path, pb, ins, outs, [16, 64], {"MatMul": 5}, seed=3, max_steps=0.25)
    pairs = [op for op in plan["ops"] if op.get("weight_is_activation")]
    assert len(pairs) == 2, [op["name"] for op in plan["ops"]]
    nodes = {n.name: n for n in q.node}
    for op in pairs:
        n = nodes[op["name"]]
        assert n.op == "BatchMatMulV2", n.op
        fqs = [nodes[i.split(":")[0]] for i in n.input[:2]]
        assert [f.op for f in fqs] == ["FakeQuantWithMinMaxVars"] * 2, [f.op for f in fqs]
        # Each FakeQuant holds its operand's range: min = (-128 - zp) * scale.
        for f, q_ in zip(fqs, (op["activation"], op["weight"])):
            lo = float(tf.make_ndarray(nodes[f.input[1]].attr["value"].tensor))
            assert abs(lo - (-128 - q_["offsets"][0]) * q_["scales"][0]) <= 1e-6 * abs(lo) + 1e-12
    assert sum(1 for op in plan["ops"] if nodes[op["name"]].attr["adj_y"].b and op.get("weight_is_activation")) == 1


def test_gram_matrix_pair(dopt, tmp_path):
    """A product of a tensor with itself (`matmul(y, y, transpose_b=True)`, BatchMatMulV2 with
    adj_y): both inputs of the node get a FakeQuant of y itself (dopt's IR reads y and its
    transpose); `matmul(g, g)`: one FakeQuant read twice; TF on the .pb == dopt's simulation."""
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((16, 16)) / 4).astype(np.float32)

    def model(x):
        y = tf.matmul(x, tf.constant(w))
        g = tf.nn.softmax(tf.matmul(y, y, transpose_b=True) * 0.25)
        return tf.matmul(tf.matmul(g, g), y)

    c = tf.function(model).get_concrete_function(tf.TensorSpec([1, 8, 16], tf.float32, name="x"))
    pb = tmp_path / "gram.pb"
    pb.write_bytes(c.graph.as_graph_def().SerializeToString())
    plan, q = check_model(dopt, tmp_path, pb, ["x"], [c.outputs[0].name[:-2]], [8, 16], {"MatMul": 3}, seed=5,
                          max_steps=0.25)
    nodes = {n.name: n for n in q.node}
    pairs = [op for op in plan["ops"] if op.get("weight_is_activation")]
    assert len(pairs) == 3, [op["name"] for op in plan["ops"]]
    square = [nodes[op["name"]] for op in pairs if op["activation"]["tensor"] == op["weight"]["tensor"]]
    assert len(square) == 1 and square[0].input[0] == square[0].input[1], pairs  # g x g: one FakeQuant, twice
    assert nodes[square[0].input[0]].op == "FakeQuantWithMinMaxVars"
    gram = [nodes[op["name"]] for op in pairs if nodes[op["name"]].attr["adj_y"].b]
    assert len(gram) == 1, pairs
    fqs = [nodes[i] for i in gram[0].input[:2]]
    assert [f.op for f in fqs] == ["FakeQuantWithMinMaxVars"] * 2, list(gram[0].input)
    assert fqs[0].input[0] == fqs[1].input[0], [f.input[0] for f in fqs]  # both quantize y itself


def test_graph_with_function_calls(dopt, tmp_path):
    pb = tmp_path / "calls.pb"
    ins, outs = graph_with_calls(pb)
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(pb.read_bytes())
    assert calls_in(pb) >= 2 and len(gd.library.function) >= 4
    (tmp_path / "m").mkdir()
    plan, q = check_model(dopt, tmp_path / "m", pb, ins, outs, [16, 16, 8], {"Conv": 1, "MatMul": 2}, seed=2)
    names = [op["name"] for op in plan["ops"]]
    assert any(n.startswith("PartitionedCall/") and n.endswith("Conv2D") for n in names), names
    adj = [n for n in q.node if n.op == "BatchMatMulV2" and n.attr["adj_y"].b]
    assert adj and adj[0].name in names, names
    # A call's outputs keep their names: the second output of the top-level call of `block`.
    two = [n.name for n in gd.node if n.op == "PartitionedCall" and len(n.attr["Tout"].list.type) == 2]
    assert len(two) == 1 and {n.name: n.op for n in q.node}[two[0]] == "IdentityN"
    x = np.random.default_rng(3).standard_normal([1, 16, 16, 8]).astype(np.float32)
    (ref,) = tfm.run_tf_pb(pb, {"x": x}, [two[0] + ":1"])
    got = dopt_run_out(dopt, tmp_path, pb, x, two[0] + ":1").reshape(ref.shape)
    assert float(np.abs(got - ref).max()) <= 1e-4 * float(np.abs(ref).max()) + 1e-6


def test_keras_embedding_gather(dopt, tmp_path):
    import keras  # noqa: PLC0415
    keras.utils.set_random_seed(2)
    ids_in = keras.Input((12,), dtype="int32")
    e = keras.layers.Embedding(100, 32)(ids_in)
    m = keras.Model(ids_in, keras.layers.Dense(16, activation="gelu")(keras.layers.LayerNormalization()(e)))
    pb = tmp_path / "emb.pb"
    spec = tf.TensorSpec([1, 12], tf.int32, name="x")
    ins, outs = tfm.freeze_function(lambda x: m(x, training=False), [spec], pb)
    gd = graph_pb2.GraphDef()
    gd.ParseFromString(pb.read_bytes())
    assert "GatherV2" in {n.op for n in gd.node}
    ids = np.random.default_rng(4).integers(0, 100, (1, 12)).astype(np.int32)
    (ref,) = tfm.run_tf_pb(pb, {ins[0]: ids}, outs)
    got = dopt_run_out(dopt, tmp_path, pb, ids, outs[0]).reshape(ref.shape)
    assert float(np.abs(got - ref).max()) <= 1e-4 * float(np.abs(ref).max()), float(np.abs(got - ref).max())


# ---------------------------------------------------------------- errors

def _graph(tmp: Path, functions, call_f: str, body_op: str | None = None) -> Path:
    """x -> PartitionedCall 'call' (f = call_f) -> Identity 'out', with `functions`:
    {name: [(node name, op, inputs)]} each taking 'a' and returning 'r' = its last node."""
    gd = graph_pb2.GraphDef()
    x = gd.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = types_pb2.DT_FLOAT
    x.attr["shape"].shape.dim.add(size=1)
    x.attr["shape"].shape.dim.add(size=4)
    c = gd.node.add(name="call", op="PartitionedCall", input=["x"])
    c.attr["f"].func.name = call_f
    c.attr["Tin"].list.type.append(types_pb2.DT_FLOAT)
    c.attr["Tout"].list.type.append(types_pb2.DT_FLOAT)
    o = gd.node.add(name="out", op="Identity", input=["call"])
    o.attr["T"].type = types_pb2.DT_FLOAT
    for name, nodes in functions.items():
        f = gd.library.function.add()
        f.signature.name = name
        f.signature.input_arg.add(name="a", type=types_pb2.DT_FLOAT)
        f.signature.output_arg.add(name="r", type=types_pb2.DT_FLOAT)
        for nn, op, inputs, attrs in nodes:
            n = f.node_def.add(name=nn, op=op, input=inputs)
            n.attr["T"].type = types_pb2.DT_FLOAT
            for k, v in attrs.items():
                n.attr[k].CopyFrom(v)
        f.ret["r"] = f"{nodes[-1][0]}:output:0"
    pb = tmp / "g.pb"
    pb.write_bytes(gd.SerializeToString())
    return pb


def _error_line(dopt, tmp: Path, pb: Path) -> str:
    np.save(tmp / "x.npy", np.zeros((1, 4), np.float32))
    proc = run_dopt(dopt, "run", "--model", pb, "--input", f"x={tmp / 'x.npy'}", "--output_dir", tmp / "o")
    assert proc.returncode == 2, describe(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("dopt: error:")]
    assert len(lines) == 1, describe(proc)
    return lines[0]


def test_inlined_small_function_runs(dopt, tmp_path):
    pb = _graph(tmp_path, {"f": [("r", "Relu", ["a"], {})]}, "f")
    x = np.array([[-1, 2, -3, 4]], np.float32)
    assert np.array_equal(dopt_run_out(dopt, tmp_path, pb, x, "out"), np.maximum(x, 0))


def test_error_call_to_missing_function(dopt, tmp_path):
    pb = _graph(tmp_path, {"f": [("r", "Relu", ["a"], {})]}, "nope")
    line = _error_line(dopt, tmp_path, pb)
    assert "node 'call' (PartitionedCall): calls function 'nope', which is not in the graph's function library" in line, line


def test_error_recursive_function(dopt, tmp_path):
    fa = attr_value_pb2.AttrValue()
    fa.func.name = "f"
    tin = attr_value_pb2.AttrValue()
    tin.list.type.append(types_pb2.DT_FLOAT)
    pb = _graph(tmp_path, {"f": [("inner", "PartitionedCall", ["a"], {"f": fa, "Tin": tin, "Tout": tin})]}, "f")
    line = _error_line(dopt, tmp_path, pb)
    assert "node 'call/inner' (PartitionedCall): function 'f' calls itself ('f' -> 'f')" in line, line


def test_error_unsupported_op_inside_function(dopt, tmp_path):
    pb = _graph(tmp_path, {"f": [("c", "Cumprod", ["a"], {})]}, "f")
    line = _error_line(dopt, tmp_path, pb)
    assert "unsupported TensorFlow op in node 'call/c' (Cumprod) (in function 'f' called by node 'call')" in line, line
